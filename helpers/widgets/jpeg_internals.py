"""Chapter 1 widgets: JPEG at a quality, what it keeps, and a hand-edited quantization table."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from .. import images, jpeg, metrics
from .core import interactive_figure

__all__ = [
    "JPEG_VIEWS",
    "jpeg_view",
    "jpeg_explorer",
    "quantization_table_view",
    "quantization_editor",
]

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
                ax.text(j, i, str(value), ha="center", va="center", fontsize=10)
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
    rows, cols = images.ceil_div(array.shape[0], 8), images.ceil_div(array.shape[1], 8)
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
            j,
            i,
            str(value) if mask[i, j] else "x",
            ha="center",
            va="center",
            fontsize=10,
            color="w",
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
