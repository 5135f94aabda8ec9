"""The bitstream half of the from-scratch baseline JPEG (ITU-T T.81): run-lengths and Huffman
coding of quantized blocks, markers, byte stuffing, and the parser/decoder of baseline files.

``helpers.jpeg`` holds the signal path (colour, DCT, quantization) and the public encode/decode;
this module turns quantized coefficients into bytes and back, and counts where the bits go.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

import numpy as np

from . import entropy

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
    "read_jpeg",
]


class JPEGError(ValueError):
    """A JPEG that is malformed, truncated, or uses a feature this decoder does not support."""


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
        return (-(-self.height // (8 * self.v_max)), -(-self.width // (8 * self.h_max)))

    def component_blocks(self, component: Component) -> tuple[int, int]:
        """(rows, cols) of blocks a non-interleaved scan of this component codes."""
        height = -(-self.height * component.v // self.v_max)
        width = -(-self.width * component.h // self.h_max)
        return (-(-height // 8), -(-width // 8))


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
    frame.accounting = accounting
    return data, accounting


# ----------------------------------------------------------------------------- reading

_MARKER_END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_RESTART = re.compile(rb"\xff[\xd0-\xd7]")
_UNSUPPORTED_SOF = {
    0xC2: "progressive",
    0xC3: "lossless",
    0xC5: "hierarchical",
    0xC6: "hierarchical",
    0xC7: "hierarchical",
    0xC9: "arithmetic-coded",
    0xCA: "arithmetic-coded progressive",
    0xCB: "arithmetic-coded lossless",
    0xCD: "arithmetic-coded hierarchical",
    0xCE: "arithmetic-coded hierarchical",
    0xCF: "arithmetic-coded hierarchical",
}


class _HuffmanLookup:
    """A 16-bit look-up table: the next 16 bits of the stream -> (symbol, code length)."""

    def __init__(self, bits: list[int], huffval: list[int]):
        try:
            table = entropy.canonical_code(bits, huffval)
        except ValueError as error:
            raise JPEGError(f"invalid Huffman table: {error}") from error
        symbols = np.zeros(1 << 16, dtype=np.int64)
        lengths = np.zeros(1 << 16, dtype=np.int64)
        for symbol, (code, length) in table.items():
            start = code << (16 - length)
            stop = (code + 1) << (16 - length)
            symbols[start:stop] = symbol
            lengths[start:stop] = length
        self.symbols = symbols.tolist()
        self.lengths = lengths.tolist()


def _next_segment(data: bytes, position: int) -> tuple[int, int, int]:
    """The marker at ``position`` and its payload's (start, end); EOI and RSTn have no payload."""
    while position + 1 < len(data) and data[position] == 0xFF and data[position + 1] == 0xFF:
        position += 1  # fill bytes before a marker
    if position + 2 > len(data):
        raise JPEGError("truncated JPEG: the file ends before the EOI marker")
    if data[position] != 0xFF:
        raise JPEGError(f"corrupt JPEG: expected a marker at byte {position}")
    marker = data[position + 1]
    if marker == 0xD9 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
        return marker, position + 2, position + 2
    if position + 4 > len(data):
        raise JPEGError("truncated JPEG: the file ends inside a marker segment")
    length = struct.unpack(">H", data[position + 2 : position + 4])[0]
    if length < 2 or position + 2 + length > len(data):
        raise JPEGError(
            f"truncated or corrupt JPEG: segment FF{marker:02X} at byte {position} "
            f"claims {length} bytes"
        )
    return marker, position + 4, position + 2 + length


