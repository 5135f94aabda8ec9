"""Inside a learned codec: bits per latent position, the y/z split against the real file, the basis."""

import numpy as np
import pytest
import torch

from helpers import autoencoder, latents


@pytest.fixture(scope="module")
def hyperprior():
    return autoencoder.load_pretrained("bmshj2018-hyperprior", 2)


def _photo(size=128):
    rng = np.random.default_rng(0)
    smooth = np.cumsum(np.cumsum(rng.normal(0, 2, (size, size, 3)), axis=0), axis=1)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min()) * 255
    return smooth.astype(np.uint8)


def test_latent_bits_sum_to_the_rate_of_y(hyperprior):
    image = _photo()
    bits = latents.latent_bits(hyperprior, image)
    assert bits.shape == (128 // 16, 128 // 16) and (bits >= 0).all()
    split = latents.rate_split(hyperprior, image)
    assert bits.sum() / image[..., 0].size == pytest.approx(split["y"], rel=1e-5)
    assert split["estimate"] == pytest.approx(split["y"] + split["z"])
    # the real file: the estimate plus a header and the coder's few bytes per string
    assert (
        split["estimate"] < split["file"] < split["estimate"] * 1.03 + 8 * 40 / image[..., 0].size
    )


def test_channel_order_and_basis(hyperprior):
    order = latents.channel_order(hyperprior, _photo())
    assert sorted(order.tolist()) == list(range(96))
    basis = latents.learned_basis(hyperprior, order[:3])
    assert basis.shape == (3, 64, 64, 3)
    assert all(np.abs(b).max() > 1e-3 for b in basis)  # every decoded latent draws something
    # a one-hot latent is local: the response is concentrated around the centre
    energy = (basis**2).sum(axis=(0, 3))
    assert energy[16:48, 16:48].sum() > 0.8 * energy.sum()
    with pytest.raises(ValueError, match="channels"):
        latents.learned_basis(hyperprior, [96])


def test_rejects_grey_images(hyperprior):
    with pytest.raises(ValueError, match="RGB"):
        latents.latent_bits(hyperprior, np.zeros((64, 64), np.uint8))


def test_factorized_has_no_side_information():
    model = autoencoder.load_pretrained("bmshj2018-factorized", 1)
    split = latents.rate_split(model, _photo(64))
    assert set(split) == {"y", "estimate", "file"}
    assert isinstance(model.g_s[0], torch.nn.Module)
