"""Golden bitstreams (helpers/reference/golden): every file decodes to its recorded pixels under every
configuration this machine offers: 1 and 2 threads, the numpy int64 reference, and a GPU when present."""

import numpy as np
import pytest
import torch

from helpers import autoencoder, golden

FILES = sorted(golden.golden_files())


def test_there_are_golden_files_for_every_quality_of_the_integer_hyperprior():
    records = golden.golden_files()
    assert {r["quality"] for r in records.values() if r["coder"] == "autoencoder"} == {1, 2, 3, 4}
    for name, record in records.items():
        assert (golden.GOLDEN_DIR / name).stat().st_size == record["bytes"]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize(
    "configuration", ["torch, 1 thread", "torch, 2 threads", "numpy reference"]
)
def test_a_golden_file_decodes_to_its_recorded_pixels(name, configuration):
    pixels = golden.decode(name, golden.configurations()[configuration])
    assert list(pixels.shape) == golden.golden_files()[name]["shape"]
    assert golden.pixel_digest(pixels) == golden.golden_files()[name]["sha256"]


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no GPU on this machine: the CUDA decode "
    "of the golden files runs where one is present (scripts/gpu_checks.py)",
)
@pytest.mark.parametrize("name", FILES)
def test_a_golden_file_decodes_to_its_recorded_pixels_on_a_gpu(name):
    pixels = golden.decode(name, golden.configurations()["torch, cuda"])
    assert golden.pixel_digest(pixels) == golden.golden_files()[name]["sha256"]


def test_damaged_truncated_and_foreign_golden_streams_raise_the_documented_error():
    model = autoencoder.load_integer("bmshj2018-hyperprior", 3)
    data = (golden.GOLDEN_DIR / "hyperprior-int-q3-astronaut.ncw").read_bytes()
    for bad in (data[:-3], data[:20], data[:-1] + bytes([data[-1] ^ 0x40]), b"NCWA" + data[4:9]):
        with pytest.raises(autoencoder.AutoencoderStreamError):
            autoencoder.decompress(model, bad)
    other = autoencoder.load_integer("bmshj2018-hyperprior", 2)
    with pytest.raises(autoencoder.AutoencoderStreamError, match="another model"):
        autoencoder.decompress(other, data)
    float_model = autoencoder.load_pretrained("bmshj2018-hyperprior", 3)
    with pytest.raises(autoencoder.AutoencoderStreamError, match="integer-hyperprior"):
        autoencoder.decompress(float_model, data)


def test_the_integer_codec_round_trips_and_matches_the_float_codec_in_size_and_quality(photo):
    from helpers import metrics

    integer = autoencoder.load_integer("bmshj2018-hyperprior", 2)
    data = autoencoder.compress(integer, photo)
    decoded = autoencoder.decompress(integer, data)
    again = autoencoder.decompress(integer, data)
    assert decoded.shape == photo.shape and np.array_equal(decoded, again)
    float_data = autoencoder.compress(integer.model, photo)
    float_decoded = autoencoder.decompress(integer.model, float_data)
    assert abs(len(data) - len(float_data)) <= 0.01 * len(float_data) + 4
    assert abs(metrics.psnr(photo, decoded) - metrics.psnr(photo, float_decoded)) < 0.05
