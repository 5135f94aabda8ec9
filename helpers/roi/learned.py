"""ROI coding with a learned codec (chapter 7, section 5): a spatial quantization step on the latent.

A JPEG file has one table per component, so chapter 7's ROI JPEG must fake per-block quantization with
dead zones. A learned codec can do it for real: divide the latent y by a step Δ before rounding and
multiply after, with a small Δ (fine) where the ROI map is high and a large Δ (coarse) elsewhere. With
the hyperprior the entropy model follows: y/Δ is Gaussian with scale σ/Δ, so the rate falls where Δ grows.
The decoder needs Δ: it is sent as one byte per cell of ``GRID`` × ``GRID`` latent positions
(64 × 64 pixels), Δ = 2^((code - 128) / 16), i.e. sixteenth-octave steps (1 = the model's own step), and
the code plane is deflated (zlib). For a Kodak image that is 96 cells, a few dozen bytes.

    data = roi.learned.compress(model, image, roi_map, strength=2.0)
    decoded = roi.learned.decompress(model, data)
    data = roi.learned.compress_for_size(model, image, roi_map, target_bytes=len(uniform))

Only scale-hyperprior models qualify (``bmshj2018-hyperprior``): a factorized prior has no scale to
divide, so a step on y would leave its entropy model mismatched. With ``autoencoder.load_integer``'s
model every step is an integer (16 fraction bits, from a table computed in decimal arithmetic), the
indexes compare scale · 2^16 with threshold · step in integers, and the file decodes to the same pixels
on any machine (chapter 4, section 10).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from .. import autoencoder, budget, container, images
from .maps import check_roi_map

__all__ = [
    "GRID",
    "step_codes",
    "steps_from_codes",
    "integer_steps_from_codes",
    "read_steps",
    "compress",
    "decompress",
    "compress_for_size",
    "LearnedROIStreamError",
]

GRID = 4  #: latent positions per Δ cell side (the latent is 1/16 of the image: 64 × 64 pixels)
_MAGIC, _VERSION = b"NCWR", 1
#: height, width, latent channels M, model fingerprint, CRC-32 of y_hat, code bytes, y string bytes
_HEADER = ">HHHIIHI"


class LearnedROIStreamError(container.StreamError):
    """A stream that is not a learned-ROI file of this model, or is damaged."""


def _check_model(model) -> None:
    if isinstance(model, autoencoder.IntegerHyperprior):
        if model.kind != "hyperprior":
            raise ValueError(
                "ROI with a latent step needs a scale hyperprior, not a mean-scale one"
            )
        return
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
    roi = torch.from_numpy(np.ascontiguousarray(check_roi_map(roi_map)))[None, None]
    rows, cols = images.ceil_div(latent_shape[0], GRID), images.ceil_div(latent_shape[1], GRID)
    cells = F.adaptive_avg_pool2d(roi, (rows, cols))[0, 0].numpy()
    log_step = offset - strength * (cells - 0.5)
    return np.clip(np.round(16 * log_step + 128), 0, 255).astype(np.uint8)


def steps_from_codes(codes: np.ndarray, latent_shape: tuple[int, int]) -> torch.Tensor:
    """The per-position step Δ (1, 1, h, w) of the latent from the cell codes."""
    steps = torch.from_numpy(2.0 ** ((codes.astype(np.float32) - 128) / 16))
    steps = steps.repeat_interleave(GRID, 0).repeat_interleave(GRID, 1)
    return steps[: latent_shape[0], : latent_shape[1]][None, None]


def _step_table() -> np.ndarray:
    """round(2**16 · 2**((code - 128) / 16)) for the 256 codes, computed in decimal arithmetic (40
    digits, the same on every machine; libm's pow may differ in its last bit)."""
    from decimal import Decimal, localcontext

    with localcontext() as context:
        context.prec = 40
        values = [Decimal(2) ** (Decimal(code - 128) / 16 + 16) for code in range(256)]
        return np.array([int(v.to_integral_value()) for v in values], dtype=np.int64)


_STEP_TABLE = _step_table()


def integer_steps_from_codes(codes: np.ndarray, latent_shape: tuple[int, int]) -> np.ndarray:
    """The integer decoder's step per latent position (1, 1, h, w), with 16 fraction bits."""
    steps = _STEP_TABLE[codes.astype(np.int64)]
    steps = steps.repeat(GRID, 0).repeat(GRID, 1)
    return steps[: latent_shape[0], : latent_shape[1]][None, None]


def _pack(codes: np.ndarray) -> bytes:
    return zlib.compress(codes.astype(np.uint8).tobytes(), 9)


def _unpack(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    try:
        raw = zlib.decompress(data)
    except zlib.error as error:
        raise LearnedROIStreamError(f"corrupt step codes ({error})") from error
    if len(raw) != shape[0] * shape[1]:
        raise LearnedROIStreamError("corrupt step codes (wrong count)")
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def _shapes(height: int, width: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Latent (stride 16) and hyper-latent (stride 64) sizes of an image padded to a multiple of 64."""
    z = images.ceil_div(height, 64), images.ceil_div(width, 64)
    return (4 * z[0], 4 * z[1]), z


def compress(model, image, roi_map, strength: float = 2.0, offset: float = 0.0) -> bytes:
    """Encode a uint8 RGB image with a finer latent step where ``roi_map`` is high (one file)."""
    _check_model(model)
    array = images.as_rgb(image)
    height, width = array.shape[:2]
    if np.shape(roi_map) != (height, width):
        raise ValueError(f"roi_map {np.shape(roi_map)} must match the image {(height, width)}")
    device = next(model.parameters()).device
    x, _ = images.pad_to_multiple(images.to_tensor(array, device=device), 64)
    roi_padded = np.pad(
        check_roi_map(roi_map), ((0, x.shape[2] - height), (0, x.shape[3] - width)), "edge"
    )
    if isinstance(model, autoencoder.IntegerHyperprior):
        return _compress_integer(model, x, roi_padded, (height, width), strength, offset)
    with torch.no_grad():
        y = model.g_a(x)
        z = model.h_a(torch.abs(y))
        z_strings = model.entropy_bottleneck.compress(z)
        z_hat = model.entropy_bottleneck.decompress(z_strings, z.shape[-2:])
        codes = step_codes(roi_padded, y.shape[-2:], strength, offset)
        steps = steps_from_codes(codes, y.shape[-2:]).to(device)
        indexes = model.gaussian_conditional.build_indexes(model.h_s(z_hat) / steps)
        y_strings = model.gaussian_conditional.compress(y / steps, indexes)
        y_hat = model.gaussian_conditional.decompress(y_strings, indexes, z_hat.dtype) * steps
    return _file(model, (height, width), codes, y_hat, y_strings[0], z_strings[0])


def _file(model, size, codes, y_hat, y_string: bytes, z_string: bytes) -> bytes:
    """The file both encoders write: header (size, channels, fingerprint, CRC-32 of y_hat, lengths),
    then the packed step codes, y's string and z's string."""
    packed = _pack(codes)
    header = struct.pack(
        _HEADER,
        *size,
        y_hat.shape[1],
        container.fingerprint(model),
        container.content_crc(np.array(size), y_hat),
        len(packed),
        len(y_string),
    )
    return container.pack(_MAGIC, _VERSION, header, packed + y_string + z_string)


def _compress_integer(model, x, roi_padded, size, strength, offset) -> bytes:
    """``compress`` for an IntegerHyperprior: the steps, the indexes and y_hat in integers."""
    height, width = size
    with torch.no_grad():
        y = model.model.g_a(x)
        z = model.model.h_a(torch.abs(y))
    z_symbols = torch.round(z - model.medians.to(z.device)[None, :, None, None])
    z_symbols = z_symbols.cpu().numpy().astype(np.int64)
    z_string = model.z_coder.encode(z_symbols, model.z_indexes(z.shape[-2:]))
    codes = step_codes(roi_padded, y.shape[-2:], strength, offset)
    steps_q = integer_steps_from_codes(codes, y.shape[-2:])
    indexes, _ = model.entropy_parameters(z_symbols, steps_q)
    y_symbols = np.round(y.cpu().numpy().astype(np.float64) / (steps_q / 2.0**16)).astype(np.int64)
    y_string = model.y_coder.encode(y_symbols, indexes)
    y_hat = model.latents_from_symbols(model.y_coder.decode(y_string, indexes), None, steps_q)
    return _file(model, (height, width), codes, y_hat, y_string, z_string)


def _latent_channels(model) -> int:
    inner = model.model if isinstance(model, autoencoder.IntegerHyperprior) else model
    return int(inner.g_a[-1].out_channels)


def _parse(data: bytes, model=None):
    header, payload = container.unpack(data, _MAGIC, _VERSION, LearnedROIStreamError)
    fields = container.read_fields(header, _HEADER, LearnedROIStreamError)
    height, width, channels, print_, latent_crc, code_bytes, y_length = fields
    if not height or not width or code_bytes + y_length >= len(payload):
        raise LearnedROIStreamError(f"inconsistent header {fields}")
    if model is not None:
        if channels != _latent_channels(model):
            raise LearnedROIStreamError(
                f"stream for M={channels} latent channels; the model has {_latent_channels(model)}"
            )
        container.check_fingerprint(model, print_, LearnedROIStreamError)
    (lh, lw), (zh, zw) = _shapes(height, width)
    codes = _unpack(payload[:code_bytes], (images.ceil_div(lh, GRID), images.ceil_div(lw, GRID)))
    y_string = payload[code_bytes : code_bytes + y_length]
    z_string = payload[code_bytes + y_length :]
    return (height, width, lh, lw, zh, zw, latent_crc), codes, y_string, z_string


def read_steps(data: bytes) -> np.ndarray:
    """log2 of the step of each cell, read from a file's header (what the decoder will use)."""
    return (_parse(data)[1].astype(np.float64) - 128) / 16


def decompress(model, data: bytes) -> np.ndarray:
    """Decode ``compress``'s bytes with the model that wrote them: uint8 RGB (H, W, 3).

    Raises LearnedROIStreamError for a foreign, damaged or truncated stream, or another model's.
    """
    _check_model(model)
    (height, width, lh, lw, zh, zw, latent_crc), codes, y_string, z_string = _parse(data, model)
    if isinstance(model, autoencoder.IntegerHyperprior):
        with container.decoding(LearnedROIStreamError):
            z_symbols = model.z_coder.decode(z_string, model.z_indexes((zh, zw)))
            steps_q = integer_steps_from_codes(codes, (lh, lw))
            indexes, _ = model.entropy_parameters(z_symbols, steps_q)
            y_hat = model.latents_from_symbols(
                model.y_coder.decode(y_string, indexes), None, steps_q
            )
        container.check_content(latent_crc, LearnedROIStreamError, np.array([height, width]), y_hat)
        return model.pixels(y_hat)[:height, :width]
    device = next(model.parameters()).device
    with container.decoding(LearnedROIStreamError), torch.no_grad():
        z_hat = model.entropy_bottleneck.decompress([z_string], (zh, zw))
        steps = steps_from_codes(codes, (lh, lw)).to(device)
        indexes = model.gaussian_conditional.build_indexes(model.h_s(z_hat) / steps)
        y_hat = model.gaussian_conditional.decompress([y_string], indexes, z_hat.dtype) * steps
    container.check_content(latent_crc, LearnedROIStreamError, np.array([height, width]), y_hat)
    with torch.no_grad():
        x_hat = model.g_s(y_hat).clamp(0, 1)
    return images.to_uint8(x_hat[..., :height, :width])


def compress_for_size(
    model, image, roi_map, target_bytes: int, strength: float = 2.0, tolerance: float = 0.01
) -> bytes:
    """``compress`` with the offset (the overall step) searched so the file has ``target_bytes``.

    Size falls as the offset grows; the codes are sixteenth octaves, so the closest file is returned
    when no offset lands within ``tolerance``.
    """
    return budget.fit_to_size(
        lambda offset: compress(model, image, roi_map, strength, offset),
        target_bytes,
        -2.0,
        2.0,
        tolerance,
        increasing=False,
        num_steps=24,
    )[1]
