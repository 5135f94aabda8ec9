"""Chapter 9, common: The codecs an NPP sits in front of, their quality ranges, and the argument checks every part uses."""

from __future__ import annotations

import numpy as np
import torch

from .. import images, standard_codecs

__all__ = [
    "CODECS",
    "TRAINING_QUALITIES",
    "MIN_SIZE",
    "check_codec",
    "check_quality",
    "PROXY_QUALITIES",
    "quality_tensor",
    "check_batch",
    "as_rgb_array",
]

CODECS = ("jpeg", "heif")
#: the qualities each codec's NPP is trained over (inclusive range), and the learned proxies' qualities
TRAINING_QUALITIES = {"jpeg": (5, 90), "heif": (10, 85)}
PROXY_QUALITIES = {"jpeg": (10, 25, 50, 75), "heif": (10, 30, 55, 80)}
#: the smallest side the U-Net takes (two halvings, and a 3 x 3 neighbourhood at the coarsest scale)
MIN_SIZE = 16


def check_codec(codec: str) -> str:
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {list(CODECS)}, got {codec!r}")
    return codec


def check_quality(codec: str, quality) -> float:
    """The quality as a float, or a clear error naming the codec's range."""
    check_codec(codec)
    low, high = standard_codecs.get(codec).quality_range
    if isinstance(quality, bool) or not isinstance(quality, (int, float, np.integer, np.floating)):
        raise TypeError(f"{codec}: quality must be a number in {low}..{high}, got {quality!r}")
    if not low <= float(quality) <= high:
        raise ValueError(f"{codec}: quality must lie in {low}..{high}, got {quality}")
    return float(quality)


def quality_tensor(codec: str, qualities, n: int, device) -> torch.Tensor:
    if isinstance(qualities, torch.Tensor):
        values = qualities.detach().to("cpu", torch.float64).reshape(-1).tolist()
    elif np.ndim(qualities) == 0:
        values = [qualities] * n
    else:
        values = list(np.asarray(qualities).reshape(-1))
    if len(values) != n:
        raise ValueError(f"{len(values)} qualities for {n} images")
    return torch.tensor(
        [check_quality(codec, q) for q in values], dtype=torch.float32, device=device
    )


def check_batch(x: torch.Tensor) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"expected an RGB batch (N, 3, H, W) in [0, 1], got {shape}")
    if min(x.shape[-2:]) < MIN_SIZE:
        raise ValueError(
            f"the image is {x.shape[-2]} x {x.shape[-1]}: the NPP's U-Net needs at least "
            f"{MIN_SIZE} x {MIN_SIZE} pixels"
        )
    return x


def as_rgb_array(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(
            f"expected an RGB image (H, W, 3), got shape {array.shape}; convert grey or RGBA "
            "images with helpers.images.as_rgb first"
        )
    array = images.as_uint8(array)
    if min(array.shape[:2]) < MIN_SIZE:
        raise ValueError(
            f"the image is {array.shape[0]} x {array.shape[1]}: the NPP's U-Net needs at least "
            f"{MIN_SIZE} x {MIN_SIZE} pixels"
        )
    return array


# ----------------------------------------------------------------------------------------------
# A differentiable JPEG (chapter 1 in torch) and its rate model
# ----------------------------------------------------------------------------------------------
