"""Region-of-interest coding (chapter 7): a ROI map in [0, 1] -> a JPEG quality per 8x8 block -> a file.

The package: ``roi.maps`` (ROI map -> quality map), ``roi.rdo`` (the rate-distortion coder),
``roi.evaluation`` (measures at equal size), ``roi.learned`` (the learned codec's latent step) and here
the JPEG coders; ``roi.<name>`` reaches every public name of the first three. The coders turn a map
into one standard JPEG with a real size:

- ``"rdo"`` (the default, the coder the chapter recommends): one table, and each coefficient kept or
  zeroed by a rate-distortion rule weighted by the map (``roi.rdo``).
- ``"single"``: chapter 1's encoder with block-adaptive quantization. The file carries one
  table per component, Q at ``base_quality``; lower-quality blocks are made cheaper with wider dead
  zones (or step multiples s_b, ``quantizer="scale"``), so any viewer decodes it.
- ``"composite"`` (the thesis and MSROI, Prakash et al. 2017): decode the image at every quality of the
  map, take each block from its own quality's decode, then encode that composite once with Pillow so
  the result is a file (a composite of several decodes is not a file until it is encoded once).

``encode(image, roi_map, target_bytes=...)`` hits a byte budget. ``encode_keeping_decision`` adds a
classifier in the loop: it tries ROI files from strong to gentle and keeps the first whose decode the
classifier still labels like the original (uniform JPEG of the same size is the last resort).
"""

from __future__ import annotations

import inspect
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .. import budget, images, jpeg
from . import evaluation, learned, maps, rdo
from .evaluation import Comparison, evaluate
from .maps import (
    MODES,
    block_entropy,
    block_qualities,
    check_roi_map,
    match_average,
    quality_map,
)
from .rdo import encode_rdo, encode_rdo_for_size, rdo_deadzones

__all__ = [
    "maps",
    "rdo",
    "evaluation",
    "learned",
    "MODES",
    "quality_map",
    "block_qualities",
    "match_average",
    "block_entropy",
    "check_roi_map",
    "block_scales_for",
    "block_deadzones_for",
    "encode_single",
    "encode_composite",
    "rdo_deadzones",
    "encode_rdo",
    "encode_rdo_for_size",
    "encode",
    "uniform_jpeg",
    "jpeg_for_size",
    "uniform_for_size",
    "DECISION_LADDER",
    "Decision",
    "encode_keeping_decision",
    "Comparison",
    "evaluate",
]


def block_scales_for(block_q: np.ndarray, base_quality: int) -> np.ndarray:
    """Integer step multipliers s_b >= 1 so that s_b · scale(base) is closest to scale(q_b)."""
    if not 1 <= base_quality <= 99:
        raise ValueError(
            f"base_quality must be in 1..99 (100 has no scale to multiply), got {base_quality}"
        )
    base = jpeg.quality_scaling(int(base_quality))
    return np.clip(
        np.round(jpeg.quality_scaling(np.clip(block_q, 1, 100), fractional=True) / base), 1, 255
    ).astype(np.int64)


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
    scale = jpeg.quality_scaling(np.clip(block_q, 1, 100), fractional=True)
    ratio = scale / jpeg.quality_scaling(int(base_quality))
    return np.maximum(0.5 * ratio, 0.5)


def uniform_jpeg(image, quality: int, subsampling: str = "4:2:0", optimize: bool = True) -> bytes:
    """Pillow (libjpeg) JPEG at one quality (optimized Huffman tables by default): the anchor."""
    array = images.as_uint8(image)
    buffer = io.BytesIO()
    Image.fromarray(array).save(
        buffer, "JPEG", quality=int(quality), subsampling=subsampling, optimize=optimize
    )
    return buffer.getvalue()


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
            decodes[int(quality)] = images.decode_bytes(
                uniform_jpeg(array, int(quality), subsampling)
            )
        decoded = decodes[int(quality)]
        where = per_pixel == quality
        composite[where] = decoded[where]
    final = int(block_q.max()) if final_quality is None else int(final_quality)
    return uniform_jpeg(composite, final, subsampling)


_CODERS = {"single": encode_single, "composite": encode_composite}
_MAP_OPTIONS = set(inspect.signature(maps.quality_map).parameters) - {"roi_map", "mode"}


