"""ROI coding with a learned codec (chapter 6, coder (c)): a spatial quantization step on the latent.

A JPEG file has one table per component, so chapter 6's ROI JPEG must fake per-block quantization with
dead zones. A learned codec can do it for real: divide the latent y by a step Δ before rounding and
multiply after, with a small Δ (fine) where the ROI map is high and a large Δ (coarse) elsewhere. With
the hyperprior the entropy model follows: y/Δ is Gaussian with scale σ/Δ, so the rate falls where Δ grows.
The decoder needs Δ: it is sent as one byte per cell of ``GRID`` × ``GRID`` latent positions
(64 × 64 pixels), Δ = 2^((code - 128) / 16), i.e. sixteenth-octave steps (1 = the model's own step), and
the code plane is deflated (zlib). For a Kodak image that is 96 cells, a few dozen bytes.

    data = roi_learned.compress(model, image, roi_map, strength=2.0)
    decoded = roi_learned.decompress(model, data)
    data = roi_learned.compress_for_size(model, image, roi_map, target_bytes=len(uniform))

Only scale-hyperprior models qualify (``bmshj2018-hyperprior``): a factorized prior has no scale to
divide, so a step on y would leave its entropy model mismatched.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from . import images
from .roi_maps import _check_roi

__all__ = [
    "GRID",
    "step_codes",
    "steps_from_codes",
    "read_steps",
    "compress",
    "decompress",
    "compress_for_size",
]

GRID = 4  #: latent positions per Δ cell side (the latent is 1/16 of the image: 64 × 64 pixels)
_MAGIC = b"NCWR"
_HEADER = ">4sHHHHHHHI"  # magic, height, width, latent h, w, z h, z w, code bytes, y string bytes


def _check_model(model) -> None:
    needed = ("g_a", "g_s", "h_a", "h_s", "gaussian_conditional", "entropy_bottleneck")
    if not all(hasattr(model, name) for name in needed) or hasattr(model, "context_prediction"):
        raise ValueError(
            "ROI with a latent step needs a scale hyperprior model (bmshj2018-hyperprior): "
            f"{type(model).__name__} has no zero-mean scale to divide by the step"
        )


def step_codes(roi_map, latent_shape: tuple[int, int], strength: float, offset: float = 0.0):
    """One step code (0..255) per cell: log2 Δ = offset - strength · (mean ROI of the cell - 1/2),
    code = round(16 · log2 Δ) + 128.

    strength 0 gives one step everywhere (2^offset); strength 2 makes the step of a cell with ROI 1
    four times finer than that of a cell with ROI 0.
    """
    roi = torch.from_numpy(np.ascontiguousarray(_check_roi(roi_map)))[None, None]
    rows, cols = -(-latent_shape[0] // GRID), -(-latent_shape[1] // GRID)
    cells = F.adaptive_avg_pool2d(roi, (rows, cols))[0, 0].numpy()
    log_step = offset - strength * (cells - 0.5)
    return np.clip(np.round(16 * log_step + 128), 0, 255).astype(np.uint8)


def steps_from_codes(codes: np.ndarray, latent_shape: tuple[int, int]) -> torch.Tensor:
    """The per-position step Δ (1, 1, h, w) of the latent from the cell codes."""
    steps = torch.from_numpy(2.0 ** ((codes.astype(np.float32) - 128) / 16))
    steps = steps.repeat_interleave(GRID, 0).repeat_interleave(GRID, 1)
    return steps[: latent_shape[0], : latent_shape[1]][None, None]


def _pack(codes: np.ndarray) -> bytes:
    return zlib.compress(codes.astype(np.uint8).tobytes(), 9)


def _unpack(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    try:
        raw = zlib.decompress(data)
    except zlib.error as error:
        raise ValueError(f"corrupt step codes in the ROI bitstream ({error})") from error
    if len(raw) != shape[0] * shape[1]:
        raise ValueError("corrupt step codes in the ROI bitstream (wrong count)")
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def compress(model, image, roi_map, strength: float = 2.0, offset: float = 0.0) -> bytes:
    """Encode a uint8 RGB image with a finer latent step where ``roi_map`` is high (one file)."""
    _check_model(model)
    array = images.as_uint8(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"compress expects an RGB image (H, W, 3), got {array.shape}")
    height, width = array.shape[:2]
    if np.shape(roi_map) != (height, width):
        raise ValueError(f"roi_map {np.shape(roi_map)} must match the image {(height, width)}")
    device = next(model.parameters()).device
    x, _ = images.pad_to_multiple(images.to_tensor(array, device=device), 64)
    roi_padded = np.pad(
        _check_roi(roi_map), ((0, x.shape[2] - height), (0, x.shape[3] - width)), "edge"
    )
    with torch.no_grad():
        y = model.g_a(x)
        z = model.h_a(torch.abs(y))
        z_strings = model.entropy_bottleneck.compress(z)
        z_hat = model.entropy_bottleneck.decompress(z_strings, z.shape[-2:])
        codes = step_codes(roi_padded, y.shape[-2:], strength, offset)
        steps = steps_from_codes(codes, y.shape[-2:]).to(device)
        indexes = model.gaussian_conditional.build_indexes(model.h_s(z_hat) / steps)
        y_strings = model.gaussian_conditional.compress(y / steps, indexes)
    packed = _pack(codes)
    header = struct.pack(
        _HEADER, _MAGIC, height, width, *y.shape[-2:], *z.shape[-2:], len(packed), len(y_strings[0])
    )
    return header + packed + y_strings[0] + z_strings[0]


def _parse(data: bytes):
    data = bytes(data)
    size = struct.calcsize(_HEADER)
    if len(data) < size or data[:4] != _MAGIC:
        raise ValueError("not a ROI latent-step bitstream (bad header)")
    _, height, width, lh, lw, zh, zw, code_bytes, y_length = struct.unpack(_HEADER, data[:size])
    if len(data) < size + code_bytes + y_length + 1:
        raise ValueError("truncated ROI latent-step bitstream")
    rows, cols = -(-lh // GRID), -(-lw // GRID)
    codes = _unpack(data[size : size + code_bytes], (rows, cols))
    y_string = data[size + code_bytes : size + code_bytes + y_length]
    z_string = data[size + code_bytes + y_length :]
    return (height, width, lh, lw, zh, zw), codes, y_string, z_string


def read_steps(data: bytes) -> np.ndarray:
    """log2 of the step of each cell, read from a file's header (what the decoder will use)."""
    return (_parse(data)[1].astype(np.float64) - 128) / 16