def _read_tables(marker: int, payload: bytes, quant: dict, huffman: dict) -> None:
    """Read a DQT or DHT segment into the table dictionaries."""
    offset = 0
    if marker == 0xDB:
        while offset < len(payload):
            precision, table_id = payload[offset] >> 4, payload[offset] & 15
            size = 128 if precision else 64
            if precision > 1 or table_id > 3 or offset + 1 + size > len(payload):
                raise JPEGError("corrupt DQT segment")
            raw = payload[offset + 1 : offset + 1 + size]
            values = np.frombuffer(raw, dtype=">u2" if precision else np.uint8).astype(np.int64)
            if (values == 0).any():
                raise JPEGError("corrupt DQT segment: a quantization step is zero")
            table = np.zeros(64, dtype=np.int64)
            table[ZIGZAG] = values
            quant[table_id] = table.reshape(8, 8)
            offset += 1 + size
    else:
        while offset < len(payload):
            if offset + 17 > len(payload):
                raise JPEGError("corrupt DHT segment")
            table_class, table_id = payload[offset] >> 4, payload[offset] & 15
            bits = list(payload[offset + 1 : offset + 17])
            count = sum(bits)
            if table_class > 1 or table_id > 3 or count > 256 or offset + 17 + count > len(payload):
                raise JPEGError("corrupt DHT segment")
            huffval = list(payload[offset + 17 : offset + 17 + count])
            huffman[(table_class, table_id)] = _HuffmanLookup(bits, huffval)
            offset += 17 + count


def _read_frame_header(payload: bytes, quant: dict, bytes_left: int) -> Frame:
    if len(payload) < 6:
        raise JPEGError("corrupt SOF segment")
    precision, height, width, count = struct.unpack(">BHHB", payload[:6])
    if precision != 8:
        raise JPEGError(f"unsupported: {precision}-bit samples (only 8-bit JPEGs are decoded)")
    if height == 0 or width == 0:
        raise JPEGError("unsupported: zero image size (DNL marker) or corrupt SOF")
    if count not in (1, 3):
        raise JPEGError(f"unsupported: {count} components (only grayscale and 3-component colour)")
    if len(payload) < 6 + 3 * count:
        raise JPEGError("corrupt SOF segment")
    components = []
    for i in range(count):
        identifier, sampling, table_id = payload[6 + 3 * i : 9 + 3 * i]
        h, v = sampling >> 4, sampling & 15
        if h not in (1, 2, 4) or v not in (1, 2, 4) or table_id > 3:
            raise JPEGError(f"unsupported or corrupt sampling factors {h}x{v}")
        components.append(
            Component(identifier, h if count > 1 else 1, v if count > 1 else 1, table_id)
        )
    if len({c.identifier for c in components}) != count:
        raise JPEGError("corrupt SOF segment: repeated component identifiers")
    frame = Frame(height, width, components, quant)
    if any(frame.h_max % c.h or frame.v_max % c.v for c in components):
        raise JPEGError("unsupported: non-integer sampling ratios")
    mcu_rows, mcu_cols = frame.mcus
    total_blocks = sum(
        frame.component_blocks(c)[0] * frame.component_blocks(c)[1] for c in components
    )
    # Every block costs at least 2 bits (a DC code and an EOB): a size the remaining bytes cannot
    # hold is corrupt, and rejecting it here avoids huge allocations on damaged headers.
    if total_blocks * 2 > 8 * bytes_left + 64:
        raise JPEGError(
            f"truncated or corrupt JPEG: {width}x{height} pixels cannot fit in the "
            f"{bytes_left} bytes that follow the frame header"
        )
    for c in components:
        c.coefficients = np.zeros((mcu_rows * c.v, mcu_cols * c.h, 64), dtype=np.int64)
    return frame


def _scan_layout(frame: Frame, members: list[int]) -> tuple[list[int], list[int], int]:
    """Coding order of a scan: (component of each block, flat block index, blocks per MCU)."""
    if len(members) == 1:
        component = frame.components[members[0]]
        rows, cols = frame.component_blocks(component)
        full_cols = component.coefficients.shape[1]
        r, q = np.divmod(np.arange(rows * cols), cols)
        return [members[0]] * (rows * cols), (r * full_cols + q).tolist(), 1
    mcu_rows, mcu_cols = frame.mcus
    owners, indices = [], []
    unit_owner, unit_dy, unit_dx = [], [], []
    for index in members:
        c = frame.components[index]
        for dy in range(c.v):
            for dx in range(c.h):
                unit_owner.append(index)
                unit_dy.append(dy)
                unit_dx.append(dx)
    unit_owner, unit_dy, unit_dx = map(np.array, (unit_owner, unit_dy, unit_dx))
    m_row, m_col = np.divmod(np.arange(mcu_rows * mcu_cols), mcu_cols)
    h = np.array([frame.components[i].h for i in unit_owner])
    v = np.array([frame.components[i].v for i in unit_owner])
    cols = np.array([frame.components[i].coefficients.shape[1] for i in unit_owner])
    rows_index = m_row[:, None] * v[None] + unit_dy[None]
    cols_index = m_col[:, None] * h[None] + unit_dx[None]
    owners = np.broadcast_to(unit_owner[None], rows_index.shape).ravel().tolist()
    indices = (rows_index * cols[None] + cols_index).ravel().tolist()
    return owners, indices, len(unit_owner)


