"""Region-of-interest coding (chapter 6): a ROI map in [0, 1] -> a JPEG quality per 8x8 block -> a file.

Quality maps (``quality_map``) follow the thesis this chapter is built from ("Neural networks for image
compression", MSU 2022): linear, quantile levels, object/background threshold, an entropy term that
raises quality on textured blocks, and progressive weighting solved for a requested average quality.
Two coders turn the per-block qualities into one standard JPEG with a real size:

- ``"single"`` (the default): chapter 1's encoder with block-adaptive quantization. The file carries one
  table per component, Q at ``base_quality``; block b is quantized with s_b·Q and stores multiples of
  s_b, so any viewer decodes it. s_b = round(scale(q_b) / scale(base)) with libjpeg's percentage scale.
- ``"composite"`` (the thesis and MSROI, Prakash et al. 2017): decode the image at every quality of the
  map, take each block from its own quality's decode, then encode that composite once with Pillow so
  the result is a file (a composite of several decodes is not a file until it is encoded once).

``encode(image, roi_map, target_bytes=...)`` shifts the quality map until the file has that size;
``evaluate`` compares a ROI file with uniform JPEG of the same size inside and outside the ROI.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import images, jpeg, metrics

__all__ = [
    "MODES",
    "quality_map",
    "block_qualities",
    "match_average",
    "block_entropy",
    "scale_percent",
    "block_scales_for",
    "block_deadzones_for",
    "encode_single",
    "encode_composite",
    "rdo_deadzones",
    "encode_rdo",
    "encode",
    "decode",
    "uniform_jpeg",
    "jpeg_for_size",
    "weighted_psnr",
    "weighted_ssim",
    "Comparison",
    "evaluate",
]

MODES = ("linear", "quantile", "threshold", "entropy", "progressive")


def _check_roi(roi_map) -> np.ndarray:
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
    rows, cols = -(-height // block_size), -(-width // block_size)
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
    lo, hi = -200.0, 200.0
    for _ in range(60):
        middle = (lo + hi) / 2
        if np.clip(qualities + middle, low, high).mean() < target:
            lo = middle
        else:
            hi = middle
    return np.clip(qualities + (lo + hi) / 2, low, high)


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
        "quantile": ``levels[i]`` between the map's quantiles ``quantiles[i-1]`` and ``quantiles[i]``
            (the thesis: 20/40/60/80/100 at the 20/40/60/80 % quantiles).
        "threshold": q_object where roi >= threshold, else q_background (q_object=100 and a low
            q_background give a cut-out).
        "entropy": the linear map of (1 - w)·roi + w·E, E the normalized 8x8-block luma entropy of
            ``image``, so textured and edge blocks get more quality than flat ones.
        "progressive": the linear map shifted so its average is ``target`` (see match_average).
    """
    roi = _check_roi(roi_map)
    q_start, q_end = _check_quality("q_start", q_start), _check_quality("q_end", q_end)
    if mode == "linear":
        return q_start + (q_end - q_start) * roi
    if mode == "quantile":
        if len(levels) != len(quantiles) + 1:
            raise ValueError("quantile mode needs one more level than quantiles")
        for level in levels:
            _check_quality("levels", level)
        edges = np.quantile(roi, quantiles)
        return np.asarray(levels, dtype=np.float64)[np.searchsorted(edges, roi, side="right")]
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
    rows, cols = -(-height // block_size), -(-width // block_size)
    padded = np.pad(q, ((0, rows * block_size - height), (0, cols * block_size - width)), "edge")
    return padded.reshape(rows, block_size, cols, block_size).mean(axis=(1, 3))


def scale_percent(quality) -> np.ndarray:
    """libjpeg's table scale in percent for (possibly fractional) qualities: 5000/q below 50, else 200-2q."""
    q = np.clip(np.asarray(quality, dtype=np.float64), 1, 100)
    return np.where(q < 50, 5000 / q, 200 - 2 * q)


def block_scales_for(block_q: np.ndarray, base_quality: int) -> np.ndarray:
    """Integer step multipliers s_b >= 1 so that s_b · scale(base) is closest to scale(q_b)."""
    if not 1 <= base_quality <= 99:
        raise ValueError(
            f"base_quality must be in 1..99 (100 has no scale to multiply), got {base_quality}"
        )
    base = jpeg.quality_scaling(int(base_quality))
    return np.clip(np.round(scale_percent(block_q) / base), 1, 255).astype(np.int64)


def encode_single(
    image,
    block_q,
    base_quality: int | None = None,
    subsampling: str = "4:2:0",
    quantizer: str = "deadzone",
    optimize: bool = True,
) -> bytes:
    """One baseline JPEG whose 8x8 block b is quantized like quality block_q[b] (chapter 1's encoder).

    A JPEG file has one table per component, so the file's table is the one at ``base_quality``
    (default: the map's highest quality, at most 95) and lower-quality blocks are made cheaper:
        "deadzone": an AC coefficient of block b survives only if it would at quality q_b
            (|c| >= 0.5 · scale(q_b) / scale(base) · Q); survivors keep the fine step Q.
        "scale": block b uses the step s_b · Q (s_b the nearest integer ratio of the scales) and stores
            multiples of s_b; every nonzero level then costs about log2(s_b) more bits than in a file
            at quality q_b. Measured on kodim07: 40-80 % larger than uniform JPEG at equal PSNR, which
            is why "deadzone" is the default.
    optimize: Huffman tables fitted to the file (True by default, as for ``uniform_jpeg``): the
        many near-empty background blocks make Annex K's tables a poor fit.
    """
    block_q = np.asarray(block_q, dtype=np.float64)
    if base_quality is None:
        base_quality = int(min(95, max(1, np.ceil(block_q.max()))))
    if quantizer == "scale":
        scales = block_scales_for(block_q, base_quality)
        return jpeg.encode(
            image, base_quality, subsampling=subsampling, optimize=optimize, block_scales=scales
        )
    if quantizer != "deadzone":
        raise ValueError(f"quantizer must be 'deadzone' or 'scale', got {quantizer!r}")
    return jpeg.encode(
        image,
        base_quality,
        subsampling=subsampling,
        optimize=optimize,
        block_deadzones=block_deadzones_for(block_q, base_quality),
    )


def block_deadzones_for(block_q: np.ndarray, base_quality: int) -> np.ndarray:
    """Dead zones d_b = 0.5 · scale(q_b) / scale(base), at least 0.5 (plain rounding)."""
    if not 1 <= base_quality <= 99:
        raise ValueError(f"base_quality must be in 1..99, got {base_quality}")
    ratio = scale_percent(block_q) / jpeg.quality_scaling(int(base_quality))
    return np.maximum(0.5 * ratio, 0.5)


def uniform_jpeg(image, quality: int, subsampling: str = "4:2:0", optimize: bool = True) -> bytes:
    """Pillow (libjpeg) JPEG at one quality (optimized Huffman tables by default): the anchor."""
    array = images.as_uint8(image)
    buffer = io.BytesIO()
    Image.fromarray(array).save(
        buffer, "JPEG", quality=int(quality), subsampling=subsampling, optimize=optimize
    )
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    """Decode any of these files with Pillow (uint8, RGB or grayscale)."""
    return np.asarray(Image.open(io.BytesIO(data)))


def encode_composite(
    image,
    block_q,
    final_quality: int | None = None,
    subsampling: str = "4:2:0",
    decodes: dict | None = None,
) -> bytes:
    """The thesis / MSROI coder: a composite of decodes at each block's quality, encoded once.

    final_quality (default: the map's highest quality) is the quality of that last encoding.
    decodes: an optional {quality: decoded image} cache, reused across calls on the same image.
    """
    array = images.as_uint8(image)
    block_q = np.clip(np.round(np.asarray(block_q, dtype=np.float64)), 1, 100).astype(np.int64)
    height, width = array.shape[:2]
    per_pixel = np.repeat(np.repeat(block_q, 8, axis=0), 8, axis=1)[:height, :width]
    composite = np.empty_like(array)
    decodes = {} if decodes is None else decodes
    for quality in np.unique(block_q):
        if int(quality) not in decodes:
            decodes[int(quality)] = decode(uniform_jpeg(array, int(quality), subsampling))
        decoded = decodes[int(quality)]
        where = per_pixel == quality
        composite[where] = decoded[where]
    final = int(block_q.max()) if final_quality is None else int(final_quality)
    return uniform_jpeg(composite, final, subsampling)


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
    roi = _check_roi(roi_map)
    if weight_floor <= 0:
        raise ValueError(f"weight_floor must be positive, got {weight_floor}")
    weights = block_qualities(roi) + weight_floor
    zones = rdo_deadzones(weights, base_quality, lagrangian)
    return jpeg.encode(
        image, base_quality, subsampling=subsampling, optimize=optimize, block_deadzones=zones
    )


def _encode_with(image, block_q, mode: str, **options) -> bytes:
    if mode == "single":
        return encode_single(image, block_q, **options)
    if mode == "composite":
        return encode_composite(image, block_q, **options)
    raise ValueError(f"unknown coder {mode!r}; expected 'single', 'composite' or 'rdo'")


def encode(
    image,
    roi_map,
    mode: str = "single",
    target_bytes: int | None = None,
    quality_mode: str = "linear",
    tolerance: float = 0.01,
    **options,
) -> bytes:
    """Encode ``image`` with more quality where ``roi_map`` is high; one standard JPEG file.

    Args:
        mode: the coder: "single" (the quality map through dead zones or step multiples),
            "composite" (thesis / MSROI), or "rdo" (a rate-distortion rule weighted by the map,
            encode_rdo; the quality-map options do not apply, base_quality and weight_floor do).
        target_bytes: if given, the whole quality map is shifted up or down (one offset, clipped to
            1..100) until the file is within ``tolerance`` of this size (the closest file otherwise).
        quality_mode and the remaining options: passed to ``quality_map`` (q_start, q_end, ...).
    """
    array = images.as_uint8(image)
    roi = _check_roi(roi_map)
    if roi.shape != array.shape[:2]:
        raise ValueError(f"roi_map {roi.shape} must match the image {array.shape[:2]}")
    if mode == "rdo":
        return _encode_rdo_for_size(array, roi, target_bytes, tolerance, **options)
    coder_keys = {
        "base_quality",
        "final_quality",
        "subsampling",
        "quantizer",
        "optimize",
        "decodes",
    }
    coder_options = {k: v for k, v in options.items() if k in coder_keys}
    map_options = {k: v for k, v in options.items() if k not in coder_keys}
    if quality_mode == "entropy":
        map_options.setdefault("image", array)
    block_q = block_qualities(quality_map(roi, quality_mode, **map_options))
    if target_bytes is None:
        return _encode_with(array, block_q, mode, **coder_options)
    if target_bytes < 1:
        raise ValueError(f"target_bytes must be positive, got {target_bytes}")
    if mode == "composite":
        coder_options.setdefault("decodes", {})  # the same decodes at every step of the search

    def at(offset: float) -> bytes:
        return _encode_with(array, np.clip(block_q + offset, 1, 100), mode, **coder_options)

    lo, hi = -100.0, 100.0
    best = at(0.0)
    for _ in range(30):
        middle = (lo + hi) / 2
        data = at(middle)
        if abs(len(data) - target_bytes) < abs(len(best) - target_bytes):
            best = data
        if abs(len(data) - target_bytes) <= tolerance * target_bytes:
            return data
        if len(data) < target_bytes:
            lo = middle
        else:
            hi = middle
    return best


def _encode_rdo_for_size(array, roi, target_bytes, tolerance, lagrangian=None, **options) -> bytes:
    if target_bytes is None:
        if lagrangian is None:
            raise ValueError("mode='rdo' needs target_bytes or lagrangian")
        return encode_rdo(array, roi, lagrangian, **options)
    best = encode_rdo(array, roi, 0.0, **options)
    if len(best) <= target_bytes * (1 + tolerance):
        return best  # even without zeroing the file fits: raise base_quality to use the budget
    low, high = 0.0, 1.0
    while len(encode_rdo(array, roi, high, **options)) > target_bytes and high < 1e9:
        low, high = high, high * 4
    for _ in range(40):
        middle = (low + high) / 2
        data = encode_rdo(array, roi, middle, **options)
        if abs(len(data) - target_bytes) < abs(len(best) - target_bytes):
            best = data
        if abs(len(data) - target_bytes) <= tolerance * target_bytes:
            return data
        if len(data) > target_bytes:
            low = middle
        else:
            high = middle
    return best


def jpeg_for_size(
    image, target_bytes: int, subsampling: str = "4:2:0", optimize: bool = True
) -> tuple[int, bytes]:
    """The uniform Pillow JPEG (quality, bytes) whose size is closest to target_bytes.

    Size grows with quality, so a bisection over 1..100 finds the neighbours of the target.
    """
    sizes: dict[int, bytes] = {}

    def at(quality: int) -> bytes:
        if quality not in sizes:
            sizes[quality] = uniform_jpeg(image, quality, subsampling, optimize)
        return sizes[quality]

    low, high = 1, 100
    while high - low > 1:
        middle = (low + high) // 2
        if len(at(middle)) < target_bytes:
            low = middle
        else:
            high = middle
    quality = min((low, high), key=lambda q: abs(len(at(q)) - target_bytes))
    return quality, at(quality)


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
