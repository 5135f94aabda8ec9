"""helpers.container: the file layout of the course's coders (magic, version, header, CRC-32)."""

import numpy as np
import pytest
import torch

from helpers import container


def test_container_frames_checks_and_refuses():
    data = container.pack(b"TEST", 3, b"head", b"payload")
    assert container.unpack(data, b"TEST", 3, container.StreamError) == (b"head", b"payload")
    with pytest.raises(container.StreamError, match="version"):
        container.unpack(data, b"TEST", 4, container.StreamError)
    with pytest.raises(container.StreamError, match="damaged"):
        container.unpack(data[:-1] + b"X", b"TEST", 3, container.StreamError)
    with pytest.raises(TypeError):
        container.unpack("text", b"TEST", 3, container.StreamError)
    rng = np.random.default_rng(0)
    for kind in container.DAMAGE_KINDS:
        assert container.damage(data, kind, rng, header_bytes=8) != data or kind == "header_flip"
    with pytest.raises(ValueError, match="kind"):
        container.damage(data, "fire", rng)


def test_fields_lengths_and_fingerprints():
    assert container.read_fields(b"\x00\x02\x00\x03", ">HH", container.StreamError) == (2, 3)
    with pytest.raises(container.StreamError, match="expected 4"):
        container.read_fields(b"\x00\x02", ">HH", container.StreamError)
    assert container.split_lengths(b"abcdef", [2, 4], container.StreamError) == [b"ab", b"cdef"]
    with pytest.raises(container.StreamError, match="add up"):
        container.split_lengths(b"abcdef", [2, 5], container.StreamError)
    torch.manual_seed(0)
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    assert container.fingerprint(a) == container.fingerprint(a)
    assert container.fingerprint(a) != container.fingerprint(b)
    container.check_fingerprint(a, container.fingerprint(a), container.StreamError)
    with pytest.raises(container.StreamError, match="another model"):
        container.check_fingerprint(b, container.fingerprint(a), container.StreamError)
    pixels = np.arange(12, dtype=np.uint8)
    container.check_content(container.content_crc(pixels), container.StreamError, pixels)
    with pytest.raises(container.StreamError, match="checksum"):
        container.check_content(container.content_crc(pixels), container.StreamError, pixels[::-1])
