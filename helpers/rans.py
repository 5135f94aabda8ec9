"""rANS, range asymmetric numeral systems (Duda 2013), written to be read (chapter 3, "Information and
codes").

An arithmetic coder keeps an interval [low, low + range) and narrows it symbol by symbol. rANS keeps one
integer, the state x, and pushes each symbol into it:

    encode s:   x  ->  (x // f_s) * M + c_s + (x % f_s)          (M = 2**precision, the table's total)
    decode:     slot = x % M;  find s with c_s <= slot < c_s + f_s;  x -> f_s * (x // M) + slot - c_s

Encoding multiplies x by about M / f_s = 1 / p_s, so after n symbols x has grown by the product of the
1 / p's: log2 x grows by the information content Σ -log2 p_s of the message, which is why rANS reaches the
entropy bound. Decoding undoes encoding exactly, so it pops symbols in the *reverse* order: rANS is a
stack. ``encode`` therefore pushes the message back to front, and the decoder reads it front to back.

x would grow without end; renormalisation keeps it below L * 2**32 (L = 2**31, so x fits 64 bits):
before pushing s, the encoder moves the low 32 bits of x to the output when pushing would leave the
interval; after popping, the decoder pulls a 32-bit word back in when x < L. Because L is a multiple of M,
the encoder's and decoder's tests agree exactly (the interval [L, L * 2**32) is "b-unique", Duda's
condition). The state starts at 0, not at L, so the first symbols fill it for free (it only enters
[L, L * 2**32) with the first word written; the decoder, having read every word, no longer pulls), and
the stream ends with the final state (8 bytes): the cost over the information content is at most those
64 bits plus the rounding of the probabilities to integers.

This is the course's reference coder: pure Python integers, one symbol at a time, with the same integer
frequency tables as ``entropy.arithmetic_encode``. ``compress``/``decompress`` frame it in the course's
container (``RansStreamError`` on a foreign or damaged stream), which the protocol and fuzz tests check.
Fast coders in Rust or C (constriction's ``AnsCoder``, ryg_rans) run the same arithmetic.
"""

from __future__ import annotations

import struct

import numpy as np

from . import container

__all__ = [
    "STATE_LOW",
    "MAX_PRECISION",
    "RansEncoder",
    "RansDecoder",
    "frequencies_from_probabilities",
    "encode",
    "decode",
    "RansStreamError",
    "compress",
    "decompress",
]

STATE_LOW = 1 << 31  #: L: the state lives in [L, L * 2**32)
_WORD = 32
_WORD_MASK = (1 << _WORD) - 1
MAX_PRECISION = 24  #: tables sum to 2**precision, 1 <= precision <= MAX_PRECISION


def _check_precision(precision: int) -> int:
    if not isinstance(precision, (int, np.integer)) or not 1 <= precision <= MAX_PRECISION:
        raise ValueError(f"precision must be an integer in 1..{MAX_PRECISION}, got {precision!r}")
    return int(precision)


