"""Chapter 9, diffjpeg: A differentiable stand-in for Pillow's baseline JPEG (chapter 1's JPEG in torch) and its rate
model fitted to real file sizes."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import images, jpeg, standard_codecs
from .common import check_batch

__all__ = [
    "DiffJPEG",
    "RateModel",
    "rate_features",
    "fit_rate_model",
    "quant_tables",
]


def _round_st(x: torch.Tensor) -> torch.Tensor:
    """round(x) forward, identity backward (straight-through)."""
    return x + (torch.round(x) - x).detach()


def _round_cubic(x: torch.Tensor) -> torch.Tensor:
    """round(x) forward; backward the derivative of Shin and Song's round(x) + (x - round(x))^3,
    3 (x - round(x))^2: zero at a level's centre, where a small change does not survive
    quantization, and large near the decision thresholds, where it does."""
    r = torch.round(x).detach()
    cubic = (x - r) ** 3
    return r + cubic - cubic.detach()


def quant_tables(qualities: torch.Tensor) -> torch.Tensor:
    """libjpeg's luma and chroma tables for each quality: (N, 2, 8, 8), as in jpeg.quant_table."""
    q = qualities.to(torch.float64).round().clamp(1, 100)
    scale = torch.tensor(
        [jpeg.quality_scaling(int(v)) for v in q.tolist()], dtype=torch.float64, device=q.device
    )
    base = torch.tensor(
        np.stack([jpeg.QUANT_LUMA, jpeg.QUANT_CHROMA]), dtype=torch.float64, device=q.device
    )
    tables = torch.floor((base[None] * scale[:, None, None, None] + 50) / 100).clamp(1, 255)
    return tables.to(torch.float32)


def _blocks(plane: torch.Tensor) -> torch.Tensor:
    """(N, H, W) -> (N, H/8, W/8, 8, 8)."""
    n, h, w = plane.shape
    return plane.reshape(n, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)


def _unblocks(blocks: torch.Tensor) -> torch.Tensor:
    n, hb, wb = blocks.shape[:3]
    return blocks.permute(0, 1, 3, 2, 4).reshape(n, hb * 8, wb * 8)


def rate_features(levels: list[torch.Tensor], soft: list[torch.Tensor] | None = None):
    """Per image: [sum over AC of log2(1 + |level|), AC nonzeros, sum over DC differences of
    log2(1 + |diff|), blocks] of quantized coefficients ``levels`` (per plane, (N, Hb, Wb, 8, 8)).
    With ``soft`` (the unrounded levels) the nonzero count passes its gradient through
    min(|level|, 1): the features stay differentiable."""
    rows = []
    for i, level in enumerate(levels):
        n = level.shape[0]
        flat = level.reshape(n, -1, 64)
        ac = flat[..., 1:]
        nonzero = (ac != 0).to(ac.dtype)
        if soft is not None:
            relaxed = soft[i].reshape(n, -1, 64)[..., 1:].abs().clamp(max=1)
            nonzero = relaxed + (nonzero - relaxed).detach()
        dc = flat[..., 0]
        diff = torch.cat([dc[:, :1], dc[:, 1:] - dc[:, :-1]], dim=1)
        rows.append(
            torch.stack(
                [
                    torch.log2(1 + ac.abs()).sum((1, 2)),
                    nonzero.sum((1, 2)),
                    torch.log2(1 + diff.abs()).sum(1),
                    torch.full((n,), float(flat.shape[1]), device=level.device, dtype=level.dtype),
                ],
                dim=1,
            )
        )
    luma, chroma = rows[0], rows[1] + rows[2]
    return torch.cat([luma, chroma], dim=1)  # (N, 8)


class RateModel(nn.Module):
    """bits = weights . rate_features + header bits: a linear model of a baseline JPEG's size from
    its quantized coefficients, fitted to Pillow's real files by ``fit_rate_model``."""

    def __init__(self, weights=None, header_bits: float = 0.0):
        super().__init__()
        w = torch.zeros(8) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        self.register_buffer("weights", w.reshape(8))
        self.register_buffer("header_bits", torch.tensor(float(header_bits)))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features @ self.weights + self.header_bits


