"""ROI with a learned codec: a spatial step on the hyperprior's latent, sent as one code per cell."""

import numpy as np
import pytest

from helpers import autoencoder, container, fixedpoint, images, metrics, roi


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
    data = roi.learned.compress(model, photo, blob, strength=0.0, offset=0.0)
    plain = autoencoder.compress(model, photo)
    assert np.array_equal(roi.learned.decompress(model, data), autoencoder.decompress(model, plain))
    assert (
        abs(len(data) - len(plain)) < 40
    )  # only the headers differ (plus the deflated cell codes)


def test_codes_travel_in_the_file(model, photo, blob):
    codes = roi.learned.step_codes(np.pad(blob, ((0, 64), (0, 0)), "edge"), (12, 12), 2.0, 0.25)
    assert codes.shape == (3, 3)
    assert codes[0, 1] < codes[2, 2]  # the blob's cell gets the finer step (smaller code)
    assert np.array_equal(roi.learned._unpack(roi.learned._pack(codes), (3, 3)), codes)
    steps = roi.learned.steps_from_codes(codes, (10, 11))
    assert steps.shape == (1, 1, 10, 11)
    assert float(steps[0, 0, 0, 0]) == pytest.approx(2 ** ((int(codes[0, 0]) - 128) / 16))
    assert float(steps[0, 0, 9, 10]) == pytest.approx(2 ** ((int(codes[2, 2]) - 128) / 16))
    # strength 0: one step everywhere, 2^offset
    flat = roi.learned.step_codes(blob, (8, 12), 0.0, 0.5)
    assert (flat == 136).all()
    # the decoder reads the same codes back from the file
    data = roi.learned.compress(model, photo, blob, strength=2.0, offset=0.25)
    expected = roi.learned.step_codes(blob, (8, 12), 2.0, 0.25)
    assert np.array_equal(roi.learned.read_steps(data), (expected.astype(float) - 128) / 16)


def test_equal_size_moves_quality_into_the_roi(model, photo, blob):
    plain = autoencoder.compress(model, photo)
    uniform = autoencoder.decompress(model, plain)
    data = roi.learned.compress_for_size(model, photo, blob, len(plain), strength=2.0)
    assert abs(len(data) - len(plain)) <= 0.02 * len(plain)
    decoded = roi.learned.decompress(model, data)
    assert (
        metrics.weighted_psnr(photo, decoded, blob)
        > metrics.weighted_psnr(photo, uniform, blob) + 0.2
    )
    assert metrics.weighted_psnr(photo, decoded, 1 - blob) < metrics.weighted_psnr(
        photo, uniform, 1 - blob
    )


def test_bad_input_is_refused(model, photo, blob):
    factorized = autoencoder.load_pretrained("bmshj2018-factorized", 1)
    with pytest.raises(ValueError, match="hyperprior"):
        roi.learned.compress(factorized, photo, blob)
    with pytest.raises(ValueError, match="must match"):
        roi.learned.compress(model, photo, blob[:64])
    data = roi.learned.compress(model, photo, blob)
    error = roi.learned.LearnedROIStreamError
    with pytest.raises(error, match="magic"):
        roi.learned.decompress(model, b"JUNK" + data[4:])
    with pytest.raises(error, match="damaged|truncated"):
        roi.learned.decompress(model, data[:30])
    header, payload = container.unpack(data, b"NCWR", 1, error)
    forged = container.pack(b"NCWR", 1, header, b"\x00" * 8 + payload[8:])  # a valid CRC, bad codes
    with pytest.raises(error, match="corrupt step codes"):
        roi.learned.decompress(model, forged)
    finer = autoencoder.load_pretrained("bmshj2018-hyperprior", 3)
    with pytest.raises(error, match="another model"):
        roi.learned.decompress(finer, data)
    with pytest.raises(ValueError, match="target_bytes"):
        roi.learned.compress_for_size(model, photo, blob, 0)


def test_the_integer_hyperprior_codes_roi_files_that_decode_the_same_everywhere(photo, blob):
    integer = autoencoder.load_integer("bmshj2018-hyperprior", 2)
    table = roi.learned.integer_steps_from_codes(np.array([[0, 128, 144, 255]]), (1, 16))[
        0, 0, 0, ::4
    ]
    assert table.tolist() == [256, 65536, 131072, round(2**16 * 2 ** (127 / 16))]
    data = roi.learned.compress(integer, photo, blob, strength=2.0)
    decoded = roi.learned.decompress(integer, data)
    with fixedpoint.integer_path("numpy"):
        assert np.array_equal(roi.learned.decompress(integer, data), decoded)
    inside = blob > 0.5
    error = (decoded.astype(float) - photo) ** 2
    assert error[inside].mean() < error[~inside].mean()  # the finer step where the map is high
    uniform = roi.learned.compress(integer, photo, blob, strength=0.0)
    plain = autoencoder.compress(integer, photo)
    assert np.array_equal(
        roi.learned.decompress(integer, uniform), autoencoder.decompress(integer, plain)
    )
    with pytest.raises(roi.learned.LearnedROIStreamError, match="another model"):
        roi.learned.decompress(integer.model, data)
    with pytest.raises(roi.learned.LearnedROIStreamError):
        roi.learned.decompress(integer, data[:-5])
