"""The signal path of the from-scratch JPEG: colour conversion and chroma (down/up)sampling as libjpeg
does them, blocks, the orthonormal 8x8 DCT (float, on torch) and libjpeg's integer DCTs, quantization
(with block-adaptive scales) and zigzag. ``helpers.jpeg`` exports every name here.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import images
from .bitstream import ZIGZAG

__all__ = [
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "downsample",
    "upsample",
    "blockify",
    "deblockify",
    "dct_matrix",
    "dct2",
    "idct2",
    "basis_images",
    "fdct_islow",
    "idct_islow",
    "quantize",
    "dequantize",
    "zigzag",
    "unzigzag",
]


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
    plane = plane[: images.ceil_div(shape[0], v), : images.ceil_div(shape[1], h)]
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


def _two_sided(blocks, inverse: bool, name: str):
    """C X C^T (forward) or C^T Y C (inverse) over the last two axes, for numpy or torch input."""
    tensor, was_numpy = _as_torch(blocks)
    if tensor.ndim < 2 or tensor.shape[-1] != tensor.shape[-2]:
        raise ValueError(f"{name} expects (..., n, n) blocks, got {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        tensor = tensor.double()
    c = dct_matrix(tensor.shape[-1], dtype=tensor.dtype, device=tensor.device)
    result = c.T @ tensor @ c if inverse else c @ tensor @ c.T
    return result.numpy() if was_numpy else result


def dct2(blocks):
    """2-D DCT-II of (..., 8, 8) blocks as C X C^T, batched (numpy in -> numpy out; torch stays on its device)."""
    return _two_sided(blocks, inverse=False, name="dct2")


def idct2(coefficients):
    """Inverse of ``dct2``: C^T Y C (the matrix is orthonormal, so its inverse is its transpose)."""
    return _two_sided(coefficients, inverse=True, name="idct2")


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


def idct_islow(coefficients: np.ndarray, level_shift: bool = True) -> np.ndarray:
    """libjpeg's integer IDCT (the default of libjpeg-turbo and so of Pillow) on dequantized
    (..., 8, 8) integer blocks; returns level-shifted uint8-range samples (int64, clipped 0..255).

    The standard only requires an IDCT accurate to IEEE 1180; this one reproduces Pillow's
    decoder exactly, the float ``idct2`` differs from it by at most one level per sample.
    ``level_shift=False`` returns the signed samples without the +128 and the clipping (a video
    codec's residual, chapter 10).
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
    if not level_shift:
        return np.stack(rows, axis=-1)
    return np.clip(np.stack(rows, axis=-1) + 128, 0, 255)


def quantize(
    coefficients: np.ndarray,
    table: np.ndarray,
    block_scales: np.ndarray | None = None,
    block_deadzones: np.ndarray | None = None,
) -> np.ndarray:
    """round(c / Q), half away from zero as libjpeg does, for (..., 8, 8) blocks.

    block_scales (the blocks' leading shape, integers >= 1) quantizes block b with s_b * Q and stores
    s_b * round(c / (s_b Q)): a multiple of s_b, so the file decodes with its one table Q.
    block_deadzones (same shape, or with a trailing (8, 8) for one per coefficient; floats >= 0.5)
    zeroes the AC coefficients of block b with |c| / (s_b Q) < d_b and keeps the others at full
    precision (0.5 is plain rounding; the DC is kept).
    """
    coefficients = np.asarray(coefficients, dtype=np.float64)
    table = np.asarray(table, dtype=np.float64)
    if table.shape != coefficients.shape[-2:]:
        raise ValueError(
            f"table shape {table.shape} does not match blocks {coefficients.shape[-2:]}"
        )
    steps = np.ones(coefficients.shape[:-2] + (1, 1))
    scales = None
    if block_scales is not None:
        scales = np.asarray(block_scales)
        if scales.shape != coefficients.shape[:-2]:
            raise ValueError(
                f"block_scales must have shape {coefficients.shape[:-2]}, got {scales.shape}"
            )
        if not np.issubdtype(scales.dtype, np.integer) or scales.min() < 1:
            raise ValueError("block_scales must be integers >= 1")
        steps = scales[..., None, None].astype(np.float64)
    ratio = coefficients / (table * steps)
    levels = (np.sign(ratio) * np.floor(np.abs(ratio) + 0.5)).astype(np.int64)
    if scales is not None:
        levels = levels * scales[..., None, None]
    if block_deadzones is not None:
        zones = np.asarray(block_deadzones, dtype=np.float64)
        if zones.shape == coefficients.shape[:-2]:
            zones = zones[..., None, None]
        elif zones.shape != coefficients.shape:
            raise ValueError(
                f"block_deadzones must have shape {coefficients.shape[:-2]} (one per block) or "
                f"{coefficients.shape} (one per coefficient), got {zones.shape}"
            )
        if not np.isfinite(zones).all() or zones.min() < 0.5:
            raise ValueError("block_deadzones must be finite numbers >= 0.5")
        zero = np.abs(ratio) < zones
        zero[..., 0, 0] = False
        levels[zero] = 0
    return levels


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
