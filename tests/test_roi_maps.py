"""helpers.roi.maps: ROI map -> quality map, every mode, and bad maps."""

import numpy as np
import pytest

from helpers import roi


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


def test_quantile_levels_with_ties_give_the_background_the_lowest_level():
    """A CAM-like map: 70 % exact zeros, the rest ranked values. The rule, stated in quality_map's
    docstring: a pixel's rank is the share of pixels strictly below it, and level i covers the ranks
    in [quantiles[i-1], quantiles[i]). Zeros rank 0 -> the lowest level; the other 30 % rank from
    0.7 up: 0.7-0.8 -> level 80 (a tenth of the pixels), 0.8-1.0 -> level 100 (a fifth)."""
    roi_map = np.zeros((20, 50), np.float32)
    roi_map.ravel()[700:] = np.linspace(0.01, 1.0, 300)
    levels = roi.quality_map(roi_map, "quantile")
    shares = {level: float((levels == level).mean()) for level in (20, 40, 60, 80, 100)}
    assert shares == {20: 0.7, 40: 0.0, 60: 0.0, 80: 0.1, 100: 0.2}
    assert np.all(levels[roi_map == 0] == 20)
    # a map without ties gives each level a fifth of the pixels, as in the thesis
    ramp = np.linspace(0, 1, 1000, dtype=np.float32).reshape(20, 50)
    levels = roi.quality_map(ramp, "quantile")
    assert [float((levels == q).mean()) for q in (20, 40, 60, 80, 100)] == [0.2] * 5
    with pytest.raises(ValueError, match="quantiles"):
        roi.quality_map(ramp, "quantile", quantiles=(0.6, 0.4, 0.2, 0.1))
