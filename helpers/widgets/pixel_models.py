"""Chapter 3 widgets: the arithmetic coder's interval, the rANS state, and a pixel model's bits per pixel."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from .. import entropy, images, multiscale, pixelcnn, rans
from .core import interactive_figure

__all__ = [
    "interval_view",
    "interval_explorer",
    "rans_state_view",
    "rans_state_explorer",
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


def rans_state_view(message: str, precision: int = 12, repeats: int = 1):
    """rANS on ``message`` (repeated ``repeats`` times) with its own letter counts quantized to integer
    frequencies summing to 2**precision: the bits the coder holds after every push (log2 of the state
    plus 32 per word written out) against the information pushed, the renormalisations marked.
    Returns (figure, text)."""
    if not message:
        raise ValueError("type a message of at least one character")
    if not 1 <= repeats <= 1000:
        raise ValueError(f"repeats must be between 1 and 1000, got {repeats}")
    letters = sorted(set(message))
    if len(letters) > 2**precision:
        raise ValueError(
            f"{len(letters)} different letters do not fit a table of 2**{precision}: raise the precision"
        )
    counts = np.array([message.count(letter) for letter in letters], dtype=np.float64)
    table = rans.frequencies_from_probabilities(counts / counts.sum(), precision)
    starts = np.concatenate([[0], np.cumsum(table)])
    symbols = [letters.index(letter) for letter in message] * repeats
    encoder = rans.RansEncoder(precision)
    held, information, table_information, renormalised = [], [0.0], [0.0], []
    for step, s in enumerate(reversed(symbols), 1):
        words = len(encoder.words)
        encoder.put(int(starts[s]), int(table[s]))
        if len(encoder.words) > words:
            renormalised.append(step)
        held.append(np.log2(max(encoder.state, 1)) + 32 * len(encoder.words))
        information.append(information[-1] - np.log2(counts[s] / counts.sum()))
        table_information.append(table_information[-1] - np.log2(table[s] / 2**precision))
    data = encoder.finish()
    back = rans.decode(data, len(symbols), table)
    if list(back) != symbols:
        raise AssertionError("rANS did not round-trip")  # cannot happen: tests/test_rans.py
    figure, (axis, excess) = plt.subplots(1, 2, figsize=(11, 3.6))
    pushes = np.arange(1, len(symbols) + 1)
    truth = np.array(information[1:])
    axis.plot(pushes, truth, "k--", lw=1, label="information, -log2 p (true counts)")
    axis.plot(pushes, held, color="tab:blue", lw=1.5, label="bits held: log2 x + 32 per word out")
    excess.plot(
        pushes,
        np.array(table_information[1:]) - truth,
        color="tab:orange",
        lw=1.5,
        label=f"the table's cost: -log2 (f/2^{precision}) - information",
    )
    excess.plot(
        pushes, np.array(held) - truth, color="tab:blue", lw=1, label="bits held - information"
    )
    for step in renormalised:
        for ax in (axis, excess):
            ax.axvline(step, color="tab:red", lw=0.6, alpha=0.5)
    axis.set(
        xlabel="symbols pushed (back to front)",
        ylabel="bits",
        title=f"rANS, {len(letters)} letters, M = 2^{precision}: a word out at each red line",
    )
    excess.axhline(0, color="k", lw=0.5)
    excess.set(xlabel="symbols pushed", ylabel="bits above the information", title="what it costs")
    axis.legend(fontsize=8, loc="upper left")
    excess.legend(fontsize=8, loc="best")
    figure.tight_layout()
    overhead = table_information[-1] - information[-1]
    text = (
        f"{len(symbols)} symbols; information {information[-1]:.1f} bits; the quantized table costs "
        f"{overhead:.2f} bits more ({100 * overhead / information[-1]:.2f} %); the stream is "
        f"{8 * len(data)} bits ({len(data)} bytes: the final 64-bit state and {len(renormalised)} words), "
        f"and it decodes to the message."
    )
    return figure, text


def rans_state_explorer(message: str = "ABRACADABRA") -> ipywidgets.VBox:
    """Push a message into rANS: the state grows by the information of each symbol; lower the
    table's precision to see what rounding probabilities costs, repeat the message to see words written."""
    controls = {
        "message": ipywidgets.Text(value=message, description="message", continuous_update=False),
        "precision": ipywidgets.IntSlider(value=12, min=1, max=16, description="log2 M"),
        "repeats": ipywidgets.IntSlider(value=20, min=1, max=200, description="repeats"),
    }

    def render(message, precision, repeats):
        try:
            return rans_state_view(message, precision, repeats)
        except ValueError as error:
            return str(error)

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
