"""helpers.roi.evaluation and metrics' weighted measures: a ROI file against uniform JPEG."""

import numpy as np
import pytest

from helpers import roi


def test_more_quality_inside_the_roi_at_equal_size(roi_photo, roi_blob):
    uniform = roi.uniform_jpeg(roi_photo, 50)
    data = roi.encode(
        roi_photo, roi_blob, mode="single", target_bytes=len(uniform), q_start=20, q_end=80
    )
    result = roi.evaluate(roi_photo, roi_blob, data, uniform, 50)
    assert result.psnr_roi[0] > result.psnr_roi[1]
    assert result.psnr_background[0] < result.psnr_background[1]
    assert "psnr_roi" in result.table()


def test_weighted_measures(roi_photo):
    ones = np.ones(roi_photo.shape[:2])
    noisy = np.clip(
        roi_photo.astype(int) + np.random.default_rng(0).integers(-9, 10, roi_photo.shape), 0, 255
    )
    noisy = noisy.astype(np.uint8)
    from helpers import metrics

    assert metrics.weighted_psnr(roi_photo, noisy, ones) == pytest.approx(
        metrics.psnr(roi_photo, noisy), abs=1e-6
    )
    assert metrics.weighted_ssim(roi_photo, noisy, ones) == pytest.approx(
        metrics.ssim(roi_photo, noisy), abs=1e-5
    )
    assert metrics.weighted_psnr(roi_photo, roi_photo, ones) == float("inf")
    with pytest.raises(ValueError, match="zero"):
        metrics.weighted_psnr(roi_photo, noisy, 0 * ones)
