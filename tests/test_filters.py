"""Loop filters: the classical deblocking filter, PSNR-B, the learned filters and their training data."""

import math

import numpy as np
import pytest
import torch

from helpers import data, filters, fixedpoint, images, jpeg, metrics


def _blocky(size=32, seed=0):
    """A piecewise-constant 8x8-block grey image: pure blocking, nothing else."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(60, 200, size=(size // 8, size // 8))
    return np.kron(levels, np.ones((8, 8))).astype(np.uint8)


def _luma_psnr(reference, test):
    y = lambda a: images.rgb_to_ycbcr(a.astype(np.float64))[..., 0]  # noqa: E731
    return 10 * math.log10(255**2 / np.mean((y(reference) - y(test)) ** 2))


def test_psnr_b_equals_psnr_without_blocking():
    ramp = np.tile(np.arange(0, 64, dtype=np.uint8) * 3, (64, 1))  # every step the same size
    assert filters.blocking_effect_factor(ramp) == 0.0
    noisy = np.clip(ramp.astype(int) + 1, 0, 255).astype(np.uint8)
    assert filters.psnr_b(ramp, noisy) == pytest.approx(metrics.psnr(ramp, noisy))


def test_blocking_effect_factor_by_hand():
    image = np.zeros((16, 16), np.uint8)
    image[:, 8:] = 10  # one vertical block edge with a jump of 10, flat elsewhere
    # boundary pairs: 16 rows x 1 column crossing (jump^2 = 100) + 16 columns x 1 row (0)
    d_boundary = 16 * 100 / (16 + 16)
    eta = math.log2(8) / math.log2(16)
    assert filters.blocking_effect_factor(image) == pytest.approx(eta * d_boundary)
    # BEF is a property of the test image alone: a blocky image is penalized even against itself
    expected = 10 * math.log10(255**2 / (eta * d_boundary))
    assert filters.psnr_b(image, image) == pytest.approx(expected)
    flat = np.full((16, 16), 7, np.uint8)
    assert filters.psnr_b(flat, flat) == math.inf
    assert filters.psnr_b(np.zeros_like(image), image) < metrics.psnr(np.zeros_like(image), image)


def test_psnr_b_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        filters.psnr_b(np.zeros((16, 16), np.uint8), np.zeros((8, 16), np.uint8))


def test_deblock_smooths_block_edges_but_keeps_real_edges():
    blocky = _blocky()
    strong = np.zeros((32, 32), np.uint8)
    strong[:, 16:] = 255  # a real edge on the grid: far above alpha, must stay
    smoothed = filters.deblock(blocky, quality=10)
    assert filters.blocking_effect_factor(smoothed) < filters.blocking_effect_factor(blocky)
    np.testing.assert_array_equal(filters.deblock(strong, quality=10), strong)
    np.testing.assert_array_equal(filters.deblock(blocky, quality=10, strength=0), blocky)


def test_deblock_strength_follows_the_quantizer():
    low, high = filters.deblock_strength(10), filters.deblock_strength(90)
    assert all(a > b for a, b in zip(low, high))


@pytest.mark.parametrize("bad", [0, 101])
def test_deblock_rejects_bad_quality(bad):
    with pytest.raises(ValueError, match="quality"):
        filters.deblock(_blocky(), quality=bad)


def test_deblock_raises_luma_psnr_on_kodak(kodak_dir):
    image = images.center_crop(data.kodak(names=["kodim23"])["kodim23"], 128)
    decoded, _ = jpeg.round_trip(image, 10)
    assert _luma_psnr(image, filters.deblock(decoded, 10)) > _luma_psnr(image, decoded) + 0.1


@pytest.mark.parametrize("name", sorted(filters.ARCHITECTURES))
def test_models_keep_shape_and_odd_sizes(name):
    model = filters.build_model(name)
    x = torch.rand(2, 1, 16, 24)
    assert model(x, torch.tensor([10.0, 50.0])).shape == x.shape
    out = filters.filter_luma(model, np.full((13, 21), 128, np.uint8), 20)
    assert out.shape == (13, 21) and out.dtype == np.float64


def test_conditioned_model_uses_the_quality():
    torch.manual_seed(0)
    model = filters.build_model("conditioned", features=8, depth=3)
    x = torch.rand(1, 1, 16, 16)
    assert not torch.allclose(model(x, 10), model(x, 50))
    with pytest.raises(ValueError, match="quality"):
        model(x, None)


def test_unknown_filter_names():
    with pytest.raises(ValueError, match="unknown filter"):
        filters.build_model("sao")
    with pytest.raises(FileNotFoundError, match="filters/conditioned"):
        filters.load_pretrained("arcnn-nonexistent")


def test_apply_keeps_chroma_and_validates():
    rng = np.random.default_rng(0)
    image = rng.integers(80, 180, (24, 32, 3), dtype=np.uint8)  # no clipping at 0 or 255
    model = filters.build_model("dncnn", features=8, depth=3)
    out = filters.apply(model, image, 20)
    assert out.shape == image.shape and out.dtype == np.uint8
    chroma = lambda a: images.rgb_to_ycbcr(a.astype(np.float64))[..., 1:]  # noqa: E731
    assert np.abs(chroma(out) - chroma(image)).max() < 1.5  # only rounding moves chroma
    with pytest.raises(ValueError, match="quality"):
        filters.apply(model, image, 0)
    with pytest.raises(TypeError, match="Module"):
        filters.apply(42, image, 20)
    with pytest.raises(TypeError, match="deblock"):
        filters.apply("deblock", image, 20)


def test_shipped_filter_removes_artifacts_on_kodak(kodak_dir):
    model = filters.load_pretrained("conditioned")
    assert isinstance(model, filters.ConditionedDnCNN)
    image = data.kodak(names=["kodim23"])["kodim23"][128:384, 256:512]
    for quality, least in ((10, 0.5), (30, 0.25)):
        decoded, _ = jpeg.round_trip(image, quality)
        gain = metrics.psnr(image, filters.apply(model, decoded, quality), on="y") - metrics.psnr(
            image, decoded, on="y"
        )
        assert gain > least, (quality, gain)


def test_stored_filter_study_meets_the_chapter_goals():

    study = data.reference("filter_study")
    kodak = study["kodak"]
    assert kodak["10"]["learned"]["psnr_y"] - kodak["10"]["jpeg"]["psnr_y"] >= 0.8
    assert kodak["30"]["learned"]["psnr_y"] - kodak["30"]["jpeg"]["psnr_y"] >= 0.4
    assert all(len(row["learned_gain_y_per_image"]) == 24 for row in kodak.values())
    runs = study["foreman"]["runs"]
    assert all(p["decoder_bit_exact"] for points in runs.values() for p in points)
    assert study["foreman"]["bd"]["learned: in-loop vs post"]["bd_rate_percent"] < 0


def test_the_integer_filter_matches_its_float_model_and_itself_on_every_path():
    import skimage.color
    import skimage.data

    from helpers import jpeg

    grey = np.round(skimage.color.rgb2gray(skimage.data.astronaut()[:67, :90]) * 255).astype(
        np.uint8
    )
    decoded, _ = jpeg.round_trip(grey, 20)
    integer = filters.load_integer("conditioned")
    out = integer.filter_luma(decoded, 20)
    float_out = filters.apply(integer.model, decoded, 20)
    assert out.shape == grey.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - float_out).max() <= 1
    assert (out != float_out).mean() < 0.01
    with fixedpoint.integer_path("numpy"):
        assert np.array_equal(integer.filter_luma(decoded, 20), out)
    with pytest.raises(ValueError, match="uint8"):
        integer.filter_luma(decoded.astype(float), 20)
    with pytest.raises(ValueError, match="quality"):
        integer.filter_luma(decoded, 0)
    with pytest.raises(TypeError, match="conditioned"):
        filters.IntegerFilter(filters.build_model("dncnn"))
