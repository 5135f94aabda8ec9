"""Chapter 4 widget: one rate point of a learned codec, its image and where its bits go."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt

from .. import images, latents, metrics
from .core import interactive_figure

__all__ = ["rate_point_view", "rate_picker"]


def rate_point_view(name: str, quality: int, image, models: dict | None = None):
    """Decode ``image`` through a shipped codec at one rate point: the crop, bpp from the bytes,
    PSNR, and where the bits of y go (per-position bits of the latent, summed over channels)."""
    from helpers import autoencoder

    model = (models or {}).get((name, quality)) or autoencoder.load_pretrained(name, quality)
    array = images.as_uint8(image)
    data = autoencoder.compress(model, array)
    decoded = autoencoder.decompress(model, data)
    bpp = 8 * len(data) / (array.shape[0] * array.shape[1])
    bits = latents.latent_bits(model, array)
    figure, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    axes[0].imshow(array)
    axes[0].set_title("original")
    axes[1].imshow(decoded)
    axes[1].set_title(f"{name} q{quality}: {bpp:.3f} bpp, {metrics.psnr(array, decoded):.2f} dB")
    shown = axes[2].imshow(bits, cmap="magma")
    axes[2].set_title("bits of y per latent position")
    figure.colorbar(shown, ax=axes[2], fraction=0.046)
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    return figure


def rate_picker(image, names=("bmshj2018-factorized", "bmshj2018-hyperprior")) -> ipywidgets.VBox:
    """Pick a shipped model and rate point; see the decoded image, its bpp, PSNR and bits map."""
    from helpers import autoencoder

    cache: dict = {}

    def render(name, quality):
        if (name, quality) not in cache:
            cache[(name, quality)] = autoencoder.load_pretrained(name, quality)
        return rate_point_view(name, quality, image, cache)

    controls = {
        "name": ipywidgets.Dropdown(options=list(names), description="model"),
        "quality": ipywidgets.IntSlider(value=2, min=1, max=4, description="quality"),
    }
    return interactive_figure(render, controls)
