"""Figures: a consistent small style, image grids with zoomed crops, heatmap overlays, R-D plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.lines as mlines
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook

from . import images

__all__ = ["use_style", "CODEC_STYLES", "style_for", "show_images", "overlay_heatmap", "plot_rd"]

STYLE = {
    "figure.dpi": 90,
    "savefig.dpi": 90,
    "figure.figsize": (8.0, 4.0),
    "font.size": 11,  # >= 10 pt at the stored size: legible on a projector
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 12,
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.interpolation": "nearest",
    "image.cmap": "viridis",
}


#: One colour, marker and line per codec and per model, for every R-D figure of the course. Keys are
#: lowercase; ``style_for`` matches a label by its longest key contained in it.
CODEC_STYLES: dict[str, dict] = {
    # standard codecs (Pillow and plugins; chapter 2's shoot-out)
    "jpeg": {"color": "black", "marker": "o"},
    "jpeg-444": {"color": "dimgray", "marker": "o", "linestyle": "-."},
    "workbench-jpeg": {"color": "tab:gray", "marker": "x"},
    "webp": {"color": "tab:brown", "marker": "s"},
    "jpeg2000": {"color": "tab:pink", "marker": "D"},
    "jpeg2000-nomct": {"color": "pink", "marker": "D", "linestyle": "-."},
    "avif": {"color": "tab:cyan", "marker": "^"},
    "heif": {"color": "tab:purple", "marker": "v"},
    "jpegxl": {"color": "gold", "marker": "P"},
    # CompressAI's published Kodak points (dashed: measured elsewhere)
    "bpg": {"color": "tab:purple", "marker": "", "linestyle": "--"},
    "vtm": {"color": "tab:olive", "marker": "", "linestyle": "--"},
    "compressai bmshj2018-factorized": {"color": "tab:blue", "marker": "", "linestyle": "--"},
    "compressai bmshj2018-hyperprior": {"color": "tab:orange", "marker": "", "linestyle": "--"},
    "compressai mbt2018-mean": {"color": "tab:red", "marker": "", "linestyle": "--"},
    "compressai mbt2018": {"color": "tab:red", "marker": "", "linestyle": ":"},
    "compressai jpeg": {"color": "black", "marker": "", "linestyle": "--"},
    "compressai webp": {"color": "tab:brown", "marker": "", "linestyle": "--"},
    # the workbench's own models (solid, thick)
    "bmshj2018-factorized": {"color": "tab:blue", "marker": "o", "linewidth": 2},
    "bmshj2018-hyperprior": {"color": "tab:orange", "marker": "o", "linewidth": 2},
    "mbt2018-mean": {"color": "tab:red", "marker": "o", "linewidth": 2},
    "pixelcnn": {"color": "tab:green", "marker": "*"},
    "multiscale": {"color": "tab:purple", "marker": "^"},
    "png": {"color": "tab:gray", "marker": "s"},
    "deblock": {"color": "tab:gray", "marker": "s"},
    "learned filter": {"color": "tab:green", "marker": "o", "linewidth": 2},
    "roi": {"color": "tab:red", "marker": "o"},
}
_FALLBACK = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def style_for(label: str) -> dict:
    """The course's line style for a codec or model label (CODEC_STYLES; the longest matching key).

    Labels are matched case-insensitively with "CompressAI" prefixes and "(...)" details kept, so
    "CompressAI: BPG (4:4:4, x265)" finds "bpg" and "workbench bmshj2018-hyperprior" its model.
    An unknown label gets a colour fixed by its name, so it is the same in every figure.
    """
    key = label.lower().replace(":", "")
    matches = [name for name in CODEC_STYLES if name in key]
    if matches:
        return dict(CODEC_STYLES[max(matches, key=len)])
    index = sum(label.encode()) % len(_FALLBACK)
    return {"color": _FALLBACK[index], "marker": "o"}


def use_style() -> None:
    """Apply the workbench figure style (small, dpi 90, nearest-neighbour images); call it explicitly."""
    plt.rcParams.update(STYLE)


def _as_displayable(image) -> tuple[np.ndarray, dict]:
    """Return an array imshow can draw and the keyword arguments it needs."""
    if isinstance(image, np.ndarray) and image.ndim == 2 and image.dtype != np.uint8:
        if np.isnan(image).any():
            raise ValueError("image to show contains NaN")
        return image, {}
    array = images.as_uint8(image)
    return array, ({"cmap": "gray", "vmin": 0, "vmax": 255} if array.ndim == 2 else {})


def show_images(
    pictures: Sequence | Mapping,
    titles: Sequence[str] | None = None,
    columns: int | None = None,
    zoom: tuple[int, int, int] | None = None,
    size: float = 3.0,
    colorbar: bool = False,
    suptitle: str | None = None,
) -> plt.Figure:
    """Show images in a grid and return the figure.

    Args:
        pictures: a list of images (uint8 HWC, float HW maps, PIL, tensors) or a {title: image} dict.
        zoom: (top, left, size) draws a box there and adds a second row with that crop enlarged.
        colorbar: add a colour bar to 2-D float maps.
    """
    if isinstance(pictures, Mapping):
        titles = list(pictures.keys()) if titles is None else titles
        pictures = list(pictures.values())
    pictures = list(pictures)
    if not pictures:
        raise ValueError("show_images needs at least one image")
    if titles is not None and len(titles) != len(pictures):
        raise ValueError(f"got {len(titles)} titles for {len(pictures)} images")
    count = len(pictures)
    columns = min(count, 4) if columns is None else columns
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    rows = images.ceil_div(count, columns)
    total_rows = rows * (2 if zoom else 1)
    figure, axes = plt.subplots(
        total_rows, columns, figsize=(size * columns, size * total_rows * 0.8), squeeze=False
    )
    for index in range(rows * columns):
        row, column = divmod(index, columns)
        ax = axes[row * (2 if zoom else 1)][column]
        ax.axis("off")
        if zoom:
            axes[row * 2 + 1][column].axis("off")
        if index >= count:
            continue
        array, style = _as_displayable(pictures[index])
        shown = ax.imshow(array, **style)
        if colorbar and array.ndim == 2 and array.dtype != np.uint8:
            figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
        if titles is not None:
            ax.set_title(titles[index])
        if zoom:
            top, left, side = zoom
            if top < 0 or left < 0 or top + side > array.shape[0] or left + side > array.shape[1]:
                raise ValueError(
                    f"zoom box {zoom} does not fit in an image of size {array.shape[:2]}"
                )
            ax.add_patch(
                plt.Rectangle((left - 0.5, top - 0.5), side, side, fill=False, color="red", lw=1.5)
            )
            axes[row * 2 + 1][column].imshow(array[top : top + side, left : left + side], **style)
    if suptitle:
        figure.suptitle(suptitle)
    figure.tight_layout()
    return figure


def overlay_heatmap(
    image, heatmap: np.ndarray, alpha: float = 0.5, cmap: str = "jet"
) -> np.ndarray:
    """Blend a heatmap (H, W) in [0, 1] over an image; returns uint8 (H, W, 3).

    The heatmap is resized (bilinear) to the image when the sizes differ.
    """
    array = images.as_uint8(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D (H, W), got shape {heatmap.shape}")
    if np.isnan(heatmap).any():
        raise ValueError("heatmap contains NaN")
    if heatmap.min() < -1e-6 or heatmap.max() > 1 + 1e-6:
        raise ValueError(
            f"heatmap must lie in [0, 1], got [{heatmap.min():.3g}, {heatmap.max():.3g}]"
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if heatmap.shape != array.shape[:2]:
        from PIL import Image

        resized = Image.fromarray(heatmap.astype(np.float32), mode="F").resize(
            (array.shape[1], array.shape[0]), Image.Resampling.BILINEAR
        )
        heatmap = np.clip(np.asarray(resized, dtype=np.float64), 0, 1)
    colours = plt.get_cmap(cmap)(np.clip(heatmap, 0, 1))[:, :, :3] * 255.0
    return np.round((1 - alpha) * array + alpha * colours).astype(np.uint8)


def plot_rd(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    metric: str = "PSNR [dB]",
    ax: plt.Axes | None = None,
    title: str | None = None,
    styles: Mapping[str, dict] | None = None,
) -> plt.Axes:
    """Plot rate-distortion curves {label: (bpp values, quality values)} on one axes and return it."""
    if not curves:
        raise ValueError("plot_rd needs at least one curve")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6))
    for label, (rates, qualities) in curves.items():
        rates, qualities = np.asarray(rates, float), np.asarray(qualities, float)
        if rates.shape != qualities.shape or rates.ndim != 1:
            raise ValueError(f"curve {label!r}: rates and qualities must be 1-D of the same length")
        order = np.argsort(rates)
        # aliases (lw / linewidth) normalised, so a caller's style overrides the course's
        style = cbook.normalize_kwargs({"ms": 4, **style_for(label)}, mlines.Line2D)
        style.update(cbook.normalize_kwargs((styles or {}).get(label, {}), mlines.Line2D))
        ax.plot(rates[order], qualities[order], label=label, **style)
    ax.set_xlabel("rate [bpp]")
    ax.set_ylabel(metric)
    ax.grid(True, alpha=0.3)
    # outside the axes: a legend never hides the points it names
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def channel_view(
    image, channel: str = "RGB", crop: tuple[int, int, int] | None = None
) -> plt.Figure:
    """Show an image (uint8 RGB) as one view: 'RGB', 'R', 'G', 'B', 'Y', 'Cb' or 'Cr', with a zoomed crop.

    crop: (top, left, size) of the enlarged region drawn beside the full view.
    """
    array = images.as_uint8(image)
    if array.ndim != 3:
        raise ValueError("channel_view expects an RGB image (H, W, 3)")
    views = {"R": 0, "G": 1, "B": 2}
    if channel == "RGB":
        shown = array
    elif channel in views:
        shown = array[:, :, views[channel]]
    elif channel in ("Y", "Cb", "Cr"):
        ycbcr = images.rgb_to_ycbcr(array)
        shown = np.clip(np.round(ycbcr[:, :, ("Y", "Cb", "Cr").index(channel)]), 0, 255).astype(
            np.uint8
        )
    else:
        raise ValueError(f"channel must be one of RGB, R, G, B, Y, Cb, Cr; got {channel!r}")
    if crop is None:
        side = min(64, *array.shape[:2])
        crop = ((array.shape[0] - side) // 2, (array.shape[1] - side) // 2, side)
    return show_images([shown], titles=[f"{channel}"], zoom=crop, columns=1, size=3.5)