class RansEncoder:
    """Push symbols with ``put(cumulative, frequency)``; ``finish()`` returns the bytes.

    The decoder pops them in the reverse order of the ``put`` calls (a stack): push a message back to
    front to decode it front to back (``encode`` does).
    """

    def __init__(self, precision: int) -> None:
        self.precision = _check_precision(precision)
        self.state = 0  # empty: the first symbols fill the state before any word is written
        self.words: list[int] = []  # renormalisation output, in the order written
        self.finished = False

    def put(self, cumulative: int, frequency: int) -> None:
        """Push one symbol occupying [cumulative, cumulative + frequency) of 0..2**precision."""
        if self.finished:
            raise RuntimeError("this encoder is finished")
        total = 1 << self.precision
        if frequency <= 0 or cumulative < 0 or cumulative + frequency > total:
            raise ValueError(
                f"symbol interval [{cumulative}, {cumulative + frequency}) must be non-empty and "
                f"inside [0, {total})"
            )
        # renormalise: the state after the push must stay below L * 2**32; x // f * M < L * 2**32
        # holds for x < (L / M) * 2**32 * f, so shift words out until x is below that
        limit = ((STATE_LOW >> self.precision) << _WORD) * frequency
        if self.state >= limit:  # x < L * 2**32, so one word out brings it below L <= limit
            self.words.append(self.state & _WORD_MASK)
            self.state >>= _WORD
        self.state = (
            (self.state // frequency << self.precision) + cumulative + self.state % frequency
        )

    def finish(self) -> bytes:
        """The stream: the final state (two words), then the renormalisation words last-written first,
        which is the order the decoder reads them; big-endian 32-bit words."""
        if not self.finished:
            self.words += [self.state & _WORD_MASK, self.state >> _WORD]
            self.finished = True
        return struct.pack(f">{len(self.words)}I", *reversed(self.words))


class RansDecoder:
    """Pop symbols from what RansEncoder wrote: ``slot()`` says where in 0..2**precision the next symbol
    lies, ``take(cumulative, frequency)`` removes it; ``finish()`` checks the stream ended cleanly."""

    def __init__(self, data: bytes, precision: int) -> None:
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        self.precision = _check_precision(precision)
        if len(data) % 4 or len(data) < 8:
            raise ValueError(
                f"an rANS stream is whole 32-bit words, at least two; got {len(data)} bytes"
            )
        self.words = struct.unpack(f">{len(data) // 4}I", bytes(data))
        self.position = 2
        self.state = (self.words[0] << _WORD) | self.words[1]
        if self.state >= STATE_LOW << _WORD or (len(self.words) > 2 and self.state < STATE_LOW):
            raise ValueError(
                "the stream's final state is outside [L, L * 2**32): not an rANS stream"
            )

    def slot(self) -> int:
        """The next symbol's position on the scale 0..2**precision (its cumulative interval holds it)."""
        return self.state & ((1 << self.precision) - 1)

    def take(self, cumulative: int, frequency: int) -> None:
        """Pop the symbol [cumulative, cumulative + frequency) found with ``slot``."""
        slot = self.slot()
        if not cumulative <= slot < cumulative + frequency:
            raise ValueError(
                f"slot {slot} is not in the symbol's interval [{cumulative}, +{frequency})"
            )
        self.state = frequency * (self.state >> self.precision) + slot - cumulative
        # pull a word back in; once every word is read, the state is one the encoder built from 0
        if self.state < STATE_LOW and self.position < len(self.words):
            self.state = (self.state << _WORD) | self.words[self.position]
            self.position += 1

    def finish(self) -> None:
        """An intact stream ends where it began: every word read and the state back at 0."""
        if self.position != len(self.words) or self.state != 0:
            raise ValueError(
                f"the stream did not end cleanly ({len(self.words) - self.position} words unread, "
                f"state {self.state:#x} instead of 0)"
            )


def frequencies_from_probabilities(probabilities, precision: int = 16) -> np.ndarray:
    """Integer frequencies >= 1 summing to 2**precision, one table per row of ``probabilities``.

    Every symbol keeps at least 1 (anything may still be coded); the rest of the scale is shared in
    proportion to p by floor, and the rounding remainder goes to each row's most probable symbol.
    Floors of exact float64 products: the same tables on every machine for the same probabilities.
    """
    precision = _check_precision(precision)
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim not in (1, 2) or p.shape[-1] == 0:
        raise ValueError("probabilities must be one table (1-D) or one per symbol (2-D)")
    if not np.isfinite(p).all() or (p < 0).any() or (p.sum(-1) <= 0).any():
        raise ValueError("probabilities must be finite, >= 0 and not all 0 in a table")
    alphabet = p.shape[-1]
    total = 1 << precision
    if alphabet > total:
        raise ValueError(f"{alphabet} symbols do not fit a scale of 2**{precision}")
    p = p / p.sum(-1, keepdims=True)
    counts = np.floor(p * (total - alphabet)).astype(np.int64) + 1
    remainder = total - counts.sum(-1)
    rows = counts.reshape(-1, alphabet)
    rows[np.arange(len(rows)), p.reshape(-1, alphabet).argmax(-1)] += np.ravel(remainder)
    return counts


def _tables(frequencies, count: int) -> tuple[np.ndarray | None, list | None, int]:
    """(static cumulative table or None, per-symbol tables or None, precision) of validated tables."""
    tables = np.asarray(frequencies)
    if tables.ndim not in (1, 2) or tables.shape[-1] == 0 or tables.dtype.kind not in "iu":
        raise ValueError("frequencies must be integer: one table (1-D) or one per symbol (2-D)")
    if tables.ndim == 2 and len(tables) != count:
        raise ValueError(f"got {len(tables)} frequency tables for {count} symbols")
    if (tables < 0).any():
        raise ValueError("frequencies must be >= 0")
    if tables.ndim == 2 and len(tables) == 0:
        return None, [], 1  # no symbols: no table, any precision
    totals = np.unique(tables.sum(-1))
    if totals.size != 1 or int(totals[0]) & (int(totals[0]) - 1) or totals[0] < 2:
        raise ValueError(
            f"every table must sum to the same power of two 2**precision, got totals {totals[:4]}"
        )
    precision = _check_precision(int(totals[0]).bit_length() - 1)
    cumulative = np.concatenate(
        [np.zeros(tables.shape[:-1] + (1,), np.int64), np.cumsum(tables, -1)], -1
    )
    if tables.ndim == 1:
        return cumulative.tolist(), None, precision
    return None, cumulative.tolist(), precision


def encode(symbols, frequencies) -> bytes:
    """Code symbols with rANS. frequencies: one integer table for all symbols (a static model) or one
    per symbol (2-D), each summing to 2**precision (precision <= 24); every coded symbol needs a
    frequency >= 1. Decode with ``decode(data, len(symbols), frequencies)``."""
    symbols = [int(s) for s in np.asarray(symbols).ravel()]
    static, tables, precision = _tables(frequencies, len(symbols))
    encoder = RansEncoder(precision)
    for index in range(len(symbols) - 1, -1, -1):  # back to front: the decoder pops front to back
        cumulative = static if tables is None else tables[index]
        symbol = symbols[index]
        if not 0 <= symbol < len(cumulative) - 1 or cumulative[symbol + 1] == cumulative[symbol]:
            raise ValueError(
                f"symbol {symbol} at position {index} has zero frequency or is out of range"
            )
        encoder.put(cumulative[symbol], cumulative[symbol + 1] - cumulative[symbol])
    return encoder.finish()


def decode(data: bytes, num_symbols: int, frequencies) -> np.ndarray:
    """Decode ``num_symbols`` symbols written by ``encode`` with the same frequencies (int64 array).

    Raises ValueError when the stream is not one ``encode`` wrote with these tables and this length."""
    import bisect

    if num_symbols < 0:
        raise ValueError("num_symbols must be >= 0")
    static, tables, precision = _tables(frequencies, num_symbols)
    decoder = RansDecoder(data, precision)
    out = np.empty(num_symbols, np.int64)
    for index in range(num_symbols):
        cumulative = static if tables is None else tables[index]
        symbol = bisect.bisect_right(cumulative, decoder.slot()) - 1
        decoder.take(cumulative[symbol], cumulative[symbol + 1] - cumulative[symbol])
        out[index] = symbol
    decoder.finish()
    return out


# ---- the course's protocol: a framed, checksummed file -----------------------------------------------


class RansStreamError(container.StreamError):
    """A stream that is not an rANS file of these tables, or is damaged."""


_MAGIC, _VERSION = b"NCWA", 1
_HEADER = ">IBII"  # symbols, precision, CRC-32 of the tables, CRC-32 of the symbols


def compress(frequencies, symbols) -> bytes:
    """Symbols -> self-describing bytes (container: count, precision, the tables' CRC, the symbols'
    CRC). ``frequencies`` is the model: one integer table or one per symbol, as for ``encode``."""
    symbols = np.asarray(symbols)
    if symbols.ndim != 1 or (symbols.size and symbols.dtype.kind not in "iu"):
        raise ValueError("symbols must be a 1-D array of integers")
    symbols = symbols.astype(np.int64)
    tables = np.asarray(frequencies, dtype=np.int64)
    if tables.ndim == 1 and tables.size and tables.max() == tables.sum():
        raise ValueError(
            "a table with one possible symbol needs no coder (its symbols cost 0 bits)"
        )
    payload = encode(symbols, tables)
    header = struct.pack(
        _HEADER,
        symbols.size,
        _tables(tables, symbols.size)[2],
        container.content_crc(tables),
        container.content_crc(symbols),
    )
    return container.pack(_MAGIC, _VERSION, header, payload)


def decompress(frequencies, data: bytes) -> np.ndarray:
    """Decode ``compress``'s bytes with the same tables; raises RansStreamError for a foreign, damaged
    or truncated stream, or other tables."""
    header, payload = container.unpack(data, _MAGIC, _VERSION, RansStreamError)
    count, precision, tables_crc, symbols_crc = container.read_fields(
        header, _HEADER, RansStreamError
    )
    tables = np.asarray(frequencies, dtype=np.int64)
    if container.content_crc(tables) != tables_crc:
        raise RansStreamError("this stream was written with other frequency tables")
    with container.decoding(RansStreamError, "the tables"):
        if _tables(tables, count if tables.ndim == 2 else 0)[2] != precision:
            raise RansStreamError(f"the header's precision {precision} is not the tables'")
    # a symbol costs at least -log2(largest frequency / 2**precision) bits: a bound on the count
    least_bits = -np.log2(tables.max() / 2.0**precision) if tables.size else 0.0
    if (
        (tables.ndim == 1 and least_bits == 0)
        or count * least_bits > 8 * len(payload) + 64
        or (tables.ndim == 2 and count != len(tables))
    ):
        raise RansStreamError(
            f"{count} symbols cannot be in {len(payload)} bytes with these tables"
        )
    with container.decoding(RansStreamError, "the rANS decoder"):
        symbols = decode(payload, count, tables)
    container.check_content(symbols_crc, RansStreamError, symbols)
    return symbols
