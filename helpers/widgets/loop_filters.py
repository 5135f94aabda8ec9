"""Chapter 5 widget: a decoded JPEG with and without a loop filter, zoomed."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from .. import filters, images, jpeg, metrics
from .core import interactive_figure

__all__ = ["filter_view", "filter_explorer"]


def filter_view(image, quality: int, model=None, zoom: tuple[int, int, int] = (0, 0, 96)):
    """JPEG at ``quality`` (chapter 1's encoder, 4:2:0) before and after a filter, zoomed on a crop
    (top, left, size), with the luma error maps; returns (figure, text)."""
    array = images.as_uint8(image)
    encoded = jpeg.encode(array, int(quality))
    decoded, size = jpeg.decode(encoded), len(encoded)
    name = "deblock" if model is None or model == "deblock" else type(model).__name__
    filtered = (
        filters.deblock(decoded, quality)
        if model is None
        else filters.apply(model, decoded, quality)
    )
    top, left, side = zoom
    window = (slice(top, top + side), slice(left, left + side))
    luma = filters.luma
    figure, axes = plt.subplots(1, 5, figsize=(14, 3.2))
    for axis, picture, title in zip(
        axes[:3], [array, decoded, filtered], ["original", f"JPEG q{quality}", f"+ {name}"]
    ):
        axis.imshow(picture[window], interpolation="nearest")
        axis.set_title(title)
    for axis, picture, title in zip(
        axes[3:], [decoded, filtered], ["|error| JPEG", f"|error| {name}"]
    ):
        error = np.abs(luma(picture) - luma(array))[window]
        axis.imshow(error, cmap="inferno", vmin=0, vmax=30)
        axis.set_title(title)
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    rows = []
    for label, picture in [("JPEG", decoded), (name, filtered)]:
        psnr_y = metrics.psnr_from_mse(float(np.mean((luma(picture) - luma(array)) ** 2)))
        rows.append(
            f"{label}: PSNR-Y {psnr_y:.2f} dB, PSNR-B {filters.psnr_b(array, picture):.2f} dB"
        )
    text = f"{8 * size / (array.shape[0] * array.shape[1]):.3f} bpp. " + "; ".join(rows)
    return figure, text


def filter_explorer(image, models: dict) -> ipywidgets.VBox:
    """Quality slider, filter choice (the classical one or a learned one), zoom position."""
    height, width = images.as_uint8(image).shape[:2]
    controls = {
        "quality": ipywidgets.IntSlider(value=10, min=5, max=60, step=5, description="quality"),
        "choice": ipywidgets.Dropdown(options=["deblock", *models], description="filter"),
        "side": ipywidgets.IntSlider(
            value=96, min=32, max=min(height, width), step=16, description="zoom size"
        ),
        "top": ipywidgets.IntSlider(value=0, min=0, max=height - 32, step=8, description="top"),
        "left": ipywidgets.IntSlider(value=0, min=0, max=width - 32, step=8, description="left"),
    }

    def render(quality, choice, side, top, left):
        model = None if choice == "deblock" else models[choice]
        top, left = min(top, height - side), min(left, width - side)
        return filter_view(image, quality, model, (top, left, side))

    return interactive_figure(render, controls)
