"""Quality and rate metrics. Chapter 1 needs MSE, PSNR and bpp; chapter 2 adds SSIM, MS-SSIM,
BD-rate and the rest."""

from __future__ import annotations

import math

import numpy as np
import torch

from . import images

__all__ = ["mse", "psnr", "bpp"]


def _pair(reference, distorted) -> tuple[np.ndarray, np.ndarray]:
    a = (
        images.as_uint8(reference, "reference")
        if not isinstance(reference, torch.Tensor)
        else images.to_uint8(reference)
    )
    b = (
        images.as_uint8(distorted, "distorted")
        if not isinstance(distorted, torch.Tensor)
        else images.to_uint8(distorted)
    )
    if a.shape != b.shape:
        raise ValueError(
            f"reference {a.shape} and distorted {b.shape} images must have the same shape"
        )
    return a.astype(np.float64), b.astype(np.float64)


def mse(reference, distorted) -> float:
    """Mean squared error over all pixels and channels, on the 0..255 scale (uint8 images or [0, 1] tensors)."""
    a, b = _pair(reference, distorted)
    return float(np.mean((a - b) ** 2))


def psnr(reference, distorted, data_range: float = 255.0) -> float:
    """PSNR in dB = 10 log10(data_range^2 / MSE) on the 0..255 scale; inf for identical images."""
    if not data_range > 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    error = mse(reference, distorted)
    return math.inf if error == 0 else 10.0 * math.log10(data_range**2 / error)


def bpp(num_bytes: int | bytes, height: int, width: int) -> float:
    """Bits per pixel of a file of num_bytes (or the bytes themselves) for an image of height x width."""
    size = len(num_bytes) if isinstance(num_bytes, (bytes, bytearray)) else num_bytes
    if not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"num_bytes must be a non-negative int or bytes, got {num_bytes!r}")
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be positive, got {height} x {width}")
    return 8.0 * size / (height * width)
