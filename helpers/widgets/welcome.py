"""Chapter 0 widget: an image's channels and conventions."""

from __future__ import annotations

import ipywidgets

from .. import images, plotting
from .core import interactive_figure

__all__ = ["channel_explorer"]


def channel_explorer(image) -> ipywidgets.VBox:
    """Explore an RGB image: pick a view (RGB, R, G, B, Y, Cb, Cr) and move a zoomed crop."""
    array = images.as_uint8(image)
    if array.ndim != 3:
        raise ValueError("channel_explorer expects an RGB image (H, W, 3)")
    height, width = array.shape[:2]
    side = min(64, height, width)
    controls = {
        "channel": ipywidgets.Dropdown(
            options=["RGB", "R", "G", "B", "Y", "Cb", "Cr"], value="RGB", description="view"
        ),
        "top": ipywidgets.IntSlider(
            value=(height - side) // 2, min=0, max=height - side, description="top"
        ),
        "left": ipywidgets.IntSlider(
            value=(width - side) // 2, min=0, max=width - side, description="left"
        ),
    }

    def render(channel: str, top: int, left: int):
        return plotting.channel_view(array, channel, crop=(top, left, side))

    return interactive_figure(render, controls)