def _split_options(mode: str, options: dict) -> tuple[dict, dict]:
    """(quality-map options, coder options), routed by the parameters each function declares."""
    coder = encode_rdo if mode == "rdo" else _CODERS[mode]
    coder_names = set(inspect.signature(coder).parameters) - {"image", "roi_map", "block_q"}
    map_names = set() if mode == "rdo" else _MAP_OPTIONS  # the rdo coder reads the ROI map itself
    unknown = set(options) - coder_names - map_names
    if unknown:
        raise TypeError(
            f"option(s) {sorted(unknown)} do not apply to mode {mode!r}; its options: "
            f"{sorted(coder_names | map_names)} (quality-map options need mode='single' or 'composite')"
        )
    map_options = {k: v for k, v in options.items() if k in _MAP_OPTIONS and k not in coder_names}
    return map_options, {k: v for k, v in options.items() if k in coder_names}


def encode(
    image,
    roi_map,
    mode: str = "rdo",
    target_bytes: int | None = None,
    quality_mode: str = "linear",
    tolerance: float = 0.01,
    **options,
) -> bytes:
    """Encode ``image`` with more quality where ``roi_map`` is high; one standard JPEG file.

    Args:
        mode: the coder: "rdo" (the default and the chapter's recommendation: a rate-distortion rule
            weighted by the map, encode_rdo, +1.6 dB inside the ROI at equal size on Kodak; the
            quality-map options do not apply, base_quality and weight_floor do), "single" (the
            quality map through dead zones or step multiples, about +0.7 dB) or "composite"
            (thesis / MSROI, a loss at equal size).
        target_bytes: if given, the file is searched to within ``tolerance`` of this size (the
            closest file otherwise): the whole quality map shifted by one offset (clipped to
            1..100), or for "rdo" the Lagrangian.
        quality_mode and the remaining options: each goes where it is declared, to ``quality_map``
            (q_start, q_end, ...) or to the coder (base_quality, quantizer, ...); an option neither
            declares raises TypeError.
    """
    if mode not in ("single", "composite", "rdo"):
        raise ValueError(f"unknown coder {mode!r}; expected 'single', 'composite' or 'rdo'")
    array = images.as_uint8(image)
    roi = check_roi_map(roi_map)
    if roi.shape != array.shape[:2]:
        raise ValueError(f"roi_map {roi.shape} must match the image {array.shape[:2]}")
    if target_bytes is not None and target_bytes < 1:
        raise ValueError(f"target_bytes must be positive, got {target_bytes}")
    map_options, coder_options = _split_options(mode, options)
    if mode == "rdo":
        if target_bytes is not None:
            coder_options.pop("lagrangian", None)
            return encode_rdo_for_size(array, roi, target_bytes, tolerance, **coder_options)
        if "lagrangian" not in coder_options:
            raise ValueError("mode='rdo' needs target_bytes or lagrangian")
        return encode_rdo(array, roi, **coder_options)
    if quality_mode == "entropy":
        map_options.setdefault("image", array)
    block_q = block_qualities(quality_map(roi, quality_mode, **map_options))
    coder = _CODERS[mode]
    if target_bytes is None:
        return coder(array, block_q, **coder_options)
    if mode == "composite":
        coder_options.setdefault("decodes", {})  # the same decodes at every step of the search
    _, data = budget.fit_to_size(
        lambda offset: coder(array, np.clip(block_q + offset, 1, 100), **coder_options),
        target_bytes,
        -100.0,
        100.0,
        tolerance,
    )
    return data


def jpeg_for_size(
    image, target_bytes: int, subsampling: str = "4:2:0", optimize: bool = True
) -> tuple[int, bytes]:
    """The uniform Pillow JPEG (quality, bytes) whose size is closest to target_bytes.

    Size grows with quality, so a bisection over the integers 1..100 finds the neighbours of the target.
    """
    quality, data = budget.fit_to_size(
        lambda q: uniform_jpeg(image, int(q), subsampling, optimize),
        target_bytes,
        1,
        100,
        integer=True,
    )
    return int(quality), data


def uniform_for_size(
    image, target_bytes: int, tolerance: float = 0.01, subsampling: str = "4:2:0"
) -> bytes:
    """Uniform Pillow JPEG (one quality everywhere) within ``tolerance`` of target_bytes when possible.

    Integer qualities move the size in steps of 2-3 % near quality 50, so the quality is fractional:
    the file carries libjpeg's tables scaled by the fractional percentage (quality 50.0 gives exactly
    Pillow's quality-50 file). The closest file is returned if no quality in 1..99 is within tolerance.
    """
    if isinstance(target_bytes, bool) or not isinstance(target_bytes, int) or target_bytes < 1:
        raise ValueError(f"target_bytes must be a positive int, got {target_bytes!r}")
    array = images.as_uint8(image)

    def at(quality: float) -> bytes:
        tables = [
            jpeg.quant_table(quality, chroma=chroma, fractional=True).ravel().tolist()
            for chroma in (False, True)
        ]
        buffer = io.BytesIO()
        Image.fromarray(array).save(
            buffer, "JPEG", qtables=tables, subsampling=subsampling, optimize=True
        )
        return buffer.getvalue()

    return budget.fit_to_size(at, target_bytes, 1.0, 99.0, tolerance)[1]


