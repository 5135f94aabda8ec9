"""Chapter 10's hybrid video codec: small enough to read in an afternoon, complete enough to improve.

* 4:2:0 frames (luma and two half-size chroma planes), 16x16 macroblocks, frame 0 intra, every later
  frame predicted from the one before (low delay, as x264 with ``-bf 0`` would; the reference codecs
  are run both ways).
* Intra: per 8x8 luma block one of six classic modes (DC, vertical, horizontal, planar, two diagonals,
  ``intra.LUMA_MODES``), per macroblock one chroma mode, each chosen by rate-distortion cost
  ``J = D + lambda * R`` on the block actually coded (D: sum of squared errors; R: its exact bits).
* Inter: full-search integer motion per macroblock, refined to half-pel (bilinear interpolation with
  integer rounding, as H.263), the vector coded as its difference from the median of the neighbours'
  vectors; a skip mode (the median vector, no residual); each macroblock picks skip, inter or intra
  by J.
* Residuals: chapter 1's 8x8 DCT in libjpeg's integer form and its quality-scaled tables (luma table
  for Y, chroma table for U and V), a dead-zone quantizer (rounding offset 1/3 intra, 1/6 inter,
  as H.264's reference encoder), run-level symbols in exp-Golomb codes (the toy codec's).
* Loop filter: chapter 5's deblocking filter on all three planes (or none, or chapter 5's learned
  filter in its integer form on luma).

Deep tools (``Tools``), each switched on alone: a learned intra mode, chroma from luma (the linear model
of VVC's CCLM, and a learned one), frames coded at half resolution and restored by a learned upsampler
(chosen per frame by J), a learned fast mode decision (the encoder skips the intra search where a small
classifier says intra will not win), and a learned loop filter. Every decoder-side tool runs as an
integer network (``learned.IntegerTool``): decoding is bit-exact on every machine.

``encode(frames, quality, tools) -> bytes`` writes the course's container (magic NCWH, header with every
parameter, CRC-32); ``decode(data) -> frames`` reads only the bytes. ``analyze`` also returns what the
encoder saw: bits and PSNR per frame, modes, vectors and the time of the mode search.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field, fields
from functools import cache

import numpy as np

from .. import container, filters, jpeg, metrics, registry
from . import fastmode, intra, learned, toy
from .toy import BitReader, BitWriter

__all__ = [
    "Tools",
    "TOOL_NAMES",
    "MB_TYPES",
    "HybridStreamError",
    "EncodedSequence",
    "check_frames",
    "encode",
    "analyze",
    "decode",
    "psnr",
    "lagrangian",
    "median_vector",
]

MB = 16
MB_TYPES = ("skip", "inter", "intra")
LOOP_FILTERS = ("none", "deblock", "learned", "chapter5")
_MAGIC, _VERSION = b"NCWH", 1
#: width, height, frames, quality, search range, tool flags, loop filter, CRC-32 of the frames
_HEADER = ">HHHBBBBI"


class HybridStreamError(container.StreamError):
    """A stream that is not a hybrid-codec file, or is damaged."""


@dataclass(frozen=True)
class Tools:
    """Which deep tools the codec uses (all off: the classic codec)."""

    learned_intra: bool = False  #: an extra learned luma intra mode (decoder: integer network)
    linear_chroma: bool = False  #: chroma from luma, VVC's linear model (CCLM)
    learned_chroma: bool = False  #: chroma from luma, a learned predictor
    half_resolution: bool = False  #: code a frame at half size when J says so, learned upsampler
    fast_mode: bool = False  #: encoder only: skip the intra search where a classifier says so
    #: 'none', 'deblock' (chapter 5's classic), 'learned' (chapter 5's CNN fine-tuned on this codec's
    #: output) or 'chapter5' (chapter 5's CNN as trained on still JPEG), the CNNs in integer form
    loop_filter: str = "deblock"

    def __post_init__(self):
        if self.loop_filter not in LOOP_FILTERS:
            raise ValueError(f"loop_filter must be one of {LOOP_FILTERS}, got {self.loop_filter!r}")
        for item in fields(self)[:5]:
            if not isinstance(getattr(self, item.name), bool):
                raise TypeError(f"Tools.{item.name} must be True or False")

    def flags(self) -> int:
        return sum(
            int(getattr(self, item.name)) << bit for bit, item in enumerate(fields(self)[:5])
        )

    @classmethod
    def from_flags(cls, flags: int, loop_filter: str) -> Tools:
        names = [item.name for item in fields(cls)[:5]]
        return cls(
            **{name: bool(flags >> bit & 1) for bit, name in enumerate(names)},
            loop_filter=loop_filter,
        )

    @property
    def luma_modes(self) -> int:
        return 7 if self.learned_intra else 6

    @property
    def chroma_modes(self) -> tuple[int, ...]:
        return (
            (0, 1, 2, 3)
            + ((4,) if self.linear_chroma else ())
            + ((5,) if self.learned_chroma else ())
        )


#: the deep tools one by one, as the chapter measures them (each against the classic codec)
TOOL_NAMES = {
    "classic": Tools(),
    "learned intra": Tools(learned_intra=True),
    "linear chroma (CCLM)": Tools(linear_chroma=True),
    "learned chroma": Tools(learned_chroma=True),
    "half resolution": Tools(half_resolution=True),
    "fast mode decision": Tools(fast_mode=True),
    "learned loop filter": Tools(loop_filter="learned"),
    "chapter 5's filter (JPEG-trained)": Tools(loop_filter="chapter5"),
}


# ----------------------------------------------------------------------------- frames and checks


def check_frames(frames) -> dict[str, np.ndarray]:
    """Validate 4:2:0 frames: a dict {'y': (N, H, W), 'u', 'v': (N, H/2, W/2)} of uint8 with an even H
    and W (the codec pads to whole macroblocks and crops back). Returns the planes as uint8 arrays."""
    if not isinstance(frames, dict) or set(frames) != {"y", "u", "v"}:
        raise ValueError(
            "frames must be a dict of I420 planes {'y': (N, H, W), 'u': (N, H/2, W/2), 'v': ...}, "
            "as data.video_sequence returns"
        )
    planes = {}
    for key, value in frames.items():
        try:
            planes[key] = np.asarray(value)
        except ValueError as error:  # a ragged list: numpy cannot stack frames of different sizes
            raise ValueError(
                f"plane {key!r} holds frames of different sizes: every frame of a sequence must have "
                "the same size (resize or crop them first)"
            ) from error
        if planes[key].dtype == object:
            raise ValueError(
                f"plane {key!r} holds frames of different sizes: every frame must have the same size"
            )
    y = planes["y"]
    if y.ndim != 3 or y.dtype != np.uint8:
        raise ValueError(f"the luma must be uint8 (N, H, W), got {y.dtype} {y.shape}")
    count, height, width = y.shape
    if count < 1 or height % 2 or width % 2 or height == 0 or width == 0:
        raise ValueError(
            f"4:2:0 frames need a positive, even height and width (chroma has half of each), got {height}x{width}"
        )
    for key in "uv":
        expected = (count, height // 2, width // 2)
        if planes[key].shape != expected or planes[key].dtype != np.uint8:
            raise ValueError(
                f"plane {key!r} must be uint8 {expected} (4:2:0: half the luma's width and height, "
                f"one per frame), got {planes[key].dtype} {planes[key].shape}"
            )
    if count > 65535 or width > 65535 or height > 65535:
        raise ValueError("at most 65535 frames of at most 65535 x 65535")
    return planes


def psnr(reference, test) -> dict[str, float]:
    """PSNR of 4:2:0 sequences, the protocol of the chapter's comparisons: per plane, the mean over
    frames of each frame's PSNR ('y', 'u', 'v'), and 'yuv' = (6 y + u + v) / 8 (JVET's weighting)."""
    out = {}
    for key in "yuv":
        a = np.asarray(reference[key], dtype=np.float64)
        b = np.asarray(test[key], dtype=np.float64)
        if a.shape != b.shape:
            raise ValueError(f"plane {key}: shapes {a.shape} and {b.shape} differ")
        mse = ((a - b) ** 2).reshape(a.shape[0], -1).mean(axis=1)
        out[key] = float(np.mean([metrics.psnr_from_mse(float(m)) for m in mse]))
    out["yuv"] = (6 * out["y"] + out["u"] + out["v"]) / 8
    return out


def lagrangian(quality: int) -> float:
    """lambda of J = D + lambda R for a quality: proportional to the square of the luma DC step, as
    H.264's 0.85 * 2^((QP - 12) / 3) is to its quantizer step (the constant was tuned on the training
    frames, Foreman 0-49)."""
    step = float(jpeg.quant_table(int(quality))[0, 0])
    return LAMBDA_SCALE * step * step


LAMBDA_SCALE = 0.12


# ----------------------------------------------------------------------------- transform and bits


def _forward(residual: np.ndarray) -> np.ndarray:
    """libjpeg's integer DCT of int residual blocks (..., 8, 8), as integers 8x the coefficients."""
    return np.rint(jpeg.fdct_islow(residual) * 8).astype(np.int64)


