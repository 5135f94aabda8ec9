"""PixelCNN: exact causality (gradients), the blind spot and its fix, normalized outputs, bits."""

import math

import numpy as np
import pytest
import torch

from helpers import data, fixedpoint, pixelcnn


def _gradient_of_output(model, position, size=8):
    """d(sum of the distribution parameters at one subpixel) / d(input), for a random input."""
    torch.manual_seed(0)
    x = torch.rand(1, model.channels, size, size, requires_grad=True)
    channel, row, col = position
    params = model(x)[0, channel, :, row, col]
    params.sum().backward()
    return x.grad[0].abs().sum(dim=0), x.grad[0]  # per position, and per channel


def _future_mask(size, row, col):
    future = torch.zeros(size, size, dtype=torch.bool)
    future[row, col:] = True
    future[row + 1 :] = True
    return future


@pytest.mark.parametrize("cls", [pixelcnn.PixelCNN, pixelcnn.GatedPixelCNN])
@pytest.mark.parametrize("output", pixelcnn.OUTPUTS)
def test_no_output_depends_on_the_future(cls, output):
    model = cls(channels=3, hidden=12, num_layers=3, output=output, mixtures=2)
    for channel in range(3):
        for row, col in [(0, 0), (3, 4), (7, 7), (5, 0)]:
            _, grad = _gradient_of_output(model, (channel, row, col))
            future = _future_mask(8, row, col)
            future[row, col] = False  # the current pixel: checked channel by channel below
            # later pixels: nothing; the same pixel: only the channels before this one
            assert torch.all(grad[:, future] == 0)
            assert torch.all(grad[channel:, row, col] == 0)
            if channel > 0:
                assert grad[:channel, row, col].abs().sum() > 0  # and it does use R (and G)


def test_grayscale_models_are_causal_too():
    for cls in (pixelcnn.PixelCNN, pixelcnn.GatedPixelCNN):
        model = cls(channels=1, hidden=8, num_layers=3)
        _, grad = _gradient_of_output(model, (0, 4, 4))
        assert torch.all(grad[0, 4, 4:] == 0) and torch.all(grad[0, 5:] == 0)


def test_the_blind_spot_and_its_fix():
    # PixelCNN's stacked masked 3x3 convolutions never see the pixels up and to the right beyond
    # a diagonal; the gated model's vertical stack sees the whole rectangle above.
    row, col = 7, 3
    plain = pixelcnn.PixelCNN(channels=1, hidden=8, num_layers=4)
    gated = pixelcnn.GatedPixelCNN(channels=1, hidden=8, num_layers=4)
    seen_plain, _ = _gradient_of_output(plain, (0, row, col), size=12)
    seen_gated, _ = _gradient_of_output(gated, (0, row, col), size=12)
    above_right = (row - 1, col + 4)  # one row up, four columns to the right
    assert seen_plain[above_right] == 0
    assert seen_gated[above_right] > 0


@pytest.mark.parametrize("output", pixelcnn.OUTPUTS)
def test_distributions_are_normalized(output):
    model = pixelcnn.PixelCNN(channels=3, hidden=6, num_layers=1, output=output, mixtures=3)
    x = torch.rand(2, 3, 5, 6)
    with torch.no_grad():
        logp = pixelcnn.log_probabilities(model, x)
    assert logp.shape == (2, 3, 256, 5, 6)
    torch.testing.assert_close(logp.exp().sum(dim=2), torch.ones(2, 3, 5, 6), rtol=1e-4, atol=1e-4)


def test_bits_per_subpixel_and_map():
    model = pixelcnn.PixelCNN(channels=3, hidden=6, num_layers=1)
    torch.nn.init.zeros_(model.head.out.weight)
    torch.nn.init.zeros_(model.head.out.bias)  # uniform over 256 values: exactly 8 bits
    image = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    assert pixelcnn.bits_per_subpixel(model, image) == pytest.approx(8.0, abs=1e-5)
    assert np.allclose(pixelcnn.bits_map(model, image), 24.0, atol=1e-4)
    with pytest.raises(ValueError, match="channel"):
        pixelcnn.bits_per_subpixel(model, image[..., 0])


