"""A toy hybrid video codec (luma only): I-frame + P-frames, block motion compensation, chapter 1's
8x8 DCT and quantization, run-level symbols written with exp-Golomb codes, and a loop filter that is
off, applied for display only (post-loop) or applied to the reference frames (in-loop).

``encode(frames, ...) -> bytes`` writes a self-describing file (helpers.container: magic, version,
every parameter, CRC-32); ``decode(data) -> frames`` is a separate function that reads only those
bytes (a shipped learned filter is named in the header and loaded by name, as a standard fixes its
filter). ``analyze`` returns the file with what the encoder saw (its reconstruction, bits per frame,
motion vectors), for plots.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import torch

from .. import container, filters, jpeg, metrics, registry

__all__ = [
    "FILTER_MODES",
    "BitWriter",
    "BitReader",
    "motion_search",
    "motion_compensate",
    "write_blocks",
    "read_blocks",
    "EncodedVideo",
    "VideoStreamError",
    "analyze",
    "encode",
    "decode",
    "luma_psnr",
    "shipped_filter",
]

#: where the loop filter sits: not at all, on the displayed frames only, or on the references too
FILTER_MODES = ("none", "post", "in-loop")
_MAGIC, _VERSION = b"NCWV", 1
#: width, height, frames, quality, mode, filter kind, search range, filter fingerprint, filter name,
#: CRC-32 of the displayed frames
_HEADER = ">HHHBBBBI16sI"
_KINDS = {None: 0, "deblock": 1, "shipped": 2, "custom": 3}
MACROBLOCK = 16


class VideoStreamError(container.StreamError):
    """A stream that is not a workbench video file, or is damaged."""


class BitWriter:
    """Bits into bytes, most significant bit first; ``unsigned`` and ``signed`` are H.264's exp-Golomb
    codes ue(v) and se(v)."""

    def __init__(self):
        self.bits: list[int] = []

    def write(self, value: int, length: int) -> None:
        self.bits.extend((value >> (length - 1 - i)) & 1 for i in range(length))

    def unsigned(self, value: int) -> None:
        """ue(v): value + 1 in binary, preceded by as many zeros as it has bits after the first."""
        length = (value + 1).bit_length()
        self.write(0, length - 1)
        self.write(value + 1, length)

    def signed(self, value: int) -> None:
        """se(v): 0, 1, -1, 2, -2, ... mapped to 0, 1, 2, 3, 4, ..."""
        self.unsigned(2 * value - 1 if value > 0 else -2 * value)

    def to_bytes(self) -> bytes:
        padded = self.bits + [0] * (-len(self.bits) % 8)
        return np.packbits(np.array(padded, dtype=np.uint8)).tobytes()


class BitReader:
    """The inverse of BitWriter. ``error``: the stream error of the codec reading (its damaged
    payloads raise that codec's own error: ``VideoStreamError`` here, ``HybridStreamError`` in
    chapter 10's codec)."""

    def __init__(self, data: bytes, error: type[container.StreamError] | None = None):
        self.bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
        self.position = 0
        self.error = VideoStreamError if error is None else error

    def read(self, length: int) -> int:
        if self.position + length > self.bits.size:
            raise self.error("bitstream ended early: the file is truncated or not a video file")
        value = 0
        for bit in self.bits[self.position : self.position + length]:
            value = (value << 1) | int(bit)
        self.position += length
        return value

    def unsigned(self, limit: int = 32) -> int:
        zeros = 0
        while self.read(1) == 0:
            zeros += 1
            if zeros > limit:
                raise self.error("corrupt exp-Golomb code in the bitstream")
        return (1 << zeros) - 1 + self.read(zeros)

    def signed(self) -> int:
        code = self.unsigned()
        return (code + 1) // 2 if code % 2 else -(code // 2)


def motion_search(
    current: np.ndarray,
    reference: np.ndarray,
    search_range: int = 7,
    block: int = MACROBLOCK,
    penalty: float = 4.0,
) -> np.ndarray:
    """Full-search block matching: an integer (dy, dx) per block minimizing SAD + penalty * |v|_1.

    The reference is extended by edge replication, so vectors may point outside the frame.
    Returns (rows, cols, 2) int vectors; ties go to the shortest vector.
    """
    height, width = current.shape
    rows, cols = height // block, width // block
    padded = np.pad(reference.astype(np.int32), search_range, mode="edge")
    target = current.astype(np.int32)
    best = np.full((rows, cols), np.inf)
    vectors = np.zeros((rows, cols, 2), dtype=np.int64)
    offsets = [
        (dy, dx)
        for dy in range(-search_range, search_range + 1)
        for dx in range(-search_range, search_range + 1)
    ]
    offsets.sort(key=lambda v: (abs(v[0]) + abs(v[1]), v))
    for dy, dx in offsets:
        shifted = padded[
            search_range + dy : search_range + dy + height,
            search_range + dx : search_range + dx + width,
        ]
        sad = np.abs(target - shifted).reshape(rows, block, cols, block).sum(axis=(1, 3))
        cost = sad + penalty * (abs(dy) + abs(dx))
        better = cost < best
        best[better] = cost[better]
        vectors[better] = (dy, dx)
    return vectors


def motion_compensate(
    reference: np.ndarray, vectors: np.ndarray, block: int = MACROBLOCK, search_range: int = 7
) -> np.ndarray:
    """The prediction: each block copied from the reference at its vector (edge-extended)."""
    padded = np.pad(reference, search_range, mode="edge")
    prediction = np.empty_like(reference)
    for row, col in np.ndindex(vectors.shape[:2]):
        dy, dx = vectors[row, col]
        top, left = row * block + search_range + dy, col * block + search_range + dx
        prediction[row * block : (row + 1) * block, col * block : (col + 1) * block] = padded[
            top : top + block, left : left + block
        ]
    return prediction


def _code_residual(residual: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Quantized DCT levels (rows, cols, 8, 8) of a residual plane."""
    return jpeg.quantize(jpeg.dct2(jpeg.blockify(residual)), table)


def _reconstruct(prediction: np.ndarray, levels: np.ndarray, table: np.ndarray) -> np.ndarray:
    residual = jpeg.deblockify(jpeg.idct2(jpeg.dequantize(levels, table)), prediction.shape)
    return np.clip(np.round(prediction.astype(np.float64) + residual), 0, 255).astype(np.uint8)


def write_blocks(writer: BitWriter, levels: np.ndarray) -> None:
    """Per 8x8 block: a coded-block flag, then (run, level) pairs in zigzag order and an end code."""
    for vector in jpeg.zigzag(levels).reshape(-1, 64):
        nonzero = np.flatnonzero(vector)
        writer.write(int(nonzero.size > 0), 1)
        previous = -1
        for index in nonzero:
            writer.unsigned(int(index - previous))  # run + 1 (>= 1); 0 is the end code
            writer.signed(int(vector[index]))
            previous = index
        if nonzero.size:
            writer.unsigned(0)


def read_blocks(reader: BitReader, shape: tuple[int, int]) -> np.ndarray:
    vectors = np.zeros((shape[0] * shape[1], 64), dtype=np.int64)
    for vector in vectors:
        if not reader.read(1):
            continue
        position = -1
        while (step := reader.unsigned()) != 0:
            position += step
            if position > 63:
                raise reader.error("corrupt block data: more than 64 coefficients")
            vector[position] = reader.signed()
    return jpeg.unzigzag(vectors.reshape(shape[0], shape[1], 64))


def _loop_filter(kind: str | None, model, frame: np.ndarray, quality: int) -> np.ndarray:
    if kind is None:
        return frame
    if kind == "deblock":
        return filters.deblock(frame, quality)
    if isinstance(model, filters.IntegerFilter):  # integers only: the same reference everywhere
        return model.filter_luma(frame, quality)
    return filters.apply(model, frame, quality)


#: a shipped filter's name with this suffix is its integer form (filters.load_integer)
INTEGER_SUFFIX = "-int"


@cache
def shipped_filter(name: str) -> torch.nn.Module:
    """The shipped loop filter the decoder loads for ``name`` (a shipped filter's name, or
    "conditioned-int" for its integer form), cached: what a file naming it is decoded with."""
    if name.endswith(INTEGER_SUFFIX):
        return filters.load_integer(name[: -len(INTEGER_SUFFIX)])
    return filters.load_pretrained(name)


def _filter_kind(loop_filter) -> tuple[str | None, torch.nn.Module | None, str]:
    """(kind, module, shipped name) of encode's loop_filter argument."""
    if loop_filter is None or loop_filter == "deblock":
        return loop_filter, None, ""
    if isinstance(loop_filter, str):
        names = [key.split("/")[1] for key in registry.shipped("filters")]
        names += [name + INTEGER_SUFFIX for name in names if name == "conditioned"]
        if loop_filter not in names:
            raise ValueError(
                f"loop_filter must be None, 'deblock', a shipped filter {names} or a module, "
                f"got {loop_filter!r}"
            )
        return "shipped", shipped_filter(loop_filter), loop_filter
    if isinstance(loop_filter, torch.nn.Module):
        return "custom", loop_filter, ""
    raise TypeError(
        "loop_filter must be None, 'deblock', a shipped filter's name (registry.shipped('filters')) "
        f"or a filter module, got {loop_filter!r}"
    )


def luma_psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB of uint8 luma planes (or stacks of them)."""
    reference, test = np.asarray(reference), np.asarray(test)
    if reference.shape != test.shape:
        raise ValueError(f"reference {reference.shape} and test {test.shape} differ in shape")
    return metrics.psnr_from_mse(float(np.mean((reference.astype(np.float64) - test) ** 2)))


@dataclass
class EncodedVideo:
    """The bitstream and what the encoder saw: displayed frames, references, bits, vectors."""

    data: bytes
    displayed: np.ndarray
    references: np.ndarray
    bits_per_frame: list[int] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)


def _check_frames(frames) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 3:
        raise ValueError(f"frames must be uint8 (N, H, W) luma, got {frames.dtype} {frames.shape}")
    if frames.shape[1] % MACROBLOCK or frames.shape[2] % MACROBLOCK:
        raise ValueError(f"frame height and width must be multiples of 16, got {frames.shape[1:]}")
    return frames


def analyze(
    frames, quality: int = 30, loop_filter=None, mode: str = "in-loop", search_range: int = 7
) -> EncodedVideo:
    """Code luma frames (N, H, W) uint8: frame 0 intra, the others predicted from the previous one;
    return the file and what the encoder saw (see ``encode`` for the arguments)."""
    frames = _check_frames(frames)
    if isinstance(quality, bool) or not 1 <= int(quality) <= 100 or int(quality) != quality:
        raise ValueError(f"quality must be an int in 1..100, got {quality!r}")
    if mode not in FILTER_MODES:
        raise ValueError(f"mode must be one of {FILTER_MODES}, got {mode!r}")
    if not 1 <= search_range <= 32:
        raise ValueError(f"search_range must be in 1..32, got {search_range!r}")
    kind, model, name = _filter_kind(loop_filter)
    if mode == "none":
        kind, model, name = None, None, ""
    if len(name.encode()) > 16:
        raise ValueError(f"filter names are at most 16 bytes, got {name!r}")
    table = jpeg.quant_table(int(quality))
    count, height, width = frames.shape
    writer = BitWriter()
    displayed, references, bits, all_vectors = [], [], [], []
    reference = None
    for frame in frames:
        start = len(writer.bits)
        if reference is None:
            vectors = np.zeros((height // MACROBLOCK, width // MACROBLOCK, 2), dtype=np.int64)
            prediction = np.full_like(frame, 128)
        else:
            vectors = motion_search(frame, reference, search_range)
            for dy, dx in vectors.reshape(-1, 2):
                writer.signed(int(dy))
                writer.signed(int(dx))
            prediction = motion_compensate(reference, vectors, search_range=search_range)
        levels = _code_residual(frame.astype(np.float64) - prediction, table)
        write_blocks(writer, levels)
        reconstruction = _reconstruct(prediction, levels, table)
        filtered = _loop_filter(kind, model, reconstruction, int(quality))
        reference = filtered if mode == "in-loop" else reconstruction
        displayed.append(filtered)
        references.append(reference)
        bits.append(len(writer.bits) - start)
        all_vectors.append(vectors)
    displayed = np.stack(displayed)
    header = struct.pack(
        _HEADER,
        width,
        height,
        count,
        int(quality),
        FILTER_MODES.index(mode),
        _KINDS[kind],
        search_range,
        container.fingerprint(model) if kind == "custom" else 0,
        name.encode(),
        container.content_crc(displayed),
    )
    data = container.pack(_MAGIC, _VERSION, header, writer.to_bytes())
    return EncodedVideo(data, displayed, np.stack(references), bits, all_vectors)


def encode(
    frames, quality: int = 30, loop_filter=None, mode: str = "in-loop", search_range: int = 7
) -> bytes:
    """Code luma frames (N, H, W) uint8 into a self-describing file.

    Args:
        quality: chapter 1's JPEG quality, 1..100, scaling the luma table for every residual.
        loop_filter: None, 'deblock' (the classical filter), a shipped learned filter's name
            ('conditioned', or 'conditioned-int': its integer form, whose references are the same
            on every machine), or any filter module (then ``decode`` needs the same module).
        mode: 'none', 'post' (filter the displayed frames only) or 'in-loop' (filter the
            reconstruction before it becomes the next frame's reference, and display that).
    """
    return analyze(frames, quality, loop_filter, mode, search_range).data


def decode(data: bytes, loop_filter: torch.nn.Module | None = None) -> dict[str, np.ndarray]:
    """Decode ``encode``'s bytes to the displayed frames as planes {'y': (N, H, W) uint8}: the same
    structure as chapter 10's decoders (``hybrid.decode``, ``pframe.decompress``), luma only.

    Everything comes from the bytes; ``loop_filter`` is needed only for a file coded with a custom
    filter module (its fingerprint is checked). Raises VideoStreamError for a foreign or damaged file.
    """
    header, payload = container.unpack(data, _MAGIC, _VERSION, VideoStreamError)
    fields = container.read_fields(header, _HEADER, VideoStreamError)
    width, height, count, quality, mode_index, kind_index, search_range, print_, raw_name, crc = (
        fields
    )
    kinds = {v: k for k, v in _KINDS.items()}
    if (
        not width
        or not height
        or width % MACROBLOCK
        or height % MACROBLOCK
        or not count
        or not 1 <= quality <= 100
        or mode_index >= len(FILTER_MODES)
        or kind_index not in kinds
        or not 1 <= search_range <= 32
    ):
        raise VideoStreamError(f"inconsistent video header {fields[:7]}")
    kind, mode = kinds[kind_index], FILTER_MODES[mode_index]
    if (kind != "shipped" and raw_name.strip(b"\0")) or (kind != "custom" and print_):
        raise VideoStreamError(
            "inconsistent video header: filter fields set for another filter kind"
        )
    model = None
    if kind == "shipped":
        try:
            model = shipped_filter(raw_name.rstrip(b"\0").decode())
        except (UnicodeDecodeError, FileNotFoundError) as error:
            raise VideoStreamError(
                f"the file names a filter that is not shipped ({error})"
            ) from error
    elif kind == "custom":
        if not isinstance(loop_filter, torch.nn.Module):
            raise VideoStreamError(
                "this file used a custom learned loop filter: pass it as loop_filter"
            )
        container.check_fingerprint(loop_filter, print_, VideoStreamError)
        model = loop_filter
    table = jpeg.quant_table(quality)
    reader = BitReader(payload)
    rows, cols = height // MACROBLOCK, width // MACROBLOCK
    displayed, reference = [], None
    for _ in range(count):
        if reference is None:
            prediction = np.full((height, width), 128, dtype=np.uint8)
        else:
            vectors = np.array([reader.signed() for _ in range(rows * cols * 2)], dtype=np.int64)
            if np.abs(vectors).max(initial=0) > search_range:
                raise VideoStreamError("a motion vector exceeds the file's search range")
            prediction = motion_compensate(
                reference, vectors.reshape(rows, cols, 2), search_range=search_range
            )
        levels = read_blocks(reader, (height // 8, width // 8))
        reconstruction = _reconstruct(prediction, levels, table)
        filtered = _loop_filter(kind, model, reconstruction, quality)
        reference = filtered if mode == "in-loop" else reconstruction
        displayed.append(filtered)
    displayed = np.stack(displayed)
    container.check_content(crc, VideoStreamError, displayed)
    return {"y": displayed}
