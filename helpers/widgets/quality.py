"""Chapter 2 widgets: codecs side by side at one size, and points of an R-D table."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from .. import images, metrics, plotting, standard_codecs
from .core import interactive_figure

__all__ = ["codec_comparison_view", "codec_comparator", "rd_point_view", "rd_explorer"]


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

    if metric not in ("psnr", "ms_ssim"):
        raise ValueError(f"metric must be 'psnr' or 'ms_ssim', got {metric!r}")
    mine = [r for r in records if r["codec"] == codec]
    if not mine:
        raise ValueError(f"no records for codec {codec!r}")
    image = image or mine[0]["image"]
    qualities = sorted({r["quality"] for r in mine})
    point = int(np.clip(point, 0, len(qualities) - 1))
    chosen = next(r for r in mine if r["image"] == image and r["quality"] == qualities[point])
    figure, (ax_curve, ax_image) = plt.subplots(1, 2, figsize=(13, 4.5), width_ratios=(1, 1.1))
    for name in sorted({r["codec"] for r in records}):
        averaged = metrics.average_rd(
            [r for r in records if r["codec"] == name and r[metric] is not None],
            fields=("bpp", metric),
        )
        style = {**plotting.style_for(name), "ms": 4, "linewidth": 2.5 if name == codec else 1}
        ax_curve.plot(
            [v["bpp"] for v in averaged.values()],
            [v[metric] for v in averaged.values()],
            label=name,
            **style,
        )
    ax_curve.plot(
        chosen["bpp"], chosen[metric], "r*", ms=14, label=f"{image} at q={chosen['quality']}"
    )
    ax_curve.set_xlabel("rate [bpp]")
    ax_curve.set_ylabel("PSNR [dB]" if metric == "psnr" else "MS-SSIM (0..1)")
    ax_curve.set_title(f"averaged over {len({r['image'] for r in mine})} images")
    ax_curve.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax_curve.grid(alpha=0.3)
    decoded = standard_codecs.get(codec).decode(
        standard_codecs.get(codec).encode(pictures[image], chosen["quality"])
    )
    ax_image.imshow(decoded)
    ax_image.set_title(
        f"{image}, {codec} q={chosen['quality']}: {chosen['bpp']:.3f} bpp, {chosen['psnr']:.2f} dB"
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
