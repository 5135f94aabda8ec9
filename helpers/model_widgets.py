"""Widgets for the chapters with learned models (3: pixel models, 4: autoencoders, 5: loop filters).

Wiring only, like helpers.widgets (chapters 1, 2 and 6): every view is a function returning a
figure (usable without widgets, e.g. for the static figure before each widget); the explorers wire
controls to it with ``widgets.interactive_figure``.
"""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from helpers import entropy, filters, images, latents, metrics, pixelcnn
from helpers.widget_core import interactive_figure

__all__ = [
    "interval_view",
    "interval_explorer",
    "bits_heatmap_view",
    "bits_explorer",
    "rate_point_view",
    "rate_picker",
    "filter_view",
    "filter_explorer",
]


# --- chapter 3 ----------------------------------------------------------------------------------


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
            axis.barh(row, share, left=left, color=colours[index], alpha=1.0 if chosen else 0.25,
                      edgecolor="black" if chosen else "none")  # fmt: skip
            if share > 0.06:
                axis.text(left + share / 2, row, symbols[index], ha="center", va="center")
            left += share
        axis.text(1.01, row, f"[{float(low):.6f}, {float(high):.6f})", va="center", fontsize=8)
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
    text = (f"{len(message)} symbols, final interval width {float(last['high'] - last['low']):.3g}: "
            f"{last['bits']} bits to name a number inside it; the entropy bound is {ideal:.1f} bits; "
            f"8-bit ASCII would take {8 * len(message)} bits.")  # fmt: skip
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
    return interactive_figure(lambda name, vmax: bits_heatmap_view(model, pictures[name], vmax),
                              controls)  # fmt: skip


# --- chapter 4 ----------------------------------------------------------------------------------


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


# --- chapter 5 ----------------------------------------------------------------------------------


def filter_view(image, quality: int, model=None, zoom: tuple[int, int, int] = (0, 0, 96)):
    """JPEG at ``quality`` (chapter 1's encoder, 4:2:0) before and after a filter, zoomed on a crop
    (top, left, size), with the luma error maps; returns (figure, text)."""
    array = images.as_uint8(image)
    decoded, size = filters.jpeg_round_trip(array, quality)
    name = "deblock" if model is None or model == "deblock" else type(model).__name__
    filtered = filters.apply("deblock" if model is None else model, decoded, quality)
    top, left, side = zoom
    window = (slice(top, top + side), slice(left, left + side))
    luma = lambda a: images.rgb_to_ycbcr(a.astype(np.float64))[..., 0]  # noqa: E731
    figure, axes = plt.subplots(1, 5, figsize=(14, 3.2))
    for axis, picture, title in zip(axes[:3], [array, decoded, filtered],
                                    ["original", f"JPEG q{quality}", f"+ {name}"]):  # fmt: skip
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
        psnr_y = 10 * np.log10(255**2 / np.mean((luma(picture) - luma(array)) ** 2))
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
        ),  # fmt: skip
        "top": ipywidgets.IntSlider(value=0, min=0, max=height - 32, step=8, description="top"),
        "left": ipywidgets.IntSlider(value=0, min=0, max=width - 32, step=8, description="left"),
    }

    def render(quality, choice, side, top, left):
        model = "deblock" if choice == "deblock" else models[choice]
        top, left = min(top, height - side), min(left, width - side)
        return filter_view(image, quality, model, (top, left, side))

    return interactive_figure(render, controls)
