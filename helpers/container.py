"""The one file layout of every coder the course writes: self-describing, versioned, checksummed.

    magic (4 bytes) | version (1) | header length (2) | header | CRC-32 of header + payload (4) | payload

The header is the coder's own ``struct`` record (shape and every parameter decoding needs), so a
decoder needs nothing the encoder knew. The CRC-32 (as in PNG chunks and zip) is checked before any
field is read: a truncated, extended or bit-flipped file is refused before it reaches an entropy
decoder, which in native code may crash on garbage. Standard formats such as JPEG carry no checksum;
their decoders resynchronize on restart markers instead (chapter 1).
"""

from __future__ import annotations

import contextlib
import math
import struct
import zlib

import numpy as np

__all__ = [
    "StreamError",
    "pack",
    "unpack",
    "read_fields",
    "split_lengths",
    "decoding",
    "content_crc",
    "check_content",
    "fingerprint",
    "check_fingerprint",
    "DAMAGE_KINDS",
    "damage",
    "forged_headers",
    "BitBudget",
]

_PREFIX = ">4sBH"


class StreamError(ValueError):
    """A stream that is not a file of the coder that reads it, or is damaged. Each coder subclasses it."""


def pack(magic: bytes, version: int, header: bytes, payload: bytes) -> bytes:
    """Frame ``header`` and ``payload`` with the magic, the format version and a CRC-32."""
    if len(magic) != 4:
        raise ValueError(f"magic must be 4 bytes, got {magic!r}")
    if len(header) > 0xFFFF:
        raise ValueError(f"header too long ({len(header)} bytes)")
    checksum = zlib.crc32(header + payload) & 0xFFFFFFFF
    return (
        struct.pack(_PREFIX, magic, version, len(header))
        + header
        + struct.pack(">I", checksum)
        + payload
    )


def unpack(data, magic: bytes, version: int, error: type[StreamError]) -> tuple[bytes, bytes]:
    """(header, payload) of a framed stream; raises ``error`` naming what is wrong."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    size = struct.calcsize(_PREFIX)
    if len(data) < size + 4 or data[:4] != magic:
        raise error(f"not a {magic.decode(errors='replace')} stream (expected magic {magic!r})")
    _, found_version, header_length = struct.unpack(_PREFIX, data[:size])
    if found_version != version:
        raise error(
            f"{magic!r} format version {found_version}; this decoder reads version {version}"
        )
    if len(data) < size + header_length + 4:
        raise error("truncated stream: the header is incomplete")
    header = data[size : size + header_length]
    (checksum,) = struct.unpack(">I", data[size + header_length : size + header_length + 4])
    payload = data[size + header_length + 4 :]
    if zlib.crc32(header + payload) & 0xFFFFFFFF != checksum:
        raise error("damaged stream: the CRC-32 of its header and payload does not match")
    return header, payload


def read_fields(header: bytes, layout: str, error: type[StreamError]) -> tuple:
    """Unpack a header with a ``struct`` layout, raising ``error`` when its length is wrong."""
    if len(header) != struct.calcsize(layout):
        raise error(f"header has {len(header)} bytes, expected {struct.calcsize(layout)}")
    return struct.unpack(layout, header)


def split_lengths(payload: bytes, lengths: list[int], error: type[StreamError]) -> list[bytes]:
    """Cut a payload into parts of the given lengths, which must add up to the whole payload."""
    if any(length < 0 for length in lengths) or sum(lengths) != len(payload):
        raise error(f"the header's part lengths {lengths} do not add up to {len(payload)} bytes")
    parts, offset = [], 0
    for length in lengths:
        parts.append(payload[offset : offset + length])
        offset += length
    return parts


@contextlib.contextmanager
def decoding(error: type[StreamError], what: str = "the entropy decoder"):
    """Turn what a decoder raises on a stream it cannot read (RuntimeError, ValueError, IndexError,
    AssertionError, and ArithmeticError: an integer network whose sums would leave float64's exact
    range on forged inputs) into the coder's documented error."""
    try:
        yield
    except error:
        raise
    except (RuntimeError, ValueError, IndexError, AssertionError, ArithmeticError) as failure:
        raise error(f"{what} failed on this stream ({failure})") from failure


class BitBudget:
    """The information a range decoder may still hand out: a stream of ``payload_bytes`` holds at most
    8 x payload_bytes + 64 bits of information (Σ -log2 p of its symbols, the coder's 64-bit state
    aside). ``spend(p)`` after each decoded symbol (p: the probability the coder used, exactly) raises
    ``error`` as soon as the symbols decoded so far carry more than that: a header that declares more
    symbols than the payload can hold (a forged size) is refused after a few symbols past the end of
    the data, instead of after decoding the whole declared image."""

    def __init__(self, payload_bytes: int, error: type[StreamError], margin_bits: float = 96.0):
        self.limit = 8.0 * payload_bytes + margin_bits
        self.spent = 0.0
        self.error = error

    def spend(self, probability: float) -> None:
        self.spent -= math.log2(probability) if probability > 0 else math.inf
        if self.spent > self.limit:
            raise self.error(
                f"the symbols decoded so far carry {self.spent:.0f} bits of information, more than "
                f"the {self.limit - 96:.0f}-bit payload can hold: the header declares more than the "
                "file contains"
            )


