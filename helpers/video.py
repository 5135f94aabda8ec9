"""A toy hybrid video codec (luma only): I-frame + P-frames, block motion compensation, chapter 1's
8x8 DCT and quantization, run-level symbols written with exp-Golomb codes, and a loop filter that is
off, applied for display only (post-loop) or applied to the reference frames (in-loop).

The decoder is a separate function that reads only the bitstream (and is handed the same filter,
as a standard fixes its filter); `encode` returns the encoder's own reconstruction for comparison.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers import filters, jpeg

__all__ = [
    "FILTER_MODES",
    "BitWriter",
    "BitReader",
    "motion_search",
    "motion_compensate",
    "EncodedVideo",
    "encode",
    "decode",
    "luma_psnr",
]

#: where the loop filter sits: not at all, on the displayed frames only, or on the references too
FILTER_MODES = ("none", "post", "in-loop")
_MAGIC = b"NCV1"
_HEADER = ">4sHHHBBBB"  # magic, width, height, frames, quality, mode, filter kind, search range
_KINDS = {None: 0, "deblock": 1, "learned": 2}
MACROBLOCK = 16


class BitWriter:
    """Bits into bytes, most significant bit first; ``exp_golomb`` is H.264's ue(v) and se(v)."""

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
    """The inverse of BitWriter."""

    def __init__(self, data: bytes):
        self.bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
        self.position = 0

    def read(self, length: int) -> int:
        if self.position + length > self.bits.size:
            raise ValueError("bitstream ended early: the file is truncated or not a video file")
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
                raise ValueError("corrupt exp-Golomb code in the bitstream")
        return (1 << zeros) - 1 + self.read(zeros)

    def signed(self) -> int:
        code = self.unsigned()
        return (code + 1) // 2 if code % 2 else -(code // 2)


def motion_search(current: np.ndarray, reference: np.ndarray, search_range: int = 7,
                  block: int = MACROBLOCK, penalty: float = 4.0) -> np.ndarray:  # fmt: skip
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
    offsets = [(dy, dx) for dy in range(-search_range, search_range + 1)
               for dx in range(-search_range, search_range + 1)]  # fmt: skip
    offsets.sort(key=lambda v: (abs(v[0]) + abs(v[1]), v))
    for dy, dx in offsets:
        shifted = padded[search_range + dy : search_range + dy + height,
                         search_range + dx : search_range + dx + width]  # fmt: skip
        sad = np.abs(target - shifted).reshape(rows, block, cols, block).sum(axis=(1, 3))
        cost = sad + penalty * (abs(dy) + abs(dx))
        better = cost < best
        best[better] = cost[better]
        vectors[better] = (dy, dx)
    return vectors


def motion_compensate(reference: np.ndarray, vectors: np.ndarray, block: int = MACROBLOCK,
                      search_range: int = 7) -> np.ndarray:  # fmt: skip
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


def _write_blocks(writer: BitWriter, levels: np.ndarray) -> None:
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


def _read_blocks(reader: BitReader, shape: tuple[int, int]) -> np.ndarray:
    vectors = np.zeros((shape[0] * shape[1], 64), dtype=np.int64)
    for vector in vectors:
        if not reader.read(1):
            continue
        position = -1
        while (step := reader.unsigned()) != 0:
            position += step
            if position > 63:
                raise ValueError("corrupt block data: more than 64 coefficients")
            vector[position] = reader.signed()
    return jpeg.unzigzag(vectors.reshape(shape[0], shape[1], 64))


def _loop_filter(kind: str | None, model, frame: np.ndarray, quality: int) -> np.ndarray:
    if kind is None:
        return frame
    return filters.apply("deblock" if kind == "deblock" else model, frame, quality)


def _filter_kind(loop_filter) -> tuple[str | None, torch.nn.Module | None]:
    if loop_filter is None or loop_filter == "deblock":
        return loop_filter, None
    if isinstance(loop_filter, torch.nn.Module):
        return "learned", loop_filter
    raise TypeError(f"loop_filter must be None, 'deblock' or a filter module, got {loop_filter!r}")


