"""Chapter 8's widgets (learning on compressed data): the ReLU of one block from k frequency bands
(exact, direct truncation, approximated spatial masking), and the DCT adapter's frequency-channel gate
(turn channels off, watch the agreement with the pixel network). Wiring only; the maths lives in
compressed_domain."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import torch

from .core import interactive_figure

__all__ = [
    "one_block",
    "relu_view",
    "relu_explorer",
    "gate_view",
    "gate_explorer",
    "gate_agreement",
]


def one_block(coefficients: torch.Tensor, index: int) -> torch.Tensor:
    """Block ``index`` (over images, channels and grid positions) as (1, 64, 1, 1)."""
    n, c64, hb, wb = coefficients.shape
    blocks = coefficients.reshape(n, c64 // 64, 64, hb, wb).permute(0, 1, 3, 4, 2).reshape(-1, 64)
    return blocks[index % len(blocks)].reshape(1, 64, 1, 1)


def relu_view(block: torch.Tensor, k: int):
    """One 8 x 8 block's input and its ReLU: exact, direct (from k bands) and ASM (mask from k bands).
    Returns (figure, text) with each approximation's RMSE against the exact ReLU."""
    from .. import compressed_domain as cd

    block = block.reshape(1, 64, 1, 1).to(torch.float64)
    outputs = {
        "exact ReLU": cd.relu_exact(block),
        f"direct, k={k}": cd.relu_direct(block, k),
        f"ASM, k={k}": cd.relu_asm(block, k),
    }
    pixels = {"input": cd.to_pixels(block)[0, 0].numpy()}
    pixels.update({name: cd.to_pixels(value)[0, 0].numpy() for name, value in outputs.items()})
    limit = float(np.abs(pixels["input"]).max()) or 1.0
    figure, axes = plt.subplots(1, 5, figsize=(11, 2.6))
    for axis, (name, values) in zip(axes, pixels.items()):
        axis.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axis.set_title(name)
        axis.set_xticks([])
        axis.set_yticks([])
    axes[4].imshow(cd.band_mask(k).reshape(8, 8).numpy(), cmap="Greys", vmin=0, vmax=1)
    axes[4].set_title(f"k={k}: black = kept (u+v<k)")
    axes[4].set_xticks([])
    axes[4].set_yticks([])
    exact = pixels["exact ReLU"]
    errors = {
        name: float(np.sqrt(np.mean((values - exact) ** 2)))
        for name, values in pixels.items()
        if name.startswith(("direct", "ASM"))
    }
    figure.tight_layout()
    text = " · ".join(f"RMSE {name}: {value:.4f}" for name, value in errors.items())
    return figure, text


def relu_explorer(coefficients: torch.Tensor) -> ipywidgets.VBox:
    """k (1-15 bands) and which block of ``coefficients`` (N, C*64, Hb, Wb), e.g. a layer's input."""
    n, c64, hb, wb = coefficients.shape
    controls = {
        "k": ipywidgets.IntSlider(value=4, min=1, max=15, description="bands k"),
        "index": ipywidgets.IntSlider(
            value=0, min=0, max=n * (c64 // 64) * hb * wb - 1, description="block"
        ),
    }
    return interactive_figure(
        lambda k, index: relu_view(one_block(coefficients, index), k), controls
    )


def gate_agreement(
    model, inputs: list, reference: np.ndarray, disabled: np.ndarray | None = None
) -> float:
    """Top-1 agreement of the DCT adapter with ``reference`` classes on ``inputs`` [(luma, chroma)],
    with the boolean (192,) ``disabled`` channels turned off (the learned gate stays on)."""
    adapter = model.adapter
    saved = adapter.disabled.clone()
    try:
        if disabled is not None:
            adapter.disabled.copy_(torch.as_tensor(disabled, dtype=torch.bool))
        luma = torch.cat([i[0] for i in inputs])
        chroma = torch.cat([i[1] for i in inputs])
        with torch.no_grad():
            predicted = model(luma, chroma).argmax(1).cpu().numpy()
    finally:
        adapter.disabled.copy_(saved)
    return float((predicted == np.asarray(reference)).mean())


def _disabled(
    luma_bands: int, chroma_bands: int, top: int | None = None, logits=None
) -> np.ndarray:
    """Channels turned off: luma outside u+v < luma_bands, chroma outside u+v < chroma_bands (0 = all
    off), and with ``top`` all but the ``top`` channels of highest gate ``logits``."""
    from .. import compressed_domain as cd

    off = np.zeros(192, dtype=bool)
    off[:64] = cd.band_mask(luma_bands).numpy() == 0 if luma_bands else True
    for start in (64, 128):
        off[start : start + 64] = cd.band_mask(chroma_bands).numpy() == 0 if chroma_bands else True
    if top is not None and logits is not None:
        ranked = np.argsort(-np.asarray(logits, dtype=float).reshape(192), kind="stable")
        off[ranked[top:]] = True
    return off


def gate_view(
    probabilities: np.ndarray, disabled: np.ndarray | None = None, agreement: float | None = None
):
    """What the gate learned, as three 8 x 8 maps (Y, Cb, Cr; u down, v across): each frequency
    channel's keep probability; channels turned off by hand are crossed out."""
    probabilities = np.asarray(probabilities, dtype=float).reshape(3, 8, 8)
    off = np.zeros((3, 8, 8), bool) if disabled is None else np.asarray(disabled).reshape(3, 8, 8)
    figure, axes = plt.subplots(1, 3, figsize=(9, 3.0))
    low, high = float(probabilities.min()), float(probabilities.max())
    for axis, plane, gone, name in zip(axes, probabilities, off, ("Y", "Cb", "Cr")):
        shown = axis.imshow(plane, cmap="viridis", vmin=low, vmax=max(high, low + 1e-6))
        rows, cols = np.nonzero(gone)
        axis.scatter(cols, rows, marker="x", color="white", s=18, linewidths=1)
        axis.set_title(f"{name}: {int((~gone).sum())} of 64 used")
        axis.set_xlabel("v (horizontal frequency)")
        axis.set_xticks([0, 7])
        axis.set_yticks([0, 7])
    axes[0].set_ylabel("u (vertical frequency)")
    figure.colorbar(shown, ax=list(axes), shrink=0.8, label="learned keep probability")
    text = None if agreement is None else f"top-1 agreement with the pixel network: {agreement:.1%}"
    return figure, text


def gate_explorer(model, inputs: list, reference: np.ndarray) -> ipywidgets.VBox:
    """Keep the ``top`` channels the learned gate ranks highest, and only the luma and chroma bands
    u+v < k (0 = none); watch the agreement on ``inputs`` [(luma, chroma) tensors] with ``reference``."""
    controls = {
        "top": ipywidgets.IntSlider(value=192, min=1, max=192, description="keep top"),
        "luma_bands": ipywidgets.IntSlider(value=15, min=0, max=15, description="Y bands"),
        "chroma_bands": ipywidgets.IntSlider(value=15, min=0, max=15, description="CbCr bands"),
    }
    logits = model.adapter.gate_logits.detach().cpu().numpy()

    def render(top, luma_bands, chroma_bands):
        off = _disabled(luma_bands, chroma_bands, top, logits)
        agreement = gate_agreement(model, inputs, reference, off)
        return gate_view(model.adapter.gate_probabilities(), off, agreement)

    return interactive_figure(render, controls, columns=3)
