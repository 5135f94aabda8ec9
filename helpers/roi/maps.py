"""Quality maps for region-of-interest coding (chapter 7): a ROI map in [0, 1] -> a JPEG quality per pixel.

The modes follow the thesis this chapter is built from ("Neural networks for image compression", MSU
2022): linear, quantile levels, object/background threshold, an entropy term that raises quality on
textured blocks, and progressive weighting solved for a requested average quality. ``block_qualities``
reduces a per-pixel map to one quality per 8x8 block, the unit a JPEG coder works on. The coders are in
``roi`` (the package) and ``roi.rdo``; ``roi`` exports every name here.
"""

from __future__ import annotations

import numpy as np

from .. import budget, images, jpeg

__all__ = [
    "MODES",
    "quality_map",
    "block_qualities",
    "match_average",
    "block_entropy",
    "check_roi_map",
]

MODES = ("linear", "quantile", "threshold", "entropy", "progressive")


def check_roi_map(roi_map) -> np.ndarray:
    """A ROI map as float32 (H, W) in [0, 1] (uint8 maps are divided by 255); ValueError otherwise."""
    roi = np.asarray(roi_map)
    if roi.ndim != 2:
        raise ValueError(f"roi_map must be a 2-D (H, W) map, got shape {roi.shape}")
    if roi.dtype == np.uint8:
        return roi.astype(np.float32) / 255
    roi = roi.astype(np.float32)
    if not np.isfinite(roi).all():
        raise ValueError("roi_map holds NaN or infinity")
    if roi.min() < -1e-6 or roi.max() > 1 + 1e-6:
        raise ValueError(
            f"roi_map must be in [0, 1] (or uint8 0..255), got {roi.min():.3g}..{roi.max():.3g}"
        )
    return np.clip(roi, 0, 1)


def _check_quality(name: str, value: float) -> float:
    if not 1 <= value <= 100:
        raise ValueError(f"{name} must be a JPEG quality in 1..100, got {value!r}")
    return float(value)


def block_entropy(image, block_size: int = 8) -> np.ndarray:
    """Shannon entropy (bits) of the luma histogram of each block, as a per-pixel map (H, W)."""
    array = images.as_uint8(image)
    luma = array if array.ndim == 2 else jpeg.rgb_to_ycbcr(array)[..., 0]
    luma = np.round(luma).astype(np.int64)
    height, width = luma.shape
    rows, cols = images.ceil_div(height, block_size), images.ceil_div(width, block_size)
    padded = np.pad(luma, ((0, rows * block_size - height), (0, cols * block_size - width)), "edge")
    blocks = padded.reshape(rows, block_size, cols, block_size).transpose(0, 2, 1, 3)
    blocks = blocks.reshape(rows, cols, -1)
    entropy = np.zeros((rows, cols), dtype=np.float32)
    for r in range(rows):
        for c in range(cols):
            counts = np.bincount(blocks[r, c], minlength=256)
            p = counts[counts > 0] / counts.sum()
            entropy[r, c] = -(p * np.log2(p)).sum()
    per_pixel = np.repeat(np.repeat(entropy, block_size, axis=0), block_size, axis=1)
    return per_pixel[:height, :width]


def match_average(
    qualities: np.ndarray, target: float, low: float = 1, high: float = 100
) -> np.ndarray:
    """Shift a quality map by one offset (then clip to [low, high]) so that its mean equals target.

    The mean of the clipped map grows monotonically with the offset, so bisection finds it.
    """
    _check_quality("target", target)
    qualities = np.asarray(qualities, dtype=np.float64)
    offset = budget.bisect(
        lambda x: np.clip(qualities + x, low, high).mean(), target, -200.0, 200.0
    )
    return np.clip(qualities + offset, low, high)


def quality_map(
    roi_map,
    mode: str = "linear",
    q_start: float = 30,
    q_end: float = 70,
    levels: tuple[float, ...] = (20, 40, 60, 80, 100),
    quantiles: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8),
    threshold: float = 0.5,
    q_object: float = 90,
    q_background: float = 20,
    image=None,
    entropy_weight: float = 0.3,
    target: float | None = None,
) -> np.ndarray:
    """A JPEG quality per pixel (float, H x W) from a ROI map in [0, 1].

    Modes:
        "linear": q = q_start + (q_end - q_start) · roi.
        "quantile": levels by rank (the thesis: 20/40/60/80/100 for the pixels ranked in the
            lowest 20 %, the next 20 %, ...). A pixel's rank is the share of pixels whose value is
            strictly lower, so tied pixels share the level of the lowest rank among them: a
            background of zeros (a CAM sets most of the map to 0) gets the lowest level, and each
            higher level covers the part of its share of ranks that lies above the ties.
        "threshold": q_object where roi >= threshold, else q_background (q_object=100 and a low
            q_background give a cut-out).
        "entropy": the linear map of (1 - w)·roi + w·E, E the normalized 8x8-block luma entropy of
            ``image``, so textured and edge blocks get more quality than flat ones.
        "progressive": the linear map shifted so its average is ``target`` (see match_average).
    """
    roi = check_roi_map(roi_map)
    q_start, q_end = _check_quality("q_start", q_start), _check_quality("q_end", q_end)
    if mode == "linear":
        return q_start + (q_end - q_start) * roi
    if mode == "quantile":
        if len(levels) != len(quantiles) + 1:
            raise ValueError("quantile mode needs one more level than quantiles")
        for level in levels:
            _check_quality("levels", level)
        if list(quantiles) != sorted(quantiles) or not all(0 < q < 1 for q in quantiles):
            raise ValueError(f"quantiles must rise within (0, 1), got {quantiles}")
        ordered = np.sort(roi, axis=None)
        below = np.searchsorted(ordered, roi, side="left") / roi.size  # share strictly lower
        index = np.searchsorted(np.asarray(quantiles), below, side="right")
        return np.asarray(levels, dtype=np.float64)[index]
    if mode == "threshold":
        _check_quality("q_object", q_object), _check_quality("q_background", q_background)
        return np.where(roi >= threshold, float(q_object), float(q_background))
    if mode == "entropy":
        if image is None:
            raise ValueError("entropy mode needs the image (image=...)")
        if not 0 <= entropy_weight <= 1:
            raise ValueError(f"entropy_weight must be in [0, 1], got {entropy_weight}")
        entropy = block_entropy(image)
        if entropy.shape != roi.shape:
            raise ValueError(f"image {entropy.shape} and roi_map {roi.shape} differ in size")
        entropy = entropy / max(float(entropy.max()), 1e-9)
        return q_start + (q_end - q_start) * ((1 - entropy_weight) * roi + entropy_weight * entropy)
    if mode == "progressive":
        if target is None:
            raise ValueError("progressive mode needs the average quality (target=...)")
        return match_average(q_start + (q_end - q_start) * roi, target)
    raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")


def block_qualities(qualities, block_size: int = 8) -> np.ndarray:
    """Per-pixel qualities -> one quality per block (the block's mean), float, (ceil(H/8), ceil(W/8))."""
    q = np.asarray(qualities, dtype=np.float64)
    if q.ndim != 2:
        raise ValueError(f"qualities must be (H, W), got {q.shape}")
    height, width = q.shape
    rows, cols = images.ceil_div(height, block_size), images.ceil_div(width, block_size)
    padded = np.pad(q, ((0, rows * block_size - height), (0, cols * block_size - width)), "edge")
    return padded.reshape(rows, block_size, cols, block_size).mean(axis=(1, 3))
