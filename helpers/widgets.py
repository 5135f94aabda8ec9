"""The widgets of chapters 0-2, and chapter 6's re-exported from roi_widgets.py (chapters 3-5 are in
model_widgets.py; the shared core is widget_core.py): wiring only; the maths lives in the topic modules.

Each builder returns an ``ipywidgets.VBox`` whose ``render()`` redraws it and whose ``controls``
dict holds the sliders and dropdowns, so the same code path can be driven from a test.
"""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from . import images, plotting
from .roi_widgets import roi_explorer, roi_view  # noqa: F401  (re-exported)
from .widget_core import figure_to_png, interactive_figure  # noqa: F401  (re-exported)

__all__ = [
    "figure_to_png",
    "interactive_figure",
    "channel_explorer",
    "jpeg_view",
    "jpeg_explorer",
    "quantization_table_view",
    "quantization_editor",
    "codec_comparison_view",
    "codec_comparator",
    "rd_point_view",
    "rd_explorer",
    "roi_view",
    "roi_explorer",
]


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


# ----------------------------------------------------------------------------- chapter 1: JPEG

JPEG_VIEWS = ["decoded", "error x10", "Y", "Cb", "Cr", "bits per block", "block coefficients"]


def jpeg_view(
    image: np.ndarray,
    quality: int = 50,
    subsampling: str = "4:2:0",
    view: str = "decoded",
    block_row: int = 0,
    block_col: int = 0,
    tables=None,
    keep: int = 64,
):
    """Encode with helpers.jpeg and draw one view of the result; returns (figure, summary HTML)."""
    from . import jpeg, metrics

    analysis = jpeg.analyze(image, quality, subsampling, tables=tables, keep=keep)
    decoded = analysis.reconstruction
    psnr = metrics.psnr(image, decoded)
    summary = (
        f"<b>{len(analysis.data):,} bytes</b> &nbsp; {analysis.bpp:.3f} bpp &nbsp; "
        f"PSNR {psnr:.2f} dB &nbsp; (DC {analysis.split['dc']:.0f} B, AC {analysis.split['ac']:.0f} B, "
        f"headers+tables {analysis.split['headers'] + analysis.split['tables']} B)"
    )
    figure, axes = plt.subplots(1, 2, figsize=(9, 4))
    axes[0].imshow(image)
    axes[0].set_title("original")
    row, col = (
        min(block_row, analysis.block_bits.shape[0] - 1),
        min(block_col, analysis.block_bits.shape[1] - 1),
    )
    axes[0].add_patch(
        plt.Rectangle((8 * col - 0.5, 8 * row - 0.5), 8, 8, fill=False, color="red", lw=1.5)
    )
    ax = axes[1]
    if view == "decoded":
        ax.imshow(decoded)
    elif view == "error x10":
        error = np.clip(128 + 10 * (decoded.astype(int) - image.astype(int)), 0, 255).astype(
            np.uint8
        )
        ax.imshow(error)
    elif view in ("Y", "Cb", "Cr"):
        ax.imshow(
            jpeg.rgb_to_ycbcr(decoded)[..., ("Y", "Cb", "Cr").index(view)],
            cmap="gray",
            vmin=0,
            vmax=255,
        )
    elif view == "bits per block":
        shown = ax.imshow(analysis.block_bits, cmap="magma")
        figure.colorbar(shown, ax=ax, fraction=0.046, label="bits")
    elif view == "block coefficients":
        levels = analysis.coefficients(0)[row, col]
        shown = ax.imshow(
            levels, cmap="coolwarm", vmin=-abs(levels).max() - 1, vmax=abs(levels).max() + 1
        )
        for (i, j), value in np.ndenumerate(levels):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=7)
        ax.set_title(f"quantized levels of luma block ({row}, {col})")
    else:
        plt.close(figure)
        raise ValueError(f"view must be one of {JPEG_VIEWS}, got {view!r}")
    if view != "block coefficients":
        ax.set_title(f"{view} (q={quality}, {subsampling})")
    for a in axes:
        a.axis("off")
    figure.tight_layout()
    return figure, summary


