"""Measuring a ROI file (chapter 6): quality inside and outside the ROI against uniform JPEG of the
same size. Weighted PSNR and SSIM use the map itself as the weights (1 - map outside). roi.py re-exports
everything here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import images, metrics
from .roi_maps import _check_roi

__all__ = ["decode", "weighted_psnr", "weighted_ssim", "Comparison", "evaluate"]


def decode(data: bytes) -> np.ndarray:
    """Decode any of these files with Pillow (uint8, RGB or grayscale)."""
    return np.asarray(Image.open(io.BytesIO(data)))


def weighted_psnr(reference, distorted, weights) -> float:
    """PSNR of the weight-averaged squared error (RGB): weights = roi map inside, 1 - roi outside."""
    ref, dist = metrics._pair(reference, distorted)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != ref.shape[:2]:
        raise ValueError(f"weights {w.shape} must match the image {ref.shape[:2]}")
    if w.sum() <= 0:
        raise ValueError("weights sum to zero")
    error = (ref.astype(np.float64) - dist.astype(np.float64)) ** 2
    error = error.mean(axis=2) if error.ndim == 3 else error
    mse = float((w * error).sum() / w.sum())
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def weighted_ssim(reference, distorted, weights) -> float:
    """SSIM map averaged with weights (the map is 10 pixels smaller: the weights are cropped to it)."""
    local = metrics.ssim_map(reference, distorted)
    w = np.asarray(weights, dtype=np.float64)
    border = (w.shape[0] - local.shape[0]) // 2
    w = w[border : border + local.shape[0], border : border + local.shape[1]]
    if w.sum() <= 0:
        raise ValueError("weights sum to zero")
    return float((w * local).sum() / w.sum())


@dataclass
class Comparison:
    """A ROI file against uniform JPEG of (about) the same size."""

    roi_bytes: int
    uniform_bytes: int
    uniform_quality: int
    psnr_roi: tuple[float, float]  #: (ROI file, uniform), map-weighted inside the ROI
    psnr_background: tuple[float, float]  #: weighted by 1 - map
    psnr: tuple[float, float]
    ssim_roi: tuple[float, float]
    ssim_background: tuple[float, float]
    ssim: tuple[float, float]

    def table(self) -> str:
        """A small text table (rows: measures; columns: ROI file, uniform JPEG, difference)."""
        lines = [f"{'':16s}{'ROI':>10s}{'uniform':>10s}{'diff':>9s}"]
        lines.append(f"{'bytes':16s}{self.roi_bytes:10d}{self.uniform_bytes:10d}{'':>9s}")
        for name in ("psnr_roi", "psnr_background", "psnr", "ssim_roi", "ssim_background", "ssim"):
            a, b = getattr(self, name)
            digits = 2 if name.startswith("psnr") else 4
            lines.append(f"{name:16s}{a:10.{digits}f}{b:10.{digits}f}{a - b:+9.{digits}f}")
        return "\n".join(lines)


def evaluate(
    image, roi_map, roi_data: bytes, uniform_data: bytes, uniform_quality: int
) -> Comparison:
    """Measure a ROI file and a uniform JPEG inside the ROI (map-weighted), outside it and overall."""
    array = images.as_uint8(image)
    roi = _check_roi(roi_map)
    a, b = decode(roi_data), decode(uniform_data)
    inside, outside = roi, 1 - roi
    return Comparison(
        roi_bytes=len(roi_data),
        uniform_bytes=len(uniform_data),
        uniform_quality=uniform_quality,
        psnr_roi=(weighted_psnr(array, a, inside), weighted_psnr(array, b, inside)),
        psnr_background=(weighted_psnr(array, a, outside), weighted_psnr(array, b, outside)),
        psnr=(metrics.psnr(array, a), metrics.psnr(array, b)),
        ssim_roi=(weighted_ssim(array, a, inside), weighted_ssim(array, b, inside)),
        ssim_background=(weighted_ssim(array, a, outside), weighted_ssim(array, b, outside)),
        ssim=(metrics.ssim(array, a), metrics.ssim(array, b)),
    )
