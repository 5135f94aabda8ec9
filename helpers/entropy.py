"""Entropy coding: information, empirical entropy, Huffman codes (shared with JPEG, chapter 1), a
readable integer range coder in pure Python and the fast path through constriction (chapter 3)."""

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
    "MAX_TOTAL",
    "RangeEncoder",
    "RangeDecoder",
    "arithmetic_encode",
    "arithmetic_decode",
    "ideal_code_length",
    "fast_encode",
    "fast_decode",
    "adaptive_code_length",
    "interval_steps",
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


# ----------------------------------------------------------------------------- arithmetic coding
# A readable range coder (Subbotin / LZMA style). The interval [low, low + range) lives in 64-bit
# integers (Python's ints make the width free); whenever the range falls below 2^56 its top byte is
# settled and shifted out. A settled byte that a later carry could still change (a run ending in 0xFF)
# is held back in ``cache`` until the carry is known. With a 64-bit range the integer division in
# ``range // total`` costs under 2^-30 bits per symbol, so the file is the ideal length plus the
# one or two bytes the final flush needs.

_BITS = 64
_TOP = 1 << (_BITS - 8)  # renormalise when the range falls below this
_MASK = (1 << _BITS) - 1
MAX_TOTAL = 1 << 24  #: the largest frequency total a table may have


def _check_interval(cumulative: int, frequency: int, total: int) -> None:
    if not 0 < total <= MAX_TOTAL:
        raise ValueError(f"total must be in 1..{MAX_TOTAL}, got {total}")
    if frequency <= 0 or cumulative < 0 or cumulative + frequency > total:
        raise ValueError(
            f"symbol interval [{cumulative}, {cumulative + frequency}) must be non-empty and "
            f"inside [0, {total})"
        )


class RangeEncoder:
    """Integer range coder: ``encode(cumulative, frequency, total)`` per symbol, then ``finish()`` -> bytes.

    A symbol occupies [cumulative, cumulative + frequency) of a scale 0..total; its cost is
    log2(total / frequency) bits.
    """

    def __init__(self) -> None:
        self.low = 0  # up to 65 bits: bit 64 is a pending carry
        self.range = _MASK
        self.cache = 0  # the last settled byte, held back in case a carry reaches it
        self.cache_size = 1  # bytes held back: cache, then cache_size - 1 bytes of 0xFF
        self.output = bytearray()
        self.finished = False

    def encode(self, cumulative: int, frequency: int, total: int) -> None:
        """Narrow the interval to the symbol's share of it."""
        if self.finished:
            raise RuntimeError("this encoder is finished")
        _check_interval(cumulative, frequency, total)
        step = self.range // total
        self.low += step * cumulative
        self.range = step * frequency
        while self.range < _TOP:  # the top byte is settled: shift it out
            self.range <<= 8
            self._shift_low()

    def _shift_low(self) -> None:
        if self.low < (0xFF << (_BITS - 8)) or self.low > _MASK:
            carry = self.low >> _BITS
            byte = self.cache
            while self.cache_size:  # write the held-back byte(s), adding the carry
                self.output.append((byte + carry) & 0xFF)
                byte = 0xFF
                self.cache_size -= 1
            self.cache = (self.low >> (_BITS - 8)) & 0xFF
        self.cache_size += 1
        self.low = (self.low & (_TOP - 1)) << 8

    def finish(self) -> bytes:
        """Pick the number in the final interval with the most trailing zero bytes, write its leading
        bytes and return the stream (the decoder reads missing bytes as zeros)."""
        if not self.finished:
            self.low = (self.low + _TOP - 1) & ~(
                _TOP - 1
            )  # inside the interval, since range >= _TOP
            self._shift_low()
            self._shift_low()
            self.finished = True
        # the first byte is always 0 (the interval starts inside [0, 1)); trailing zeros are implied
        return bytes(self.output[1:]).rstrip(b"\x00")