def jpeg_explorer(image) -> ipywidgets.VBox:
    """Quality slider, subsampling and view (decoded, error x10, Y/Cb/Cr, bits per block, a block's
    coefficients) for helpers.jpeg, with bytes, bpp and PSNR updated live."""
    array = images.as_uint8(image)
    if array.ndim != 3:
        raise ValueError("jpeg_explorer expects an RGB image (H, W, 3)")
    rows, cols = -(-array.shape[0] // 8), -(-array.shape[1] // 8)
    controls = {
        "quality": ipywidgets.IntSlider(
            value=50, min=1, max=100, description="quality", continuous_update=False
        ),
        "subsampling": ipywidgets.Dropdown(
            options=["4:2:0", "4:2:2", "4:4:4"], value="4:2:0", description="chroma"
        ),
        "view": ipywidgets.Dropdown(options=JPEG_VIEWS, value="decoded", description="view"),
        "block_row": ipywidgets.IntSlider(
            value=rows // 2, min=0, max=rows - 1, description="block row", continuous_update=False
        ),
        "block_col": ipywidgets.IntSlider(
            value=cols // 2, min=0, max=cols - 1, description="block col", continuous_update=False
        ),
    }
    return interactive_figure(lambda **values: jpeg_view(array, **values), controls)


def quantization_table_view(
    image: np.ndarray, scale: float = 1.0, keep: int = 64, chroma_scale: float = 1.0
):
    """Encode with the Annex K tables times ``scale`` (chroma times ``chroma_scale``) keeping the first
    ``keep`` zigzag coefficients; draw the luma table and the decoded image. Returns (figure, HTML)."""
    from . import jpeg, metrics

    luma = np.clip(np.round(jpeg.QUANT_LUMA * scale), 1, 255).astype(np.int64)
    chroma = np.clip(np.round(jpeg.QUANT_CHROMA * scale * chroma_scale), 1, 255).astype(np.int64)
    analysis = jpeg.analyze(image, 50, "4:2:0", tables=(luma, chroma), keep=keep)
    psnr = metrics.psnr(image, analysis.reconstruction)
    figure, axes = plt.subplots(1, 2, figsize=(9, 4), gridspec_kw={"width_ratios": [1, 1.6]})
    kept = np.zeros(64, bool)
    kept[:keep] = True
    mask = jpeg.unzigzag(kept)
    shown = axes[0].imshow(np.where(mask, luma, np.nan), cmap="viridis", vmin=1, vmax=255)
    for (i, j), value in np.ndenumerate(luma):
        axes[0].text(
            j, i, str(value) if mask[i, j] else "x", ha="center", va="center", fontsize=7, color="w"
        )
    axes[0].set_title("luma table (x: zeroed)")
    figure.colorbar(shown, ax=axes[0], fraction=0.046)
    axes[1].imshow(analysis.reconstruction)
    axes[1].set_title(f"{analysis.bpp:.3f} bpp, PSNR {psnr:.2f} dB")
    for a in axes:
        a.axis("off")
    figure.tight_layout()
    return (
        figure,
        f"<b>{len(analysis.data):,} bytes</b> &nbsp; {analysis.bpp:.3f} bpp &nbsp; PSNR {psnr:.2f} dB",
    )


def quantization_editor(image) -> ipywidgets.VBox:
    """Scale the Annex K tables and zero high frequencies; see the table, the decoded image, bpp and PSNR."""
    array = images.as_uint8(image)
    if array.ndim != 3:
        raise ValueError("quantization_editor expects an RGB image (H, W, 3)")
    controls = {
        "scale": ipywidgets.FloatLogSlider(
            value=1.0,
            base=2,
            min=-3,
            max=3,
            step=0.25,
            description="scale",
            continuous_update=False,
        ),
        "keep": ipywidgets.IntSlider(
            value=64, min=1, max=64, description="keep", continuous_update=False
        ),
        "chroma_scale": ipywidgets.FloatLogSlider(
            value=1.0,
            base=2,
            min=-2,
            max=3,
            step=0.5,
            description="chroma x",
            continuous_update=False,
        ),
    }
    return interactive_figure(lambda **values: quantization_table_view(array, **values), controls)


# ----------------------------------------------------------------------------- chapter 2: quality


def _quality_from_percent(codec, percent: float) -> float:
    low, high = codec.quality_range
    return int(round(low + (high - low) * percent / 100.0))


def codec_comparison_view(
    image: np.ndarray,
    codec_a: str = "jpeg",
    percent_a: int = 30,
    codec_b: str = "webp",
    percent_b: int = 30,
    top: int = 0,
    left: int = 0,
    size: int = 128,
):
    """Two codecs side by side on a zoomed crop: decoded, |error| and SSIM maps, with their metrics.

    percent_*: 0..100 across each codec's own quality range. Returns (figure, summary HTML).
    """
    from . import metrics, standard_codecs

    array = images.as_uint8(image)
    rows = []
    summary = []
    for name, percent in ((codec_a, percent_a), (codec_b, percent_b)):
        codec = standard_codecs.get(name)
        quality = _quality_from_percent(codec, percent)
        payload = codec.encode(array, quality)
        decoded = codec.decode(payload)
        scores = (metrics.psnr(array, decoded), metrics.ssim(array, decoded))
        summary.append(
            f"<b>{name}</b> q={quality}: {len(payload):,} bytes, "
            f"{metrics.bpp(len(payload), *array.shape[:2]):.3f} bpp, PSNR {scores[0]:.2f} dB, "
            f"SSIM {scores[1]:.4f}"
        )
        rows.append((name, quality, decoded))
    top = int(np.clip(top, 0, array.shape[0] - size))
    left = int(np.clip(left, 0, array.shape[1] - size))
    window = (slice(top, top + size), slice(left, left + size))
    figure, axes = plt.subplots(3, 3, figsize=(9, 8.5))
    axes[0, 0].imshow(array)
    axes[0, 0].add_patch(plt.Rectangle((left, top), size, size, fill=False, color="red", lw=1.5))
    axes[0, 0].set_title("original (crop in red)")
    axes[1, 0].imshow(array[window])
    axes[1, 0].set_title("original crop")
    axes[2, 0].axis("off")
    for column, (name, quality, decoded) in enumerate(rows, start=1):
        axes[0, column].imshow(decoded[window])
        axes[0, column].set_title(f"{name}, q={quality}")
        error = np.abs(decoded[window].astype(int) - array[window].astype(int)).mean(axis=2)
        axes[1, column].imshow(error, cmap="magma", vmin=0, vmax=40)
        axes[1, column].set_title("|error| (0..40)")
        local = metrics.ssim_map(array[window], decoded[window]) if size >= 11 else np.zeros((1, 1))
        axes[2, column].imshow(local, cmap="viridis", vmin=0, vmax=1)
        axes[2, column].set_title("SSIM map (0..1)")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    figure.tight_layout()
    return figure, "<br>".join(summary)


def codec_comparator(image) -> ipywidgets.VBox:
    """Pick two codecs and their qualities; compare a zoomed crop, error and SSIM maps, and metrics."""
    from . import standard_codecs

    array = images.as_uint8(image)
    if array.ndim != 3:
        raise ValueError("codec_comparator expects an RGB image (H, W, 3)")
    names = [name for name, status in standard_codecs.available().items() if status == "ok"]
    size = min(128, *array.shape[:2])
    controls = {
        "codec_a": ipywidgets.Dropdown(options=names, value="jpeg", description="codec A"),
        "percent_a": ipywidgets.IntSlider(
            value=30, min=0, max=100, description="quality A %", continuous_update=False
        ),
        "codec_b": ipywidgets.Dropdown(
            options=names, value="webp" if "webp" in names else names[0], description="codec B"
        ),
        "percent_b": ipywidgets.IntSlider(
            value=30, min=0, max=100, description="quality B %", continuous_update=False
        ),
        "top": ipywidgets.IntSlider(
            value=(array.shape[0] - size) // 2,
            min=0,
            max=array.shape[0] - size,
            description="crop top",
            continuous_update=False,
        ),
        "left": ipywidgets.IntSlider(
            value=(array.shape[1] - size) // 2,
            min=0,
            max=array.shape[1] - size,
            description="crop left",
            continuous_update=False,
        ),
    }
    return interactive_figure(
        lambda **values: codec_comparison_view(array, size=size, **values), controls, columns=2
    )


def rd_point_view(
    records: list[dict],
    pictures: dict,
    codec: str,
    point: int = 0,
    image: str | None = None,
    metric: str = "psnr",
):
    """R-D curves of every codec in ``records`` (averaged over images) with one point of one codec
    highlighted, and that image decoded at that point. Returns (figure, summary HTML)."""
    from . import metrics, standard_codecs

    if metric not in ("psnr", "ms_ssim"):
        raise ValueError(f"metric must be 'psnr' or 'ms_ssim', got {metric!r}")
    mine = [r for r in records if r["codec"] == codec]
    if not mine:
        raise ValueError(f"no records for codec {codec!r}")
    image = image or mine[0]["image"]
    qualities = sorted({r["quality"] for r in mine})
    point = int(np.clip(point, 0, len(qualities) - 1))
    chosen = next(r for r in mine if r["image"] == image and r["quality"] == qualities[point])
    figure, (ax_curve, ax_image) = plt.subplots(1, 2, figsize=(10, 4))
    for name in sorted({r["codec"] for r in records}):
        averaged = metrics.average_rd(
            [r for r in records if r["codec"] == name and r[metric] is not None],
            fields=("bpp", metric),
        )
        ax_curve.plot(
            [v["bpp"] for v in averaged.values()],
            [v[metric] for v in averaged.values()],
            marker=".",
            label=name,
            lw=2.5 if name == codec else 1,
        )
    ax_curve.plot(
        chosen["bpp"], chosen[metric], "r*", ms=14, label=f"{image} at q={chosen['quality']}"
    )
    ax_curve.set_xlabel("bpp")
    ax_curve.set_ylabel(metric.upper().replace("_", "-"))
    ax_curve.legend(fontsize=7)
    ax_curve.grid(alpha=0.3)
    decoded = standard_codecs.get(codec).decode(
        standard_codecs.get(codec).encode(pictures[image], chosen["quality"])
    )
    ax_image.imshow(decoded)
    ax_image.set_title(
        f"{codec} q={chosen['quality']}: {chosen['bpp']:.3f} bpp, {chosen['psnr']:.2f} dB"
    )
    ax_image.axis("off")
    figure.tight_layout()
    return figure, (
        f"<b>{codec}</b>, {image}, quality {chosen['quality']}: {chosen['bytes']:,} bytes, "
        f"{chosen['bpp']:.3f} bpp, PSNR {chosen['psnr']:.2f} dB"
    )


def rd_explorer(records: list[dict], pictures: dict) -> ipywidgets.VBox:
    """Pick a codec, an image and a point on its R-D curve; see that image decoded there."""
    codecs = sorted({r["codec"] for r in records})
    if not codecs:
        raise ValueError("rd_explorer needs R-D records (from standard_codecs.rd_sweep)")
    counts = {c: len({r["quality"] for r in records if r["codec"] == c}) for c in codecs}
    controls = {
        "codec": ipywidgets.Dropdown(options=codecs, value=codecs[0], description="codec"),
        "point": ipywidgets.IntSlider(
            value=0,
            min=0,
            max=max(counts.values()) - 1,
            description="point",
            continuous_update=False,
        ),
        "image": ipywidgets.Dropdown(
            options=list(pictures), value=list(pictures)[0], description="image"
        ),
        "metric": ipywidgets.Dropdown(
            options=["psnr", "ms_ssim"], value="psnr", description="metric"
        ),
    }
    return interactive_figure(
        lambda **values: rd_point_view(records, pictures, **values), controls, columns=2
    )