def test_sampling_follows_the_model():
    model = pixelcnn.PixelCNN(channels=1, hidden=4, num_layers=1)
    torch.nn.init.zeros_(model.head.out.weight)
    with torch.no_grad():
        model.head.out.bias.fill_(-30.0)
        model.head.out.bias[77] = 30.0  # all the mass on value 77
    samples = pixelcnn.sample(model, 3, 4, num_samples=2)
    assert samples.shape == (2, 3, 4) and np.all(samples == 77)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mask_type"):
        pixelcnn.MaskedConv2d(3, 6, 3, "C")
    with pytest.raises(ValueError, match="odd"):
        pixelcnn.MaskedConv2d(3, 6, 4, "A")
    with pytest.raises(ValueError, match="divisible by 3"):
        pixelcnn.PixelCNN(channels=3, hidden=10)
    with pytest.raises(ValueError, match="output"):
        pixelcnn.PixelCNN(output="gaussian")
    with pytest.raises(ValueError, match="channels"):
        pixelcnn.PixelCNN(channels=2)
    assert math.isclose(pixelcnn.channel_groups(6).tolist()[3], 1)


def test_mixture_loss_at_the_values_equals_the_full_table():
    model = pixelcnn.PixelCNN(
        channels=3, hidden=6, num_layers=1, output="logistic_mixture", mixtures=3
    )
    x = torch.rand(2, 3, 5, 6)
    x[0, 0, 0, :2] = torch.tensor([0.0, 1.0])  # the two edge bins
    values = torch.round(x * 255).long()
    with torch.no_grad():
        table = pixelcnn.log_probabilities(model, x).gather(2, values.unsqueeze(2)).squeeze(2)
        direct = -pixelcnn.bits_loss(model, x) * math.log(2)  # the loss computes only these bins
    torch.testing.assert_close(direct, table.mean(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", [pixelcnn.PixelCNN, pixelcnn.GatedPixelCNN])
def test_lossless_round_trip_and_length_near_the_ideal(cls):
    from skimage import data as skdata

    torch.manual_seed(0)
    model = cls(channels=3, hidden=12, num_layers=2, output="logistic_mixture", mixtures=2).eval()
    crop = skdata.astronaut()[100:108, 200:210]
    payload = pixelcnn.compress(model, crop)
    assert np.array_equal(pixelcnn.decompress(model, payload), crop)
    ideal_bits = pixelcnn.bits_per_subpixel(model, crop) * crop.size
    framing = 8 * (len(pixelcnn.compress(model, crop[:1, :1])) - 4)  # header, CRC, one word
    assert 8 * len(payload) <= ideal_bits * 1.01 + 64 + framing  # within 1 %, two words, the header
    with pytest.raises(pixelcnn.PixelCNNStreamError, match="damaged"):
        pixelcnn.decompress(model, payload[:-1])
    other = cls(channels=3, hidden=12, num_layers=2, output="logistic_mixture", mixtures=2).eval()
    with pytest.raises(pixelcnn.PixelCNNStreamError, match="another model"):
        pixelcnn.decompress(other, payload)


def test_med_predictor_and_baseline():
    plane = np.array([[10, 20], [30, 99]])
    # pixel (1,1): a=30, b=20, c=10 -> c <= min(a, b): predict max = 30
    assert pixelcnn.med_predict(plane)[1, 1] == 30
    ramp = np.add.outer(np.arange(32), np.arange(32)).astype(np.uint8)
    flat_bits = pixelcnn.med_bits_per_subpixel(ramp)
    noisy = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
    assert flat_bits < 1.5 < 7.5 < pixelcnn.med_bits_per_subpixel(noisy)


def test_shipped_model_codes_a_crop_losslessly():
    from skimage import data as skdata

    model = pixelcnn.load_pretrained("gated")
    crop = skdata.astronaut()[200:206, 180:188]
    payload = pixelcnn.compress(model, crop)
    assert np.array_equal(pixelcnn.decompress(model, payload), crop)
    assert (
        8 * len(payload) <= pixelcnn.bits_per_subpixel(model, crop) * crop.size * 1.01 + 64 + 192
    )  # + framing
    assert (
        pixelcnn.bits_per_subpixel(model, skdata.astronaut()[:64, :64]) < 6
    )  # trained, not uniform (8)
    with pytest.raises(FileNotFoundError):
        pixelcnn.load_pretrained("pixelcnn")


@pytest.mark.parametrize("cls", [pixelcnn.PixelCNN, pixelcnn.GatedPixelCNN])
def test_receptive_field_matches_the_gradient_reach(cls):
    model = cls(channels=3, hidden=12, num_layers=3, output="softmax")
    above, left, right = pixelcnn.receptive_field(model)
    assert above >= 1 and left >= 1 and right >= 1
    # an output at row 20 does not move when a pixel more than ``above`` rows up changes
    torch.manual_seed(0)
    x = torch.rand(1, 3, 24, 24)
    far = x.clone()
    far[0, :, 20 - above - 1, :] = 1 - far[0, :, 20 - above - 1, :]
    near = x.clone()
    near[0, :, 20 - above, 12 - left : 12 + right + 1] = 0.0
    with torch.no_grad():
        base = model(x)[0, :, :, 20, 12]
        assert torch.equal(model(far)[0, :, :, 20, 12], base)
        assert not torch.equal(model(near)[0, :, :, 20, 12], base)


def test_bits_loss_is_the_mean_of_the_bits_map():
    torch.manual_seed(0)
    model = pixelcnn.GatedPixelCNN(channels=3, hidden=12, num_layers=2)
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    loss = pixelcnn.bits_loss(model, x)
    assert loss.requires_grad
    assert float(loss) == pytest.approx(
        pixelcnn.bits_map(model, image).sum() / image.size, rel=1e-5
    )


@pytest.mark.parametrize(
    "name,top,left", [("kodim23", 200, 300), ("kodim05", 200, 300), ("kodim20", 300, 400)]
)
def test_real_kodak_crops_round_trip_within_one_percent(kodak_dir, name, top, left):
    """Three real crops (16 x 16 here; 32-64 px crops are in helpers/reference/lossless_kodak.json)."""
    from helpers import data

    model = pixelcnn.load_pretrained("gated")
    crop = data.kodak(names=[name])[name][top : top + 16, left : left + 16]
    payload = pixelcnn.compress(model, crop)
    assert np.array_equal(pixelcnn.decompress(model, payload), crop)
    ideal_bits = pixelcnn.bits_per_subpixel(model, crop) * crop.size
    assert (
        8 * len(payload) <= ideal_bits * 1.01 + 32 + 192
    )  # 1 %, the last word, 24 bytes of framing


def test_stored_lossless_study_meets_the_chapter_goals():

    study = data.reference("lossless_kodak")
    assert len(study["per_image"]) == 24
    assert study["mean"]["model"] <= 0.9 * 4.35  # >= 10 % below the PNG figure
    assert (
        study["mean"]["model"] < study["mean"]["PNG"]
        and study["mean"]["model"] < study["mean"]["MED"]
    )
    trips = study["round_trips"]
    assert len(trips) >= 3 and all(t["bit_exact"] and t["overhead"] < 0.01 for t in trips)
    assert {t["size"] for t in trips} >= {32, 64}


def test_the_integer_pixelcnn_agrees_with_itself_everywhere_and_with_the_float_model_in_rate():
    import skimage.data

    integer = pixelcnn.load_integer("gated")
    crop = skimage.data.astronaut()[200:232, 200:232]
    counts = integer.counts(crop)  # one parallel pass
    assert counts.shape == (3, 32, 32, 256) and counts.min() >= 1
    assert (counts.sum(-1) == pixelcnn.FREQUENCY_TOTAL).all()
    u = integer._input(crop)
    above = pixelcnn.receptive_field(integer.model)[0]
    for row in (0, 17, 31):  # the coder's row passes give the same integers
        assert np.array_equal(integer.row_counts(u, row, above), counts[:, row])
    assert np.array_equal(integer.row_counts(u, 9, above, column=5), counts[:, 9, 5])
    small = integer.counts(crop[:12, :12])
    with fixedpoint.integer_path("numpy"):
        assert np.array_equal(integer.counts(crop[:12, :12]), small)
    float_bits = pixelcnn.bits_per_subpixel(integer.model, crop)
    integer_bits = pixelcnn.integer_bits_per_subpixel(integer, crop)
    assert abs(integer_bits / float_bits - 1) < 0.02, (integer_bits, float_bits)


def test_integer_pixelcnn_files_round_trip_and_are_refused_elsewhere():
    import skimage.data

    integer = pixelcnn.load_integer("gated")
    crop = skimage.data.coffee()[100:104, 100:105]
    data = pixelcnn.compress(integer, crop)
    assert np.array_equal(pixelcnn.decompress(integer, data), crop)
    with pytest.raises(pixelcnn.PixelCNNStreamError, match="another model"):
        pixelcnn.decompress(integer.model, data)
    with pytest.raises(pixelcnn.PixelCNNStreamError):
        pixelcnn.decompress(integer, data[:-4])
    with pytest.raises(TypeError, match="logistic-mixture"):
        pixelcnn.IntegerPixelCNN(pixelcnn.build_model("gated", hidden=6, num_layers=2))