def luma_psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB of uint8 luma planes (or stacks of them)."""
    mse = np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


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


def encode(frames, quality: int = 30, loop_filter=None, mode: str = "in-loop",
           search_range: int = 7) -> EncodedVideo:  # fmt: skip
    """Code luma frames (N, H, W) uint8: frame 0 intra, the others predicted from the previous one.

    Args:
        quality: chapter 1's JPEG quality, 1..100, scaling the luma table for every residual.
        loop_filter: None, 'deblock' (the classical filter) or a learned filter module.
        mode: 'none', 'post' (filter the displayed frames only) or 'in-loop' (filter the
            reconstruction before it becomes the next frame's reference, and display that).
    """
    frames = _check_frames(frames)
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality!r}")
    if mode not in FILTER_MODES:
        raise ValueError(f"mode must be one of {FILTER_MODES}, got {mode!r}")
    if not 1 <= search_range <= 32:
        raise ValueError(f"search_range must be in 1..32, got {search_range!r}")
    kind, model = _filter_kind(loop_filter)
    if mode == "none":
        kind, model = None, None
    table = jpeg.quant_table(int(quality))
    count, height, width = frames.shape
    header = struct.pack(_HEADER, _MAGIC, width, height, count, int(quality),
                         FILTER_MODES.index(mode), _KINDS[kind], search_range)  # fmt: skip
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
        _write_blocks(writer, levels)
        reconstruction = _reconstruct(prediction, levels, table)
        filtered = _loop_filter(kind, model, reconstruction, int(quality))
        reference = filtered if mode == "in-loop" else reconstruction
        displayed.append(filtered)
        references.append(reference)
        bits.append(len(writer.bits) - start)
        all_vectors.append(vectors)
    return EncodedVideo(header + writer.to_bytes(), np.stack(displayed), np.stack(references),
                        bits, all_vectors)  # fmt: skip


def decode(data: bytes, loop_filter=None) -> np.ndarray:
    """Decode a bitstream from ``encode`` to the displayed luma frames (N, H, W) uint8.

    Reads everything from the bytes; ``loop_filter`` must be the filter the encoder used when the
    header says a learned one was used (a standard would fix it; here it is passed in).
    """
    if not isinstance(data, (bytes, bytearray)) or len(data) < struct.calcsize(_HEADER):
        raise ValueError("data is too short to be a workbench video bitstream")
    magic, width, height, count, quality, mode_index, kind_index, search_range = struct.unpack(
        _HEADER, data[: struct.calcsize(_HEADER)]
    )
    if magic != _MAGIC:
        raise ValueError(f"not a workbench video bitstream (magic {magic!r}, expected {_MAGIC!r})")
    kind = {v: k for k, v in _KINDS.items()}[kind_index]
    model = None
    if kind == "learned":
        if not isinstance(loop_filter, torch.nn.Module):
            raise ValueError("this bitstream used a learned loop filter: pass it as loop_filter")
        model = loop_filter
    mode = FILTER_MODES[mode_index]
    table = jpeg.quant_table(quality)
    reader = BitReader(data[struct.calcsize(_HEADER) :])
    rows, cols = height // MACROBLOCK, width // MACROBLOCK
    displayed, reference = [], None
    for _ in range(count):
        if reference is None:
            prediction = np.full((height, width), 128, dtype=np.uint8)
        else:
            vectors = np.array([reader.signed() for _ in range(rows * cols * 2)], dtype=np.int64)
            vectors = vectors.reshape(rows, cols, 2)
            prediction = motion_compensate(reference, vectors, search_range=search_range)
        levels = _read_blocks(reader, (height // 8, width // 8))
        reconstruction = _reconstruct(prediction, levels, table)
        filtered = _loop_filter(kind, model, reconstruction, quality)
        reference = filtered if mode == "in-loop" else reconstruction
        displayed.append(filtered)
    return np.stack(displayed)