def _quantize(coefficients8: np.ndarray, table: np.ndarray, is_intra: bool) -> np.ndarray:
    """Dead-zone quantizer in integers: sign(c) floor(|c| / q + f), f = 1/3 intra, 1/6 inter."""
    q6 = 6 * 8 * table.astype(np.int64)
    offset = 2 * 8 * table.astype(np.int64) if is_intra else 8 * table.astype(np.int64)
    magnitude = (6 * np.abs(coefficients8) + offset) // q6
    return np.sign(coefficients8) * magnitude


def _inverse(levels: np.ndarray, table: np.ndarray) -> np.ndarray:
    """libjpeg's integer IDCT of dequantized levels (..., 8, 8), without its +128 and clipping."""
    return jpeg.idct_islow(levels.astype(np.int64) * table.astype(np.int64), level_shift=False)


def _ue_bits(values: np.ndarray) -> np.ndarray:
    """Lengths of exp-Golomb ue(v) codes."""
    values = np.asarray(values, dtype=np.int64)
    return 2 * np.floor(np.log2(values + 1)).astype(np.int64) + 1


def _se_bits(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    return _ue_bits(np.where(values > 0, 2 * values - 1, -2 * values))


def block_bits(levels: np.ndarray) -> np.ndarray:
    """Exact bits of each 8x8 block of levels (B, 8, 8) in the run-level code (``toy.write_blocks``)."""
    vectors = jpeg.zigzag(levels).reshape(-1, 64)
    rows, cols = np.nonzero(vectors)
    bits = np.ones(vectors.shape[0], dtype=np.int64)  # the coded-block flag
    if rows.size:
        previous = np.full(rows.size, -1)
        same = np.r_[False, rows[1:] == rows[:-1]]
        previous[same] = cols[:-1][same[1:]]
        lengths = _ue_bits(cols - previous) + _se_bits(vectors[rows, cols])
        bits += np.bincount(rows, weights=lengths, minlength=vectors.shape[0]).astype(np.int64)
        bits += np.bincount(rows, minlength=vectors.shape[0]) > 0  # the end code ue(0): one bit
    return bits


def _code_blocks(target: np.ndarray, prediction: np.ndarray, table: np.ndarray, is_intra: bool):
    """Levels, reconstruction and SSE of (B, 8, 8) blocks against their predictions."""
    levels = _quantize(_forward(target - prediction), table, is_intra)
    reconstruction = np.clip(prediction + _inverse(levels, table), 0, 255)
    return levels, reconstruction, ((reconstruction - target) ** 2).sum(axis=(-1, -2))


def _reconstruct(prediction: np.ndarray, levels: np.ndarray, table: np.ndarray) -> np.ndarray:
    return np.clip(prediction + _inverse(levels, table), 0, 255)


# ----------------------------------------------------------------------------- predictions


def _interpolate(plane: np.ndarray, pad: int) -> np.ndarray:
    """The half-pel grid (2 (H + 2 pad), 2 (W + 2 pad)) of an edge-extended plane: bilinear with
    rounding, in integers (H.263)."""
    p = np.pad(plane.astype(np.int64), pad + 1, mode="edge")
    height, width = p.shape[0] - 1, p.shape[1] - 1
    out = np.empty((2 * height, 2 * width), dtype=np.int64)
    a, b, c, d = p[:-1, :-1], p[:-1, 1:], p[1:, :-1], p[1:, 1:]
    out[0::2, 0::2] = a
    out[0::2, 1::2] = (a + b + 1) >> 1
    out[1::2, 0::2] = (a + c + 1) >> 1
    out[1::2, 1::2] = (a + b + c + d + 2) >> 2
    return out[2:-2, 2:-2]  # drop the extra ring: index 2 (y + pad) + my is sample y + my / 2


class _Reference:
    """A reference frame's half-pel grids; ``block`` fetches a prediction at a half-pel vector."""

    def __init__(self, planes: tuple[np.ndarray, ...], search_range: int):
        self.pad = search_range + 4
        self.planes = planes
        self.grids = [
            _interpolate(plane, self.pad if k == 0 else self.pad // 2 + 2)
            for k, plane in enumerate(planes)
        ]
        self.pads = [self.pad, self.pad // 2 + 2, self.pad // 2 + 2]

    def block(self, component: int, y: int, x: int, size: int, vector) -> np.ndarray:
        my, mx = int(vector[0]), int(vector[1])
        if component:  # chroma: half the displacement, kept on the half-pel grid
            my, mx = my >> 1, mx >> 1
        pad = self.pads[component]
        top, left = 2 * (y + pad) + my, 2 * (x + pad) + mx
        return self.grids[component][top : top + 2 * size : 2, left : left + 2 * size : 2]

    def macroblock(self, mby: int, mbx: int, vector) -> list[np.ndarray]:
        return [
            self.block(0, mby * MB, mbx * MB, MB, vector),
            self.block(1, mby * 8, mbx * 8, 8, vector),
            self.block(2, mby * 8, mbx * 8, 8, vector),
        ]


def median_vector(vectors: np.ndarray, inter: np.ndarray, mby: int, mbx: int) -> np.ndarray:
    """H.264's predictor: the median of the left, top and top-right (else top-left) neighbours'
    vectors; a neighbour outside the frame or not inter-coded counts as (0, 0)."""
    cols = vectors.shape[1]

    def at(r, c):
        if 0 <= r and 0 <= c < cols and inter[r, c]:
            return vectors[r, c]
        return np.zeros(2, dtype=np.int64)

    right = mbx + 1 if mbx + 1 < cols else mbx - 1
    return np.median(
        np.stack([at(mby, mbx - 1), at(mby - 1, mbx), at(mby - 1, right)]), axis=0
    ).astype(np.int64)


def _luma_predictions(plane: np.ndarray, y: int, x: int, tools: Tools) -> np.ndarray:
    top, left, corner = intra.neighbours(plane, y, x)
    predictions = intra.classic_predictions(top, left, corner)
    if tools.learned_intra:
        network = learned.load_integer("intra").predict(intra.luma_context(plane, y, x)[None])
        predictions = np.concatenate([predictions, network.reshape(1, 8, 8)])
    return predictions


def _chroma_prediction(
    luma: np.ndarray, chroma: np.ndarray, y: int, x: int, mode: int
) -> np.ndarray:
    if mode < 4:
        top, left, corner = intra.neighbours(chroma, y, x)
        return intra.classic_predictions(top, left, corner)[mode]
    context = intra.chroma_context(luma, chroma, y, x)
    if mode == 4:
        return np.clip(intra.linear_from_luma(context, y > 0, x > 0), 0, 255)

    return learned.load_integer("chroma").predict(context[None]).reshape(8, 8)


def _mode_bits(mode: int, most_probable: int) -> int:
    return 1 if mode == most_probable else 1 + int(_ue_bits(mode - (mode > most_probable)))


def _read_mode(reader: BitReader, most_probable: int, count: int) -> int:
    if reader.read(1):
        return most_probable
    mode = reader.unsigned(8)
    mode += mode >= most_probable
    if mode >= count:
        raise HybridStreamError(f"intra mode {mode} does not exist in this file (it has {count})")
    return mode


def _most_probable(modes: np.ndarray, by: int, bx: int) -> int:
    """The left 8x8 block's luma mode, else the top one's, else DC (-1 marks no intra neighbour)."""
    if bx > 0 and modes[by, bx - 1] >= 0:
        return int(modes[by, bx - 1])
    if by > 0 and modes[by - 1, bx] >= 0:
        return int(modes[by - 1, bx])
    return 0


_LUMA_OFFSETS = ((0, 0), (0, 8), (8, 0), (8, 8))


# ----------------------------------------------------------------------------- the frame coder


@dataclass
class _FrameResult:
    planes: list[np.ndarray]  # reconstruction before the loop filter, int64
    bits: list  # the syntax elements, to write once the frame's coding is chosen
    types: np.ndarray
    vectors: np.ndarray
    luma_modes: np.ndarray
    chroma_modes: np.ndarray
    search_seconds: float = 0.0
    features: list = field(default_factory=list)
    coded: np.ndarray | None = (
        None  # macroblocks with a residual or intra (the loop filter's domain)
    )


class _Syntax:
    """Collects ('u'|'s'|'b', value[, length]) elements; ``bits`` counts them."""

    def __init__(self):
        self.items: list[tuple] = []
        self.bits = 0

    def unsigned(self, value: int) -> None:
        self.items.append(("u", int(value)))
        self.bits += int(_ue_bits(value))

    def signed(self, value: int) -> None:
        self.items.append(("s", int(value)))
        self.bits += int(_se_bits(value))

    def write(self, value: int, length: int) -> None:
        self.items.append(("b", int(value), length))
        self.bits += length

    def blocks(self, levels: np.ndarray) -> None:
        self.items.append(("blocks", levels))
        self.bits += int(block_bits(levels).sum())

    def emit(self, writer: BitWriter) -> None:
        for item in self.items:
            if item[0] == "u":
                writer.unsigned(item[1])
            elif item[0] == "s":
                writer.signed(item[1])
            elif item[0] == "b":
                writer.write(item[1], item[2])
            else:
                toy.write_blocks(writer, item[1])


def _intra_macroblock(target, work, mby, mbx, tables, lam, tools, luma_modes, syntax):
    """Code one macroblock intra into ``work`` (the frame being reconstructed, modified in place):
    per 8x8 luma block the mode of least J, then the chroma mode of least J. Returns (J, SSE)."""
    total_sse, total_bits = 0, 0
    for oy, ox in _LUMA_OFFSETS:
        y, x = mby * MB + oy, mbx * MB + ox
        by, bx = y // 8, x // 8
        predictions = _luma_predictions(work[0], y, x, tools)
        block = target[0][y : y + 8, x : x + 8].astype(np.int64)
        levels, recon, sse = _code_blocks(block[None], predictions, tables[0], True)
        most_probable = _most_probable(luma_modes, by, bx)
        bits = block_bits(levels) + [_mode_bits(m, most_probable) for m in range(len(predictions))]
        best = int(np.argmin(sse + lam * bits))
        work[0][y : y + 8, x : x + 8] = recon[best]
        luma_modes[by, bx] = best
        total_sse += int(sse[best])
        total_bits += int(bits[best])
        syntax.append(("mode", best, most_probable, levels[best]))
    y, x = mby * 8, mbx * 8
    best_chroma, best = None, None
    for mode in tools.chroma_modes:
        predictions = np.stack([_chroma_prediction(work[0], work[c], y, x, mode) for c in (1, 2)])
        block = np.stack([target[c][y : y + 8, x : x + 8] for c in (1, 2)]).astype(np.int64)
        levels, recon, sse = _code_blocks(block, predictions, tables[1], True)
        bits = int(block_bits(levels).sum()) + int(_ue_bits(tools.chroma_modes.index(mode)))
        cost = int(sse.sum()) + lam * bits
        if best is None or cost < best[0]:
            best, best_chroma = (cost, int(sse.sum()), bits, levels, recon), mode
    _, sse, bits, levels, recon = best
    for c in (1, 2):
        work[c][y : y + 8, x : x + 8] = recon[c - 1]
    syntax.append(("chroma", tools.chroma_modes.index(best_chroma), levels))
    return total_sse + sse + lam * (total_bits + bits), total_sse + sse, best_chroma


@dataclass
class _Candidate:
    """One way to code a macroblock and what it costs: J = SSE + lambda R, the reconstructed
    macroblock (Y 16 x 16, U and V 8 x 8, int64) and what its syntax needs."""

    cost: float
    kind: str  # "skip", "inter" or "intra"
    sse: int
    planes: list[np.ndarray]
    vector: np.ndarray | None = None  # skip and inter: the (half-pel) motion vector
    levels: tuple[np.ndarray, np.ndarray] | None = None  # inter: luma and chroma levels
    intra_syntax: list = field(default_factory=list)  # intra: per block ("mode", ...) and chroma
    chroma_mode: int = -1
    luma_modes: np.ndarray | None = None  # intra: the frame's luma modes with this MB's chosen


def _macroblock(planes: list[np.ndarray], y: int, x: int) -> list[np.ndarray]:
    """Views of the macroblock at luma (y, x): Y 16 x 16, U and V 8 x 8."""
    return [planes[0][y : y + MB, x : x + MB]] + [
        plane[y // 2 : y // 2 + 8, x // 2 : x // 2 + 8] for plane in planes[1:]
    ]


def _skip_candidate(reference: _Reference, mby, mbx, predictor, source, lam) -> _Candidate:
    """The predicted vector and no residual: one bit-ish of syntax (the macroblock type)."""
    planes = reference.macroblock(mby, mbx, predictor)
    sse = sum(int(((p - s) ** 2).sum()) for p, s in zip(planes, source, strict=True))
    return _Candidate(sse + lam * 1, "skip", sse, planes, vector=predictor)


def _inter_candidate(
    reference: _Reference, integer_vector, predictor, source, y, x, tables, lam, search_range
) -> _Candidate:
    """The integer vector refined to half-pel by SAD + 4 x vector bits, then the residual coded."""
    centre = integer_vector * 2
    best_vector, best_cost = None, None
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            vector = centre + (dy, dx)
            if np.abs(vector).max() > 2 * search_range:
                continue
            sad = int(np.abs(reference.block(0, y, x, MB, vector) - source[0]).sum())
            cost = sad + 4 * int(_se_bits(vector - predictor).sum())
            if best_cost is None or cost < best_cost:
                best_vector, best_cost = vector, cost
    prediction = reference.macroblock(y // MB, x // MB, best_vector)
    luma_blocks = np.stack([source[0][oy : oy + 8, ox : ox + 8] for oy, ox in _LUMA_OFFSETS])
    luma_pred = np.stack([prediction[0][oy : oy + 8, ox : ox + 8] for oy, ox in _LUMA_OFFSETS])
    levels_y, recon_y, sse_y = _code_blocks(luma_blocks, luma_pred, tables[0], False)
    levels_c, recon_c, sse_c = _code_blocks(
        np.stack(source[1:]), np.stack(prediction[1:]), tables[1], False
    )
    bits = (
        3
        + int(_se_bits(best_vector - predictor).sum())
        + int(block_bits(levels_y).sum())
        + int(block_bits(levels_c).sum())
    )
    sse = int(sse_y.sum() + sse_c.sum())
    luma = np.zeros((MB, MB), dtype=np.int64)
    for k, (oy, ox) in enumerate(_LUMA_OFFSETS):
        luma[oy : oy + 8, ox : ox + 8] = recon_y[k]
    return _Candidate(
        sse + lam * bits,
        "inter",
        sse,
        [luma, recon_c[0], recon_c[1]],
        vector=best_vector,
        levels=(levels_y, levels_c),
    )


def _intra_candidate(target, work, mby, mbx, tables, lam, tools, luma_modes, inter_frame: bool):
    """Every 8 x 8 luma block and the chroma by their best intra modes (``_intra_macroblock``), on a
    scratch copy of the frame in a P-frame (an inter or skip choice must leave ``work`` untouched)."""
    scratch = [plane.copy() for plane in work] if inter_frame else work
    modes = luma_modes.copy() if inter_frame else luma_modes
    intra_syntax: list = []
    cost, sse, chroma_mode = _intra_macroblock(
        target, scratch, mby, mbx, tables, lam, tools, modes, intra_syntax
    )
    return _Candidate(
        cost + (lam * 3 if inter_frame else 0),
        "intra",
        sse,
        [block.copy() for block in _macroblock(scratch, mby * MB, mbx * MB)],
        intra_syntax=intra_syntax,
        chroma_mode=chroma_mode,
        luma_modes=modes,
    )


def _write_candidate(syntax: _Syntax, best: _Candidate, predictor) -> None:
    """The chosen macroblock's syntax after its type: the vector difference and levels (inter), or
    the modes and levels (intra); a skipped macroblock has none."""
    if best.kind == "inter":
        syntax.signed(int(best.vector[0] - predictor[0]))
        syntax.signed(int(best.vector[1] - predictor[1]))
        syntax.blocks(best.levels[0])
        syntax.blocks(best.levels[1])
    elif best.kind == "intra":
        for item in best.intra_syntax:
            if item[0] == "mode":
                syntax.write(int(item[1] == item[2]), 1)
                if item[1] != item[2]:
                    syntax.unsigned(item[1] - (item[1] > item[2]))
            else:
                syntax.unsigned(item[1])
        syntax.blocks(np.stack([item[3] for item in best.intra_syntax[:4]]))
        syntax.blocks(best.intra_syntax[4][2])


def _code_frame(
    target,
    reference: _Reference | None,
    quality: int,
    search_range: int,
    tools: Tools,
    fast_model=None,
    collect_features: bool = False,
) -> _FrameResult:
    """Choose and code every macroblock of one frame (planes of int64); nothing is written yet.

    Per macroblock: the candidates (skip and inter in a P-frame; intra unless the fast mode decision
    rules it out), the one of least J = D + lambda R, its syntax, and its reconstruction written back
    into the frame (which later macroblocks predict from)."""
    tables = (jpeg.quant_table(quality), jpeg.quant_table(quality, chroma=True))
    lam = lagrangian(quality)
    height, width = target[0].shape
    rows, cols = height // MB, width // MB
    work = [np.zeros_like(plane, dtype=np.int64) for plane in target]
    types = np.full((rows, cols), 2, dtype=np.int64)
    vectors = np.zeros((rows, cols, 2), dtype=np.int64)
    luma_modes = np.full((rows * 2, cols * 2), -1, dtype=np.int64)
    chroma_modes = np.full((rows, cols), -1, dtype=np.int64)
    coded = np.ones((rows, cols), dtype=bool)
    syntax = _Syntax()
    features = []
    start = time.perf_counter()
    inter_frame = reference is not None
    integer = None
    if inter_frame:
        integer = toy.motion_search(
            target[0].astype(np.uint8),
            reference.planes[0].astype(np.uint8),
            search_range,
            MB,
            penalty=4.0,
        )
    for mby in range(rows):
        for mbx in range(cols):
            y, x = mby * MB, mbx * MB
            source = _macroblock(target, y, x)
            candidates, predictor = [], None
            if inter_frame:
                predictor = median_vector(vectors, types <= 1, mby, mbx)
                candidates.append(_skip_candidate(reference, mby, mbx, predictor, source, lam))
                candidates.append(
                    _inter_candidate(
                        reference,
                        integer[mby, mbx],
                        predictor,
                        source,
                        y,
                        x,
                        tables,
                        lam,
                        search_range,
                    )
                )
            run_intra = True  # unless the fast mode decision says intra will not win
            if inter_frame and (fast_model is not None or collect_features):
                feature = _features(candidates, float(source[0].var()), lam)
                if fast_model is not None:
                    run_intra = fast_model.wants_intra(feature)
                if collect_features:
                    features.append(feature)
            if run_intra:
                candidates.append(
                    _intra_candidate(
                        target, work, mby, mbx, tables, lam, tools, luma_modes, inter_frame
                    )
                )
            best = min(candidates, key=lambda candidate: candidate.cost)
            if collect_features and inter_frame:
                features[-1] = features[-1] + [MB_TYPES.index(best.kind)]
            if inter_frame:
                syntax.unsigned(MB_TYPES.index(best.kind))
            _write_candidate(syntax, best, predictor)
            for view, block in zip(_macroblock(work, y, x), best.planes, strict=True):
                view[...] = block  # the one write-back: later macroblocks predict from it
            types[mby, mbx] = MB_TYPES.index(best.kind)
            if best.kind == "intra":
                window = (slice(mby * 2, mby * 2 + 2), slice(mbx * 2, mbx * 2 + 2))
                luma_modes[window] = best.luma_modes[window]
                chroma_modes[mby, mbx] = best.chroma_mode
            else:
                vectors[mby, mbx] = best.vector
                coded[mby, mbx] = best.kind == "inter" and bool(
                    best.levels[0].any() or best.levels[1].any()
                )
    return _FrameResult(
        work,
        syntax,
        types,
        vectors,
        luma_modes,
        chroma_modes,
        time.perf_counter() - start,
        features,
        coded,
    )


def _features(candidates: list[_Candidate], variance: float, lam: float) -> list[float]:
    """What the fast mode decision sees before the intra search: the skip and inter costs (per
    lambda), the inter SSE, the luma variance (all log-scaled) and lambda."""
    skip, inter = candidates[0], candidates[1]
    return [
        float(np.log1p(skip.cost / lam)),
        float(np.log1p(inter.cost / lam)),
        float(np.log1p(inter.sse)),
        float(np.log1p(variance)),
        float(np.log(lam)),
    ]


def _luma_prediction(plane: np.ndarray, y: int, x: int, tools: Tools, mode: int) -> np.ndarray:
    """One luma mode's prediction (the decoder's: only the mode it read)."""
    if mode < 6:
        top, left, corner = intra.neighbours(plane, y, x)
        return intra.classic_predictions(top, left, corner)[mode]
    context = intra.luma_context(plane, y, x)[None]
    return learned.load_integer("intra").predict(context).reshape(8, 8)


def _decode_planes(
    reader: BitReader,
    reference: _Reference | None,
    shape: tuple[int, int],
    quality: int,
    search_range: int,
    tools: Tools,
) -> list[np.ndarray]:
    """The decoder's macroblock loop: the mirror of ``_code_frame``'s syntax."""
    tables = (jpeg.quant_table(quality), jpeg.quant_table(quality, chroma=True))
    height, width = shape
    rows, cols = height // MB, width // MB
    work = [np.zeros((height, width), np.int64)] + [
        np.zeros((height // 2, width // 2), np.int64)
    ] * 2
    work[2] = np.zeros((height // 2, width // 2), np.int64)
    types = np.full((rows, cols), 2, dtype=np.int64)
    vectors = np.zeros((rows, cols, 2), dtype=np.int64)
    luma_modes = np.full((rows * 2, cols * 2), -1, dtype=np.int64)
    coded = np.ones((rows, cols), dtype=bool)
    for mby in range(rows):
        for mbx in range(cols):
            y, x = mby * MB, mbx * MB
            kind = 2
            if reference is not None:
                kind = reader.unsigned(4)
                if kind > 2:
                    raise HybridStreamError(
                        f"macroblock type {kind} does not exist (0 skip, 1 inter, 2 intra)"
                    )
            if kind < 2:
                vector = median_vector(vectors, types <= 1, mby, mbx)
                if kind == 1:
                    vector = vector + (reader.signed(), reader.signed())
                    if np.abs(vector).max() > 2 * search_range:
                        raise HybridStreamError("a motion vector exceeds the file's search range")
                prediction = [block.copy() for block in reference.macroblock(mby, mbx, vector)]
                if kind == 1:
                    levels_y = toy.read_blocks(reader, (1, 4)).reshape(4, 8, 8)
                    levels_c = toy.read_blocks(reader, (1, 2)).reshape(2, 8, 8)
                    for k, (oy, ox) in enumerate(_LUMA_OFFSETS):
                        prediction[0][oy : oy + 8, ox : ox + 8] = _reconstruct(
                            prediction[0][oy : oy + 8, ox : ox + 8], levels_y[k], tables[0]
                        )
                    prediction[1] = _reconstruct(prediction[1], levels_c[0], tables[1])
                    prediction[2] = _reconstruct(prediction[2], levels_c[1], tables[1])
                coded[mby, mbx] = kind == 1 and bool(levels_y.any() or levels_c.any())
                work[0][y : y + MB, x : x + MB] = prediction[0]
                work[1][y // 2 : y // 2 + 8, x // 2 : x // 2 + 8] = prediction[1]
                work[2][y // 2 : y // 2 + 8, x // 2 : x // 2 + 8] = prediction[2]
                types[mby, mbx], vectors[mby, mbx] = kind, vector
                continue
            modes = []
            for oy, ox in _LUMA_OFFSETS:
                by, bx = (y + oy) // 8, (x + ox) // 8
                modes.append(
                    _read_mode(reader, _most_probable(luma_modes, by, bx), tools.luma_modes)
                )
                luma_modes[by, bx] = modes[-1]
            index = reader.unsigned(4)
            if index >= len(tools.chroma_modes):
                raise HybridStreamError(f"chroma mode {index} is not one this file's tools allow")
            chroma_mode = tools.chroma_modes[index]
            levels_y = toy.read_blocks(reader, (1, 4)).reshape(4, 8, 8)
            levels_c = toy.read_blocks(reader, (1, 2)).reshape(2, 8, 8)
            for k, (oy, ox) in enumerate(_LUMA_OFFSETS):
                prediction = _luma_prediction(work[0], y + oy, x + ox, tools, modes[k])
                work[0][y + oy : y + oy + 8, x + ox : x + ox + 8] = _reconstruct(
                    prediction, levels_y[k], tables[0]
                )
            for c in (1, 2):
                prediction = _chroma_prediction(work[0], work[c], y // 2, x // 2, chroma_mode)
                work[c][y // 2 : y // 2 + 8, x // 2 : x // 2 + 8] = _reconstruct(
                    prediction, levels_c[c - 1], tables[1]
                )
    return work, coded


# ----------------------------------------------------------------------------- frame level


@cache
def loop_filter_network(kind: str = "learned") -> filters.IntegerFilter:
    """The integer learned loop filter: 'learned' (registry ``video/loop-filter``: chapter 5's
    conditioned CNN fine-tuned on this codec's own output) or 'chapter5' (``filters/conditioned``)."""
    if kind == "chapter5":
        return filters.load_integer("conditioned")
    if kind != "learned":
        raise ValueError(f"kind must be 'learned' or 'chapter5', got {kind!r}")
    model = registry.load("video", "loop-filter", None, filters.build_model)
    return filters.IntegerFilter(model.cpu())


def _loop_filter(
    planes: list[np.ndarray],
    quality: int,
    kind: str,
    coded: np.ndarray,
    target: list[np.ndarray] | None = None,
    switches: np.ndarray | None = None,
):
    """(uint8 planes after the loop filter, the learned filter's switches): none, chapter 5's
    deblocking on every plane, or a learned filter (integer form) on luma with deblocking on chroma.

    Only macroblocks that were coded (intra, or inter with a residual: ``coded``) take the filtered
    pixels: a skipped macroblock is a copy of a reference that was filtered already, and filtering it
    again at every frame smooths it away (H.264 sets the boundary strength to 0 there for that reason).
    A learned filter is switched per coded macroblock, as codecs switch their adaptive filters per
    block: the encoder (given ``target``) keeps it where it lowers the squared error against the
    source, else the deblocked pixels, and sends one bit per coded macroblock; the decoder passes the
    bits it read as ``switches`` (raster order of the coded macroblocks)."""
    planes = [np.asarray(plane).astype(np.uint8) for plane in planes]
    if kind == "none":
        return planes, None
    out = [filters.deblock(plane, quality) for plane in planes]
    learned_switches = None
    if kind in ("learned", "chapter5"):
        learned = loop_filter_network(kind).filter_luma(planes[0], quality)
        rows, cols = coded.shape
        height, width = planes[0].shape
        if switches is None:  # the encoder's choice, per macroblock, against the source
            source = np.asarray(target[0], dtype=np.int64)

            def error(picture):
                squared = (picture.astype(np.int64) - source) ** 2
                return squared.reshape(rows, MB, cols, MB).sum(axis=(1, 3))

            on = error(learned) < error(out[0])
            switches = on[coded]
        on = np.zeros((rows, cols), dtype=bool)
        on[coded] = np.asarray(switches, dtype=bool)
        mask = np.kron(on, np.ones((MB, MB), dtype=bool))[:height, :width]
        out[0] = np.where(mask, learned, out[0])
        learned_switches = np.asarray(switches, dtype=bool)
    for index, (plane, filtered) in enumerate(zip(planes, out, strict=True)):
        size = MB if index == 0 else MB // 2
        mask = np.kron(coded, np.ones((size, size), dtype=bool))[: plane.shape[0], : plane.shape[1]]
        out[index] = np.where(mask, filtered, plane)
    return out, learned_switches


def _halve(plane: np.ndarray, multiple: int) -> np.ndarray:
    """The 2x2 mean of a plane, edge-extended to a multiple of ``multiple`` (macroblocks fit)."""
    low = intra.downsample_luma(plane)
    height, width = low.shape
    return np.pad(low, ((0, -height % multiple), (0, -width % multiple)), mode="edge")


def _half_reference(reference_planes, search_range: int) -> _Reference | None:
    """The reference of a frame coded at half size: each reference plane halved (none for an I-frame)."""
    if reference_planes is None:
        return None
    planes = [_halve(reference_planes[0], MB)] + [_halve(p, 8) for p in reference_planes[1:]]
    return _Reference(tuple(planes), search_range)


def _upsample(plane: np.ndarray) -> np.ndarray:
    return learned.load_integer("upsampler").predict(plane)


def _half_resolution_frame(target, reference_planes, quality, search_range, tools, fast_model):
    """Code the frame at half size: (result, displayed full-size planes)."""
    shape = target[0].shape
    low_target = [_halve(target[0], MB)] + [_halve(p, 8) for p in target[1:]]
    reference = _half_reference(reference_planes, search_range)
    result = _code_frame(low_target, reference, quality, search_range, tools, fast_model)
    return result, _restore(result.planes, shape, quality, tools, result.coded)


def _restore(low_planes, shape, quality, tools, coded) -> list[np.ndarray]:
    height, width = shape
    cropped = [low_planes[0][: height // 2, : width // 2]] + [
        p[: height // 4, : width // 4] for p in low_planes[1:]
    ]
    kind = "none" if tools.loop_filter == "none" else "deblock"
    filtered, _ = _loop_filter(cropped, quality, kind, coded)
    return [_upsample(plane).astype(np.uint8) for plane in filtered]


def _pad(planes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Edge-extend (N, H, W) planes to whole macroblocks (luma 16, chroma 8)."""
    height, width = planes["y"].shape[1:]
    rows, cols = -height % MB, -width % MB
    return {
        key: np.pad(
            plane, ((0, 0), (0, rows >> (key != "y")), (0, cols >> (key != "y"))), mode="edge"
        )
        for key, plane in planes.items()
    }


def _crop(planes: list[np.ndarray], height: int, width: int) -> list[np.ndarray]:
    return [
        planes[0][:height, :width],
        planes[1][: height // 2, : width // 2],
        planes[2][: height // 2, : width // 2],
    ]


def _sse(planes, target) -> int:
    return sum(
        int(((np.asarray(a, np.int64) - b) ** 2).sum()) for a, b in zip(planes, target, strict=True)
    )


@dataclass
class EncodedSequence:
    """The bitstream and what the encoder saw."""

    data: bytes
    decoded: dict[str, np.ndarray]
    bits_per_frame: list[int]
    psnr_per_frame: list[float]
    types: list[np.ndarray]
    vectors: list[np.ndarray]
    luma_modes: list[np.ndarray]
    chroma_modes: list[np.ndarray]
    half_resolution: list[bool]
    search_seconds: float
    encode_seconds: float
    features: list = field(default_factory=list)

    @property
    def bits(self) -> int:
        return len(self.data) * 8


def _check_parameters(quality, search_range, tools) -> None:
    if (
        isinstance(quality, bool)
        or not isinstance(quality, (int, np.integer))
        or not 1 <= quality <= 100
    ):
        raise ValueError(f"quality must be an int in 1..100, got {quality!r}")
    if (
        isinstance(search_range, bool)
        or not isinstance(search_range, (int, np.integer))
        or not 1 <= search_range <= 32
    ):
        raise ValueError(f"search_range must be an int in 1..32, got {search_range!r}")
    if not isinstance(tools, Tools):
        raise TypeError(f"tools must be a hybrid.Tools, got {type(tools).__name__}")


def analyze(
    frames,
    quality: int = 30,
    tools: Tools = Tools(),
    search_range: int = 8,
    collect_features: bool = False,
    resolution: str = "rd",
) -> EncodedSequence:
    """Code 4:2:0 frames (``check_frames``) and return the file with what the encoder saw.

    quality: chapter 1's JPEG quality (1..100) scaling the luma and chroma tables; lambda follows it
    (``lagrangian``). tools: the deep tools (``Tools``). search_range: integer motion search range in
    pixels (vectors then refine to half-pel). collect_features: keep each P macroblock's fast-mode
    features and chosen type (``features``). resolution, with ``tools.half_resolution``: 'rd' (each
    frame at the size of least J), 'half' (every frame at half size) or 'full'.
    """
    planes = check_frames(frames)
    _check_parameters(quality, search_range, tools)
    if resolution not in ("rd", "half", "full"):
        raise ValueError(f"resolution must be 'rd', 'half' or 'full', got {resolution!r}")
    quality, search_range = int(quality), int(search_range)
    count, height, width = planes["y"].shape
    padded = _pad(planes)
    fast_model = None
    if tools.fast_mode:
        fast_model = fastmode.load_pretrained("fast-mode")
    lam = lagrangian(quality)
    writer = BitWriter()
    reference_planes = None
    decoded = {key: [] for key in "yuv"}
    record = {
        key: []
        for key in ("bits", "psnr", "types", "vectors", "luma", "chroma", "half", "features")
    }
    search_seconds, start = 0.0, time.perf_counter()
    for n in range(count):
        target = [padded[key][n].astype(np.int64) for key in "yuv"]
        reference = (
            _Reference(tuple(reference_planes), search_range)
            if reference_planes is not None
            else None
        )
        result = _code_frame(
            target, reference, quality, search_range, tools, fast_model, collect_features
        )
        displayed, switches = _loop_filter(
            result.planes, quality, tools.loop_filter, result.coded, target
        )
        if switches is not None:  # one bit per coded macroblock, after the frame's macroblocks
            for bit in switches:
                result.bits.write(int(bit), 1)
        search_seconds += result.search_seconds
        half = False
        frame_bits = result.bits.bits
        if tools.half_resolution and resolution != "full":
            low, low_displayed = _half_resolution_frame(
                target, reference_planes, quality, search_range, tools, fast_model
            )
            search_seconds += low.search_seconds
            low_cost = _sse(low_displayed, target) + lam * low.bits.bits
            if resolution == "half" or (
                resolution == "rd" and low_cost < _sse(displayed, target) + lam * frame_bits
            ):
                result, displayed, half, frame_bits = low, low_displayed, True, low.bits.bits
        if tools.half_resolution:
            writer.write(int(half), 1)
            frame_bits += 1
        result.bits.emit(writer)
        reference_planes = [plane.astype(np.int64) for plane in displayed]
        for key, plane in zip("yuv", _crop(displayed, height, width), strict=True):
            decoded[key].append(plane)
        record["bits"].append(frame_bits)
        luma_error = ((decoded["y"][-1].astype(np.int64) - planes["y"][n]) ** 2).mean()
        record["psnr"].append(metrics.psnr_from_mse(float(luma_error)))
        record["types"].append(result.types)
        record["vectors"].append(result.vectors)
        record["luma"].append(result.luma_modes)
        record["chroma"].append(result.chroma_modes)
        record["half"].append(half)
        record["features"] += result.features
    decoded = {key: np.stack(value) for key, value in decoded.items()}
    header = struct.pack(
        _HEADER,
        width,
        height,
        count,
        quality,
        search_range,
        tools.flags(),
        LOOP_FILTERS.index(tools.loop_filter),
        container.content_crc(decoded["y"], decoded["u"], decoded["v"]),
    )
    data = container.pack(_MAGIC, _VERSION, header, writer.to_bytes())
    return EncodedSequence(
        data,
        decoded,
        record["bits"],
        record["psnr"],
        record["types"],
        record["vectors"],
        record["luma"],
        record["chroma"],
        record["half"],
        search_seconds,
        time.perf_counter() - start,
        record["features"],
    )


def encode(frames, quality: int = 30, tools: Tools = Tools(), search_range: int = 8) -> bytes:
    """Code 4:2:0 frames into a self-describing file (see ``analyze``)."""
    return analyze(frames, quality, tools, search_range).data


def decode(data: bytes) -> dict[str, np.ndarray]:
    """Decode ``encode``'s bytes to 4:2:0 planes {'y', 'u', 'v'} (uint8), reading only the bytes.

    Raises HybridStreamError for a truncated, damaged or foreign file.
    """
    header, payload = container.unpack(data, _MAGIC, _VERSION, HybridStreamError)
    values = container.read_fields(header, _HEADER, HybridStreamError)
    width, height, count, quality, search_range, flags, filter_index, crc = values
    if (
        not width
        or not height
        or width % 2
        or height % 2
        or not count
        or not 1 <= quality <= 100
        or not 1 <= search_range <= 32
        or flags >= 32
        or filter_index >= len(LOOP_FILTERS)
    ):
        raise HybridStreamError(f"inconsistent hybrid-codec header {values[:7]}")
    tools = Tools.from_flags(flags, LOOP_FILTERS[filter_index])
    original = (height, width)
    height, width = height + (-height % MB), width + (-width % MB)
    reader = BitReader(payload, HybridStreamError)
    reference_planes = None
    decoded = {key: [] for key in "yuv"}
    for _ in range(count):
        half = bool(reader.read(1)) if tools.half_resolution else False
        if half:
            low_shape = (height // 2 + (-(height // 2) % MB), width // 2 + (-(width // 2) % MB))
            reference = _half_reference(reference_planes, search_range)
            low, coded = _decode_planes(reader, reference, low_shape, quality, search_range, tools)
            displayed = _restore(low, (height, width), quality, tools, coded)
        else:
            reference = (
                _Reference(tuple(reference_planes), search_range)
                if reference_planes is not None
                else None
            )
            planes, coded = _decode_planes(
                reader, reference, (height, width), quality, search_range, tools
            )
            switches = None
            if tools.loop_filter in ("learned", "chapter5"):
                switches = [reader.read(1) for _ in range(int(coded.sum()))]
            displayed, _ = _loop_filter(
                planes, quality, tools.loop_filter, coded, switches=switches
            )
        reference_planes = [plane.astype(np.int64) for plane in displayed]
        for key, plane in zip("yuv", _crop(displayed, *original), strict=True):
            decoded[key].append(plane)
    decoded = {key: np.stack(value) for key, value in decoded.items()}
    container.check_content(crc, HybridStreamError, decoded["y"], decoded["u"], decoded["v"])
    return decoded