class DiffJPEG(nn.Module):
    """A differentiable stand-in for Pillow's baseline 4:2:0 JPEG: forward(x, qualities) ->
    (decoded x_hat in [0, 1], bits per image). Every rounding (to 8-bit YCbCr, to quantization levels,
    to 8-bit output) is exact in the forward pass and straight-through in the backward pass, so the
    gradient of a loss on x_hat and on the bits reaches x. ``rounding="cubic"`` changes the backward
    pass of the quantization levels on the way to x_hat (not to the bits) to Shin and Song's cubic
    approximation: a pixel change that quantization would erase then gets (almost) no gradient, where
    straight-through passes every change as if JPEG were the identity."""

    codec = "jpeg"
    ROUNDINGS = ("straight-through", "cubic")

    def __init__(self, rate: RateModel | None = None, rounding: str = "straight-through"):
        super().__init__()
        if rounding not in self.ROUNDINGS:
            raise ValueError(f"rounding must be one of {self.ROUNDINGS}, got {rounding!r}")
        self.rate = RateModel() if rate is None else rate
        self.rounding = rounding
        self.register_buffer("dct", jpeg.dct_matrix(8, dtype=torch.float32))

    def levels(self, x: torch.Tensor, qualities: torch.Tensor):
        """The (unrounded) quantized coefficients of each plane: [Y, Cb, Cr], (N, Hb, Wb, 8, 8)."""
        if x.shape[-2] % 16 or x.shape[-1] % 16:
            raise ValueError(f"DiffJPEG needs sides that are multiples of 16, got {tuple(x.shape)}")
        m = torch.as_tensor(images.RGB_TO_YCBCR, dtype=x.dtype, device=x.device)
        offset = torch.tensor([0.0, 128.0, 128.0], device=x.device)[None, :, None, None]
        ycc = _round_st(torch.einsum("ij,njhw->nihw", m, x * 255) + offset).clamp(0, 255)
        tables = quant_tables(qualities).to(x)
        out = []
        for c in range(3):
            plane = ycc[:, c]
            if c:  # chroma: libjpeg's h2v2 downsampling, the mean of each 2 x 2 (bias aside)
                plane = F.avg_pool2d(plane[:, None], 2)[:, 0]
            coefficients = self.dct @ _blocks(plane - 128) @ self.dct.T
            table = tables[:, 1 if c else 0][:, None, None]
            out.append(coefficients / table)
        return out, tables

    def forward(self, x: torch.Tensor, qualities):
        x = check_batch(x)
        if not isinstance(qualities, torch.Tensor):
            qualities = torch.full((x.shape[0],), float(qualities))
        q = torch.round(qualities.to(x.device, torch.float32).reshape(-1))
        soft, tables = self.levels(x, q)
        rounded = [_round_st(s) for s in soft]  # the rate model's levels: straight-through
        image_levels = (
            rounded if self.rounding == "straight-through" else [_round_cubic(s) for s in soft]
        )
        planes = []
        for c, level in enumerate(image_levels):
            table = tables[:, 1 if c else 0][:, None, None]
            pixels = _round_st(_unblocks(self.dct.T @ (level * table) @ self.dct) + 128).clamp(
                0, 255
            )
            if c:  # libjpeg's "fancy" upsampling: the triangle filter, i.e. bilinear at x 2
                pixels = F.interpolate(
                    pixels[:, None], scale_factor=2, mode="bilinear", align_corners=False
                )[:, 0]
            planes.append(pixels)
        ycc = torch.stack([planes[0], planes[1] - 128, planes[2] - 128], 1)
        rgb = torch.einsum(
            "ij,njhw->nihw",
            torch.as_tensor(images.YCBCR_TO_RGB, dtype=x.dtype, device=x.device),
            ycc,
        )
        x_hat = _round_st(rgb).clamp(0, 255) / 255
        bits = self.rate(rate_features(rounded, soft))
        return x_hat, bits


def fit_rate_model(
    crops: np.ndarray, qualities=(5, 10, 20, 35, 50, 75, 90)
) -> tuple[RateModel, dict]:
    """Non-negative least-squares fit of RateModel to the real sizes of Pillow's JPEGs of ``crops`` (uint8,
    (N, H, W, 3), sides multiples of 16) at ``qualities``; also returns the fit's errors."""
    diff = DiffJPEG()
    rows, sizes = [], []
    for quality in qualities:
        x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            soft, _ = diff.levels(x, torch.full((len(crops),), float(quality)))
            rows.append(rate_features([torch.round(s) for s in soft]))
        codec = standard_codecs.get("jpeg")
        sizes += [8.0 * len(codec.encode(crop, quality)) for crop in crops]
    a = torch.cat(rows).double().numpy()
    a = np.concatenate([a, np.ones((len(a), 1))], axis=1)
    b = np.asarray(sizes)
    from scipy.optimize import nnls

    # non-negative weights: more coefficients, or larger ones, never make the model's file smaller
    solution, _ = nnls(a, b)
    model = RateModel(solution[:8], solution[8])
    predicted = a @ solution
    relative = np.abs(predicted - b) / b
    return model, {
        "mean_relative_error": float(relative.mean()),
        "max_relative_error": float(relative.max()),
        "images": len(b),
    }


# ----------------------------------------------------------------------------------------------
# The preprocessor: a pixel branch and a U-Net, scaled by the quantization adaptation
# ----------------------------------------------------------------------------------------------
