"""A from-scratch baseline JPEG (ITU-T T.81 / JFIF), written to be read: colour, subsampling,
the 8x8 DCT, quantization with libjpeg's quality scaling, zigzag, and (in ``jpeg_bitstream``)
run-lengths, Huffman coding and markers.

Public entry points: ``encode(image, quality, subsampling, optimize, block_scales) -> bytes`` and
``decode(data) -> uint8 image``; ``analyze`` returns everything in between (coefficients, tables,
reconstruction and where the bits go). The arithmetic follows libjpeg where it matters for
matching Pillow's files (fixed-point colour conversion, downsampling biases, rounding of
quantization, "fancy" upsampling); the DCT is the exact orthonormal one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import images
from .jpeg_bitstream import ZIGZAG, Component, Frame, JPEGError, read_jpeg, write_jpeg

__all__ = [
    "JPEGError",
    "QUANT_LUMA",
    "QUANT_CHROMA",
    "ZIGZAG",
    "SUBSAMPLING",
    "quality_scaling",
    "quant_table",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "downsample",
    "upsample",
    "blockify",
    "deblockify",
    "dct_matrix",
    "dct2",
    "idct2",
    "idct_islow",
    "fdct_islow",
    "basis_images",
    "quantize",
    "dequantize",
    "zigzag",
    "unzigzag",
    "Analysis",
    "analyze",
    "analyze_file",
    "block_bits_map",
    "encode",
    "decode",
]

#: ITU-T T.81 Annex K, Table K.1 and K.2 (natural row-major order).
QUANT_LUMA = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.int64,
)
QUANT_CHROMA = np.full((8, 8), 99, dtype=np.int64)
QUANT_CHROMA[:4, :4] = [[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99]]

#: luma sampling factors (h, v) for each chroma subsampling; chroma is always 1x1.
SUBSAMPLING = {"4:4:4": (1, 1), "4:2:2": (2, 1), "4:2:0": (2, 2)}


def quality_scaling(quality: int) -> int:
    """libjpeg's quality (1..100) -> percentage scale of the Annex K tables: 5000/q below 50, 200-2q above."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)):
        raise TypeError(f"quality must be an int in 1..100, got {quality!r}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    return 5000 // quality if quality < 50 else 200 - 2 * quality


def quant_table(quality: int, chroma: bool = False, base: np.ndarray | None = None) -> np.ndarray:
    """The quantization table libjpeg (and so Pillow) writes at this quality (8x8, natural order).

    (base * scale + 50) // 100, clamped to 1..255 as for baseline JPEG.
    """
    scale = quality_scaling(quality)
    table = (QUANT_CHROMA if chroma else QUANT_LUMA) if base is None else np.asarray(base, np.int64)
    if table.shape != (8, 8):
        raise ValueError(f"base table must be 8x8, got {table.shape}")
    return np.clip((table * scale + 50) // 100, 1, 255).astype(np.int64)


# -------------------------------------------------------------------------------- colour


def rgb_to_ycbcr(image: np.ndarray) -> np.ndarray:
    """uint8 RGB (H, W, 3) -> uint8 YCbCr with libjpeg's 16-bit fixed-point JFIF equations."""
    rgb = images.as_uint8(image).astype(np.int64)
    if rgb.ndim != 3:
        raise ValueError("rgb_to_ycbcr expects an RGB image (H, W, 3)")
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]

    def fix(x):
        return int(x * 65536 + 0.5)

    half = 1 << 15
    offset = 128 << 16
    y = (fix(0.299) * r + fix(0.587) * g + fix(0.114) * b + half) >> 16
    cb = (-fix(0.16874) * r - fix(0.33126) * g + fix(0.5) * b + offset + half - 1) >> 16
    cr = (fix(0.5) * r - fix(0.41869) * g - fix(0.08131) * b + offset + half - 1) >> 16
    return np.stack([y, cb, cr], axis=-1).astype(np.uint8)


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """uint8 YCbCr (H, W, 3) -> uint8 RGB with libjpeg's fixed-point tables (what Pillow decodes with)."""
    array = np.asarray(ycbcr)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"ycbcr_to_rgb expects (H, W, 3), got {array.shape}")
    y, cb, cr = (array[..., i].astype(np.int64) for i in range(3))
    cb, cr = cb - 128, cr - 128
    half = 1 << 15

    def fix(x):
        return int(x * 65536 + 0.5)

    r = y + ((fix(1.40200) * cr + half) >> 16)
    g = y + ((-fix(0.34414) * cb - fix(0.71414) * cr + half) >> 16)
    b = y + ((fix(1.77200) * cb + half) >> 16)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def downsample(plane: np.ndarray, h: int, v: int) -> np.ndarray:
    """Average h x v neighbourhoods as libjpeg does (alternating rounding biases); sizes must divide."""
    plane = np.asarray(plane, dtype=np.int64)
    if (h, v) == (1, 1):
        return plane.copy()
    if plane.shape[0] % v or plane.shape[1] % h:
        raise ValueError(
            f"plane size {plane.shape} is not a multiple of the sampling factors ({h}, {v})"
        )
    rows, cols = plane.shape[0] // v, plane.shape[1] // h
    total = plane.reshape(rows, v, cols, h).sum(axis=(1, 3))
    if (h, v) == (2, 1):
        bias = np.tile([0, 1], cols // 2 + 1)[:cols]
        return (total + bias) >> 1
    if (h, v) == (2, 2):
        bias = np.tile([1, 2], cols // 2 + 1)[:cols]
        return (total + bias) >> 2
    count = h * v
    return (total + count // 2) // count


def upsample(
    plane: np.ndarray, h: int, v: int, shape: tuple[int, int], method: str = "fancy"
) -> np.ndarray:
    """Upsample a chroma plane by (h, v) to ``shape``.

    method 'nearest' repeats samples; 'fancy' is libjpeg's triangle filter (3/4 of the nearer
    sample, 1/4 of the next), which is what Pillow decodes 4:2:0 and 4:2:2 with.
    """
    if method not in ("fancy", "nearest"):
        raise ValueError(f"method must be 'fancy' or 'nearest', got {method!r}")
    plane = np.asarray(plane, dtype=np.int64)
    if (h, v) == (1, 1):
        return plane[: shape[0], : shape[1]]
    if method == "nearest" or (h, v) not in ((2, 1), (2, 2)):
        return plane.repeat(v, axis=0).repeat(h, axis=1)[: shape[0], : shape[1]]
    # libjpeg upsamples the component's own (ceil) size, replicating its edges.
    plane = plane[: -(-shape[0] // v), : -(-shape[1] // h)]
    if v == 2:
        above = np.vstack([plane[:1], plane[:-1]])
        below = np.vstack([plane[1:], plane[-1:]])
        rows = np.empty((2 * plane.shape[0], plane.shape[1]), dtype=np.int64)
        rows[0::2] = 3 * plane + above
        rows[1::2] = 3 * plane + below
        left = np.hstack([rows[:, :1], rows[:, :-1]])
        right = np.hstack([rows[:, 1:], rows[:, -1:]])
        out = np.empty((rows.shape[0], 2 * rows.shape[1]), dtype=np.int64)
        out[:, 0::2] = (3 * rows + left + 8) >> 4
        out[:, 1::2] = (3 * rows + right + 7) >> 4
    else:
        left = np.hstack([plane[:, :1], plane[:, :-1]])
        right = np.hstack([plane[:, 1:], plane[:, -1:]])
        out = np.empty((plane.shape[0], 2 * plane.shape[1]), dtype=np.int64)
        out[:, 0::2] = (3 * plane + left + 1) >> 2
        out[:, 1::2] = (3 * plane + right + 2) >> 2
    return out[: shape[0], : shape[1]]


# -------------------------------------------------------------------------------- blocks and DCT


def blockify(plane: np.ndarray | torch.Tensor, block_size: int = 8) -> np.ndarray | torch.Tensor:
    """(H, W) -> (H/8, W/8, 8, 8) blocks; edges are replicated up to a multiple of block_size."""
    if plane.ndim != 2:
        raise ValueError(f"blockify expects a 2-D plane, got shape {tuple(plane.shape)}")
    padded, _ = images.pad_to_multiple(plane, block_size, mode="edge")
    rows, cols = padded.shape[0] // block_size, padded.shape[1] // block_size
    blocks = padded.reshape(rows, block_size, cols, block_size)
    return (
        blocks.transpose(1, 2) if isinstance(blocks, torch.Tensor) else blocks.transpose(0, 2, 1, 3)
    )


def deblockify(blocks: np.ndarray | torch.Tensor, shape: tuple[int, int] | None = None):
    """(rows, cols, 8, 8) blocks -> (H, W) plane, cropped to ``shape`` when given."""
    if blocks.ndim != 4 or blocks.shape[2] != blocks.shape[3]:
        raise ValueError(f"deblockify expects (rows, cols, n, n), got {tuple(blocks.shape)}")
    rows, cols, n, _ = blocks.shape
    if isinstance(blocks, torch.Tensor):
        plane = blocks.transpose(1, 2).reshape(rows * n, cols * n)
    else:
        plane = blocks.transpose(0, 2, 1, 3).reshape(rows * n, cols * n)
    return plane if shape is None else plane[: shape[0], : shape[1]]


def dct_matrix(size: int = 8, dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """The orthonormal DCT-II matrix C: C[k, n] = a_k cos(pi (2n + 1) k / 2N), a_0 = sqrt(1/N), a_k = sqrt(2/N)."""
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    n = torch.arange(size, dtype=dtype, device=device)
    k = n[:, None]
    matrix = torch.cos(torch.pi * (2 * n[None] + 1) * k / (2 * size)) * (2.0 / size) ** 0.5
    matrix[0] /= 2**0.5
    return matrix


def _as_torch(blocks):
    if isinstance(blocks, torch.Tensor):
        return blocks, False
    array = np.asarray(blocks)
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"blocks must be numeric, got {array.dtype}")
    return torch.from_numpy(array.astype(np.float64)), True


def dct2(blocks):
    """2-D DCT-II of (..., 8, 8) blocks as C X C^T, batched (numpy in -> numpy out; torch stays on its device)."""
    tensor, was_numpy = _as_torch(blocks)
    if tensor.ndim < 2 or tensor.shape[-1] != tensor.shape[-2]:
        raise ValueError(f"dct2 expects (..., n, n) blocks, got {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        tensor = tensor.double()
    c = dct_matrix(tensor.shape[-1], dtype=tensor.dtype, device=tensor.device)
    result = c @ tensor @ c.T
    return result.numpy() if was_numpy else result


def idct2(coefficients):
    """Inverse of ``dct2``: C^T Y C (the matrix is orthonormal, so its inverse is its transpose)."""
    tensor, was_numpy = _as_torch(coefficients)
    if tensor.ndim < 2 or tensor.shape[-1] != tensor.shape[-2]:
        raise ValueError(f"idct2 expects (..., n, n) blocks, got {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        tensor = tensor.double()
    c = dct_matrix(tensor.shape[-1], dtype=tensor.dtype, device=tensor.device)
    result = c.T @ tensor @ c
    return result.numpy() if was_numpy else result


def basis_images(size: int = 8) -> np.ndarray:
    """The size x size DCT basis images: (k, l, n, m), basis[k, l] = outer(C[k], C[l])."""
    c = dct_matrix(size).numpy()
    return np.einsum("kn,lm->klnm", c, c)


def _islow_forward_pass(d: list[np.ndarray], final: bool) -> list[np.ndarray]:
    """One 1-D pass of libjpeg's jfdctint.c (integer 'islow' forward DCT)."""
    extra = 2  # PASS1_BITS
    tmp0, tmp7 = d[0] + d[7], d[0] - d[7]
    tmp1, tmp6 = d[1] + d[6], d[1] - d[6]
    tmp2, tmp5 = d[2] + d[5], d[2] - d[5]
    tmp3, tmp4 = d[3] + d[4], d[3] - d[4]
    tmp10, tmp13, tmp11, tmp12 = tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2
    shift = 13 + extra if final else 13 - extra

    def descale(value, bits):
        return (value + (1 << (bits - 1))) >> bits

    out = [None] * 8
    if final:
        out[0], out[4] = descale(tmp10 + tmp11, extra), descale(tmp10 - tmp11, extra)
    else:
        out[0], out[4] = (tmp10 + tmp11) << extra, (tmp10 - tmp11) << extra
    z1 = (tmp12 + tmp13) * 4433
    out[2] = descale(z1 + tmp13 * 6270, shift)
    out[6] = descale(z1 - tmp12 * 15137, shift)
    z1, z2, z3, z4 = tmp4 + tmp7, tmp5 + tmp6, tmp4 + tmp6, tmp5 + tmp7
    z5 = (z3 + z4) * 9633
    tmp4, tmp5, tmp6, tmp7 = tmp4 * 2446, tmp5 * 16819, tmp6 * 25172, tmp7 * 12299
    z1, z2, z3, z4 = z1 * -7373, z2 * -20995, z3 * -16069 + z5, z4 * -3196 + z5
    out[7] = descale(tmp4 + z1 + z3, shift)
    out[5] = descale(tmp5 + z2 + z4, shift)
    out[3] = descale(tmp6 + z2 + z3, shift)
    out[1] = descale(tmp7 + z1 + z4, shift)
    return out


def fdct_islow(blocks: np.ndarray) -> np.ndarray:
    """libjpeg's integer forward DCT (the default of Pillow's encoder) on level-shifted integer
    (..., 8, 8) blocks; returns coefficients on the orthonormal scale (float64, multiples of 1/8).

    The float ``dct2`` is the exact transform; this one reproduces libjpeg's coefficients, so our
    quantized levels equal those in Pillow's files.
    """
    blocks = np.asarray(blocks)
    if blocks.shape[-2:] != (8, 8):
        raise ValueError("fdct_islow expects (..., 8, 8) blocks")
    integer = np.rint(blocks).astype(np.int64)
    rows = _islow_forward_pass([integer[..., :, k] for k in range(8)], final=False)
    work = np.stack(rows, axis=-1)
    columns = _islow_forward_pass([work[..., k, :] for k in range(8)], final=True)
    return np.stack(columns, axis=-2) / 8.0


def _islow_pass(x: list[np.ndarray], shift: int) -> list[np.ndarray]:
    """One 1-D pass of libjpeg's jidctint.c (integer 'islow' IDCT, 13-bit constants)."""
    z1 = (x[2] + x[6]) * 4433
    tmp2 = z1 - x[6] * 15137
    tmp3 = z1 + x[2] * 6270
    tmp0 = (x[0] + x[4]) << 13
    tmp1 = (x[0] - x[4]) << 13
    tmp10, tmp13, tmp11, tmp12 = tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2
    t0, t1, t2, t3 = x[7], x[5], x[3], x[1]
    z1, z2, z3, z4 = t0 + t3, t1 + t2, t0 + t2, t1 + t3
    z5 = (z3 + z4) * 9633
    t0, t1, t2, t3 = t0 * 2446, t1 * 16819, t2 * 25172, t3 * 12299
    z1, z2, z3, z4 = z1 * -7373, z2 * -20995, z3 * -16069 + z5, z4 * -3196 + z5
    t0, t1, t2, t3 = t0 + z1 + z3, t1 + z2 + z4, t2 + z2 + z3, t3 + z1 + z4
    half = 1 << (shift - 1)
    return [
        (v + half) >> shift
        for v in (
            tmp10 + t3,
            tmp11 + t2,
            tmp12 + t1,
            tmp13 + t0,
            tmp13 - t0,
            tmp12 - t1,
            tmp11 - t2,
            tmp10 - t3,
        )
    ]


def idct_islow(coefficients: np.ndarray) -> np.ndarray:
    """libjpeg's integer IDCT (the default of libjpeg-turbo and so of Pillow) on dequantized
    (..., 8, 8) integer blocks; returns level-shifted uint8-range samples (int64, clipped 0..255).

    The standard only requires an IDCT accurate to IEEE 1180; this one reproduces Pillow's
    decoder exactly, the float ``idct2`` differs from it by at most one level per sample.
    """
    blocks = np.asarray(coefficients)
    if blocks.shape[-2:] != (8, 8) or not np.issubdtype(blocks.dtype, np.integer):
        raise ValueError("idct_islow expects integer (..., 8, 8) blocks")
    blocks = blocks.astype(np.int64)
    columns = _islow_pass(
        [blocks[..., k, :] for k in range(8)], 13 - 2
    )  # pass 1 keeps 2 extra bits
    work = np.stack(columns, axis=-2)
    rows = _islow_pass([work[..., :, k] for k in range(8)], 13 + 2 + 3)
    return np.clip(np.stack(rows, axis=-1) + 128, 0, 255)


def quantize(
    coefficients: np.ndarray, table: np.ndarray, block_scales: np.ndarray | None = None
) -> np.ndarray:
    """round(c / Q), half away from zero as libjpeg does, for (..., 8, 8) blocks.

    block_scales (the blocks' leading shape, integers >= 1) quantizes block b with s_b * Q and stores
    s_b * round(c / (s_b Q)): a multiple of s_b, so the file decodes with its one table Q.
    """
    coefficients = np.asarray(coefficients, dtype=np.float64)
    table = np.asarray(table, dtype=np.float64)
    if table.shape != coefficients.shape[-2:]:
        raise ValueError(
            f"table shape {table.shape} does not match blocks {coefficients.shape[-2:]}"
        )
    if block_scales is None:
        ratio = coefficients / table
        return (np.sign(ratio) * np.floor(np.abs(ratio) + 0.5)).astype(np.int64)
    scales = np.asarray(block_scales)
    if scales.shape != coefficients.shape[:-2]:
        raise ValueError(
            f"block_scales must have shape {coefficients.shape[:-2]}, got {scales.shape}"
        )
    if not np.issubdtype(scales.dtype, np.integer) or scales.min() < 1:
        raise ValueError("block_scales must be integers >= 1")
    steps = scales[..., None, None].astype(np.float64)
    ratio = coefficients / (table * steps)
    return (np.sign(ratio) * np.floor(np.abs(ratio) + 0.5)).astype(np.int64) * scales[
        ..., None, None
    ]


def dequantize(levels: np.ndarray, table: np.ndarray) -> np.ndarray:
    """levels * Q: the coefficients the decoder reconstructs."""
    return np.asarray(levels, dtype=np.float64) * np.asarray(table, dtype=np.float64)


def zigzag(blocks: np.ndarray) -> np.ndarray:
    """(..., 8, 8) -> (..., 64) in zigzag order (low frequencies first)."""
    blocks = np.asarray(blocks)
    if blocks.shape[-2:] != (8, 8):
        raise ValueError(f"zigzag expects (..., 8, 8), got {blocks.shape}")
    return blocks.reshape(*blocks.shape[:-2], 64)[..., ZIGZAG]


def unzigzag(vectors: np.ndarray) -> np.ndarray:
    """(..., 64) zigzag vectors -> (..., 8, 8) blocks."""
    vectors = np.asarray(vectors)
    if vectors.shape[-1] != 64:
        raise ValueError(f"unzigzag expects (..., 64), got {vectors.shape}")
    natural = np.empty_like(vectors)
    natural[..., ZIGZAG] = vectors
    return natural.reshape(*vectors.shape[:-1], 8, 8)


# -------------------------------------------------------------------------------- the codec


@dataclass
class Analysis:
    """Everything ``encode`` computes: the file, its frame of quantized coefficients, the decoded
    image (identical to ``decode(data)``) and where the bits go."""

    data: bytes
    frame: Frame
    reconstruction: np.ndarray
    block_bits: (
        np.ndarray
    )  #: bits per 8x8 block of the image grid, chroma spread over the luma blocks it covers
    split: dict  #: bytes in headers, tables, DC, AC, padding and stuffing, total

    @property
    def bpp(self) -> float:
        return 8 * len(self.data) / (self.frame.height * self.frame.width)

    def coefficients(self, component: int = 0) -> np.ndarray:
        """Quantized levels of a component as (block rows, block cols, 8, 8), natural order."""
        return unzigzag(self.frame.components[component].coefficients)


def _validate_image(image) -> np.ndarray:
    array = images.as_uint8(image)
    if array.ndim == 3 and array.shape[2] != 3:
        raise ValueError(f"image must be RGB (H, W, 3) or grayscale (H, W), got {array.shape}")
    if array.shape[0] > 65535 or array.shape[1] > 65535:
        raise ValueError("JPEG images are at most 65535 pixels on a side")
    return array


def _scale_grid(
    block_scales,
    image_blocks: tuple[int, int],
    grid: tuple[int, int],
    h: int,
    v: int,
    h_max: int,
    v_max: int,
) -> np.ndarray | None:
    """Map the per-8x8-block scale map of the image onto a component's block grid (min over covered blocks)."""
    if block_scales is None:
        return None
    scales = np.asarray(block_scales)
    if scales.shape != image_blocks:
        raise ValueError(
            f"block_scales must have shape {image_blocks} (one per 8x8 block), got {scales.shape}"
        )
    if not np.issubdtype(scales.dtype, np.integer) or scales.min() < 1 or scales.max() > 255:
        raise ValueError("block_scales must hold integers in 1..255")
    fy, fx = v_max // v, h_max // h
    rows, cols = grid
    padded = np.pad(
        scales, ((0, rows * fy - scales.shape[0]), (0, cols * fx - scales.shape[1])), mode="edge"
    )
    return padded.reshape(rows, fy, cols, fx).min(axis=(1, 3)).astype(np.int64)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _fill_dummy_blocks(levels: np.ndarray, real: tuple[int, int], h: int) -> None:
    """Blocks of the MCU grid that lie wholly outside the image are coded as libjpeg codes them:
    no AC, and the DC of the neighbouring real block (so their DC differences cost nothing)."""
    rows, cols = real
    if cols < levels.shape[1]:
        levels[:rows, cols:] = 0
        levels[:rows, cols:, 0, 0] = levels[:rows, cols - 1 : cols, 0, 0]
    for row in range(rows, levels.shape[0]):
        levels[row] = 0
        last_in_mcu = levels[row - 1, h - 1 :: h, 0, 0]
        levels[row, :, 0, 0] = np.repeat(last_in_mcu, h)[: levels.shape[1]]


def _build_frame(
    image: np.ndarray,
    quality: int,
    subsampling: str,
    block_scales,
    tables: tuple[np.ndarray, np.ndarray] | None,
    dct: str = "islow",
) -> Frame:
    if subsampling not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {list(SUBSAMPLING)}, got {subsampling!r}")
    if dct not in ("islow", "float"):
        raise ValueError(f"dct must be 'islow' (libjpeg's integer DCT) or 'float', got {dct!r}")
    luma_table = quant_table(quality) if tables is None else np.asarray(tables[0], np.int64)
    chroma_table = (
        quant_table(quality, chroma=True) if tables is None else np.asarray(tables[1], np.int64)
    )
    for table in (luma_table, chroma_table):
        if table.shape != (8, 8) or table.min() < 1 or table.max() > 255:
            raise ValueError("quantization tables must be 8x8 integers in 1..255")
    height, width = image.shape[:2]
    if image.ndim == 2:
        planes, factors = [image.astype(np.int64)], [(1, 1)]
    else:
        ycc = rgb_to_ycbcr(image).astype(np.int64)
        h, v = SUBSAMPLING[subsampling]
        planes, factors = [ycc[..., i] for i in range(3)], [(h, v), (1, 1), (1, 1)]
    h_max, v_max = factors[0]
    frame = Frame(
        height, width, [], {0: luma_table, 1: chroma_table} if len(planes) == 3 else {0: luma_table}
    )
    mcu_rows, mcu_cols = -(-height // (8 * v_max)), -(-width // (8 * h_max))
    image_blocks = (-(-height // 8), -(-width // 8))
    for index, (plane, (h, v)) in enumerate(zip(planes, factors, strict=True)):
        # libjpeg's edge handling: replicate the last column out to the component's width in blocks
        # and the last row to a whole row group, downsample, then replicate downsampled rows down
        # to the MCU grid; blocks wholly outside the image are "dummy" blocks (below).
        fx, fy = h_max // h, v_max // v
        real = (_ceil(_ceil(height * v, v_max), 8), _ceil(_ceil(width * h, h_max), 8))
        padded = np.pad(plane, ((0, (-height) % v_max), (0, real[1] * 8 * fx - width)), mode="edge")
        sampled = downsample(padded, fx, fy)
        grid = (mcu_rows * v * 8, mcu_cols * h * 8)
        sampled = np.pad(
            sampled, ((0, grid[0] - sampled.shape[0]), (0, grid[1] - sampled.shape[1])), mode="edge"
        )
        blocks = blockify(sampled.astype(np.float64) - 128.0)
        table = luma_table if index == 0 else chroma_table
        scales = _scale_grid(block_scales, image_blocks, blocks.shape[:2], h, v, h_max, v_max)
        coefficients = fdct_islow(blocks) if dct == "islow" else dct2(blocks)
        levels = quantize(coefficients, table, scales)
        _fill_dummy_blocks(levels, real, h)
        frame.components.append(Component(index + 1, h, v, 0 if index == 0 else 1, zigzag(levels)))
    return frame


def _reconstruct(frame: Frame, upsampling: str = "fancy", idct: str = "islow") -> np.ndarray:
    """Dequantize, inverse DCT, level shift, upsample and convert a frame to a uint8 image."""
    if idct not in ("islow", "float"):
        raise ValueError(f"idct must be 'islow' or 'float', got {idct!r}")
    planes = []
    for component in frame.components:
        table = frame.quant_tables[component.table_id]
        levels = unzigzag(component.coefficients)
        if idct == "islow":
            pixels = idct_islow(levels * table)
        else:
            pixels = np.clip(np.floor(idct2(dequantize(levels, table)) + 128.5), 0, 255)
        plane = deblockify(pixels).astype(np.int64)
        if frame.h_max == component.h and frame.v_max == component.v:
            planes.append(plane[: frame.height, : frame.width])
        else:
            planes.append(
                upsample(
                    plane,
                    frame.h_max // component.h,
                    frame.v_max // component.v,
                    (frame.height, frame.width),
                    method=upsampling,
                )
            )
    if len(planes) == 1:
        return planes[0].astype(np.uint8)
    stacked = np.stack(planes, axis=-1)
    is_rgb = frame.adobe_transform == 0 or [c.identifier for c in frame.components] == [82, 71, 66]
    return np.clip(stacked, 0, 255).astype(np.uint8) if is_rgb else ycbcr_to_rgb(stacked)


def block_bits_map(frame: Frame) -> np.ndarray:
    """Bits per 8x8 block of the image grid (ceil(H/8), ceil(W/8)); subsampled chroma blocks are
    spread evenly over the luma-grid blocks they cover."""
    grids = frame.accounting.get("block_bits", {})
    rows, cols = -(-frame.height // 8), -(-frame.width // 8)
    total = np.zeros((rows, cols), dtype=np.float64)
    for index, component in enumerate(frame.components):
        if index not in grids:
            continue
        fy, fx = frame.v_max // component.v, frame.h_max // component.h
        spread = np.repeat(np.repeat(grids[index] / (fy * fx), fy, axis=0), fx, axis=1)
        total += spread[:rows, :cols]
    return total


def analyze(
    image,
    quality: int = 75,
    subsampling: str = "4:2:0",
    optimize: bool = False,
    block_scales: np.ndarray | None = None,
    tables: tuple[np.ndarray, np.ndarray] | None = None,
    dct: str = "islow",
    restart_interval: int = 0,
    keep: int = 64,
) -> Analysis:
    """Encode like ``encode`` and return the file with its coefficients, decoded image and bit accounting.

    tables: optional custom (luma, chroma) 8x8 quantization tables instead of the quality-scaled ones.
    dct: 'islow' (libjpeg's integer DCT: the same levels as Pillow) or 'float' (the exact DCT).
    restart_interval: write an RSTn marker every that many MCUs (0: none).
    keep: zero every coefficient after the first ``keep`` in zigzag order (a crude low-pass, 1..64).
    """
    array = _validate_image(image)
    if isinstance(keep, bool) or not isinstance(keep, (int, np.integer)) or not 1 <= keep <= 64:
        raise ValueError(f"keep must be an int in 1..64, got {keep!r}")
    frame = _build_frame(array, quality, subsampling, block_scales, tables, dct)
    for component in frame.components:
        component.coefficients[..., keep:] = 0
    data, accounting = write_jpeg(frame, optimize=optimize, restart_interval=restart_interval)
    return Analysis(data, frame, _reconstruct(frame), block_bits_map(frame), accounting["bytes"])


def encode(
    image,
    quality: int = 75,
    subsampling: str = "4:2:0",
    optimize: bool = False,
    block_scales: np.ndarray | None = None,
) -> bytes:
    """Encode a uint8 RGB (H, W, 3) or grayscale (H, W) image as a baseline JFIF file; return its bytes.

    Args:
        quality: 1..100 with libjpeg's scaling of the Annex K tables (the same tables as Pillow).
        subsampling: '4:4:4', '4:2:2' or '4:2:0' chroma subsampling.
        optimize: build Huffman tables from the image's own statistics instead of Annex K's.
        block_scales: optional integer map (ceil(H/8), ceil(W/8)), >= 1: block b is quantized with
            steps s_b * Q (coarser where s_b > 1) and the file still decodes with its one table.
    """
    return analyze(image, quality, subsampling, optimize, block_scales).data


def decode(data: bytes, upsampling: str = "fancy", idct: str = "islow") -> np.ndarray:
    """Decode a baseline sequential Huffman JPEG (ours, Pillow's, a camera's) to uint8 (H, W, 3) or (H, W).

    upsampling: 'fancy' (libjpeg's default triangle filter) or 'nearest' for subsampled chroma.
    idct: 'islow' (libjpeg's integer IDCT, bit-exact with Pillow) or 'float' (the exact transform).
    Raises JPEGError for malformed, truncated or unsupported files (progressive, arithmetic, 12-bit).
    """
    if upsampling not in ("fancy", "nearest"):
        raise ValueError(f"upsampling must be 'fancy' or 'nearest', got {upsampling!r}")
    frame = read_jpeg(data)
    return _reconstruct(frame, upsampling, idct)


def analyze_file(data: bytes) -> Analysis:
    """Decode any baseline file and account for its bits per block (e.g. to look inside Pillow's files)."""
    frame = read_jpeg(data)
    scan_bits = sum(int(g.sum()) for g in frame.accounting.get("block_bits", {}).values())
    split = {"headers_and_tables": None, "scan": scan_bits / 8, "total": len(data)}
    split["headers_and_tables"] = len(data) - split["scan"]
    return Analysis(bytes(data), frame, _reconstruct(frame), block_bits_map(frame), split)
