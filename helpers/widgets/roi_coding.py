"""Chapter 7's widgets (ROI coding): a static ROI view and its explorer. Wiring only; the maths lives in
cam and roi."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from .. import images, plotting, roi
from .class_maps import fused_map, fusion_controls
from .core import interactive_figure

__all__ = ["roi_view", "roi_explorer"]


def roi_view(image, roi_map, quality_mode: str = "linear", **options):
    """Overlay, quality map, ROI JPEG and uniform JPEG of the same size; returns (figure, html)."""

    array = images.as_uint8(image)
    qualities = roi.quality_map(roi_map, quality_mode, image=array, **options)
    encoded = roi.encode_single(array, roi.block_qualities(qualities))
    quality, uniform = roi.jpeg_for_size(array, len(encoded))
    result = roi.evaluate(array, roi_map, encoded, uniform, quality)
    # the two files differ in detail, not at a glance: show both at full resolution around the ROI's peak
    side = min(160, *array.shape[:2])
    peak_row, peak_col = np.unravel_index(np.argmax(np.asarray(roi_map)), np.shape(roi_map))
    top = int(np.clip(peak_row - side // 2, 0, array.shape[0] - side))
    left = int(np.clip(peak_col - side // 2, 0, array.shape[1] - side))
    window = (slice(top, top + side), slice(left, left + side))
    figure, axes = plt.subplots(1, 4, figsize=(13, 3.4))
    overlay = plotting.overlay_heatmap(array, roi_map)
    axes[0].imshow(overlay)
    axes[0].add_patch(plt.Rectangle((left, top), side, side, fill=False, edgecolor="white", lw=1.5))
    axes[0].set_title("ROI map (box: the zoom)")
    shown = axes[1].imshow(qualities, cmap="viridis", vmin=1, vmax=100)
    axes[1].set_title(f"quality map (mean {qualities.mean():.1f})")
    figure.colorbar(shown, ax=axes[1], fraction=0.046)
    axes[2].imshow(images.decode_bytes(encoded)[window])
    axes[2].set_title(f"ROI JPEG, {len(encoded):,} bytes")
    axes[3].imshow(images.decode_bytes(uniform)[window])
    axes[3].set_title(f"uniform q{quality}, {len(uniform):,} bytes")
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    return figure, f"<pre>{result.table()}</pre>"


def roi_explorer(image, classifier) -> ipywidgets.VBox:
    """CAM method, classes, fusion (alpha, beta), quality mode and range -> ROI JPEG vs uniform JPEG."""
    array = images.as_uint8(image)
    cache: dict = {}
    controls = {
        **fusion_controls(),
        "mode": ipywidgets.Dropdown(
            options=["linear", "quantile", "threshold", "entropy", "progressive"],
            value="linear",
            description="mode",
        ),
        "q_range": ipywidgets.IntRangeSlider(value=(20, 80), min=1, max=100, description="q"),
        "target": ipywidgets.IntSlider(value=50, min=5, max=95, description="average q"),
    }

    def render(method, top_k, alpha, beta, mode, q_range, target):
        _, _, fused = fused_map(classifier, array, cache, method, top_k, alpha, beta)
        options = {"q_start": q_range[0], "q_end": q_range[1]}
        if mode == "threshold":
            options.update(q_object=q_range[1], q_background=q_range[0])
        if mode == "progressive":
            options["target"] = target
        return roi_view(array, fused, mode, **options)

    return interactive_figure(render, controls, columns=4)
