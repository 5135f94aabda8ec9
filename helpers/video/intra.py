"""Intra prediction for chapter 10's hybrid codec: the classic directional modes, a learned mode, and
chroma predicted from luma (the linear model of VVC's CCLM and a learned one).

Every predictor reads only reconstructed samples (the decoder has them too) and computes in integers,
so encoder and decoder form the same prediction on every machine. A sample outside the frame reads
as 128. Blocks are 8x8 (luma: four per 16x16 macroblock in Z order; chroma: one per macroblock and
component); coding order guarantees that the rows above and the columns to the left are decoded.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "LUMA_MODES",
    "CHROMA_MODES",
    "BLOCK",
    "CONTEXT",
    "neighbours",
    "classic_predictions",
    "luma_context",
    "chroma_context",
    "linear_from_luma",
    "downsample_luma",
]

BLOCK = 8
#: rows above and columns to the left that the learned luma predictor reads
CONTEXT = 4
LUMA_MODES = (
    "DC",
    "vertical",
    "horizontal",
    "planar",
    "diagonal down-left",
    "diagonal down-right",
    "learned",
)
CHROMA_MODES = ("DC", "vertical", "horizontal", "planar", "linear from luma", "learned from luma")
_MISSING = 128


def neighbours(
    plane: np.ndarray, y: int, x: int, n: int = BLOCK
) -> tuple[np.ndarray, np.ndarray, int]:
    """(top row n, left column n, top-left corner) of the block at (y, x); outside the frame: 128."""
    top = plane[y - 1, x : x + n].astype(np.int64) if y > 0 else np.full(n, _MISSING, np.int64)
    left = plane[y : y + n, x - 1].astype(np.int64) if x > 0 else np.full(n, _MISSING, np.int64)
    corner = int(plane[y - 1, x - 1]) if y > 0 and x > 0 else _MISSING
    return top, left, corner


def classic_predictions(top: np.ndarray, left: np.ndarray, corner: int) -> np.ndarray:
    """The six classic modes (LUMA_MODES[:6]) of an n x n block as int64 (6, n, n)."""
    n = top.size
    shift = int(np.log2(n))
    out = np.empty((6, n, n), dtype=np.int64)
    out[0] = (int(top.sum()) + int(left.sum()) + n) >> (shift + 1)
    out[1] = top[None, :]
    out[2] = left[:, None]
    rows, cols = np.mgrid[0:n, 0:n]
    top_right, bottom_left = int(top[-1]), int(left[-1])  # nothing above-right is read: replicate
    out[3] = (
        (n - 1 - cols) * left[:, None]
        + (cols + 1) * top_right
        + (n - 1 - rows) * top[None, :]
        + (rows + 1) * bottom_left
        + n
    ) >> (shift + 1)
    # 45 degrees from the upper right: a [1 2 1] / 4 smoothing along the top row, extended by replication
    extended = np.concatenate([top, np.full(n + 2, top[-1])])
    index = rows + cols
    out[4] = (extended[index] + 2 * extended[index + 1] + extended[index + 2] + 2) >> 2
    # 45 degrees from the upper left: along left (bottom to top), the corner, then the top row
    edge = np.concatenate([[left[-1]], left[::-1], [corner], top, [top[-1]]])
    centre = cols - rows + n + 1
    out[5] = (edge[centre - 1] + 2 * edge[centre] + edge[centre + 1] + 2) >> 2
    return out


def _window(plane: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """plane[y0:y1, x0:x1] as int64, with 128 wherever it falls outside the plane."""
    out = np.full((y1 - y0, x1 - x0), _MISSING, dtype=np.int64)
    top, left = max(y0, 0), max(x0, 0)
    bottom, right = min(y1, plane.shape[0]), min(x1, plane.shape[1])
    if bottom > top and right > left:
        out[top - y0 : bottom - y0, left - x0 : right - x0] = plane[top:bottom, left:right]
    return out


def luma_context(plane: np.ndarray, y: int, x: int) -> np.ndarray:
    """The learned predictor's input: CONTEXT rows above (from CONTEXT columns left of the block to its
    right edge) then CONTEXT columns to the left of the block, flattened: 4 * 12 + 8 * 4 = 80 int64."""
    above = _window(plane, y - CONTEXT, y, x - CONTEXT, x + BLOCK)
    left = _window(plane, y, y + BLOCK, x - CONTEXT, x)
    return np.concatenate([above.ravel(), left.ravel()])


def downsample_luma(luma: np.ndarray) -> np.ndarray:
    """The 2x2 rounded mean of a luma array (..., 2h, 2w) -> (..., h, w) int64 (chroma's grid)."""
    luma = np.asarray(luma, dtype=np.int64)
    return (
        luma[..., 0::2, 0::2]
        + luma[..., 0::2, 1::2]
        + luma[..., 1::2, 0::2]
        + luma[..., 1::2, 1::2]
        + 2
    ) >> 2


def chroma_context(luma: np.ndarray, chroma: np.ndarray, y: int, x: int) -> np.ndarray:
    """Inputs of the learned chroma predictor at chroma block (y, x): the downsampled reconstructed luma
    of the block (64), of the row above and the column to its left (8 + 8), and the reconstructed
    chroma row above and column to the left (8 + 8): 96 int64."""
    block = downsample_luma(_window(luma, 2 * y, 2 * y + 2 * BLOCK, 2 * x, 2 * x + 2 * BLOCK))
    luma_top = downsample_luma(_window(luma, 2 * y - 2, 2 * y, 2 * x, 2 * x + 2 * BLOCK))[0]
    luma_left = downsample_luma(_window(luma, 2 * y, 2 * y + 2 * BLOCK, 2 * x - 2, 2 * x))[:, 0]
    chroma_top = _window(chroma, y - 1, y, x, x + BLOCK)[0]
    chroma_left = _window(chroma, y, y + BLOCK, x - 1, x)[:, 0]
    return np.concatenate([block.ravel(), luma_top, luma_left, chroma_top, chroma_left])


def linear_from_luma(context: np.ndarray, top: bool, left: bool) -> np.ndarray:
    """VVC-style CCLM: chroma = alpha * luma + beta on the block's downsampled luma, with alpha and
    beta fitted by least squares to the 16 neighbouring (luma, chroma) pairs, in integers (alpha in
    1/64 steps, clamped to [-4, 4]). ``context`` is ``chroma_context``'s; ``top`` and ``left`` say which
    neighbours are decoded (inside the frame); with neither it is the DC of 128."""
    block = context[:64].reshape(BLOCK, BLOCK)
    if not (top or left):
        return np.full((BLOCK, BLOCK), _MISSING, dtype=np.int64)
    keep = np.concatenate([np.full(BLOCK, top), np.full(BLOCK, left)])
    luma, chroma = context[64:80][keep], context[80:96][keep]
    count = luma.size
    sum_l, sum_c = int(luma.sum()), int(chroma.sum())
    numerator = count * int((luma * chroma).sum()) - sum_l * sum_c
    denominator = count * int((luma * luma).sum()) - sum_l * sum_l
    alpha = 0 if denominator == 0 else max(-256, min(256, (numerator * 64) // denominator))
    beta = (sum_c * 64 - alpha * sum_l) // (count * 64)
    return (alpha * block >> 6) + beta
