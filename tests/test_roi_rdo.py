"""helpers.roi.rdo: the ROI-weighted rate-distortion JPEG coder."""

import numpy as np
import pytest

from helpers import jpeg, roi


def test_rdo_deadzones_widen_where_the_weight_is_low():
    zones = roi.rdo_deadzones(np.array([[1.0, 0.1]]), 75, lagrangian=10.0)
    assert zones.shape == (1, 2, 8, 8) and zones.min() >= 0.5
    assert np.all(zones[0, 1] > zones[0, 0])  # low ROI weight: more is zeroed
    q = jpeg.quant_table(75)
    assert np.all(np.diff(zones[0, 0].ravel()[np.argsort(q.ravel())]) <= 1e-12)  # fine steps: wider
    assert np.all(roi.rdo_deadzones(np.ones((2, 2)), 75, 0.0) == 0.5)
    with pytest.raises(ValueError):
        roi.rdo_deadzones(np.zeros((2, 2)), 75, 1.0)


def test_rdo_without_zeroing_is_plain_jpeg_and_beats_uniform_inside_the_roi(roi_photo, roi_blob):
    plain = roi.encode_rdo(roi_photo, roi_blob, 0.0, base_quality=70, optimize=False)
    assert plain == roi.uniform_jpeg(roi_photo, 70, optimize=False)
    uniform = roi.uniform_jpeg(roi_photo, 50)
    data = roi.encode(roi_photo, roi_blob, mode="rdo", target_bytes=len(uniform), base_quality=75)
    assert abs(len(data) - len(uniform)) <= 0.01 * len(uniform)
    result = roi.evaluate(roi_photo, roi_blob, data, uniform, 50)
    assert result.psnr_roi[0] > result.psnr_roi[1] + 0.5
    with pytest.raises(ValueError, match="target_bytes or lagrangian"):
        roi.encode(roi_photo, roi_blob, mode="rdo")
