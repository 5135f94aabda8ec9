"""A from-scratch baseline JPEG (ITU-T T.81 / JFIF), written to be read: colour, subsampling,
the 8x8 DCT, quantization and zigzag (``jpeg.transforms``), run-lengths, Huffman coding and markers
(``jpeg.bitstream``), the decoder (``jpeg.reader``), and here the tables, libjpeg's quality scaling and the codec.

Public entry points: ``encode(image, quality, subsampling, optimize, block_scales) -> bytes`` and
``decode(data) -> uint8 image``; ``analyze`` returns everything in between (coefficients, tables,
reconstruction and where the bits go). The arithmetic follows libjpeg where it matters for
matching Pillow's files (fixed-point colour conversion, downsampling biases, rounding of
quantization, integer DCTs, "fancy" upsampling); ``dct="float"`` and ``idct="float"`` use the exact
orthonormal transform instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import images
from .bitstream import ZIGZAG, Component, Frame, JPEGError, write_jpeg
from .reader import frame_kind, read_jpeg
from .transforms import (
    basis_images,
    blockify,
    dct2,
    dct_matrix,
    deblockify,
    dequantize,
    downsample,
    fdct_islow,
    idct2,
    idct_islow,
    quantize,
    rgb_to_ycbcr,
    unzigzag,
    upsample,
    ycbcr_to_rgb,
    zigzag,
)

__all__ = [
    "frame_kind",
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
    "read_jpeg",
    "block_bits_map",
    "SPLIT_KEYS",
    "encode",
    "decode",
    "round_trip",
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


def quality_scaling(quality, fractional: bool = False):
    """libjpeg's quality -> percentage scale of the Annex K tables: 5000/q below 50, else 200 - 2q.

    With ``fractional=False`` (libjpeg, Pillow) quality is an int in 1..100 and the result the int
    libjpeg computes (5000 // q). With ``fractional=True`` quality may be a float or an array in
    [1, 100] and the scale is continuous, so a size search can move between integer qualities.
    """
    if fractional:
        q = np.asarray(quality, dtype=np.float64)
        if not np.isfinite(q).all() or (q < 1).any() or (q > 100).any():
            raise ValueError(f"quality must be in [1, 100], got {quality!r}")
        scale = np.where(q < 50, 5000 / q, 200 - 2 * q)
        return float(scale) if scale.ndim == 0 else scale
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)):
        raise TypeError(
            f"quality must be an int in 1..100 (or use fractional=True), got {quality!r}"
        )
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    return 5000 // quality if quality < 50 else 200 - 2 * quality


def quant_table(
    quality, chroma: bool = False, base: np.ndarray | None = None, fractional: bool = False
) -> np.ndarray:
    """The quantization table libjpeg (and so Pillow) writes at this quality (8x8, natural order).

    (base * scale + 50) // 100, clamped to 1..255 as for baseline JPEG; ``fractional`` as in
    quality_scaling (quality 50.0 gives exactly the quality-50 table).
    """
    scale = quality_scaling(quality, fractional)
    table = (QUANT_CHROMA if chroma else QUANT_LUMA) if base is None else np.asarray(base, np.int64)
    if table.shape != (8, 8):
        raise ValueError(f"base table must be 8x8, got {table.shape}")
    return np.clip((table * scale + 50) // 100, 1, 255).astype(np.int64)


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
    #: bytes in "headers", "tables", "dc", "ac", "padding_and_stuffing" and the "total" (SPLIT_KEYS)
    split: dict

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


def _block_grid(
    values,
    image_blocks: tuple[int, int],
    grid: tuple[int, int],
    h: int,
    v: int,
    h_max: int,
    v_max: int,
    name: str = "block_scales",
) -> np.ndarray | None:
    """Map a per-8x8-block map of the image onto a component's block grid (min over covered blocks)."""
    if values is None:
        return None
    values = np.asarray(values)
    trailing = values.shape[2:]
    if (
        values.shape[:2] != image_blocks
        or trailing not in ((), (8, 8))
        or (name == "block_scales" and trailing)
    ):
        raise ValueError(
            f"{name} must have shape {image_blocks} (one per 8x8 block)"
            + (" or that shape + (8, 8)" if name != "block_scales" else "")
            + f", got {values.shape}"
        )
    if name == "block_scales":
        if not np.issubdtype(values.dtype, np.integer) or values.min() < 1 or values.max() > 255:
            raise ValueError("block_scales must hold integers in 1..255")
    elif not np.isfinite(values.astype(np.float64)).all() or values.min() < 0.5:
        raise ValueError(f"{name} must hold finite numbers >= 0.5")
    fy, fx = v_max // v, h_max // h
    rows, cols = grid
    extra = [(0, 0)] * len(trailing)
    padded = np.pad(
        values,
        [(0, rows * fy - values.shape[0]), (0, cols * fx - values.shape[1]), *extra],
        mode="edge",
    )
    reduced = padded.reshape(rows, fy, cols, fx, *trailing).min(axis=(1, 3))
    return reduced.astype(np.int64) if name == "block_scales" else reduced.astype(np.float64)


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
    block_deadzones=None,
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
    mcu_rows, mcu_cols = images.ceil_div(height, 8 * v_max), images.ceil_div(width, 8 * h_max)
    image_blocks = (images.ceil_div(height, 8), images.ceil_div(width, 8))
    for index, (plane, (h, v)) in enumerate(zip(planes, factors, strict=True)):
        # libjpeg's edge handling: replicate the last column out to the component's width in blocks
        # and the last row to a whole row group, downsample, then replicate downsampled rows down
        # to the MCU grid; blocks wholly outside the image are "dummy" blocks (below).
        fx, fy = h_max // h, v_max // v
        real = (
            images.ceil_div(images.ceil_div(height * v, v_max), 8),
            images.ceil_div(images.ceil_div(width * h, h_max), 8),
        )
        padded = np.pad(plane, ((0, (-height) % v_max), (0, real[1] * 8 * fx - width)), mode="edge")
        sampled = downsample(padded, fx, fy)
        grid = (mcu_rows * v * 8, mcu_cols * h * 8)
        sampled = np.pad(
            sampled, ((0, grid[0] - sampled.shape[0]), (0, grid[1] - sampled.shape[1])), mode="edge"
        )
        blocks = blockify(sampled.astype(np.float64) - 128.0)
        table = luma_table if index == 0 else chroma_table
        where = (image_blocks, blocks.shape[:2], h, v, h_max, v_max)
        scales = _block_grid(block_scales, *where)
        zones = _block_grid(block_deadzones, *where, name="block_deadzones")
        coefficients = fdct_islow(blocks) if dct == "islow" else dct2(blocks)
        levels = quantize(coefficients, table, scales, zones)
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


#: the keys of Analysis.split, whether the analysis comes from ``analyze`` or ``analyze_file``
SPLIT_KEYS = ("headers", "tables", "dc", "ac", "padding_and_stuffing", "total")


def block_bits_map(frame: Frame, block_bits: dict[int, np.ndarray]) -> np.ndarray:
    """Bits per 8x8 block of the image grid (ceil(H/8), ceil(W/8)) from each component's per-block
    bits (``write_jpeg``'s or the reader's accounting); subsampled chroma blocks are spread evenly
    over the luma-grid blocks they cover."""
    grids = block_bits
    rows, cols = images.ceil_div(frame.height, 8), images.ceil_div(frame.width, 8)
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
    block_deadzones: np.ndarray | None = None,
) -> Analysis:
    """Encode like ``encode`` and return the file with its coefficients, decoded image and bit accounting.

    tables: optional custom (luma, chroma) 8x8 quantization tables instead of the quality-scaled ones.
    dct: 'islow' (libjpeg's integer DCT: the same levels as Pillow) or 'float' (the exact DCT).
    restart_interval: write an RSTn marker every that many MCUs (0: none).
    keep: zero every coefficient after the first ``keep`` in zigzag order (a crude low-pass, 1..64).
    block_deadzones: optional float map like block_scales (or with a trailing (8, 8): one per
        coefficient), >= 0.5: in block b an AC coefficient becomes 0 when |c| / (s_b Q) < d_b; the
        others keep full precision (0.5: plain rounding).
    """
    array = _validate_image(image)
    if isinstance(keep, bool) or not isinstance(keep, (int, np.integer)) or not 1 <= keep <= 64:
        raise ValueError(f"keep must be an int in 1..64, got {keep!r}")
    frame = _build_frame(array, quality, subsampling, block_scales, tables, dct, block_deadzones)
    for component in frame.components:
        component.coefficients[..., keep:] = 0
    data, accounting = write_jpeg(frame, optimize=optimize, restart_interval=restart_interval)
    bits = block_bits_map(frame, accounting["block_bits"])
    return Analysis(data, frame, _reconstruct(frame), bits, accounting["bytes"])


