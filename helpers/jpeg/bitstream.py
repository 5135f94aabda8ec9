"""The bitstream half of the from-scratch baseline JPEG (ITU-T T.81): run-lengths and Huffman
coding of quantized blocks, markers and byte stuffing (the reader is helpers.jpeg.reader).

``helpers.jpeg`` holds the signal path (colour, DCT, quantization) and the public encode/decode;
this module turns quantized coefficients into bytes and back, and counts where the bits go.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from .. import entropy, images
from ..container import StreamError

__all__ = [
    "JPEGError",
    "STD_DC_LUMA",
    "STD_DC_CHROMA",
    "STD_AC_LUMA",
    "STD_AC_CHROMA",
    "ZIGZAG",
    "Component",
    "Frame",
    "magnitude_category",
    "block_symbols",
    "write_jpeg",
]


class JPEGError(StreamError):
    """A JPEG that is malformed, truncated, or uses a feature this decoder does not support (a
    ``container.StreamError``, as every coder's error is, and so a ValueError)."""


# Annex K.3 standard Huffman tables as (BITS: codes per length 1..16, HUFFVAL).
STD_DC_LUMA = ([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], list(range(12)))
STD_DC_CHROMA = ([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], list(range(12)))
STD_AC_LUMA = (
    [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D],
    list(
        bytes.fromhex(
            "01020300041105122131410613516107227114328191a1082342b1c11552d1f0"
            "2433627282090a161718191a25262728292a3435363738393a434445464748494a"
            "535455565758595a636465666768696a737475767778797a838485868788898a"
            "92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7"
            "c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa"
        )
    ),
)
STD_AC_CHROMA = (
    [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    list(
        bytes.fromhex(
            "000102031104052131061241510761711322328108144291a1b1c109233352f0"
            "156272d10a162434e125f11718191a262728292a35363738393a434445464748"
            "494a535455565758595a636465666768696a737475767778797a828384858687"
            "88898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3"
            "c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa"
        )
    ),
)

#: ZIGZAG[k] is the natural (row-major) index of the k-th coefficient in zigzag order.
ZIGZAG = np.array(
    sorted(
        range(64),
        key=lambda i: (i // 8 + i % 8, (i % 8) if (i // 8 + i % 8) % 2 == 0 else (i // 8)),
    ),
    dtype=np.int64,
)


@dataclass
class Component:
    """One colour component: sampling factors, quantization table id and coefficient blocks.

    ``coefficients`` is int32 (block_rows, block_cols, 64) in zigzag order, quantized (not yet
    multiplied by the table), over the whole MCU-padded grid.
    """

    identifier: int
    h: int
    v: int
    table_id: int
    coefficients: np.ndarray | None = None


@dataclass
class Frame:
    """A baseline JPEG frame: size, components, quantization tables (natural order 8x8) and scans."""

    height: int
    width: int
    components: list[Component]
    quant_tables: dict[int, np.ndarray]
    restart_interval: int = 0
    adobe_transform: int | None = None
    accounting: dict = field(default_factory=dict)

    @property
    def h_max(self) -> int:
        return max(c.h for c in self.components)

    @property
    def v_max(self) -> int:
        return max(c.v for c in self.components)

    @property
    def mcus(self) -> tuple[int, int]:
        """(MCU rows, MCU columns) of an interleaved scan."""
        return (
            images.ceil_div(self.height, 8 * self.v_max),
            images.ceil_div(self.width, 8 * self.h_max),
        )

    def component_blocks(self, component: Component) -> tuple[int, int]:
        """(rows, cols) of blocks a non-interleaved scan of this component codes."""
        height = images.ceil_div(self.height * component.v, self.v_max)
        width = images.ceil_div(self.width * component.h, self.h_max)
        return (images.ceil_div(height, 8), images.ceil_div(width, 8))


def magnitude_category(values: np.ndarray) -> np.ndarray:
    """JPEG's size category SSSS: the number of bits of |value| (0 for 0)."""
    magnitude = np.abs(np.asarray(values, dtype=np.int64))
    categories = np.zeros(magnitude.shape, dtype=np.int64)
    nonzero = magnitude > 0
    categories[nonzero] = np.floor(np.log2(magnitude[nonzero])).astype(np.int64) + 1
    return categories


def _extra_bits(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The magnitude bits: the value itself if positive, else value + 2^size - 1 (ones' complement)."""
    values = np.asarray(values, dtype=np.int64)
    return np.where(values >= 0, values, values + (np.left_shift(1, sizes) - 1))


def _coding_order(frame: Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All blocks of one interleaved scan in MCU order.

    Returns (component index, flat zigzag coefficients (N, 64), flat index of the block in its
    component's coefficient grid) for every coded block.
    """
    mcu_rows, mcu_cols = frame.mcus
    if len(frame.components) == 1:
        component = frame.components[0]
        rows, cols = frame.component_blocks(component)
        grid_cols = component.coefficients.shape[1]
        flat = (np.arange(rows)[:, None] * grid_cols + np.arange(cols)[None]).ravel()
        blocks = component.coefficients[:rows, :cols].reshape(-1, 64)
        return np.zeros(len(blocks), dtype=np.int64), blocks, flat
    per_component, per_index = [], []
    for component in frame.components:
        rows, cols = mcu_rows * component.v, mcu_cols * component.h
        grid = component.coefficients[:rows, :cols]
        index = np.arange(rows * cols).reshape(rows, cols)
        shape = (mcu_rows, component.v, mcu_cols, component.h)
        grid = grid.reshape(*shape, 64).transpose(0, 2, 1, 3, 4)
        index = index.reshape(shape).transpose(0, 2, 1, 3)
        per_component.append(grid.reshape(mcu_rows, mcu_cols, component.v * component.h, 64))
        per_index.append(index.reshape(mcu_rows, mcu_cols, component.v * component.h))
    blocks = np.concatenate(per_component, axis=2).reshape(-1, 64)
    flat = np.concatenate(per_index, axis=2).reshape(-1)
    owners = np.concatenate([np.full(c.v * c.h, i) for i, c in enumerate(frame.components)])
    return np.tile(owners, mcu_rows * mcu_cols), blocks, flat


def block_symbols(
    owners: np.ndarray, blocks: np.ndarray, num_components: int, interval_blocks: int = 0
) -> dict[str, np.ndarray]:
    """Run-length symbols of blocks in coding order (DC DPCM per component, AC runs with ZRL and EOB).

    interval_blocks > 0 resets the DC predictions every that many blocks (restart intervals).

    Returns arrays, one entry per coded symbol, sorted in bitstream order: block (index in coding
    order), kind (0 DC, 1 AC), component, symbol (the Huffman symbol: DC size, or RUN<<4|SIZE),
    extra (magnitude bits) and extra_length.
    """
    blocks = np.asarray(blocks, dtype=np.int64)
    count = len(blocks)
    dc = blocks[:, 0]
    diff = np.empty(count, dtype=np.int64)
    interval = np.arange(count) // interval_blocks if interval_blocks else np.zeros(count, np.int64)
    for index in range(num_components):
        mine = np.flatnonzero(owners == index)
        values = dc[mine]
        previous = np.concatenate([[0], values[:-1]])
        restarted = np.concatenate([[True], interval[mine][1:] != interval[mine][:-1]])
        diff[mine] = values - np.where(restarted, 0, previous)
    dc_size = magnitude_category(diff)
    if dc_size.max(initial=0) > 11:
        raise JPEGError(
            "a DC difference needs more than 11 bits: not representable in 8-bit baseline JPEG"
        )

    ac = blocks[:, 1:]
    block_index, position = np.nonzero(ac)
    position = position + 1
    values = ac[block_index, position - 1]
    first_in_block = np.ones(len(block_index), dtype=bool)
    first_in_block[1:] = block_index[1:] != block_index[:-1]
    previous = np.where(first_in_block, 0, np.roll(position, 1))
    run = position - previous - 1
    zrl_count = run // 16
    ac_size = magnitude_category(values)
    if ac_size.max(initial=0) > 10:
        raise JPEGError(
            "an AC coefficient needs more than 10 bits: not representable in 8-bit baseline JPEG"
        )
    ac_symbol = ((run % 16) << 4) | ac_size

    last = np.zeros(count, dtype=np.int64)
    np.maximum.at(last, block_index, position)
    eob_blocks = np.flatnonzero(last < 63)

    zrl_blocks = np.repeat(block_index, zrl_count)
    zrl_positions = np.repeat(position, zrl_count)

    parts = {
        "block": [np.arange(count), block_index, zrl_blocks, eob_blocks],
        "slot": [
            np.zeros(count, np.int64),
            2 * position,
            2 * zrl_positions - 1,
            np.full(len(eob_blocks), 200),
        ],
        "kind": [
            np.zeros(count, np.int64),
            np.ones(len(block_index), np.int64),
            np.ones(len(zrl_blocks), np.int64),
            np.ones(len(eob_blocks), np.int64),
        ],
        "symbol": [
            dc_size,
            ac_symbol,
            np.full(len(zrl_blocks), 0xF0),
            np.zeros(len(eob_blocks), np.int64),
        ],
        "extra": [
            _extra_bits(diff, dc_size),
            _extra_bits(values, ac_size),
            np.zeros(len(zrl_blocks), np.int64),
            np.zeros(len(eob_blocks), np.int64),
        ],
        "extra_length": [
            dc_size,
            ac_size,
            np.zeros(len(zrl_blocks), np.int64),
            np.zeros(len(eob_blocks), np.int64),
        ],
    }
    merged = {name: np.concatenate(arrays).astype(np.int64) for name, arrays in parts.items()}
    order = np.lexsort((merged["slot"], merged["block"]))
    result = {name: values[order] for name, values in merged.items() if name != "slot"}
    result["component"] = owners[result["block"]]
    return result


def _pack_bits(codes: np.ndarray, lengths: np.ndarray) -> bytes:
    """Concatenate variable-length codes MSB first, pad with 1-bits, and byte-stuff 0xFF -> 0xFF 0x00."""
    total = int(lengths.sum())
    if total == 0:
        return b""
    starts = np.cumsum(lengths) - lengths
    owner = np.repeat(np.arange(len(lengths)), lengths)
    offset = np.arange(total) - starts[owner]
    bits = (codes[owner] >> (lengths[owner] - 1 - offset)) & 1
    padding = (-total) % 8
    if padding:
        bits = np.concatenate([bits, np.ones(padding, dtype=bits.dtype)])
    return np.packbits(bits.astype(np.uint8)).tobytes().replace(b"\xff", b"\xff\x00")


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise JPEGError("segment too long")
    return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload


def write_jpeg(
    frame: Frame,
    tables: dict[str, tuple[list[int], list[int]]] | None = None,
    optimize: bool = False,
    restart_interval: int = 0,
) -> tuple[bytes, dict]:
    """Write a baseline JFIF file for a frame of quantized coefficients; return (bytes, accounting).

    restart_interval > 0 writes a DRI segment and an RSTn marker every that many MCUs (the decoder
    can resynchronise there after damage; DC predictions restart from 0).
    tables: {'dc0', 'ac0', 'dc1', 'ac1'} -> (BITS, HUFFVAL); default Annex K's. With optimize,
    tables are built from this image's own symbol counts (Annex K.2). Component 0 uses tables 0,
    the others tables 1. The accounting holds per-block bits in coding order and the byte split.
    """
    if not isinstance(restart_interval, int) or not 0 <= restart_interval <= 0xFFFF:
        raise ValueError(f"restart_interval must be an int in 0..65535, got {restart_interval!r}")
    owners, blocks, flat = _coding_order(frame)
    per_mcu = 1 if len(frame.components) == 1 else sum(c.h * c.v for c in frame.components)
    interval_blocks = restart_interval * per_mcu
    symbols = block_symbols(owners, blocks, len(frame.components), interval_blocks)
    table_index = np.minimum(symbols["component"], 1) * 2 + symbols["kind"]  # dc0 ac0 dc1 ac1
    names = ["dc0", "ac0", "dc1", "ac1"]
    used = sorted(set(table_index.tolist()))
    if optimize:
        counts = np.bincount(table_index * 256 + symbols["symbol"], minlength=4 * 256).reshape(
            4, 256
        )
        tables = {names[i]: entropy.jpeg_huffman_table(counts[i]) for i in used}
    elif tables is None:
        tables = {
            "dc0": STD_DC_LUMA,
            "ac0": STD_AC_LUMA,
            "dc1": STD_DC_CHROMA,
            "ac1": STD_AC_CHROMA,
        }
    code_of = np.zeros((4, 256), dtype=np.int64)
    length_of = np.zeros((4, 256), dtype=np.int64)
    for i in used:
        for symbol, (code, length) in entropy.canonical_code(*tables[names[i]]).items():
            code_of[i, symbol], length_of[i, symbol] = code, length
    code_lengths = length_of[table_index, symbols["symbol"]]
    if (code_lengths == 0).any():
        raise JPEGError(
            "a symbol has no code in the Huffman table (use optimize=True for custom data)"
        )
    lengths = code_lengths + symbols["extra_length"]
    codes = (code_of[table_index, symbols["symbol"]] << symbols["extra_length"]) | symbols["extra"]
    if interval_blocks:
        pieces = []
        interval_of_symbol = symbols["block"] // interval_blocks
        boundaries = np.searchsorted(interval_of_symbol, np.arange(interval_of_symbol.max() + 2))
        for number in range(len(boundaries) - 1):
            part = slice(boundaries[number], boundaries[number + 1])
            if number:
                pieces.append(bytes([0xFF, 0xD0 + (number - 1) % 8]))
            pieces.append(_pack_bits(codes[part], lengths[part]))
        scan = b"".join(pieces)
    else:
        scan = _pack_bits(codes, lengths)

    header = b"\xff\xd8" + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    tables_bytes = b""
    for table_id in sorted({c.table_id for c in frame.components}):
        zigzagged = frame.quant_tables[table_id].reshape(64)[ZIGZAG]
        if zigzagged.max() > 255 or zigzagged.min() < 1:
            raise JPEGError("baseline quantization tables must hold values 1..255")
        tables_bytes += _segment(
            0xDB, bytes([table_id]) + bytes(zigzagged.astype(np.uint8).tolist())
        )
    sof = struct.pack(">BHHB", 8, frame.height, frame.width, len(frame.components))
    for c in frame.components:
        sof += bytes([c.identifier, (c.h << 4) | c.v, c.table_id])
    header_sof = _segment(0xC0, sof)
    huffman_bytes = b""
    for i in used:
        bits, huffval = tables[names[i]]
        huffman_bytes += _segment(
            0xC4, bytes([(i % 2) << 4 | (i // 2)]) + bytes(bits) + bytes(huffval)
        )
    sos = bytes([len(frame.components)])
    for index, c in enumerate(frame.components):
        sos += bytes([c.identifier, (min(index, 1) << 4) | min(index, 1)])
    sos += b"\x00\x3f\x00"
    header_sos = _segment(0xDA, sos)
    if restart_interval:
        header_sos = _segment(0xDD, struct.pack(">H", restart_interval)) + header_sos
    # libjpeg's order: SOI APP0 DQT SOF DHT SOS (so our files can be compared byte for byte)
    data = header + tables_bytes + header_sof + huffman_bytes + header_sos + scan + b"\xff\xd9"
    tables_bytes += huffman_bytes

    kind = symbols["kind"]
    per_block = np.bincount(symbols["block"], weights=lengths, minlength=len(blocks))
    dc_bits = np.bincount(
        symbols["block"][kind == 0], weights=lengths[kind == 0], minlength=len(blocks)
    )
    grids = {}
    for index, component in enumerate(frame.components):
        grid = np.zeros(component.coefficients.shape[:2], dtype=np.int64)
        mine = owners == index
        grid.reshape(-1)[flat[mine]] = per_block[mine].astype(np.int64)
        grids[index] = grid
    coded_bits = int(lengths.sum())
    accounting = {
        "block_bits": grids,
        "bytes": {
            "headers": len(header) + len(header_sof) + len(header_sos) + 2,
            "tables": len(tables_bytes),
            "dc": float(dc_bits.sum()) / 8,
            "ac": float(per_block.sum() - dc_bits.sum()) / 8,
            "padding_and_stuffing": len(scan) - coded_bits / 8,
            "total": len(data),
        },
        "tables": tables,
    }
    return data, accounting
