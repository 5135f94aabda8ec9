"""Chapter 6's widgets (class activation maps): one photo's fused ROI map for a CAM method, the number
of classes, the fusion parameters and erasing. Wiring only; the maths lives in cam."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from .. import images, plotting
from .core import interactive_figure

__all__ = ["cam_view", "cam_explorer", "fusion_controls", "fused_map"]


def cam_view(image, maps, probabilities, names, alpha: float = 0.2, beta: float = 0.1, erased=None):
    """The class maps, their fusion (cam.fuse_softmax) and its area; returns (figure, text).

    maps: (K, H, W) class maps in [0, 1]; probabilities: (K,); names: K class names.
    erased: an optional widened map (cam.erase_and_fuse) shown beside the fused one.
    """
    from .. import cam

    array = images.as_uint8(image)
    fused = cam.fuse_softmax(maps, probabilities, alpha, beta) if len(maps) > 1 else maps[0]
    panels = {f"{names[k]} p={probabilities[k]:.2f}": maps[k] for k in range(len(maps))}
    panels[f"fused α={alpha:.2f} β={beta:.2f}"] = plotting.overlay_heatmap(array, fused)
    if erased is not None:
        panels["widened by erasing"] = plotting.overlay_heatmap(array, erased)
    figure, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 3.2))
    for axis, (title, panel) in zip(np.atleast_1d(axes), panels.items()):
        axis.imshow(panel, **({"cmap": "magma", "vmin": 0, "vmax": 1} if panel.ndim == 2 else {}))
        axis.set_title(title)
        axis.axis("off")
    figure.tight_layout()
    text = f"area above 0.5: fused {np.mean(fused > 0.5):.1%}"
    if erased is not None:
        text += f", widened {np.mean(erased > 0.5):.1%}"
    return figure, text


def fusion_controls() -> dict[str, ipywidgets.Widget]:
    """The CAM method, the number of classes and α, β of the fusion: the controls of every map widget."""
    from .. import cam  # grad-cam and the classifiers load slowly: only when a widget is built

    methods = [m for m in cam.METHODS if m != "scorecam"]  # Score-CAM takes tens of seconds
    return {
        "method": ipywidgets.Dropdown(options=methods, value="gradcam", description="method"),
        "top_k": ipywidgets.IntSlider(value=3, min=1, max=5, description="classes"),
        "alpha": ipywidgets.FloatSlider(value=0.2, min=0, max=0.9, step=0.05, description="α"),
        "beta": ipywidgets.FloatSlider(value=0.1, min=0, max=0.9, step=0.05, description="β"),
    }


def fused_map(classifier, array, cache: dict, method: str, top_k: int, alpha: float, beta: float):
    """(class maps, probabilities, fused map) of a photo, the class maps cached per (method, top_k)."""
    from .. import cam

    if (method, top_k) not in cache:
        cache[(method, top_k)] = cam.class_maps(classifier, array, method, top_k=top_k)
    maps, probabilities = cache[(method, top_k)]
    fused = cam.fuse_softmax(maps, probabilities, alpha, beta) if top_k > 1 else maps[0]
    return maps, probabilities, fused


def cam_explorer(image, classifier) -> ipywidgets.VBox:
    """CAM method, number of classes, α and β of the fusion, and one round of erasing."""
    from .. import cam

    array = images.as_uint8(image)
    cache: dict = {}
    controls = {
        **fusion_controls(),
        "erase": ipywidgets.Checkbox(value=False, description="erase once"),
    }

    def render(method, top_k, alpha, beta, erase):
        maps, probabilities, _ = fused_map(classifier, array, cache, method, top_k, alpha, beta)
        names = [name for _, name, _ in cam.predict(classifier, array, top_k)]
        erased = cam.erase_and_fuse(classifier, array, method, threshold=0.5) if erase else None
        return cam_view(array, maps, probabilities, names, alpha, beta, erased)

    return interactive_figure(render, controls, columns=5)
