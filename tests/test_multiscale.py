"""The parallel (multi-scale) lossless codec of chapter 3: pyramid bookkeeping, the loss, bit-exact
round trips on odd sizes, the file's ideal length, and refusals of wrong inputs and files."""

import math
import struct

import numpy as np
import pytest
import torch

from helpers import container, multiscale


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return multiscale.build_model(hidden=8, blocks=1, mixtures=2).eval()


def _photo_like(height, width, seed=0):
    """A smooth colour image with a little noise (what the codec is for), uint8 (H, W, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = 128 + 60 * np.sin(xx / 7.0)[..., None] * np.cos(yy / 5.0)[..., None] * np.array(
        [1, 0.8, 0.5]
    )
    return np.clip(base + rng.normal(0, 3, (height, width, 3)), 0, 255).astype(np.uint8)


def test_polyphase_and_interleave_are_inverse_for_odd_sizes():
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).reshape(2, 3, 5, 7)
    parts = multiscale.polyphase(x)
    assert {k: tuple(v.shape) for k, v in parts.items()} == {k: (2, 3, 3, 4) for k in "ABCD"}
    np.testing.assert_array_equal(parts["D"][0, 0, :2, :3].numpy(), x[0, 0, 1::2, 1::2].numpy())
    np.testing.assert_array_equal(multiscale._interleave(parts, 5, 7).numpy(), x.numpy())


def test_pyramid_stops_below_the_base_side():
    sizes = multiscale.pyramid(512, 768)
    assert sizes[0] == (512, 768) and min(sizes[-1]) < multiscale.BASE_SIDE <= min(sizes[-2])
    assert sizes[1] == (256, 384) and len(sizes) == 6
    assert multiscale.pyramid(31, 1000) == [(31, 1000)]  # too small to split: all base
    assert multiscale.pyramid(33, 65)[1] == (17, 33)  # odd sides round up (A has the extra row)


@pytest.mark.parametrize("shape", [(33, 47, 3), (64, 64, 3), (31, 20, 3), (40, 90, 3)])
def test_round_trip_is_bit_exact_and_the_file_is_near_its_ideal_length(tiny, shape):
    image = _photo_like(shape[0], shape[1], seed=shape[1])
    data = multiscale.compress(tiny, image)
    np.testing.assert_array_equal(multiscale.decompress(tiny, data), image)
    ideal_bits = multiscale.bits_per_subpixel(tiny, image) * image.size
    overhead = 8 * len(data) - ideal_bits
    trip = multiscale.round_trip(tiny, image)
    assert trip["bit_exact"] and trip["bits_per_subpixel"] == 8 * len(data) / image.size
    # the container's fixed fields and the range coder's last words; nothing that grows with the image
    assert -64 < overhead < 8 * 64, (overhead, len(data))


def test_bits_by_step_adds_up_and_counts_every_subpixel_once(tiny):
    image = _photo_like(45, 70)
    rows = multiscale.bits_by_step(tiny, multiscale.image_values(tiny, image))
    assert sum(r["subpixels"] for r in rows) == image.size
    assert rows[-1]["step"] == "base" and rows[-1]["bits"] == 8 * rows[-1]["subpixels"]
    assert [r["step"] for r in rows[:3]] == list(multiscale.STEPS)
    total = sum(r["bits"] for r in rows) / image.size
    assert math.isclose(total, multiscale.bits_per_subpixel(tiny, image), rel_tol=1e-9)


def test_the_loss_is_bits_and_training_lowers_it():
    torch.manual_seed(0)
    model = multiscale.build_model(hidden=8, blocks=1, mixtures=2)
    batch = torch.from_numpy(_photo_like(32, 32, 3).transpose(2, 0, 1).copy())[None].float() / 255
    batch = batch.repeat(2, 1, 1, 1)
    first = float(multiscale.bits_loss(model, batch))
    assert 4 < first < 14  # an untrained model spends about 8 bits on a subpixel
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        optimizer.zero_grad()
        loss = multiscale.bits_loss(model, batch)
        loss.backward()
        optimizer.step()
    assert float(loss) < first - 1.0


def test_colour_coupling_uses_only_earlier_channels(tiny):
    """G's distribution may depend on R, B's on R and G; R's on neither (the decoder reads R first)."""
    image = _photo_like(32, 32)
    x = multiscale.image_values(tiny, image)
    parts = multiscale.polyphase(x)
    with torch.no_grad():
        params, coefficients = tiny.step_parameters(0, multiscale.step_inputs(parts, 0))
        target = parts["D"].clone()
        before = multiscale._coupled(params, coefficients, target, tiny.mixtures)
        target[:, 2] = 255 - target[:, 2]  # change B
        after_b = multiscale._coupled(params, coefficients, target, tiny.mixtures)
        target[:, 0] = 255 - target[:, 0]  # change R
        after_r = multiscale._coupled(params, coefficients, target, tiny.mixtures)
    torch.testing.assert_close(before, after_b)  # no channel sees B
    torch.testing.assert_close(before[:, 0], after_r[:, 0])  # R sees nothing
    assert not torch.equal(before[:, 1], after_r[:, 1])  # G sees R


def test_wrong_inputs_and_damaged_files_are_refused(tiny):
    with pytest.raises(ValueError, match="RGB"):
        multiscale.compress(tiny, np.zeros((40, 40), np.uint8))
    image = _photo_like(40, 40)
    data = multiscale.compress(tiny, image)
    for bad in (data[:-3], data + b"\x00", b"", b"NCWP" + data[4:]):
        with pytest.raises(multiscale.MultiscaleStreamError):
            multiscale.decompress(tiny, bad)
    torch.manual_seed(1)
    other = multiscale.build_model(hidden=8, blocks=1, mixtures=2).eval()
    with pytest.raises(multiscale.MultiscaleStreamError, match="another model"):
        multiscale.decompress(other, data)
    header, payload = container.unpack(data, b"NCWM", 1, multiscale.MultiscaleStreamError)
    height, width, print_, crc = struct.unpack(">HHII", header)
    for forged in ((height + 1, width), (height, width - 1), (60000, 60000), (0, 5)):
        forged_data = container.pack(
            b"NCWM", 1, struct.pack(">HHII", *forged, print_, crc), payload
        )
        with pytest.raises(multiscale.MultiscaleStreamError):
            multiscale.decompress(tiny, forged_data)


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        multiscale.build_model("pixelcnn")
