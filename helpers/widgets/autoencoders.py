"""Chapter 4 widgets: reverse water-filling over transform coefficients (the rate-distortion bound), and one
rate point of a learned codec, its image and where its bits go."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from .. import images, latents, metrics
from .. import rate_distortion as rd
from .core import interactive_figure

__all__ = ["water_filling_view", "water_filling_explorer", "rate_point_view", "rate_picker"]


def water_filling_view(variances, psnr: float, jpeg_rows=None):
    """Reverse water-filling over 64 block-DCT coefficient variances at the distortion of ``psnr`` dB:
    left, the variances (largest first) with the water level θ, coefficients below it not sent; right,
    each coefficient's rate in its place in the 8 x 8 block. ``jpeg_rows`` ((quality, bpp, mse), ...)
    puts JPEG's measured points into the text. Returns (figure, text)."""
    variances = np.asarray(variances, dtype=np.float64).ravel()
    if variances.size != 64:
        raise ValueError(
            f"water_filling_view expects the 64 variances of an 8 x 8 DCT, got {variances.size}"
        )
    if not 10 <= psnr <= 70:
        raise ValueError(f"psnr must be between 10 and 70 dB, got {psnr}")
    mse = 255.0**2 / 10 ** (psnr / 10)
    filled = rd.reverse_water_filling(variances, mse)
    order = np.argsort(variances)[::-1]
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    coded = filled.rates[order] > 0
    axes[0].bar(
        np.arange(64), variances[order], color=np.where(coded, "tab:blue", "0.75"), width=0.9
    )
    axes[0].axhline(
        filled.level, color="tab:red", lw=1.5, label=f"water level θ = {filled.level:.3g}"
    )
    axes[0].set_yscale("log")
    axes[0].set(
        xlabel="DCT coefficient, largest variance first",
        ylabel="variance σ²",
        title=f"{filled.coded} of 64 coefficients above the water: sent",
    )
    axes[0].legend(fontsize=8, loc="upper right")
    shown = axes[1].imshow(filled.rates.reshape(8, 8), cmap="viridis", vmin=0)
    axes[1].set(title="bits per coefficient (u, v)", xticks=range(8), yticks=range(8))
    figure.colorbar(shown, ax=axes[1], fraction=0.046)
    figure.tight_layout()
    text = (
        f"PSNR {psnr:.1f} dB (MSE {mse:.2f}): every sent coefficient is left with distortion θ = "
        f"{filled.level:.3g}, the others with their whole variance; rate "
        f"{filled.rate:.3f} bits per pixel for independent Gaussians of these variances."
    )
    if jpeg_rows:
        nearest = min(jpeg_rows, key=lambda row: abs(10 * np.log10(255**2 / row[2]) - psnr))
        text += (
            f" Nearest JPEG point measured: q{nearest[0]}, {nearest[1]:.3f} bpp at "
            f"{10 * np.log10(255**2 / nearest[2]):.1f} dB."
        )
    return figure, text


def water_filling_explorer(variances, jpeg_rows=None) -> ipywidgets.VBox:
    """Move the distortion (as PSNR) and watch the water level, which coefficients are sent and the rate."""
    controls = {
        "psnr": ipywidgets.FloatSlider(
            value=35.0,
            min=20.0,
            max=55.0,
            step=0.5,
            description="PSNR [dB]",
            continuous_update=False,
        )
    }

    def render(psnr):
        return water_filling_view(variances, psnr, jpeg_rows)

    return interactive_figure(render, controls)


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
