"""Chapter 8, part 2: reading compressed data without decoding it: a baseline JPEG's quantized DCT
coefficients (entropy decoding only) and a hyperprior file's latents y_hat (no g_s)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import autoencoder, images, jpeg
from ..jpeg import JPEGError

__all__ = [
    "Coefficients",
    "read_coefficients",
    "dct_tensors",
    "LatentError",
    "read_latents",
]

_BASELINE = {0xC0: "baseline", 0xC1: "extended sequential Huffman"}
_SOF_NAMES = {
    0xC2: "progressive",
    0xC3: "lossless",
    0xC9: "arithmetic-coded",
    0xCA: "arithmetic-coded progressive",
    0xCB: "arithmetic-coded lossless",
}


@dataclass
class Coefficients:
    """The quantized DCT coefficients of a JPEG file: ``planes`` (Y, Cb, Cr) each (rows, cols, 8, 8)
    int16 in natural order, their quantization ``tables`` (8 x 8 each), the image size and the
    sampling factors (h, v) of each component."""

    planes: list[np.ndarray]
    tables: list[np.ndarray]
    height: int
    width: int
    sampling: list[tuple[int, int]]

    @property
    def subsampling(self) -> str:
        if len(self.sampling) == 1:
            return "grayscale"
        names = {
            ((2, 2), (1, 1), (1, 1)): "4:2:0",
            ((1, 1),) * 3: "4:4:4",
            ((2, 1), (1, 1), (1, 1)): "4:2:2",
        }
        return names.get(tuple(self.sampling), str(self.sampling))


def read_coefficients(data: bytes, reader: str = "jpeglib") -> Coefficients:
    """The quantized DCT coefficients of a baseline JPEG (entropy decoding only).

    reader: "jpeglib" (libjpeg, fast) or "course" (chapter 1's reader, the readable path; same
    numbers). Progressive, lossless, arithmetic-coded and CMYK files raise JPEGError naming what is
    supported: baseline (or extended sequential) Huffman JPEG, grayscale or YCbCr.
    """
    if reader not in ("jpeglib", "course"):
        raise ValueError(f"reader must be 'jpeglib' or 'course', got {reader!r}")
    marker, count = jpeg.frame_kind(bytes(data))
    if marker not in _BASELINE:
        kind = _SOF_NAMES.get(marker, f"SOF marker 0x{marker:02X}")
        raise JPEGError(
            f"{kind} JPEG is not supported; the compressed-domain readers take baseline "
            "(sequential Huffman) JPEG, grayscale or YCbCr"
        )
    if count not in (1, 3):
        raise JPEGError(
            f"a JPEG with {count} components ({'CMYK' if count == 4 else 'unusual'}) is not "
            "supported; expected grayscale (1) or YCbCr (3)"
        )
    if reader == "course":
        frame = jpeg.read_jpeg(bytes(data))
        planes, tables, sampling = [], [], []
        for component in frame.components:
            rows, cols = frame.component_blocks(component)
            levels = jpeg.unzigzag(component.coefficients.astype(np.int16))
            levels = levels.reshape(component.coefficients.shape[:2] + (8, 8))
            planes.append(np.ascontiguousarray(levels[:rows, :cols]))
            tables.append(frame.quant_tables[component.table_id].astype(np.int32))
            sampling.append((component.h, component.v))
        return Coefficients(planes, tables, frame.height, frame.width, sampling)
    import jpeglib

    handle, path = tempfile.mkstemp(suffix=".jpg")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            dct = jpeglib.read_dct(path)
            planes = [dct.Y] + ([dct.Cb, dct.Cr] if dct.has_chrominance else [])
            planes = [np.asarray(p, dtype=np.int16) for p in planes]
            tables = [
                np.asarray(dct.qt[i], dtype=np.int32) for i in dct.quant_tbl_no[: len(planes)]
            ]
            sampling = [
                tuple(int(s) for s in pair[::-1]) for pair in dct.samp_factor[: len(planes)]
            ]
        except JPEGError:
            raise
        except Exception as error:
            raise JPEGError(f"libjpeg could not read the file: {error}") from error
    finally:
        os.unlink(path)
    return Coefficients(planes, tables, int(dct.height), int(dct.width), sampling)


def dct_tensors(coefficients: Coefficients, size: int | None = None):
    """The adapter's inputs from a 4:2:0 colour JPEG: luma (1, 64, H/8, W/8) and chroma
    (1, 128, H/16, W/16), dequantized (level x table), float32, channel 8u + v (Cb then Cr).
    ``size`` checks the image is size x size (the adapter's input size)."""
    if coefficients.subsampling != "4:2:0":
        raise ValueError(
            f"the DCT adapter reads 4:2:0 colour JPEGs (Y at 8 x 8 blocks, Cb and Cr at 16 x 16); "
            f"this file is {coefficients.subsampling}"
        )
    if coefficients.height % 16 or coefficients.width % 16:
        raise ValueError(
            f"the image must be a multiple of 16 pixels each way (whole 4:2:0 MCUs), got "
            f"{coefficients.height} x {coefficients.width}"
        )
    if size is not None and (coefficients.height, coefficients.width) != (size, size):
        raise ValueError(
            f"the adapter expects a {size} x {size} JPEG, got {coefficients.height} x {coefficients.width}"
        )
    tensors = []
    for plane, table in zip(coefficients.planes, coefficients.tables):
        values = plane.astype(np.float32) * table.astype(np.float32)  # (rows, cols, 8, 8)
        rows, cols = plane.shape[:2]
        tensors.append(torch.from_numpy(values.reshape(rows, cols, 64).transpose(2, 0, 1).copy()))
    rows, cols = coefficients.height // 8, coefficients.width // 8
    luma = tensors[0][:, :rows, :cols][None]
    chroma = torch.cat([t[:, : rows // 2, : cols // 2] for t in tensors[1:]])[None]
    return luma, chroma


class LatentError(autoencoder.AutoencoderStreamError):
    """A stream that is not a hyperprior file the latent adapter can read."""


def read_latents(model: nn.Module, data: bytes) -> torch.Tensor:
    """y_hat of a hyperprior file (``autoencoder.compress``), entropy decoding only (no g_s), cropped
    to the image: (1, M, ceil(H/16), ceil(W/16)). Other streams raise LatentError."""
    if autoencoder.model_kind(model) != "hyperprior":
        raise TypeError("read_latents takes the scale-hyperprior model that wrote the file")
    try:
        y_hat, height, width = autoencoder.decode_latents(model, data)
    except autoencoder.AutoencoderStreamError as error:
        raise LatentError(
            f"not a hyperprior file the latent adapter can read ({error}); it reads files written "
            "by autoencoder.compress with the bmshj2018-hyperprior model"
        ) from error
    return y_hat[..., : images.ceil_div(height, 16), : images.ceil_div(width, 16)]