def encode(
    image,
    quality: int = 75,
    subsampling: str = "4:2:0",
    optimize: bool = False,
    block_scales: np.ndarray | None = None,
    block_deadzones: np.ndarray | None = None,
) -> bytes:
    """Encode a uint8 RGB (H, W, 3) or grayscale (H, W) image as a baseline JFIF file; return its bytes.

    Args:
        quality: 1..100 with libjpeg's scaling of the Annex K tables (the same tables as Pillow).
        subsampling: '4:4:4', '4:2:2' or '4:2:0' chroma subsampling.
        optimize: build Huffman tables from the image's own statistics instead of Annex K's.
        block_scales: optional integer map (ceil(H/8), ceil(W/8)), >= 1: block b is quantized with
            steps s_b * Q (coarser where s_b > 1) and the file still decodes with its one table.
        block_deadzones: optional float map of the same shape, >= 0.5: block b zeroes the AC
            coefficients below d_b steps and keeps the rest at full precision (cheaper than s_b).
    """
    return analyze(
        image, quality, subsampling, optimize, block_scales, block_deadzones=block_deadzones
    ).data


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
    """Decode any baseline file and account for its bits (e.g. to look inside Pillow's files); the
    split has the same keys as ``analyze``'s (headers here are every byte outside tables and scans)."""
    frame = read_jpeg(data)
    accounting = frame.accounting
    coded_bits = sum(int(g.sum()) for g in accounting["block_bits"].values())
    split = {
        "tables": accounting["tables_bytes"],
        "dc": accounting["dc_bits"] / 8,
        "ac": (coded_bits - accounting["dc_bits"]) / 8,
        "padding_and_stuffing": accounting["scan_bytes"] - coded_bits / 8,
        "total": len(data),
    }
    split["headers"] = len(data) - split["tables"] - accounting["scan_bytes"]
    bits = block_bits_map(frame, accounting["block_bits"])
    return Analysis(
        bytes(data), frame, _reconstruct(frame), bits, {k: split[k] for k in SPLIT_KEYS}
    )


def round_trip(image, quality: int = 75, subsampling: str = "4:2:0") -> tuple[np.ndarray, int]:
    """Encode and decode with this codec: (decoded uint8 image, file size in bytes)."""
    data = encode(image, quality, subsampling)
    return decode(data), len(data)
