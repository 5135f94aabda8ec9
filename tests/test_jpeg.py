import io
import signal

import numpy as np
import pytest
import scipy.fft
import skimage.data
import torch
from PIL import Image

from helpers import config, jpeg
from helpers.jpeg_bitstream import ZIGZAG
from helpers.jpeg_reader import read_jpeg

PILLOW_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


@pytest.fixture(scope="module")
def photo():
    return skimage.data.astronaut()[100:260, 150:350]  # 160 x 200, textured


def pillow_jpeg(image, quality, subsampling="4:2:0", **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(
        buffer, "JPEG", quality=quality, subsampling=PILLOW_SUBSAMPLING[subsampling], **options
    )
    return buffer.getvalue()


def pillow_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as picture:
        return np.asarray(picture.convert("RGB" if picture.mode != "L" else "L"))


def psnr(a, b):
    if np.array_equal(a, b):
        return float("inf")
    return 10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2))


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


def test_zigzag_order():
    assert ZIGZAG[:10].tolist() == [0, 1, 8, 16, 9, 2, 3, 10, 17, 24]
    assert ZIGZAG[-1] == 63 and sorted(ZIGZAG.tolist()) == list(range(64))
    blocks = np.arange(2 * 64).reshape(2, 8, 8)
    np.testing.assert_array_equal(jpeg.unzigzag(jpeg.zigzag(blocks)), blocks)
    with pytest.raises(ValueError):
        jpeg.zigzag(np.zeros((4, 4)))
    with pytest.raises(ValueError):
        jpeg.unzigzag(np.zeros(63))


# ----------------------------------------------------------------------------- colour and sampling


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


# ----------------------------------------------------------------------------- DCT


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


# ----------------------------------------------------------------------------- quantization


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


# ----------------------------------------------------------------------------- codec vs libjpeg


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


def test_grayscale_round_trip(photo):
    gray = photo[..., 1]
    ours = jpeg.encode(gray, 75)
    assert ours == pillow_jpeg(gray, 75, "4:4:4")
    # Pillow writes 2x2 sampling factors for a grayscale 4:2:0 request; one component ignores them
    np.testing.assert_array_equal(jpeg.decode(pillow_jpeg(gray, 75, "4:2:0")), jpeg.decode(ours))
    decoded = jpeg.decode(ours)
    assert decoded.shape == gray.shape
    np.testing.assert_array_equal(decoded, pillow_decode(ours))


def test_decoder_reads_pillow_files_exactly(photo):
    for subsampling in ("4:2:0", "4:2:2", "4:4:4"):
        data = pillow_jpeg(photo, 40, subsampling)
        np.testing.assert_array_equal(jpeg.decode(data), pillow_decode(data))
        nearest = jpeg.decode(data, upsampling="nearest")
        floating = jpeg.decode(data, idct="float")
        assert psnr(nearest, pillow_decode(data)) > 30
        assert np.abs(floating.astype(int) - pillow_decode(data)).max() <= 3


def test_restart_intervals(photo):
    for subsampling in ("4:2:0", "4:4:4"):
        plain = jpeg.analyze(photo, 50, subsampling)
        for interval in (1, 5):
            restarted = jpeg.analyze(photo, 50, subsampling, restart_interval=interval)
            assert b"\xff\xdd" in restarted.data and b"\xff\xd0" in restarted.data
            np.testing.assert_array_equal(jpeg.decode(restarted.data), plain.reconstruction)
            np.testing.assert_array_equal(pillow_decode(restarted.data), plain.reconstruction)
    with pytest.raises(ValueError):
        jpeg.analyze(photo, 50, restart_interval=-1)


