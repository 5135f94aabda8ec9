"""helpers.jpeg.transforms: colour, sampling, blocks, DCTs (checked against scipy) and quantization."""

import numpy as np
import pytest
import scipy.fft
import torch

from helpers import config, jpeg
from helpers.jpeg.bitstream import ZIGZAG

# ----------------------------------------------------------------------------- tables


def test_zigzag_order():
    assert ZIGZAG[:10].tolist() == [0, 1, 8, 16, 9, 2, 3, 10, 17, 24]
    assert ZIGZAG[-1] == 63 and sorted(ZIGZAG.tolist()) == list(range(64))
    blocks = np.arange(2 * 64).reshape(2, 8, 8)
    np.testing.assert_array_equal(jpeg.unzigzag(jpeg.zigzag(blocks)), blocks)
    with pytest.raises(ValueError):
        jpeg.zigzag(np.zeros((4, 4)))
    with pytest.raises(ValueError):
        jpeg.unzigzag(np.zeros(63))


def test_colour_conversion(photo):
    ycc = jpeg.rgb_to_ycbcr(photo)
    exact = np.asarray(__import__("helpers.images", fromlist=["images"]).rgb_to_ycbcr(photo))
    assert ycc.dtype == np.uint8 and np.abs(ycc - exact).max() <= 0.5 + 1e-9
    back = jpeg.ycbcr_to_rgb(ycc)
    assert np.abs(back.astype(int) - photo).max() <= 3
    with pytest.raises(ValueError):
        jpeg.ycbcr_to_rgb(np.zeros((4, 4)))
    with pytest.raises(ValueError):
        jpeg.rgb_to_ycbcr(photo[..., 0])


