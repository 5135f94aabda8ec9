"""Chapter 9's widgets (coding for machines): a quality slider and the NPP switched on or off, with
the decoded image, what the NPP removed, the file's size and the classifier's top-5. Wiring only; the
maths lives in machine_coding."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import torch

from .core import interactive_figure

__all__ = ["npp_view", "npp_explorer"]


def _top5(machine, image: np.ndarray) -> list[tuple[str, float]]:
    device = next(machine.buffers()).device
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float().div(255)
    with torch.no_grad():
        probabilities = machine(x.to(device)).softmax(1)[0].cpu()
    top = probabilities.topk(5)
    return [(machine.names[int(i)], float(p)) for p, i in zip(top.values, top.indices)]


def npp_view(npp, image, quality: int, on: bool = True, machine=None):
    """The file the codec writes at ``quality`` with the NPP on or off: decoded image, X - X_bar (what
    the NPP removed, x4 around grey), and the machine's top-5 on the decode. Returns (figure, text)."""
    from .. import machine_coding as mc

    array = np.asarray(image)
    machine = machine if machine is not None else mc.Machine()
    x_bar = mc.preprocess(npp, array, quality) if on else array
    data = mc.encode(x_bar, npp.codec, quality)
    decoded = mc.decode(data)
    removed = array.astype(np.float64) - x_bar.astype(np.float64)
    top5, original = _top5(machine, decoded), _top5(machine, array)[0]
    figure, axes = plt.subplots(1, 4, figsize=(12, 3.2), width_ratios=(1, 1, 1, 1.2))
    axes[0].imshow(array)
    axes[0].set_title("original X")
    axes[1].imshow(decoded)
    axes[1].set_title(f"{npp.codec} q{quality}, NPP {'on' if on else 'off'}")
    axes[2].imshow(np.clip(128 + 4 * removed, 0, 255).astype(np.uint8))
    axes[2].set_title("X - X_bar (x4)" if on else "X - X_bar: nothing (NPP off)")
    for axis in axes[:3]:
        axis.set_axis_off()
    names = [name.split(",")[0][:18] for name, _ in top5][::-1]
    colours = ["tab:green" if name == original[0] else "tab:grey" for name, _ in top5][::-1]
    axes[3].barh(names, [p for _, p in top5][::-1], color=colours)
    axes[3].set_xlim(0, 1)
    axes[3].set_title("top-5 on the decode (green: the original's)")
    figure.tight_layout()
    bpp = 8 * len(data) / (array.shape[0] * array.shape[1])
    kept = "kept" if top5[0][0] == original[0] else "changed"
    text = (
        f"{len(data):,} bytes ({bpp:.3f} bpp) · top-1 {top5[0][0]} ({top5[0][1]:.0%}) · "
        f"original's top-1 {original[0]}: {kept} · RMS removed {np.sqrt((removed**2).mean()):.2f} levels"
    )
    return figure, text


def npp_explorer(npp, image, machine=None) -> ipywidgets.VBox:
    """Quality slider over the codec's training range and the NPP on/off, for one image."""
    from .. import machine_coding as mc

    machine = machine if machine is not None else mc.Machine()
    low, high = mc.TRAINING_QUALITIES[npp.codec]
    controls = {
        "quality": ipywidgets.IntSlider(
            value=min(max(30, low), high), min=low, max=high, description="quality"
        ),
        "on": ipywidgets.ToggleButtons(options=[("NPP on", True), ("NPP off", False)], value=True),
    }
    return interactive_figure(
        lambda quality, on: npp_view(npp, image, quality, on, machine), controls, columns=2
    )
