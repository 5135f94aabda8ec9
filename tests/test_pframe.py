"""Chapter 10's learned P-frame codec on the course's protocol: bytes in, frames out, its own error."""

import numpy as np
import pytest

from helpers import container, data
from helpers.video import hybrid, pframe


@pytest.fixture(scope="module")
def model():
    return pframe.load_pretrained("pframe", 1)


@pytest.fixture(scope="module")
def frames():
    try:
        seq = data.video_sequence("foreman", 3, start=50)
    except data.DataUnavailableError as error:
        pytest.skip(str(error))
    return {"y": seq["y"][:, :48, :64], "u": seq["u"][:, :24, :32], "v": seq["v"][:, :24, :32]}


def test_bytes_alone_decode_to_what_the_encoder_reconstructed(model, frames):
    data_ = pframe.compress(model, frames, quality=30)
    assert isinstance(data_, bytes) and data_[:4] == b"NCWF"
    decoded = pframe.decompress(model, data_)
    assert set(decoded) == {"y", "u", "v"} and decoded["y"].shape == (3, 48, 64)
    assert decoded["u"].shape == (3, 24, 32) and decoded["y"].dtype == np.uint8
    # the same planes as the encoder's own loop: frame 0 from the hybrid codec's I-frame, then P-frames
    first = hybrid.decode(hybrid.encode({k: v[:1] for k, v in frames.items()}, 30))
    coded = pframe.code_sequence(model, frames, [first[k][0] for k in "yuv"])
    for key in "yuv":
        np.testing.assert_array_equal(decoded[key], coded["decoded"][key])
    # the file is the I-frame and the P-frames' strings, a length table and the container's fields
    assert len(data_) > sum(coded["bytes"])


def test_damage_another_model_and_bad_input_are_refused(model, frames):
    data_ = pframe.compress(model, frames)
    for bad in (data_[:-3], data_ + b"\0", b"", b"NCWH" + data_[4:]):
        with pytest.raises(pframe.PFrameStreamError):
            pframe.decompress(model, bad)
    with pytest.raises(pframe.PFrameStreamError, match="another model"):
        pframe.decompress(pframe.load_pretrained("pframe", 2), data_)
    for index, forged in container.forged_headers(data_):
        if index == 6:  # the I-frame's quality: not read by the decoder (the I-frame carries it)
            continue
        with pytest.raises(pframe.PFrameStreamError):
            pframe.decompress(model, forged)
    with pytest.raises(ValueError, match="multiples of 16"):
        pframe.compress(model, {k: v[:, : -2 if k == "y" else -1] for k, v in frames.items()})
    with pytest.raises(ValueError, match="quality"):
        pframe.compress(model, frames, quality=0)
    assert issubclass(pframe.PFrameStreamError, container.StreamError)


def test_the_loader_has_the_one_signature():
    with pytest.raises(ValueError, match="quality"):
        pframe.load_pretrained("pframe", 3)
    with pytest.raises(FileNotFoundError):
        pframe.load_pretrained("dvc")