def decompress(model, data: bytes) -> np.ndarray:
    """Decode ``compress``'s bytes with the same model: uint8 RGB (H, W, 3)."""
    _check_model(model)
    (height, width, lh, lw, zh, zw), codes, y_string, z_string = _parse(data)
    device = next(model.parameters()).device
    with torch.no_grad():
        z_hat = model.entropy_bottleneck.decompress([z_string], (zh, zw))
        steps = steps_from_codes(codes, (lh, lw)).to(device)
        indexes = model.gaussian_conditional.build_indexes(model.h_s(z_hat) / steps)
        y_hat = model.gaussian_conditional.decompress([y_string], indexes, z_hat.dtype) * steps
        x_hat = model.g_s(y_hat).clamp(0, 1)
    return images.to_uint8(x_hat[..., :height, :width])


def compress_for_size(
    model, image, roi_map, target_bytes: int, strength: float = 2.0, tolerance: float = 0.01
) -> bytes:
    """``compress`` with the offset (the overall step) searched so the file has ``target_bytes``.

    Size falls as the offset grows; the codes are quarter octaves, so the closest file is returned
    when no offset lands within ``tolerance``.
    """
    if target_bytes < 1:
        raise ValueError(f"target_bytes must be positive, got {target_bytes}")
    low, high, best = -2.0, 2.0, None
    for _ in range(24):
        middle = (low + high) / 2
        data = compress(model, image, roi_map, strength, middle)
        if best is None or abs(len(data) - target_bytes) < abs(len(best) - target_bytes):
            best = data
        if abs(len(data) - target_bytes) <= tolerance * target_bytes:
            return data
        low, high = (middle, high) if len(data) > target_bytes else (low, middle)
    return best
