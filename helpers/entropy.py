"""Entropy coding: information, empirical entropy and Huffman codes (shared with JPEG, chapter 1).

The arithmetic coders of chapter 3 will join this module.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

import numpy as np

__all__ = [
    "information",
    "entropy",
    "empirical_entropy",
    "huffman_code_lengths",
    "canonical_code",
    "jpeg_huffman_table",
    "code_lengths_from_table",
]


def information(probability: float | np.ndarray) -> float | np.ndarray:
    """Self-information -log2 p in bits of an event with probability p (0 < p <= 1)."""
    p = np.asarray(probability, dtype=np.float64)
    if np.any(~np.isfinite(p)) or np.any(p <= 0) or np.any(p > 1):
        raise ValueError("information: probabilities must lie in (0, 1]")
    result = -np.log2(p)
    return float(result) if result.ndim == 0 else result


def entropy(probabilities: Iterable[float]) -> float:
    """Shannon entropy in bits of a distribution (zeros allowed; must sum to 1 within 1e-6)."""
    p = np.asarray(list(probabilities), dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError("entropy: expected a non-empty 1-D list of probabilities")
    if np.any(~np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1) > 1e-6:
        raise ValueError(f"entropy: probabilities must be >= 0 and sum to 1 (sum is {p.sum():.6g})")
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def empirical_entropy(symbols: Iterable | np.ndarray) -> float:
    """Entropy in bits per symbol of the symbols' histogram (the order-0 bound for any coder)."""
    values = np.asarray(symbols).ravel()
    if values.size == 0:
        raise ValueError("empirical_entropy: no symbols")
    _, counts = np.unique(values, return_counts=True)
    return entropy(counts / counts.sum())


def huffman_code_lengths(frequencies: Mapping[object, int]) -> dict[object, int]:
    """Optimal (unlimited-length) Huffman code lengths for {symbol: count}, by the classic heap merge.

    Ties are broken by insertion order so the result is deterministic. One symbol gets length 1.
    """
    items = [(symbol, count) for symbol, count in frequencies.items() if count > 0]
    if any(count < 0 for count in frequencies.values()):
        raise ValueError("huffman_code_lengths: counts must be non-negative")
    if not items:
        raise ValueError("huffman_code_lengths: at least one symbol needs a positive count")
    if len(items) == 1:
        return {items[0][0]: 1}
    heap = [(count, order, [symbol]) for order, (symbol, count) in enumerate(items)]
    heapq.heapify(heap)
    lengths = {symbol: 0 for symbol, _ in items}
    order = len(heap)
    while len(heap) > 1:
        count_a, _, symbols_a = heapq.heappop(heap)
        count_b, _, symbols_b = heapq.heappop(heap)
        for symbol in symbols_a + symbols_b:
            lengths[symbol] += 1
        heapq.heappush(heap, (count_a + count_b, order, symbols_a + symbols_b))
        order += 1
    return lengths


def canonical_code(bits: Iterable[int], huffval: Iterable[int]) -> dict[int, tuple[int, int]]:
    """JPEG's canonical code (Annex C): BITS (codes per length 1..16) and HUFFVAL -> {symbol: (code, length)}."""
    bits = list(bits)
    huffval = list(huffval)
    if len(bits) != 16 or any(b < 0 for b in bits):
        raise ValueError("canonical_code: BITS must hold 16 non-negative counts (lengths 1..16)")
    if sum(bits) != len(huffval):
        raise ValueError(
            f"canonical_code: BITS counts {sum(bits)} codes but HUFFVAL has {len(huffval)}"
        )
    table: dict[int, tuple[int, int]] = {}
    code = 0
    index = 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            if code >= (1 << length):
                raise ValueError("canonical_code: BITS over-subscribes the code space")
            table[huffval[index]] = (code, length)
            index += 1
            code += 1
        code <<= 1
    return table


def jpeg_huffman_table(frequencies: Iterable[int]) -> tuple[list[int], list[int]]:
    """Build JPEG's optimal Huffman table (BITS, HUFFVAL) from 256 symbol counts (ITU-T T.81 Annex K.2).

    Follows libjpeg's jpeg_gen_optimal_table step by step: a reserved 257th symbol keeps any code
    from being all ones, lengths over 16 are folded back, ties go to the larger symbol value.
    """
    freq = [int(f) for f in frequencies]
    if len(freq) != 256 or any(f < 0 for f in freq):
        raise ValueError("jpeg_huffman_table: expected 256 non-negative counts")
    freq.append(1)  # the reserved code point
    codesize = [0] * 257
    others = [-1] * 257
    while True:
        c1, v = -1, 1 << 62
        for i in range(257):
            if freq[i] and freq[i] <= v:
                v, c1 = freq[i], i
        c2, v = -1, 1 << 62
        for i in range(257):
            if freq[i] and freq[i] <= v and i != c1:
                v, c2 = freq[i], i
        if c2 < 0:
            break
        freq[c1] += freq[c2]
        freq[c2] = 0
        codesize[c1] += 1
        while others[c1] >= 0:
            c1 = others[c1]
            codesize[c1] += 1
        others[c1] = c2
        codesize[c2] += 1
        while others[c2] >= 0:
            c2 = others[c2]
            codesize[c2] += 1
    bits = [0] * 33
    for size in codesize:
        if size:
            bits[size] += 1
    for i in range(32, 16, -1):  # fold lengths > 16 back (Annex K.3, Figure K.3)
        while bits[i] > 0:
            j = i - 2
            while bits[j] == 0:
                j -= 1
            bits[i] -= 2
            bits[i - 1] += 1
            bits[j + 1] += 2
            bits[j] -= 1
    i = 16
    while bits[i] == 0:
        i -= 1
    bits[i] -= 1  # drop the reserved code point
    huffval = [
        symbol for length in range(1, 33) for symbol in range(256) if codesize[symbol] == length
    ]
    return bits[1:17], huffval


def code_lengths_from_table(bits: Iterable[int], huffval: Iterable[int]) -> dict[int, int]:
    """{symbol: code length} of a JPEG (BITS, HUFFVAL) table."""
    return {symbol: length for symbol, (_, length) in canonical_code(bits, huffval).items()}