class RangeDecoder:
    """Reads what RangeEncoder wrote: ``target(total)`` says where in 0..total the next symbol lies,
    ``consume(cumulative, frequency, total)`` removes that symbol."""

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        self.data = bytes(data)
        self.position = 0
        self.range = _MASK
        self.code = 0
        for _ in range(_BITS // 8):
            self.code = (self.code << 8) | self._next_byte()
        self.step = 1

    def _next_byte(self) -> int:
        byte = self.data[self.position] if self.position < len(self.data) else 0
        self.position += 1
        return byte

    def target(self, total: int) -> int:
        """The position of the next symbol on the scale 0..total."""
        if not 0 < total <= MAX_TOTAL:
            raise ValueError(f"total must be in 1..{MAX_TOTAL}, got {total}")
        self.step = self.range // total
        return min(self.code // self.step, total - 1)

    def consume(self, cumulative: int, frequency: int, total: int) -> None:
        """Remove the symbol [cumulative, cumulative + frequency) found with ``target``."""
        _check_interval(cumulative, frequency, total)
        self.code -= self.step * cumulative
        self.range = self.step * frequency
        while self.range < _TOP:
            self.code = ((self.code << 8) | self._next_byte()) & _MASK
            self.range <<= 8


def _cumulative(frequencies) -> np.ndarray:
    counts = np.asarray(frequencies, dtype=np.int64)
    if counts.ndim != 1 or counts.size == 0 or (counts < 0).any():
        raise ValueError("a frequency table must be a non-empty 1-D list of non-negative integers")
    if counts.sum() > MAX_TOTAL or counts.sum() == 0:
        raise ValueError(f"a frequency table must sum to 1..{MAX_TOTAL}, got {counts.sum()}")
    return np.concatenate([[0], np.cumsum(counts)])


def arithmetic_encode(symbols, frequencies) -> bytes:
    """Encode symbols with the readable range coder.

    frequencies: one table of integer counts for all symbols (a static model), or one table per
    symbol (an adaptive or conditional model), each summing to at most MAX_TOTAL.
    """
    symbols = [int(s) for s in symbols]
    tables = frequencies if (len(frequencies) and np.ndim(frequencies[0]) == 1) else None
    if tables is not None and len(tables) != len(symbols):
        raise ValueError(f"got {len(tables)} frequency tables for {len(symbols)} symbols")
    static = None if tables is not None else _cumulative(frequencies)
    encoder = RangeEncoder()
    for index, symbol in enumerate(symbols):
        cumulative = static if tables is None else _cumulative(tables[index])
        if not 0 <= symbol < len(cumulative) - 1 or cumulative[symbol + 1] == cumulative[symbol]:
            raise ValueError(
                f"symbol {symbol} at position {index} has zero frequency or is out of range"
            )
        encoder.encode(
            int(cumulative[symbol]),
            int(cumulative[symbol + 1] - cumulative[symbol]),
            int(cumulative[-1]),
        )
    return encoder.finish()


def arithmetic_decode(data: bytes, num_symbols: int, frequencies) -> list[int]:
    """Decode ``num_symbols`` symbols written by ``arithmetic_encode`` with the same frequencies."""
    if num_symbols < 0:
        raise ValueError("num_symbols must be >= 0")
    tables = frequencies if (len(frequencies) and np.ndim(frequencies[0]) == 1) else None
    static = None if tables is not None else _cumulative(frequencies)
    decoder = RangeDecoder(data)
    symbols = []
    for index in range(num_symbols):
        cumulative = static if tables is None else _cumulative(tables[index])
        total = int(cumulative[-1])
        target = decoder.target(total)
        symbol = int(np.searchsorted(cumulative, target, side="right") - 1)
        decoder.consume(
            int(cumulative[symbol]), int(cumulative[symbol + 1] - cumulative[symbol]), total
        )
        symbols.append(symbol)
    return symbols


def ideal_code_length(symbols, frequencies) -> float:
    """The information content sum(-log2 p) of the symbols in bits, the bound an ideal coder reaches."""
    symbols = np.asarray(list(symbols), dtype=np.int64)
    tables = frequencies if (len(frequencies) and np.ndim(frequencies[0]) == 1) else None
    if tables is None:
        counts = np.asarray(frequencies, dtype=np.float64)
        return float(-np.log2(counts[symbols] / counts.sum()).sum())
    return float(
        sum(
            -np.log2(np.asarray(t, float)[s] / np.sum(t))
            for s, t in zip(symbols, tables, strict=True)
        )
    )


def fast_encode(symbols, probabilities) -> bytes:
    """The same job for long streams through constriction's range coder (Rust): probabilities are one
    distribution for all symbols (1-D) or one per symbol (2-D, rows summing to 1)."""
    import constriction

    symbols = np.ascontiguousarray(symbols, dtype=np.int32)
    # constriction reads the buffer as C-ordered rows: a transposed (Fortran-ordered) table would be
    # read column by column, silently
    probabilities = np.ascontiguousarray(probabilities, dtype=np.float64)
    encoder = constriction.stream.queue.RangeEncoder()
    if probabilities.ndim == 1:
        encoder.encode(symbols, constriction.stream.model.Categorical(probabilities, perfect=False))
    elif probabilities.ndim == 2 and len(probabilities) == len(symbols):
        encoder.encode(symbols, constriction.stream.model.Categorical(perfect=False), probabilities)
    else:
        raise ValueError("probabilities must be 1-D, or 2-D with one row per symbol")
    return encoder.get_compressed().astype("<u4").tobytes()


def fast_decode(data: bytes, num_symbols: int, probabilities) -> np.ndarray:
    """Decode what ``fast_encode`` wrote."""
    import constriction

    if len(data) % 4:
        raise ValueError("constriction streams are whole 32-bit words")
    words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
    decoder = constriction.stream.queue.RangeDecoder(words)
    probabilities = np.ascontiguousarray(probabilities, dtype=np.float64)
    if probabilities.ndim == 1:
        return decoder.decode(
            constriction.stream.model.Categorical(probabilities, perfect=False), num_symbols
        )
    return decoder.decode(constriction.stream.model.Categorical(perfect=False), probabilities)


def adaptive_code_length(symbols, alphabet: int = 256, contexts=None) -> float:
    """Bits an adaptive counting model spends on a stream: each symbol costs -log2 of
    (count + 1) / (total + alphabet) in its context, then its count grows (Laplace's rule).

    Encoder and decoder update the same counts, so an arithmetic coder reaches this length (within a
    few bytes) without sending any table. ``contexts`` (one small int per symbol) keeps separate counts.
    """
    symbols = np.asarray(symbols, dtype=np.int64).ravel()
    if symbols.size and (symbols.min() < 0 or symbols.max() >= alphabet):
        raise ValueError(f"symbols must lie in 0..{alphabet - 1}")
    keys = np.zeros_like(symbols) if contexts is None else np.asarray(contexts, np.int64).ravel()
    if keys.shape != symbols.shape:
        raise ValueError("contexts must have one entry per symbol")
    bits = 0.0
    for key in np.unique(keys):
        stream = symbols[keys == key]
        # the count of symbol s before position t, and the number of symbols before t
        before = np.zeros(stream.size, dtype=np.int64)
        seen: dict[int, int] = {}
        for t, symbol in enumerate(stream.tolist()):
            before[t] = seen.get(symbol, 0)
            seen[symbol] = before[t] + 1
        totals = np.arange(stream.size)
        bits += float(-np.log2((before + 1) / (totals + alphabet)).sum())
    return bits


def interval_steps(message, frequencies: Mapping[object, int] | None = None) -> list[dict]:
    """Arithmetic coding with exact fractions, for teaching: the interval after every symbol.

    frequencies: counts per symbol (default: the message's own counts). Returns one dict per step
    with the symbol, the interval [low, high) as Fractions, and the bits needed so far,
    ceil(-log2(high - low)) + 1, which is what the final interval costs to name.
    """
    from fractions import Fraction
    from math import ceil, log2

    symbols = list(message)
    if not symbols:
        raise ValueError("message must contain at least one symbol")
    if frequencies is None:
        frequencies = {s: symbols.count(s) for s in dict.fromkeys(symbols)}
    missing = [s for s in symbols if frequencies.get(s, 0) <= 0]
    if missing:
        raise ValueError(f"symbol {missing[0]!r} has no (positive) frequency")
    total = sum(frequencies.values())
    starts, running = {}, 0
    for symbol, count in frequencies.items():
        starts[symbol], running = running, running + count
    low, width = Fraction(0), Fraction(1)
    steps = []
    for symbol in symbols:
        low += width * Fraction(starts[symbol], total)
        width *= Fraction(frequencies[symbol], total)
        bits = ceil(-log2(width)) + 1 if width < 1 else 0
        steps.append({"symbol": symbol, "low": low, "high": low + width, "bits": bits})
    return steps
