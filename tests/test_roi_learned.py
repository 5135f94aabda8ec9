"""ROI with a learned codec: a spatial step on the hyperprior's latent, sent as one code per cell."""

import struct

import numpy as np
import pytest

from helpers import autoencoder, images, roi, roi_learned


@pytest.fixture(scope="module")
def model():
    return autoencoder.load_pretrained("bmshj2018-hyperprior", 2)


@pytest.fixture(scope="module")
def photo():
    from skimage import data as skdata

    return images.center_crop(skdata.astronaut(), (128, 192))


@pytest.fixture(scope="module")
def blob():
    yy, xx = np.mgrid[0:128, 0:192]
    return np.exp(-((yy - 50) ** 2 + (xx - 80) ** 2) / (2 * 25**2)).astype(np.float32)


def test_step_one_everywhere_is_the_plain_codec(model, photo, blob):
    data = roi_learned.compress(model, photo, blob, strength=0.0, offset=0.0)
    plain = autoencoder.compress(model, photo)
    assert np.array_equal(roi_learned.decompress(model, data), autoencoder.decompress(model, plain))
    assert (
        abs(len(data) - len(plain)) < 40
    )  # only the headers differ (plus the deflated cell codes)


def test_codes_travel_in_the_file(model, photo, blob):
    codes = roi_learned.step_codes(np.pad(blob, ((0, 64), (0, 0)), "edge"), (12, 12), 2.0, 0.25)
    assert codes.shape == (3, 3)
    assert codes[0, 1] < codes[2, 2]  # the blob's cell gets the finer step (smaller code)
    assert np.array_equal(roi_learned._unpack(roi_learned._pack(codes), (3, 3)), codes)
    steps = roi_learned.steps_from_codes(codes, (10, 11))
    assert steps.shape == (1, 1, 10, 11)
    assert float(steps[0, 0, 0, 0]) == pytest.approx(2 ** ((int(codes[0, 0]) - 128) / 16))
    assert float(steps[0, 0, 9, 10]) == pytest.approx(2 ** ((int(codes[2, 2]) - 128) / 16))
    # strength 0: one step everywhere, 2^offset
    flat = roi_learned.step_codes(blob, (8, 12), 0.0, 0.5)
    assert (flat == 136).all()
    # the decoder reads the same codes back from the file
    data = roi_learned.compress(model, photo, blob, strength=2.0, offset=0.25)
    expected = roi_learned.step_codes(blob, (8, 12), 2.0, 0.25)
    assert np.array_equal(roi_learned.read_steps(data), (expected.astype(float) - 128) / 16)


def test_equal_size_moves_quality_into_the_roi(model, photo, blob):
    plain = autoencoder.compress(model, photo)
    uniform = autoencoder.decompress(model, plain)
    data = roi_learned.compress_for_size(model, photo, blob, len(plain), strength=2.0)
    assert abs(len(data) - len(plain)) <= 0.02 * len(plain)
    decoded = roi_learned.decompress(model, data)
    assert roi.weighted_psnr(photo, decoded, blob) > roi.weighted_psnr(photo, uniform, blob) + 0.2
    assert roi.weighted_psnr(photo, decoded, 1 - blob) < roi.weighted_psnr(photo, uniform, 1 - blob)


def test_bad_input_is_refused(model, photo, blob):
    factorized = autoencoder.load_pretrained("bmshj2018-factorized", 1)
    with pytest.raises(ValueError, match="hyperprior"):
        roi_learned.compress(factorized, photo, blob)
    with pytest.raises(ValueError, match="must match"):
        roi_learned.compress(model, photo, blob[:64])
    data = roi_learned.compress(model, photo, blob)
    with pytest.raises(ValueError, match="bad header"):
        roi_learned.decompress(model, b"JUNK" + data[4:])
    with pytest.raises(ValueError, match="truncated"):
        roi_learned.decompress(model, data[:30])
    size = struct.calcsize(roi_learned._HEADER)
    broken = data[:size] + b"\x00" * 8 + data[size + 8 :]
    with pytest.raises(ValueError, match="corrupt step codes"):
        roi_learned.decompress(model, broken)
    with pytest.raises(ValueError, match="target_bytes"):
        roi_learned.compress_for_size(model, photo, blob, 0)
