"""The reading half of the from-scratch baseline JPEG: marker parsing, Huffman decoding with a 16-bit
look-up table, restart intervals, non-interleaved scans, and per-block bit accounting.

``read_jpeg(data) -> Frame`` of quantized coefficients; ``helpers.jpeg.decode`` turns it into pixels.
Everything malformed, truncated or unsupported raises JPEGError, and no input can make it loop forever.
"""

from __future__ import annotations

import re
import struct

import numpy as np

from .. import entropy, images
from .bitstream import ZIGZAG, Component, Frame, JPEGError

__all__ = ["read_jpeg", "frame_kind"]

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


def frame_kind(data: bytes) -> tuple[int, int]:
    """(SOF marker, component count) of a JPEG file, found by the same marker walk as ``read_jpeg``
    (without decoding anything): 0xC0 for baseline, 0xC2 for progressive, ... JPEGError for anything
    that is not a JPEG with a frame header before its first scan."""
    if not isinstance(data, (bytes, bytearray)) or data[:2] != b"\xff\xd8":
        raise JPEGError("not a JPEG file (no SOI marker)")
    data = bytes(data)
    position = 2
    while True:
        marker, start, end = _next_segment(data, position)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if end - start < 6:
                raise JPEGError("truncated JPEG: the frame header is shorter than 6 bytes")
            return marker, data[start + 5]
        if marker in (0xDA, 0xD9):
            raise JPEGError("corrupt JPEG: no frame header before the first scan")
        position = end


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
    expected = images.ceil_div(total_mcus, mcus_per_interval)
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
    dc_bits = 0
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
                dc_bits += position - begin
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
    frame.accounting["dc_bits"] = frame.accounting.get("dc_bits", 0) + dc_bits
    frame.accounting["scan_bytes"] = frame.accounting.get("scan_bytes", 0) + len(segment)
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
    tables_bytes = 0
    position = 2
    for _ in range(len(data)):  # every iteration consumes at least two bytes: never loops forever
        marker, start, end = _next_segment(data, position)
        payload = data[start:end]
        position = end
        if marker == 0xD9:
            break
        if marker in (0xDB, 0xC4):
            _read_tables(marker, payload, quant, huffman)
            tables_bytes += end - start + 4  # marker and length field included
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
    frame.accounting["tables_bytes"] = tables_bytes
    return frame
