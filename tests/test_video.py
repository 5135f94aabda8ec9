"""The toy hybrid video codec: exp-Golomb bits, motion search, bit-exact decoding in every filter mode."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import filters, fixedpoint, video


def _moving_frames(count=3, size=(32, 48), shift=(1, 2), seed=0):
    """A textured frame translated by ``shift`` per frame: motion the search must find."""
    rng = np.random.default_rng(seed)
    height, width = size
    big = rng.integers(0, 256, (height + 40, width + 40)).astype(np.float64)
    big = (big + np.roll(big, 1, 0) + np.roll(big, 1, 1) + np.roll(big, 1, (0, 1))) / 4
    frames = [
        big[
            20 - k * shift[0] : 20 - k * shift[0] + height,
            20 - k * shift[1] : 20 - k * shift[1] + width,
        ]
        for k in range(count)
    ]
    return np.round(np.stack(frames)).astype(np.uint8)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-5000, 5000), min_size=1, max_size=50))
def test_exp_golomb_round_trip(values):
    writer = video.BitWriter()
    for value in values:
        writer.signed(value)
        writer.unsigned(abs(value))
    reader = video.BitReader(writer.to_bytes())
    for value in values:
        assert reader.signed() == value
        assert reader.unsigned() == abs(value)


def test_exp_golomb_codes_by_hand():
    writer = video.BitWriter()
    for value in (0, 1, 2, 3):
        writer.unsigned(value)
    assert writer.bits == [1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0]  # 1, 010, 011, 00100


def test_motion_search_finds_a_translation():
    frames = _moving_frames(count=2, shift=(1, 2))
    vectors = video.motion_search(frames[1], frames[0], search_range=4)
    # frame 1 = frame 0 moved by (+1, +2): each block comes from (-1, -2) in the reference
    inner = vectors[:, 1:]  # blocks on the left edge see replicated pixels
    assert np.all(inner == [-1, -2])
    prediction = video.motion_compensate(frames[0], vectors, search_range=4)
    assert np.array_equal(prediction[16:, 16:], frames[1][16:, 16:])


@pytest.mark.parametrize("mode", video.FILTER_MODES)
@pytest.mark.parametrize("loop_filter", [None, "deblock", "learned"])
def test_decoder_reproduces_the_encoder_bit_exactly(mode, loop_filter):
    frames = _moving_frames(count=3)
    if loop_filter == "learned":
        loop_filter = filters.build_model("dncnn", features=8, depth=3)
    encoded = video.analyze(frames, quality=20, loop_filter=loop_filter, mode=mode)
    decoded = video.decode(encoded.data, loop_filter=loop_filter)["y"]
    np.testing.assert_array_equal(decoded, encoded.displayed)
    assert sum(encoded.bits_per_frame) <= 8 * len(encoded.data)
    if mode == "in-loop" and loop_filter is not None:
        np.testing.assert_array_equal(encoded.references, encoded.displayed)


def test_in_loop_filter_changes_the_references():
    frames = _moving_frames(count=3)
    post = video.analyze(frames, 10, "deblock", mode="post")
    loop = video.analyze(frames, 10, "deblock", mode="in-loop")
    np.testing.assert_array_equal(post.displayed[0], loop.displayed[0])  # the I-frame is the same
    assert not np.array_equal(post.references[1], loop.references[1])
    assert post.bits_per_frame[0] == loop.bits_per_frame[0]


def test_quality_trades_bits_for_psnr():
    frames = _moving_frames(count=3)
    low, high = video.analyze(frames, 10, mode="none"), video.analyze(frames, 60, mode="none")
    assert len(low.data) < len(high.data)
    assert video.luma_psnr(frames, low.displayed) < video.luma_psnr(frames, high.displayed)


def test_bad_input_and_corrupt_streams():
    frames = _moving_frames(count=2)
    with pytest.raises(ValueError, match="multiples of 16"):
        video.analyze(frames[:, :30])
    with pytest.raises(ValueError, match="uint8"):
        video.analyze(frames.astype(np.float32))
    with pytest.raises(ValueError, match="mode"):
        video.analyze(frames, mode="sideways")
    with pytest.raises(ValueError, match="loop_filter"):
        video.analyze(frames, loop_filter="sao")
    with pytest.raises(TypeError, match="loop_filter"):
        video.analyze(frames, loop_filter=3)
    encoded = video.analyze(frames, 20)
    assert video.encode(frames, 20) == encoded.data  # encode is analyze's file
    with pytest.raises(video.VideoStreamError, match="magic"):
        video.decode(b"XXXX" + encoded.data[4:])
    with pytest.raises(video.VideoStreamError, match="damaged|truncated"):
        video.decode(encoded.data[: len(encoded.data) // 2])
    custom = filters.build_model("dncnn", features=8, depth=3)
    learned = video.analyze(frames, 20, custom)
    with pytest.raises(video.VideoStreamError, match="custom learned loop filter"):
        video.decode(learned.data)
    np.testing.assert_array_equal(video.decode(learned.data, custom)["y"], learned.displayed)
    other = filters.build_model("dncnn", features=8, depth=3)
    with pytest.raises(video.VideoStreamError, match="another model"):
        video.decode(learned.data, other)


def test_foreman_round_trip(shared_data):
    from helpers import data

    luma = data.foreman_qcif(3)["y"]
    encoded = video.analyze(luma, 30, "deblock", mode="in-loop")
    np.testing.assert_array_equal(video.decode(encoded.data)["y"], encoded.displayed)
    assert encoded.bits_per_frame[0] > max(encoded.bits_per_frame[1:])  # P-frames are cheaper
    assert video.luma_psnr(luma, encoded.displayed) > 30


def test_a_shipped_filter_is_named_in_the_file_and_decoded_from_the_bytes_alone():
    frames = _moving_frames(count=2)
    encoded = video.analyze(frames, 20, "conditioned", mode="in-loop")
    np.testing.assert_array_equal(video.decode(encoded.data)["y"], encoded.displayed)


def test_the_integer_loop_filter_keeps_encoder_and_decoder_references_identical_on_every_path():
    frames = _moving_frames(count=3)
    encoded = video.analyze(frames, 20, "conditioned-int", mode="in-loop")
    assert np.array_equal(video.decode(encoded.data)["y"], encoded.displayed)
    with fixedpoint.integer_path("numpy"):
        assert np.array_equal(video.decode(encoded.data)["y"], encoded.displayed)
    float_run = video.analyze(frames, 20, "conditioned", mode="in-loop")
    gap = abs(
        video.luma_psnr(frames, encoded.displayed) - video.luma_psnr(frames, float_run.displayed)
    )
    assert gap < 0.05
    with pytest.raises(ValueError, match="conditioned-int"):
        video.encode(frames, 20, "dncnn-int")