def test_down_and_upsampling():
    plane = np.arange(16 * 12).reshape(16, 12) % 251
    for h, v in [(2, 2), (2, 1), (1, 1)]:
        small = jpeg.downsample(plane, h, v)
        assert small.shape == (16 // v, 12 // h)
        for method in ("fancy", "nearest"):
            big = jpeg.upsample(small, h, v, (16, 12), method=method)
            assert big.shape == (16, 12)
    constant = np.full((6, 5), 77)
    assert (jpeg.upsample(constant, 2, 2, (11, 9)) == 77).all()
    assert (jpeg.downsample(np.full((4, 4), 9), 2, 2) == 9).all()
    with pytest.raises(ValueError):
        jpeg.downsample(np.zeros((5, 4)), 2, 2)
    with pytest.raises(ValueError):
        jpeg.upsample(constant, 2, 2, (12, 10), method="cubic")


def test_blockify_round_trip():
    plane = np.random.default_rng(0).integers(0, 256, (13, 21))
    blocks = jpeg.blockify(plane)
    assert blocks.shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(blocks[0, 1], plane[:8, 8:16])
    np.testing.assert_array_equal(jpeg.deblockify(blocks, plane.shape), plane)
    tensor = torch.from_numpy(plane.astype(np.float32))
    torch.testing.assert_close(jpeg.deblockify(jpeg.blockify(tensor), (13, 21)), tensor)
    with pytest.raises(ValueError):
        jpeg.blockify(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError):
        jpeg.deblockify(np.zeros((2, 8, 8)))


def test_dct_matches_scipy_and_inverts():
    blocks = np.random.default_rng(1).normal(size=(5, 8, 8))
    np.testing.assert_allclose(
        jpeg.dct2(blocks), scipy.fft.dctn(blocks, axes=(-2, -1), norm="ortho"), atol=1e-10
    )
    np.testing.assert_allclose(jpeg.idct2(jpeg.dct2(blocks)), blocks, atol=1e-10)
    c = jpeg.dct_matrix().numpy()
    np.testing.assert_allclose(c @ c.T, np.eye(8), atol=1e-12)


def test_dct_torch_device_and_dtype():
    blocks = torch.rand(3, 8, 8, dtype=torch.float32, device=config.device())
    coefficients = jpeg.dct2(blocks)
    assert isinstance(coefficients, torch.Tensor) and coefficients.device == blocks.device
    torch.testing.assert_close(jpeg.idct2(coefficients), blocks, atol=1e-5, rtol=0)
    # DC of an orthonormal 8x8 DCT is 8 times the block mean
    torch.testing.assert_close(
        coefficients[:, 0, 0], 8 * blocks.mean(dim=(1, 2)), atol=1e-5, rtol=0
    )


def test_basis_images_are_orthonormal():
    basis = jpeg.basis_images().reshape(64, 64)
    np.testing.assert_allclose(basis @ basis.T, np.eye(64), atol=1e-12)
    assert np.allclose(jpeg.basis_images()[0, 0], 1 / 8)


def test_integer_dcts_track_the_exact_ones():
    rng = np.random.default_rng(2)
    blocks = rng.integers(-128, 128, (200, 8, 8))
    assert np.abs(jpeg.fdct_islow(blocks) - jpeg.dct2(blocks)).max() < 1.0
    levels = np.round(jpeg.dct2(blocks)).astype(np.int64)
    exact = np.clip(np.floor(jpeg.idct2(levels) + 128.5), 0, 255)
    assert np.abs(jpeg.idct_islow(levels) - exact).max() <= 1
    with pytest.raises(ValueError):
        jpeg.idct_islow(np.zeros((8, 8)))
    with pytest.raises(ValueError):
        jpeg.dct2(np.zeros((8, 4)))
    with pytest.raises(TypeError):
        jpeg.dct2(np.array([["a"] * 8] * 8))


def test_quantize_rounds_half_away_from_zero():
    table = np.full((8, 8), 10)
    coefficients = np.zeros((1, 8, 8))
    coefficients[0, 0, :4] = [15, -15, 14.9, -25]
    levels = jpeg.quantize(coefficients, table)
    assert levels[0, 0, :4].tolist() == [2, -2, 1, -3]
    np.testing.assert_array_equal(jpeg.dequantize(levels, table)[0, 0, :4], [20, -20, 10, -30])


def test_quantize_block_deadzones():
    rng = np.random.default_rng(4)
    coefficients = rng.normal(scale=40, size=(2, 2, 8, 8))
    table = jpeg.quant_table(75)
    zones = np.array([[0.5, 1.5], [3.0, 0.5]])
    levels = jpeg.quantize(coefficients, table, block_deadzones=zones)
    plain = jpeg.quantize(coefficients, table)
    np.testing.assert_array_equal(levels[0, 0], plain[0, 0])  # 0.5 is plain rounding
    ratio = np.abs(coefficients / table)
    for r, c in [(0, 1), (1, 0)]:
        dropped = ratio[r, c] < zones[r, c]
        dropped[0, 0] = False  # the DC is never zeroed
        assert (levels[r, c][dropped] == 0).all()
        np.testing.assert_array_equal(levels[r, c][~dropped], plain[r, c][~dropped])
        assert dropped.sum() > 0
    with pytest.raises(ValueError, match="0.5"):
        jpeg.quantize(coefficients, table, block_deadzones=np.full((2, 2), 0.2))
    with pytest.raises(ValueError, match="shape"):
        jpeg.quantize(coefficients, table, block_deadzones=np.ones((3, 2)))


def test_quantize_block_scales():
    rng = np.random.default_rng(3)
    coefficients = rng.normal(scale=60, size=(2, 3, 8, 8))
    table = jpeg.quant_table(50)
    scales = np.array([[1, 2, 4], [1, 1, 3]])
    levels = jpeg.quantize(coefficients, table, scales)
    assert (levels % scales[..., None, None] == 0).all()
    np.testing.assert_array_equal(levels[0, 0], jpeg.quantize(coefficients[0, 0], table))
    coarse = jpeg.quantize(coefficients, table * 4)
    np.testing.assert_array_equal(levels[0, 2], 4 * coarse[0, 2])
    with pytest.raises(ValueError, match="shape"):
        jpeg.quantize(coefficients, table, np.ones((2, 2), int))
    with pytest.raises(ValueError, match=">= 1"):
        jpeg.quantize(coefficients, table, np.zeros((2, 3), int))
    with pytest.raises(ValueError):
        jpeg.quantize(coefficients, np.ones((4, 4)))