def content_crc(*arrays) -> int:
    """CRC-32 of what a decoder reconstructs (entropy-decoded symbols or pixels): the encoder writes
    it, the decoder compares, so a stream that parses but decodes to something else is refused."""
    crc = 0
    for array in arrays:
        if hasattr(array, "detach"):
            array = array.detach().to("cpu").contiguous().numpy()
        crc = zlib.crc32(np.ascontiguousarray(array).tobytes(), crc)
    return crc & 0xFFFFFFFF


def check_content(expected: int, error: type[StreamError], *arrays) -> None:
    """Raise ``error`` unless the decoded arrays have the CRC-32 the encoder wrote."""
    if content_crc(*arrays) != expected:
        raise error(
            "decoded content does not match the encoder's checksum: the stream is damaged, or this "
            "machine's arithmetic differs from the encoder's"
        )


def fingerprint(model) -> int:
    """CRC-32 of a model's parameters (names, shapes and values): written into a stream so that a
    decoder handed another model (another quality, another training run) refuses it."""
    crc = 0
    for name, parameter in sorted(model.named_parameters()):
        crc = zlib.crc32(f"{name}{tuple(parameter.shape)}".encode(), crc)
        crc = zlib.crc32(parameter.detach().to("cpu").contiguous().numpy().tobytes(), crc)
    return crc & 0xFFFFFFFF


def check_fingerprint(model, expected: int, error: type[StreamError]) -> None:
    """Raise ``error`` unless ``model`` is the model whose fingerprint the stream recorded."""
    if fingerprint(model) != expected:
        raise error(
            "this stream was written with another model (its parameters' fingerprint differs): "
            "decode it with the model that encoded it"
        )


DAMAGE_KINDS = ("truncate", "payload_flip", "header_flip", "append", "random", "forged_header")


def damage(data: bytes, kind: str, rng, header_bytes: int = 24) -> bytes:
    """A damaged copy of a file, as a flaky disk or a lossy link makes one (for fuzzing decoders).

    kind: "truncate" (cut anywhere), "payload_flip" (1-3 bits after the first ``header_bytes``),
    "header_flip" (1-2 bits in the first ``header_bytes``), "append" (1-64 random bytes),
    "random" (random bytes, half of them behind the right 5-byte prefix), "forged_header" (header
    bits flipped and the CRC-32 recomputed, as a buggy encoder writes: only field checks catch it).
    rng: a numpy Generator.
    """
    data = bytearray(data)
    if kind == "truncate":
        return bytes(data[: int(rng.integers(0, len(data)))])
    if kind in ("payload_flip", "header_flip"):
        low, high = (
            (min(header_bytes, len(data) - 1), len(data))
            if kind == "payload_flip"
            else (0, min(header_bytes, len(data)))
        )
        for _ in range(int(rng.integers(1, 4 if kind == "payload_flip" else 3))):
            data[int(rng.integers(low, high))] ^= 1 << int(rng.integers(0, 8))
        return bytes(data)
    if kind == "append":
        return (
            bytes(data) + rng.integers(0, 256, int(rng.integers(1, 65)), dtype=np.uint8).tobytes()
        )
    if kind == "random":
        noise = rng.integers(
            0, 256, int(rng.integers(0, 2 * len(data) + 8)), dtype=np.uint8
        ).tobytes()
        return bytes(data[:5]) + noise if rng.random() < 0.5 else noise
    if kind == "forged_header":
        magic, version, length = struct.unpack(_PREFIX, bytes(data[:7]))
        header = bytearray(data[7 : 7 + length])
        payload = bytes(data[7 + length + 4 :])
        if header:
            for _ in range(int(rng.integers(1, 3))):
                header[int(rng.integers(0, len(header)))] ^= 1 << int(rng.integers(0, 8))
        return pack(magic, version, bytes(header), payload)
    raise ValueError(f"kind must be one of {DAMAGE_KINDS}, got {kind!r}")


def forged_headers(data: bytes) -> list[tuple[int, bytes]]:
    """Every header byte of a container file changed in turn (its bits inverted, then + 1), each with
    the CRC-32 recomputed, as a buggy or hostile encoder writes them: [(byte index, file), ...]. A
    decoder must refuse each (or decode the same picture) quickly, from its field checks."""
    magic, version, length = struct.unpack(_PREFIX, bytes(data[:7]))
    header = bytes(data[7 : 7 + length])
    payload = bytes(data[7 + length + 4 :])
    out = []
    for index in range(len(header)):
        for value in (header[index] ^ 0xFF, (header[index] + 1) & 0xFF):
            forged = bytearray(header)
            forged[index] = value
            out.append((index, pack(magic, version, bytes(forged), payload)))
    return out