def test_analysis_accounts_for_every_bit(photo):
    analysis = jpeg.analyze(photo, 50, "4:2:0")
    assert analysis.block_bits.shape == (20, 25)
    split = analysis.split
    assert split["total"] == len(analysis.data)
    assert split["headers"] + split["tables"] + split["dc"] + split["ac"] + split[
        "padding_and_stuffing"
    ] == pytest.approx(split["total"])
    grids = analysis.frame.accounting["block_bits"]
    assert sum(int(g.sum()) for g in grids.values()) / 8 == pytest.approx(split["dc"] + split["ac"])
    # the map covers the image's 8x8 grid; dummy blocks of the MCU padding fall outside it
    assert analysis.block_bits.sum() / 8 <= split["dc"] + split["ac"]
    np.testing.assert_array_equal(jpeg.decode(analysis.data), analysis.reconstruction)
    assert analysis.bpp == pytest.approx(8 * len(analysis.data) / (160 * 200))
    # the decoder's accounting of the same file agrees block by block
    from_file = jpeg.analyze_file(analysis.data)
    np.testing.assert_allclose(from_file.block_bits, analysis.block_bits)
    flat = np.zeros((160, 200, 3), np.uint8)
    assert jpeg.analyze(flat, 50).block_bits.max() < analysis.block_bits.max()


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
    assert psnr(adaptive.reconstruction[inside], photo[inside]) == pytest.approx(
        psnr(uniform.reconstruction[inside], photo[inside]), abs=0.3
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


# ----------------------------------------------------------------------------- robustness


def test_unsupported_files_raise_jpeg_error(photo):
    with pytest.raises(jpeg.JPEGError, match="progressive"):
        jpeg.decode(pillow_jpeg(photo, 50, progressive=True))
    data = bytearray(pillow_jpeg(photo, 50))
    sof = data.index(b"\xff\xc0")
    arithmetic = bytes(data[: sof + 1]) + b"\xc9" + bytes(data[sof + 2 :])
    with pytest.raises(jpeg.JPEGError, match="arithmetic"):
        jpeg.decode(arithmetic)
    twelve = bytearray(data)
    twelve[sof + 4] = 12
    with pytest.raises(jpeg.JPEGError, match="12-bit"):
        jpeg.decode(bytes(twelve))
    buffer = io.BytesIO()
    Image.fromarray(photo).convert("CMYK").save(buffer, "JPEG")
    with pytest.raises(jpeg.JPEGError, match="4 components"):
        jpeg.decode(buffer.getvalue())
    for garbage in (b"", b"\xff\xd8", b"not a jpeg at all", bytes(100), data[: len(data) // 2]):
        with pytest.raises(jpeg.JPEGError):
            jpeg.decode(garbage)
    with pytest.raises(TypeError):
        jpeg.decode("file.jpg")
    with pytest.raises(ValueError):
        jpeg.decode(bytes(data), upsampling="bicubic")


def _alarm(signum, frame):
    raise TimeoutError("decoder hung")


def test_fuzz_truncated_and_bit_flipped_files(photo):
    """>= 2,000 damaged files: only JPEGError may escape, and nothing hangs."""
    rng = np.random.default_rng(0)
    small = photo[:24, :40]
    sources = [
        jpeg.encode(small, 50),
        jpeg.encode(small, 80, "4:4:4", optimize=True),
        jpeg.encode(small[..., 0], 60),
        jpeg.analyze(small, 30, restart_interval=2).data,
        pillow_jpeg(small, 70, "4:2:2"),
    ]
    previous = signal.signal(signal.SIGALRM, _alarm)
    outcomes = {"decoded": 0, "JPEGError": 0}
    try:
        for case in range(2000):
            data = bytearray(sources[case % len(sources)])
            if case % 3 == 0:
                data = data[: rng.integers(0, len(data))]
            else:
                for _ in range(rng.integers(1, 6)):
                    position = rng.integers(0, len(data))
                    data[position] ^= 1 << rng.integers(0, 8)
            signal.alarm(10)  # a hang detector, not a speed test (benchmarks/ reports speed)
            try:
                jpeg.decode(bytes(data))
                outcomes["decoded"] += 1
            except jpeg.JPEGError:
                outcomes["JPEGError"] += 1
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert sum(outcomes.values()) == 2000
    assert outcomes["JPEGError"] > 500  # most damage is detected


# ----------------------------------------------------------------------------- Kodak (issue criteria)


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
                    abs(psnr(pillow_decode(ours), picture) - psnr(pillow_decode(theirs), picture))
                    <= 0.1
                )
            optimized = jpeg.encode(picture, 50, subsampling, optimize=True)
            assert len(optimized) <= 1.02 * len(
                pillow_jpeg(picture, 50, subsampling, optimize=True)
            )


def test_kodak_coefficients_match_libjpeg(kodak_dir, tmp_path):
    import jpeglib

    from helpers import data

    picture = data.kodak(names=["kodim05"])["kodim05"]
    path = tmp_path / "pillow.jpg"
    path.write_bytes(pillow_jpeg(picture, 50))
    theirs = jpeglib.read_dct(str(path))
    ours = jpeg.analyze(picture, 50)
    agree = total = 0
    for component, reference in enumerate([theirs.Y, theirs.Cb, theirs.Cr]):
        mine = ours.coefficients(component)[: reference.shape[0], : reference.shape[1]]
        agree += int((mine == reference).sum())
        total += reference.size
    assert agree / total >= 0.999


def test_magnitude_category_and_extra_bits():
    from helpers.jpeg_bitstream import magnitude_category

    values = np.array([0, 1, -1, 2, -3, 4, 255, -1023, 2047])
    assert magnitude_category(values).tolist() == [0, 1, 1, 2, 2, 3, 8, 10, 11]


def test_write_jpeg_rejects_bad_frames(photo):
    from helpers.jpeg_bitstream import JPEGError, write_jpeg

    analysis = jpeg.analyze(photo[:16, :16], 50)
    frame = analysis.frame
    frame.quant_tables[0] = np.full((8, 8), 300)
    with pytest.raises(JPEGError, match="1..255"):
        write_jpeg(frame)
    with pytest.raises(ValueError, match="restart_interval"):
        write_jpeg(jpeg.analyze(photo[:16, :16], 50).frame, restart_interval=70000)


def test_block_bits_map_spreads_chroma(photo):
    analysis = jpeg.analyze(photo[:64, :64], 50, "4:2:0")
    grids = analysis.frame.accounting["block_bits"]
    assert analysis.block_bits.shape == (8, 8)
    assert analysis.block_bits.sum() == pytest.approx(sum(g.sum() for g in grids.values()))
    assert isinstance(analysis, jpeg.Analysis)
    np.testing.assert_allclose(jpeg.block_bits_map(analysis.frame), analysis.block_bits)
    assert set(jpeg.SUBSAMPLING) == {"4:4:4", "4:2:2", "4:2:0"}
    assert jpeg.QUANT_CHROMA[7, 7] == 99
