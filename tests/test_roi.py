"""ROI coding: quality maps, the single-file ROI JPEG (checked from the file's own coefficients),
the composite coder, byte budgets and the inside/outside measures."""

import io

import numpy as np
import pytest
from PIL import Image

from helpers import jpeg, roi


def test_linear_threshold_and_quantile_modes(roi_blob):
    linear = roi.quality_map(roi_blob, "linear", q_start=30, q_end=70)
    assert linear.min() == pytest.approx(
        30 + 40 * roi_blob.min()
    ) and linear.max() == pytest.approx(70)
    cut = roi.quality_map(roi_blob, "threshold", threshold=0.5, q_object=100, q_background=5)
    assert set(np.unique(cut)) == {5.0, 100.0}
    assert (cut == 100).sum() == (roi_blob >= 0.5).sum()
    levels = roi.quality_map(roi_blob, "quantile")
    shares = [np.mean(levels == level) for level in (20, 40, 60, 80, 100)]
    assert np.allclose(shares, 0.2, atol=0.02)


def test_entropy_mode_raises_quality_on_texture(roi_photo):
    flat_roi = np.zeros(roi_photo.shape[:2], np.float32)
    q = roi.quality_map(
        flat_roi, "entropy", image=roi_photo, q_start=20, q_end=80, entropy_weight=1.0
    )
    entropy = roi.block_entropy(roi_photo)
    assert np.corrcoef(q.ravel(), entropy.ravel())[0, 1] > 0.99
    with pytest.raises(ValueError, match="image"):
        roi.quality_map(flat_roi, "entropy")


@pytest.mark.parametrize("target", [25, 50, 75])
def test_progressive_weighting_hits_the_average(roi_blob, target):
    for seed in range(3):
        noise = np.random.default_rng(seed).random(roi_blob.shape).astype(np.float32)
        q = roi.quality_map(roi_blob * noise, "progressive", q_start=10, q_end=90, target=target)
        blocks = roi.block_qualities(q)
        assert abs(blocks.mean() - target) <= 1
        assert 1 <= blocks.min() and blocks.max() <= 100


def test_bad_maps_raise(roi_photo):
    with pytest.raises(ValueError, match="2-D"):
        roi.quality_map(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        roi.quality_map(np.full((4, 4), 2.0))
    with pytest.raises(ValueError, match="NaN"):
        roi.quality_map(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="match the image"):
        roi.encode(roi_photo, np.zeros((8, 8)))
    with pytest.raises(ValueError, match="unknown mode"):
        roi.quality_map(np.zeros((4, 4)), "spiral")
    with pytest.raises(ValueError, match="quality"):
        roi.quality_map(np.zeros((4, 4)), q_end=101)
    # uint8 maps (0..255, as the thesis draws them) are accepted
    assert roi.quality_map(np.full((4, 4), 255, np.uint8)).max() == pytest.approx(70)


def _luma_levels_and_table(data):
    analysis = jpeg.analyze_file(data)
    frame = analysis.frame
    levels = jpeg.unzigzag(frame.components[0].coefficients)
    return levels, frame.quant_tables[frame.components[0].table_id]


def test_single_file_deadzones_follow_the_quality_map(roi_photo, roi_blob):
    block_q = roi.block_qualities(roi.quality_map(roi_blob, q_start=20, q_end=80))
    data = roi.encode_single(roi_photo, block_q)
    assert Image.open(io.BytesIO(data)).size == (128, 96)  # any decoder opens it
    levels, table = _luma_levels_and_table(data)
    base = int(np.ceil(block_q.max()))
    assert np.array_equal(table, jpeg.quant_table(base))
    zones = roi.block_deadzones_for(block_q, base)
    rows, cols = block_q.shape
    ac = levels[:rows, :cols].reshape(rows, cols, 64)[..., 1:]
    smallest = np.where(ac != 0, np.abs(ac), 10**9).min(axis=-1)
    # a surviving AC level in block b is at least round(d_b): nothing below the block's dead zone
    assert np.all(smallest >= np.floor(zones + 0.5))
    # the background keeps fewer coefficients than the object
    nonzero = (ac != 0).sum(axis=-1)
    assert nonzero[zones >= 2].mean() < nonzero[zones < 0.6].mean()


def test_single_file_scales_store_multiples(roi_photo, roi_blob):
    block_q = roi.block_qualities(roi.quality_map(roi_blob, q_start=20, q_end=80))
    data = roi.encode_single(roi_photo, block_q, quantizer="scale")
    levels, table = _luma_levels_and_table(data)
    base = int(np.ceil(block_q.max()))
    scales = roi.block_scales_for(block_q, base)
    rows, cols = block_q.shape
    assert np.all(levels[:rows, :cols] % scales[..., None, None] == 0)
    effective = scales * jpeg.quality_scaling(base)  # the step each block really gets, in percent
    assert np.all(np.abs(effective - roi.scale_percent(block_q)) <= jpeg.quality_scaling(base) / 2)
    with pytest.raises(ValueError, match="quantizer"):
        roi.encode_single(roi_photo, block_q, quantizer="magic")


def test_uniform_map_gives_the_uniform_file(roi_photo):
    block_q = np.full((12, 16), 60.0)
    ours = roi.encode_single(roi_photo, block_q, optimize=False)
    assert ours == roi.uniform_jpeg(roi_photo, 60, optimize=False)


@pytest.mark.parametrize("mode", ["single", "composite"])
def test_target_bytes_is_met_within_one_percent(roi_photo, roi_blob, mode):
    target = len(roi.uniform_jpeg(roi_photo, 50))
    data = roi.encode(roi_photo, roi_blob, mode=mode, target_bytes=target, q_start=20, q_end=80)
    assert abs(len(data) - target) <= 0.01 * target
    assert roi.decode(data).shape == roi_photo.shape


def test_more_quality_inside_the_roi_at_equal_size(roi_photo, roi_blob):
    uniform = roi.uniform_jpeg(roi_photo, 50)
    data = roi.encode(roi_photo, roi_blob, target_bytes=len(uniform), q_start=20, q_end=80)
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

    assert roi.weighted_psnr(roi_photo, noisy, ones) == pytest.approx(
        metrics.psnr(roi_photo, noisy), abs=1e-6
    )
    assert roi.weighted_ssim(roi_photo, noisy, ones) == pytest.approx(
        metrics.ssim(roi_photo, noisy), abs=1e-5
    )
    assert roi.weighted_psnr(roi_photo, roi_photo, ones) == float("inf")
    with pytest.raises(ValueError, match="zero"):
        roi.weighted_psnr(roi_photo, noisy, 0 * ones)


def test_jpeg_for_size_finds_the_closest_quality(roi_photo):
    target = len(roi.uniform_jpeg(roi_photo, 37))
    quality, data = roi.jpeg_for_size(roi_photo, target)
    assert quality == 37 and len(data) == target


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
