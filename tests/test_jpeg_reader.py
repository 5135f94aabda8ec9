"""helpers.jpeg.reader: the decoder against Pillow/libjpeg, unsupported and damaged files."""

import io
import signal

import numpy as np
import pytest
from PIL import Image
from pillow_oracle import pillow_decode, pillow_jpeg  # noqa: E402

from helpers import jpeg, metrics

# ----------------------------------------------------------------------------- tables


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
        assert metrics.psnr(nearest, pillow_decode(data)) > 30
        assert np.abs(floating.astype(int) - pillow_decode(data)).max() <= 3


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
