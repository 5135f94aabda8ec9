import io

import numpy as np
import pytest
from PIL import Image
from pillow_oracle import pillow_decode, pillow_jpeg  # noqa: E402

from helpers import config, jpeg, metrics
from helpers.jpeg.reader import read_jpeg

# ----------------------------------------------------------------------------- tables


def test_quant_tables_match_pillow_at_every_quality():
    tiny = np.zeros((8, 8, 3), np.uint8)
    for quality in range(1, 101):
        with Image.open(io.BytesIO(pillow_jpeg(tiny, quality))) as picture:
            tables = picture.quantization
        np.testing.assert_array_equal(
            jpeg.quant_table(quality).reshape(64), tables[0]
        )  # natural order
        np.testing.assert_array_equal(jpeg.quant_table(quality, chroma=True).reshape(64), tables[1])
    np.testing.assert_array_equal(jpeg.quant_table(50), jpeg.QUANT_LUMA)
    assert jpeg.quant_table(100).max() == 1 and jpeg.quant_table(1).min() == 255


def test_quality_bad_input():
    for bad in (0, 101, -5):
        with pytest.raises(ValueError, match="1..100"):
            jpeg.quality_scaling(bad)
    for bad in (50.0, "50", True):
        with pytest.raises(TypeError):
            jpeg.quality_scaling(bad)
    with pytest.raises(ValueError):
        jpeg.quant_table(50, base=np.ones((4, 4)))


def test_encode_with_deadzones_is_a_smaller_valid_file():
    from skimage import data as skdata

    photo = skdata.astronaut()[:64, :96]
    zones = np.full((8, 12), 0.5)
    assert jpeg.encode(photo, 80, block_deadzones=zones) == jpeg.encode(photo, 80)
    zones[:, 6:] = 4.0
    data = jpeg.encode(photo, 80, block_deadzones=zones)
    assert len(data) < len(jpeg.encode(photo, 80))
    assert Image.open(io.BytesIO(data)).size == (96, 64)
    with pytest.raises(ValueError, match="block_deadzones"):
        jpeg.encode(photo, 80, block_deadzones=np.full((8, 11), 1.0))


@pytest.mark.parametrize("subsampling", ["4:2:0", "4:2:2", "4:4:4"])
@pytest.mark.parametrize("optimize", [False, True])
def test_byte_identical_to_pillow(photo, subsampling, optimize):
    for quality in (10, 50, 90):
        ours = jpeg.encode(photo, quality, subsampling, optimize=optimize)
        assert ours == pillow_jpeg(photo, quality, subsampling, optimize=optimize)


@pytest.mark.parametrize("size", [(1, 1), (7, 9), (17, 33), (31, 47), (15, 16)])
def test_odd_sizes_identical_and_decodable(photo, size):
    crop = photo[: size[0], : size[1]]
    for subsampling in ("4:2:0", "4:4:4"):
        ours = jpeg.encode(crop, 60, subsampling)
        assert ours == pillow_jpeg(crop, 60, subsampling)
        np.testing.assert_array_equal(jpeg.decode(ours), pillow_decode(ours))


def test_block_adaptive_quantization(photo):
    rows, cols = 20, 25
    scales = np.full((rows, cols), 4)
    scales[5:15, 8:18] = 1  # the "object" keeps full quality
    uniform = jpeg.analyze(photo, 50)
    adaptive = jpeg.analyze(photo, 50, block_scales=scales)
    assert len(adaptive.data) < len(uniform.data)
    np.testing.assert_array_equal(pillow_decode(adaptive.data), adaptive.reconstruction)
    levels = read_jpeg(adaptive.data).components[0].coefficients  # zigzag, luma grid
    assert (levels[:5] % 4 == 0).all() and (levels[5:15, 8:18] % 4 != 0).any()
    inside = (slice(40, 120), slice(64, 144))
    assert metrics.psnr(adaptive.reconstruction[inside], photo[inside]) == pytest.approx(
        metrics.psnr(uniform.reconstruction[inside], photo[inside]), abs=0.3
    )
    with pytest.raises(ValueError, match="shape"):
        jpeg.encode(photo, 50, block_scales=np.ones((3, 3), int))
    with pytest.raises(ValueError, match="1..255"):
        jpeg.encode(photo, 50, block_scales=np.zeros((rows, cols), int))


def test_encode_bad_input(photo):
    with pytest.raises(ValueError, match="subsampling"):
        jpeg.encode(photo, 50, "4:1:1")
    with pytest.raises(ValueError):
        jpeg.encode(photo, 0)
    with pytest.raises(ValueError):
        jpeg.encode(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        jpeg.encode(np.full((8, 8, 3), np.nan))
    with pytest.raises(TypeError):
        jpeg.encode("photo.png")
    with pytest.raises(ValueError, match="dct"):
        jpeg.analyze(photo, 50, dct="fast")
    with pytest.raises(ValueError):
        jpeg.analyze(photo, 50, tables=(np.zeros((8, 8)), np.ones((8, 8))))


def test_kodak_against_pillow(kodak_dir):
    from helpers import data

    names = sorted(data.KODAK_SHA256)[:: 6 if config.FAST else 1]
    pictures = data.kodak(names=names)
    for name, picture in pictures.items():
        for subsampling in ("4:2:0", "4:4:4"):
            for quality in (10, 30, 50, 75, 90):
                ours = jpeg.encode(picture, quality, subsampling)
                theirs = pillow_jpeg(picture, quality, subsampling)
                assert abs(len(ours) / len(theirs) - 1) <= 0.02, (name, quality, subsampling)
                assert (
                    abs(
                        metrics.psnr(pillow_decode(ours), picture)
                        - metrics.psnr(pillow_decode(theirs), picture)
                    )
                    <= 0.1
                )
            optimized = jpeg.encode(picture, 50, subsampling, optimize=True)
            assert len(optimized) <= 1.02 * len(
                pillow_jpeg(picture, 50, subsampling, optimize=True)
            )


def test_block_bits_map_spreads_chroma(photo):
    analysis = jpeg.analyze(photo[:64, :64], 50, "4:2:0")
    grids = jpeg.analyze_file(analysis.data).frame.accounting["block_bits"]
    assert analysis.block_bits.shape == (8, 8)
    assert analysis.block_bits.sum() == pytest.approx(sum(g.sum() for g in grids.values()))
    assert isinstance(analysis, jpeg.Analysis)
    np.testing.assert_allclose(jpeg.block_bits_map(analysis.frame, grids), analysis.block_bits)
    assert set(jpeg.SUBSAMPLING) == {"4:4:4", "4:2:2", "4:2:0"}
    assert jpeg.QUANT_CHROMA[7, 7] == 99
