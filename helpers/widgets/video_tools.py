"""Chapter 10 widgets: per-frame bits and PSNR with a tool toggled, the motion field over a frame, and
the intra mode map (each a static figure first, ``*_view``, then a widget, ``*_explorer``)."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ..video import hybrid, intra
from .core import interactive_figure

__all__ = [
    "tool_frames_view",
    "tool_explorer",
    "motion_view",
    "motion_explorer",
    "mode_map_view",
    "mode_map_explorer",
]


@lru_cache(maxsize=32)
def _coded(key, quality: int, tool: str):
    frames = _SEQUENCES[key]
    return hybrid.analyze(frames, int(quality), hybrid.TOOL_NAMES[tool])


_SEQUENCES: dict = {}


def _register(frames) -> int:
    planes = hybrid.check_frames(frames)
    key = hash(
        tuple(planes[k].tobytes()[:4096] + bytes(str(planes[k].shape), "ascii") for k in "yuv")
    )
    _SEQUENCES[key] = planes
    return key


def tool_frames_view(frames, quality: int = 25, tool: str = "learned loop filter"):
    """Bits and luma PSNR per frame, the classic codec against the codec with one deep tool
    (``hybrid.TOOL_NAMES``); returns (figure, text)."""
    if tool not in hybrid.TOOL_NAMES:
        raise ValueError(f"tool must be one of {list(hybrid.TOOL_NAMES)}, got {tool!r}")
    key = _register(frames)
    base, with_tool = _coded(key, quality, "classic"), _coded(key, quality, tool)
    figure, (bits_axis, psnr_axis) = plt.subplots(1, 2, figsize=(11, 3.4))
    index = np.arange(len(base.bits_per_frame))
    for result, label, style in ((base, "classic", "o-"), (with_tool, tool, "s--")):
        bits_axis.plot(
            index, np.array(result.bits_per_frame) / 1000, style, label=label, markersize=3
        )
        psnr_axis.plot(index, result.psnr_per_frame, style, label=label, markersize=3)
    bits_axis.set(
        xlabel="frame", ylabel="kbit", title=f"bits per frame, quality {quality}", yscale="log"
    )
    psnr_axis.set(xlabel="frame", ylabel="PSNR-Y [dB]", title="luma PSNR per frame")
    bits_axis.legend()
    for axis in (bits_axis, psnr_axis):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    text = (
        f"classic: {len(base.data)} bytes, mean PSNR-Y {np.mean(base.psnr_per_frame):.2f} dB; "
        f"{tool}: {len(with_tool.data)} bytes ({100 * (len(with_tool.data) / len(base.data) - 1):+.1f} %), "
        f"{np.mean(with_tool.psnr_per_frame):.2f} dB"
    )
    return figure, text


def tool_explorer(frames) -> ipywidgets.VBox:
    """Quality slider and tool choice over ``tool_frames_view``."""
    controls = {
        "quality": ipywidgets.IntSlider(value=25, min=5, max=80, step=5, description="quality"),
        "tool": ipywidgets.Dropdown(
            options=[t for t in hybrid.TOOL_NAMES if t != "classic"],
            value="learned loop filter",
            description="tool",
        ),
    }
    return interactive_figure(
        lambda quality, tool: tool_frames_view(frames, quality, tool), controls
    )


def motion_view(frames, frame: int = 1, quality: int = 25):
    """The decoded frame with each macroblock's motion vector (half-pel, arrows scaled x2) and its
    type (skip grey, inter green, intra red); returns (figure, text)."""
    key = _register(frames)
    result = _coded(key, quality, "classic")
    count = len(result.types)
    if not 1 <= frame < count:
        raise ValueError(f"frame must be a P-frame, 1..{count - 1}, got {frame!r}")
    types, vectors = result.types[frame], result.vectors[frame] / 2.0
    figure, axis = plt.subplots(figsize=(6.4, 5.2))
    axis.imshow(result.decoded["y"][frame], cmap="gray", vmin=0, vmax=255)
    rows, cols = types.shape
    ys, xs = np.mgrid[0:rows, 0:cols] * hybrid.MB + hybrid.MB / 2
    colours = np.array(["0.6", "lime", "red"])[types]
    for kind, colour in ((0, "0.7"), (1, "lime")):
        mask = types == kind
        axis.quiver(
            xs[mask],
            ys[mask],
            vectors[..., 1][mask],
            -vectors[..., 0][mask],
            color=colour,
            angles="xy",
            scale_units="xy",
            scale=0.5,
            width=0.004,
        )
    intra_mask = types == 2
    axis.scatter(
        xs[intra_mask], ys[intra_mask], marker="s", s=60, facecolors="none", edgecolors="red"
    )
    axis.set_title(f"frame {frame}: motion (arrows x2), skip grey, inter green, intra red")
    axis.axis("off")
    del colours
    counts = np.bincount(types.ravel(), minlength=3)
    text = (
        f"frame {frame}: {counts[0]} skip, {counts[1]} inter, {counts[2]} intra macroblocks; "
        f"{result.bits_per_frame[frame]} bits; mean |vector| {np.abs(vectors).mean():.2f} px"
    )
    return figure, text


def motion_explorer(frames) -> ipywidgets.VBox:
    count = hybrid.check_frames(frames)["y"].shape[0]
    controls = {
        "frame": ipywidgets.IntSlider(value=1, min=1, max=count - 1, description="frame"),
        "quality": ipywidgets.IntSlider(value=25, min=5, max=80, step=5, description="quality"),
    }
    return interactive_figure(lambda frame, quality: motion_view(frames, frame, quality), controls)


def mode_map_view(frames, quality: int = 25, tool: str = "learned intra"):
    """The I-frame's luma intra mode per 8x8 block, colour-coded, beside the decoded frame."""
    key = _register(frames)
    result = _coded(key, quality, tool)
    modes = result.luma_modes[0]
    figure, (image_axis, mode_axis) = plt.subplots(1, 2, figsize=(11, 4))
    image_axis.imshow(result.decoded["y"][0], cmap="gray", vmin=0, vmax=255)
    image_axis.set_title(f"decoded I-frame, quality {quality}")
    colours = plt.get_cmap("tab10", len(intra.LUMA_MODES))
    shown = mode_axis.imshow(modes, cmap=colours, vmin=-0.5, vmax=len(intra.LUMA_MODES) - 0.5)
    bar = figure.colorbar(shown, ax=mode_axis, ticks=range(len(intra.LUMA_MODES)))
    bar.ax.set_yticklabels(intra.LUMA_MODES)
    mode_axis.set_title(f"luma intra mode per 8x8 block ({tool})")
    for axis in (image_axis, mode_axis):
        axis.axis("off")
    figure.tight_layout()
    counts = np.bincount(modes[modes >= 0].ravel(), minlength=len(intra.LUMA_MODES))
    text = ", ".join(
        f"{name} {count}" for name, count in zip(intra.LUMA_MODES, counts, strict=True) if count
    )
    return figure, f"I-frame: {result.bits_per_frame[0]} bits; modes: {text}"


def mode_map_explorer(frames) -> ipywidgets.VBox:
    controls = {
        "quality": ipywidgets.IntSlider(value=25, min=5, max=80, step=5, description="quality"),
        "tool": ipywidgets.Dropdown(
            options=["classic", "learned intra"], value="learned intra", description="modes"
        ),
    }
    return interactive_figure(lambda quality, tool: mode_map_view(frames, quality, tool), controls)
