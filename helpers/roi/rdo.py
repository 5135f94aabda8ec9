"""The ROI-weighted rate-distortion JPEG coder of chapter 7 (``roi.encode``'s default mode, "rdo").

One baseline JPEG at ``base_quality``; each AC coefficient is kept or zeroed by a rate-distortion rule
whose distortion is weighted by the ROI map, so the background drops what the object keeps. The package
exports every name here.
"""

from __future__ import annotations

import numpy as np

from .. import budget, jpeg
from .maps import block_qualities, check_roi_map

__all__ = ["rdo_deadzones", "encode_rdo", "encode_rdo_for_size"]


def rdo_deadzones(
    weights, base_quality: int, lagrangian: float, bits_per_level: float = 5.0
) -> np.ndarray:
    """Per-coefficient dead zones (rows, cols, 8, 8) of a ROI-weighted rate-distortion choice.

    Zeroing an AC coefficient c whose level is ±1 (step Q) adds 2|c|Q - Q² to the squared error and
    saves about ``bits_per_level`` bits. In block b, with weight w_b, it pays when
    w_b (2|c|Q - Q²) < lagrangian · bits, i.e. when |c| / Q < 0.5 + lagrangian · bits / (2 w_b Q²):
    a dead zone that widens where the ROI weight is low and for the finely quantized frequencies.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or (w <= 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be a positive finite (rows, cols) block map")
    if lagrangian < 0:
        raise ValueError(f"lagrangian must be >= 0, got {lagrangian}")
    q = jpeg.quant_table(int(base_quality)).astype(np.float64)
    return 0.5 + (lagrangian / w)[..., None, None] * bits_per_level / (2 * q**2)


def encode_rdo(
    image,
    roi_map,
    lagrangian: float,
    base_quality: int = 75,
    weight_floor: float = 0.05,
    subsampling: str = "4:2:0",
    optimize: bool = True,
) -> bytes:
    """One baseline JPEG at base_quality whose coefficients are kept or zeroed by a rate-distortion
    rule weighted by the ROI map (block weight = mean map value + weight_floor): the background
    drops what the object keeps. The lagrangian trades bytes for weighted error (0: plain JPEG)."""
    roi = check_roi_map(roi_map)
    if weight_floor <= 0:
        raise ValueError(f"weight_floor must be positive, got {weight_floor}")
    weights = block_qualities(roi) + weight_floor
    zones = rdo_deadzones(weights, base_quality, lagrangian)
    return jpeg.encode(
        image, base_quality, subsampling=subsampling, optimize=optimize, block_deadzones=zones
    )


def encode_rdo_for_size(
    image, roi_map, target_bytes: int, tolerance: float = 0.01, **options
) -> bytes:
    """``encode_rdo`` at a byte budget: the Lagrangian grows (more zeroing) until the file is within
    ``tolerance`` of target_bytes (the closest file otherwise). If even no zeroing fits, that file is
    returned: raise base_quality to use the whole budget."""
    unzeroed = encode_rdo(image, roi_map, 0.0, **options)
    if len(unzeroed) <= target_bytes * (1 + tolerance):
        return unzeroed
    low, high = 0.0, 1.0
    while len(encode_rdo(image, roi_map, high, **options)) > target_bytes and high < 1e9:
        low, high = high, high * 4
    _, data = budget.fit_to_size(
        lambda lagrangian: encode_rdo(image, roi_map, lagrangian, **options),
        target_bytes,
        low,
        high,
        tolerance,
        increasing=False,
        num_steps=40,
    )
    return data if abs(len(data) - target_bytes) <= abs(len(unzeroed) - target_bytes) else unzeroed
