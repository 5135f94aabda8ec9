"""Chapter 3 widgets: the arithmetic coder's interval and a pixel model's bits per pixel."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from .. import entropy, images, multiscale, pixelcnn
from .core import interactive_figure

__all__ = [
    "interval_view",
    "interval_explorer",
    "bits_heatmap_view",
    "bits_explorer",
    "scale_step_view",
    "scale_step_explorer",
]


def interval_view(message: str, max_steps: int = 12):
    """Arithmetic coding of ``message`` with its own symbol counts: one bar per step, zoomed to the
    current interval, the chosen symbol's share highlighted; returns (figure, text)."""
    if not message:
        raise ValueError("type a message of at least one character")
    steps = entropy.interval_steps(message)[:max_steps]
    symbols = list(dict.fromkeys(message))
    counts = np.array([message.count(s) for s in symbols], dtype=float)
    shares = counts / counts.sum()
    colours = plt.cm.tab10(np.arange(len(symbols)) % 10)
    figure, axis = plt.subplots(figsize=(8, 0.45 * len(steps) + 1.2))
    low, high = 0.0, 1.0
    for row, step in enumerate(steps):
        left = 0.0
        for index, share in enumerate(shares):
            chosen = symbols[index] == step["symbol"]
            axis.barh(
                row,
                share,
                left=left,
                color=colours[index],
                alpha=1.0 if chosen else 0.25,
                edgecolor="black" if chosen else "none",
            )
            if share > 0.06:
                axis.text(left + share / 2, row, symbols[index], ha="center", va="center")
            left += share
        axis.text(1.01, row, f"[{float(low):.6f}, {float(high):.6f})", va="center", fontsize=10)
        low, high = float(step["low"]), float(step["high"])
    axis.set_yticks(range(len(steps)), [f"{i + 1}: {s['symbol']!r}" for i, s in enumerate(steps)])
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel(
        "position inside the current interval (each row zooms into the bar chosen above)"
    )
    axis.set_title("Arithmetic coding: the interval before each symbol")
    figure.tight_layout()
    last = entropy.interval_steps(message)[-1]
    ideal = sum(-np.log2(shares[symbols.index(s)]) for s in message)
    text = (
        f"{len(message)} symbols, final interval width {float(last['high'] - last['low']):.3g}: "
        f"{last['bits']} bits to name a number inside it; the entropy bound is {ideal:.1f} bits; "
        f"8-bit ASCII would take {8 * len(message)} bits."
    )
    return figure, text


def interval_explorer(message: str = "ABRACADABRA") -> ipywidgets.VBox:
    """Type a message and watch the interval shrink."""
    controls = {
        "message": ipywidgets.Text(value=message, description="message", continuous_update=False),
        "max_steps": ipywidgets.IntSlider(value=12, min=1, max=24, description="rows shown"),
    }

    def render(message, max_steps):
        if not message:
            return "type a message of at least one character"
        return interval_view(message, max_steps)

    return interactive_figure(render, controls)


def bits_heatmap_view(model, image, vmax: float = 16.0):
    """The image beside the bits the model spends on each pixel (summed over R, G, B)."""
    array = images.as_uint8(image)
    bits = pixelcnn.bits_map(model, array)
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    axes[0].imshow(array)
    axes[0].set_title("image")
    shown = axes[1].imshow(bits, cmap="magma", vmin=0, vmax=vmax)
    axes[1].set_title(
        f"bits per pixel: mean {bits.mean():.2f} ({bits.mean() / 3:.2f} per subpixel)"
    )
    figure.colorbar(shown, ax=axes[1], fraction=0.046)
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    return figure


def bits_explorer(model, pictures: dict) -> ipywidgets.VBox:
    """Choose an image and the colour scale of its bits heatmap."""
    controls = {
        "name": ipywidgets.Dropdown(options=list(pictures), description="image"),
        "vmax": ipywidgets.FloatSlider(value=16, min=4, max=32, step=1, description="max bits"),
    }
    return interactive_figure(
        lambda name, vmax: bits_heatmap_view(model, pictures[name], vmax), controls
    )


def scale_step_view(model, image, scale: int = 0, step: int = 0, vmax: float = 16.0):
    """One step of the multi-scale codec: the coarser copy the network starts from (A, with the
    components the earlier steps added), the component it codes, and the bits it spends on each of its
    pixels (R + G + B)."""
    array = images.as_uint8(image)
    current = multiscale.scale_image(array, scale)
    where = {"A": (0, 0), "B": (0, 1), "C": (1, 0), "D": (1, 1)}
    known = ("A", "D", "B")[: step + 1]
    target = {0: "D", 1: "B", 2: "C"}[step]
    bits = multiscale.step_bits_map(model, array, scale, step)
    figure, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    axes[0].imshow(current[0::2, 0::2])
    axes[0].set_title(f"scale {scale}: knows {', '.join(known)} (A shown)")
    row, column = where[target]
    axes[1].imshow(current[row::2, column::2])
    axes[1].set_title(f"step {step} ({multiscale.STEPS[step]}) codes {target}")
    shown = axes[2].imshow(bits, cmap="magma", vmin=0, vmax=vmax)
    axes[2].set_title(f"bits per pixel of {target}: mean {bits.mean():.2f}")
    figure.colorbar(shown, ax=axes[2], fraction=0.046)
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    return figure


def scale_step_explorer(model, pictures: dict) -> ipywidgets.VBox:
    """Choose an image, a scale and a step of the multi-scale codec; see what it knows and what it pays."""
    controls = {
        "name": ipywidgets.Dropdown(options=list(pictures), description="image"),
        "scale": ipywidgets.IntSlider(value=0, min=0, max=3, description="scale"),
        "step": ipywidgets.Dropdown(
            options=[(f"{i}: {s}", i) for i, s in enumerate(multiscale.STEPS)],
            value=0,
            description="step",
        ),
        "vmax": ipywidgets.FloatSlider(value=16, min=4, max=32, step=1, description="max bits"),
    }

    def render(name, scale, step, vmax):
        try:
            return scale_step_view(model, pictures[name], scale, step, vmax)
        except ValueError as error:  # a scale this image does not have: say so, keep the controls
            return str(error)

    return interactive_figure(render, controls)