#: The coders ``encode_keeping_decision`` tries, strongest ROI first; uniform JPEG of the same size is
#: the last resort. On Kodak at the size of Pillow q50 (helpers/reference/roi_decision_study.json) the
#: first gives the ROI about +1.6 dB, the last about +0.25 dB.
DECISION_LADDER: tuple[dict, ...] = (
    dict(mode="rdo", base_quality=75, weight_floor=0.05),
    dict(mode="rdo", base_quality=75, weight_floor=0.2),
    dict(mode="rdo", base_quality=65, weight_floor=0.5),
    dict(mode="rdo", base_quality=55, weight_floor=0.5),
)


@dataclass
class Decision:
    """What ``encode_keeping_decision`` chose and why."""

    data: bytes  #: the file
    rung: int  #: index into the ladder; len(ladder) means uniform JPEG of the same size
    kept: bool  #: does the classifier label the decode like the original?
    original_top: int  #: the classifier's top-1 class on the original
    tried: list  #: (rung, top-1 class on the decode, probability of the original's class) per try
    #: with keep_probability: the probability uniform JPEG of the same size gives the original's class
    uniform_probability: float | None = None


def encode_keeping_decision(
    image,
    roi_map,
    classifier,
    target_bytes: int,
    ladder: tuple[dict, ...] = DECISION_LADDER,
    keep_probability: float | None = None,
    tolerance: float = 0.01,
) -> Decision:
    """A ROI file of ``target_bytes`` whose decode the classifier still labels like the original.

    Analysis by synthesis, as encoders choose modes: encode with each coder of ``ladder`` (options of
    ``encode``, strongest ROI first), decode, classify, and keep the first file whose top-1 class is
    the original's. Uniform JPEG of the same size is tried last; if no file keeps the class, the one
    giving the original's class the highest probability is returned (``kept`` is then False).

    keep_probability: a stricter rule. A ROI file must also give the original's class at least this
        fraction of the probability that uniform JPEG of the same size gives it (0.9: lose at most a
        tenth of uniform JPEG's confidence). The uniform file is then encoded and classified first.
    The check uses this classifier only: another network may still change its mind (measured in
    scripts/roi_decision_study.py with EfficientNet-Lite2).
    """
    from .. import cam  # the classifiers load slowly; only this coder needs them

    if target_bytes < 1:
        raise ValueError(f"target_bytes must be positive, got {target_bytes}")
    if keep_probability is not None and not 0 <= keep_probability <= 1:
        raise ValueError(f"keep_probability must be in [0, 1] or None, got {keep_probability}")
    array = images.as_uint8(image)
    original = cam.predict(classifier, _rgb(array), 1)[0][0]

    def classify(data: bytes) -> tuple[int, float]:
        ranked = cam.predict(classifier, _rgb(images.decode_bytes(data)), 1000)
        return ranked[0][0], next(p for index, _name, p in ranked if index == original)

    uniform, reference, floor = None, None, 0.0
    if keep_probability is not None:
        uniform = uniform_for_size(array, target_bytes, tolerance)
        reference = classify(uniform)[1]
        floor = keep_probability * reference
    tried, files = [], []
    for rung in range(len(ladder) + 1):
        if rung < len(ladder):
            options = dict(ladder[rung])
            data = encode(array, roi_map, target_bytes=target_bytes, tolerance=tolerance, **options)
        else:
            data = (
                uniform if uniform is not None else uniform_for_size(array, target_bytes, tolerance)
            )
        top, p_original = classify(data)
        tried.append((rung, top, p_original))
        files.append(data)
        if top == original and (rung == len(ladder) or p_original >= floor):
            return Decision(data, rung, True, original, tried, reference)
    best = max(range(len(tried)), key=lambda k: tried[k][2])
    return Decision(files[best], best, False, original, tried, reference)


def _rgb(array: np.ndarray) -> np.ndarray:
    return np.repeat(array[..., None], 3, axis=2) if array.ndim == 2 else array
