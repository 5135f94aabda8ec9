"""ROI coding: quality maps, the single-file ROI JPEG (checked from the file's own coefficients),
the composite coder, byte budgets and the inside/outside measures."""

import io

import numpy as np
import pytest
from PIL import Image

from helpers import images, jpeg, roi


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
    assert np.all(
        np.abs(effective - jpeg.quality_scaling(np.clip(block_q, 1, 100), fractional=True))
        <= jpeg.quality_scaling(base) / 2
    )
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
    assert images.decode_bytes(data).shape == roi_photo.shape


def test_jpeg_for_size_finds_the_closest_quality(roi_photo):
    target = len(roi.uniform_jpeg(roi_photo, 37))
    quality, data = roi.jpeg_for_size(roi_photo, target)
    assert quality == 37 and len(data) == target


def test_the_default_coder_is_the_recommended_one_and_refuses_options_it_ignores(
    roi_photo, roi_blob
):
    """roi.encode with its defaults is the ROI-weighted RDO coder (chapter 7's headline numbers)."""
    target = len(roi.uniform_jpeg(roi_photo, 50))
    default = roi.encode(roi_photo, roi_blob, target_bytes=target)
    assert default == roi.encode(roi_photo, roi_blob, mode="rdo", target_bytes=target)
    assert abs(len(default) - target) <= 0.01 * target
    with pytest.raises(TypeError, match="do not apply"):
        roi.encode(roi_photo, roi_blob, target_bytes=target, q_start=20)  # a quality-map option
    with pytest.raises(TypeError, match="do not apply"):
        roi.encode(roi_photo, roi_blob, mode="single", target_bytes=target, lagrangian=3.0)