def _decode_scan(
    data: bytes, payload: bytes, scan_start: int, frame: Frame, huffman: dict, restart_interval: int
) -> int:
    """Huffman-decode one scan into the frame's coefficient arrays; return the position after it."""
    if len(payload) < 1 or len(payload) != 1 + 2 * payload[0] + 3:
        raise JPEGError("corrupt SOS segment")
    count = payload[0]
    ids = {c.identifier: i for i, c in enumerate(frame.components)}
    members, dc_tables, ac_tables = [], [], []
    for i in range(count):
        identifier, tables = payload[1 + 2 * i], payload[2 + 2 * i]
        if identifier not in ids:
            raise JPEGError("corrupt SOS segment: unknown component")
        members.append(ids[identifier])
        key_dc, key_ac = (0, tables >> 4), (1, tables & 15)
        if key_dc not in huffman or key_ac not in huffman:
            raise JPEGError("corrupt JPEG: a scan uses a Huffman table that was not defined")
        dc_tables.append(huffman[key_dc])
        ac_tables.append(huffman[key_ac])
    spectral_start, spectral_end, approximation = payload[-3], payload[-2], payload[-1]
    if (spectral_start, spectral_end, approximation) != (0, 63, 0):
        raise JPEGError("unsupported: progressive scan parameters in a sequential JPEG")
    match = _MARKER_END_OF_SCAN.search(data, scan_start)
    if match is None:
        raise JPEGError("truncated JPEG: the scan data has no end marker")
    segment = data[scan_start : match.start()]
    owners, indices, per_mcu = _scan_layout(frame, members)
    total_mcus = len(owners) // per_mcu
    mcus_per_interval = restart_interval if restart_interval else total_mcus
    intervals = _RESTART.split(segment) if restart_interval else [segment]
    expected = -(-total_mcus // mcus_per_interval)
    if len(intervals) < expected:
        raise JPEGError(f"truncated JPEG: {len(intervals)} of {expected} restart intervals present")
    local = {index: position for position, index in enumerate(members)}
    outputs = [frame.components[i].coefficients.reshape(-1).tolist() for i in members]
    block_bits = [
        np.zeros(frame.components[i].coefficients.shape[:2], np.int64).ravel().tolist()
        for i in members
    ]
    dc_luts = [(t.symbols, t.lengths) for t in dc_tables]
    ac_luts = [(t.symbols, t.lengths) for t in ac_tables]
    slot_owner = [local[o] for o in owners]
    for interval_index in range(expected):
        raw = intervals[interval_index].replace(b"\xff\x00", b"\xff")
        buffer = np.frombuffer(raw + b"\x00\x00\x00\x00", dtype=np.uint8).astype(np.int64)
        words = ((buffer[:-2] << 16) | (buffer[1:-1] << 8) | buffer[2:]).tolist()
        available = 8 * len(raw)
        first = interval_index * mcus_per_interval * per_mcu
        last = min(first + mcus_per_interval * per_mcu, len(owners))
        predictions = [0] * len(members)
        position = 0
        try:
            for slot in range(first, last):
                c = slot_owner[slot]
                out = outputs[c]
                block = indices[slot]
                base = block * 64
                begin = position
                dc_symbols, dc_lengths = dc_luts[c]
                peek = (words[position >> 3] >> (8 - (position & 7))) & 0xFFFF
                length = dc_lengths[peek]
                if not length:
                    raise JPEGError("corrupt JPEG: invalid Huffman code")
                size = dc_symbols[peek]
                position += length
                if size:
                    if size > 11:
                        raise JPEGError("corrupt JPEG: DC difference category above 11")
                    peek = (words[position >> 3] >> (8 - (position & 7))) & 0xFFFF
                    value = peek >> (16 - size)
                    position += size
                    if value < (1 << (size - 1)):
                        value -= (1 << size) - 1
                    predictions[c] += value
                out[base] = predictions[c]
                ac_symbols, ac_lengths = ac_luts[c]
                k = 1
                while k < 64:
                    peek = (words[position >> 3] >> (8 - (position & 7))) & 0xFFFF
                    length = ac_lengths[peek]
                    if not length:
                        raise JPEGError("corrupt JPEG: invalid Huffman code")
                    rs = ac_symbols[peek]
                    position += length
                    size = rs & 15
                    if size == 0:
                        if rs == 0xF0:
                            k += 16
                            continue
                        break
                    k += rs >> 4
                    if k > 63:
                        raise JPEGError("corrupt JPEG: run-length past the end of a block")
                    peek = (words[position >> 3] >> (8 - (position & 7))) & 0xFFFF
                    value = peek >> (16 - size)
                    position += size
                    if value < (1 << (size - 1)):
                        value -= (1 << size) - 1
                    out[base + k] = value
                    k += 1
                if position > available:
                    raise JPEGError("truncated JPEG: the scan data ends before the last block")
                block_bits[c][block] = position - begin
        except IndexError as error:
            raise JPEGError("truncated JPEG: the scan data ends before the last block") from error
    for position_in_scan, index in enumerate(members):
        component = frame.components[index]
        shape = component.coefficients.shape
        component.coefficients = np.array(outputs[position_in_scan], dtype=np.int64).reshape(shape)
        bits = np.array(block_bits[position_in_scan], dtype=np.int64).reshape(shape[:2])
        frame.accounting.setdefault("block_bits", {})[index] = bits
    return match.start()


def read_jpeg(data: bytes) -> Frame:
    """Parse a baseline (or extended sequential, 8-bit) Huffman JPEG into a Frame of quantized coefficients.

    Raises JPEGError for anything malformed, truncated or unsupported.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"JPEG data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        raise JPEGError("not a JPEG file: it does not start with the SOI marker FF D8")
    quant: dict[int, np.ndarray] = {}
    huffman: dict[tuple[int, int], _HuffmanLookup] = {}
    frame: Frame | None = None
    restart_interval = 0
    adobe = None
    scans = 0
    position = 2
    for _ in range(len(data)):  # every iteration consumes at least two bytes: never loops forever
        marker, start, end = _next_segment(data, position)
        payload = data[start:end]
        position = end
        if marker == 0xD9:
            break
        if marker in (0xDB, 0xC4):
            _read_tables(marker, payload, quant, huffman)
        elif marker in (0xC0, 0xC1):
            if frame is not None:
                raise JPEGError("corrupt JPEG: more than one frame header")
            frame = _read_frame_header(payload, quant, len(data) - end)
        elif marker in _UNSUPPORTED_SOF:
            raise JPEGError(
                f"unsupported: {_UNSUPPORTED_SOF[marker]} JPEG (SOF FF{marker:02X}); "
                f"only baseline sequential Huffman JPEGs are decoded"
            )
        elif marker == 0xDD:
            if len(payload) != 2:
                raise JPEGError("corrupt DRI segment")
            restart_interval = struct.unpack(">H", payload)[0]
        elif marker == 0xEE and payload[:5] == b"Adobe" and len(payload) >= 12:
            adobe = payload[11]
        elif marker == 0xDA:
            if frame is None:
                raise JPEGError("corrupt JPEG: scan before the frame header")
            missing = {c.table_id for c in frame.components} - set(quant)
            if missing:
                raise JPEGError(
                    f"corrupt JPEG: quantization table(s) {sorted(missing)} are missing"
                )
            position = _decode_scan(data, payload, end, frame, huffman, restart_interval)
            scans += 1
    if frame is None or scans == 0:
        raise JPEGError("truncated JPEG: no image data (missing frame header or scan)")
    frame.quant_tables = {k: v for k, v in quant.items()}
    frame.restart_interval = restart_interval
    frame.adobe_transform = adobe
    return frame
