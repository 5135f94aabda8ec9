import io
import math
import warnings

import bjontegaard
import numpy as np
import pytest
import pytorch_msssim
import skimage.data
import skimage.metrics
import torch
from PIL import Image

from helpers import config, images, metrics


def skimage_ssim(reference, distorted) -> float:
    """scikit-image's SSIM with the settings of Wang et al. (Gaussian window, sigma 1.5, population covariance)."""
    return skimage.metrics.structural_similarity(
        reference,
        distorted,
        channel_axis=-1,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )


def jpeg_pair(quality=20, size=200):
    reference = skimage.data.astronaut()[:size, :size]
    buffer = io.BytesIO()
    Image.fromarray(reference).save(buffer, "JPEG", quality=quality)
    return reference, np.asarray(Image.open(buffer))


def test_mse_and_psnr_match_scikit_image():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-9, 10, a.shape), 0, 255).astype(np.uint8)
    assert metrics.mse(a, b) == pytest.approx(skimage.metrics.mean_squared_error(a, b))
    assert metrics.psnr(a, b) == pytest.approx(
        skimage.metrics.peak_signal_noise_ratio(a, b, data_range=255)
    )
    assert metrics.psnr(a, a) == math.inf
    tensor_a = torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255
    assert metrics.psnr(tensor_a, b) == pytest.approx(metrics.psnr(a, b))
    per_channel = metrics.psnr(a, b, on="channels")
    assert len(per_channel) == 3
    assert per_channel[1] == pytest.approx(
        skimage.metrics.peak_signal_noise_ratio(a[..., 1], b[..., 1])
    )
    luma = metrics.psnr(a, b, on="y")
    ya, yb = images.rgb_to_ycbcr(a)[..., 0], images.rgb_to_ycbcr(b)[..., 0]
    assert luma == pytest.approx(10 * np.log10(255**2 / np.mean((ya - yb) ** 2)))


def test_metrics_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        metrics.mse(np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError):
        metrics.psnr(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8), data_range=0)
    with pytest.raises(ValueError, match="on"):
        metrics.psnr(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8), on="lab")
    with pytest.raises(ValueError, match="RGB"):
        metrics.psnr(np.zeros((4, 4), np.uint8), np.ones((4, 4), np.uint8), on="y")
    with pytest.raises(ValueError):
        metrics.bpp(-1, 4, 4)
    with pytest.raises(ValueError):
        metrics.bpp(10, 0, 4)


def test_bpp():
    assert metrics.bpp(1000, 100, 80) == 1.0
    assert metrics.bpp(b"\x00" * 1000, 100, 80) == 1.0
    likelihoods = {"y": torch.full((2, 4, 2, 2), 0.5), "z": torch.full((2, 1, 1, 1), 0.25)}
    torch.testing.assert_close(
        metrics.bpp_from_likelihoods(likelihoods, 4, 4),
        torch.tensor([(16 + 2) / 16, (16 + 2) / 16]),
    )
    with pytest.raises(ValueError):
        metrics.bpp_from_likelihoods({}, 4, 4)


def test_gaussian_window():
    window = metrics.gaussian_window()
    assert window.shape == (11,) and float(window.sum()) == pytest.approx(1.0)
    assert int(window.argmax()) == 5
    for bad in (0, 10, 2.5):
        with pytest.raises(ValueError):
            metrics.gaussian_window(bad)
    with pytest.raises(ValueError):
        metrics.gaussian_window(11, 0)


def test_ssim_matches_pytorch_msssim_and_scikit_image():
    reference, distorted = jpeg_pair()
    ours = metrics.ssim(reference, distorted)
    x = images.to_tensor(reference, "cpu").double()
    y = images.to_tensor(distorted, "cpu").double()
    assert ours == pytest.approx(pytorch_msssim.ssim(x, y, data_range=1.0).item(), abs=1e-4)
    theirs = skimage_ssim(reference, distorted)
    assert ours == pytest.approx(theirs, abs=1e-3)
    assert metrics.ssim(reference, reference) == pytest.approx(1.0)


def test_ms_ssim_matches_pytorch_msssim():
    reference, distorted = jpeg_pair(size=256)
    x = images.to_tensor(reference, "cpu").double()
    y = images.to_tensor(distorted, "cpu").double()
    assert metrics.ms_ssim(reference, distorted) == pytest.approx(
        pytorch_msssim.ms_ssim(x, y, data_range=1.0).item(), abs=1e-4
    )
    with pytest.raises(ValueError, match="larger than 160"):
        metrics.ms_ssim(reference[:100, :100], distorted[:100, :100])


def test_ssim_batched_differentiable_on_device():
    reference, distorted = jpeg_pair()
    device = config.device()
    x = torch.stack([images.to_tensor(reference, device)[0]] * 2)
    y = torch.stack(
        [images.to_tensor(distorted, device)[0], images.to_tensor(reference, device)[0]]
    )
    y.requires_grad_(True)
    values = metrics.ssim(x, y)
    assert values.shape == (2,) and values.device.type == device.type
    assert float(values[1]) == pytest.approx(1.0, abs=1e-5)
    values.sum().backward()
    assert y.grad is not None and torch.isfinite(y.grad).all()
    scores = metrics.ms_ssim(x.double(), y.detach().double())
    assert scores.shape == (2,)


def test_ssim_map():
    reference, distorted = jpeg_pair()
    local = metrics.ssim_map(reference, distorted)
    assert local.shape == (190, 190)
    assert local.mean() == pytest.approx(metrics.ssim(reference, distorted))
    tensor_map = metrics.ssim_map(
        images.to_tensor(reference, "cpu"), images.to_tensor(distorted, "cpu")
    )
    assert tensor_map.shape == (1, 3, 190, 190)
    with pytest.raises(ValueError, match="same shape"):
        metrics.ssim(reference, distorted[:100])
    with pytest.raises(ValueError, match="at least 11"):
        metrics.ssim(reference[:8, :8], distorted[:8, :8])
    with pytest.raises(ValueError):
        metrics.ssim(torch.zeros(3, 20, 20), torch.zeros(3, 20, 20))


# Four R-D points of two codecs (bpp, PSNR), a realistic shape.
ANCHOR = ([0.25, 0.5, 1.0, 2.0], [28.0, 31.2, 34.8, 38.9])
TEST = ([0.2, 0.42, 0.85, 1.7], [28.6, 31.9, 35.5, 39.4])


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_bd_rate_and_psnr_match_bjontegaard_package(method):
    ours = metrics.bd_rate(*ANCHOR, *TEST, method=method)
    theirs = bjontegaard.bd_rate(*ANCHOR, *TEST, method=method)
    assert ours == pytest.approx(theirs, abs=0.1)
    assert ours < 0
    assert metrics.bd_psnr(*ANCHOR, *TEST, method=method) == pytest.approx(
        bjontegaard.bd_psnr(*ANCHOR, *TEST, method=method), abs=0.01
    )


def test_bd_rate_of_a_scaled_curve():
    rates, quality = np.array(ANCHOR[0]), ANCHOR[1]
    assert metrics.bd_rate(rates, quality, rates * 0.8, quality) == pytest.approx(-20.0, abs=1e-6)
    assert metrics.bd_psnr(rates, quality, rates, np.array(quality) + 0.5) == pytest.approx(
        0.5, abs=1e-6
    )


def test_bd_warnings_and_bad_input():
    with pytest.warns(UserWarning, match="fewer than four"):
        metrics.bd_rate([0.5, 1.0, 2.0], [30, 33, 36], [0.4, 0.9, 1.8], [30, 33, 36])
    with pytest.warns(UserWarning, match="do not overlap"):
        assert math.isnan(metrics.bd_rate(*ANCHOR, [1, 2, 3, 4], [50, 51, 52, 53]))
    with pytest.warns(UserWarning, match="overlap on only"):
        metrics.bd_rate(*ANCHOR, [0.6, 1.2, 2.4, 4.8], [37.0, 39.0, 41.0, 43.0])
    with pytest.raises(ValueError, match="method"):
        metrics.bd_rate(*ANCHOR, *TEST, method="akima")
    with pytest.raises(ValueError, match="positive"):
        metrics.bd_rate([0, 1, 2, 3], [1, 2, 3, 4], *TEST)
    with pytest.raises(ValueError, match="as many"):
        metrics.bd_psnr([1, 2, 3], [1, 2], *TEST)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics.bd_rate(*ANCHOR, *TEST)  # four overlapping points: no warning


def test_average_rd_is_compressai_protocol():
    records = [
        {"quality": 50, "bpp": 1.0, "psnr": 30.0},
        {"quality": 50, "bpp": 3.0, "psnr": 40.0},
        {"quality": 10, "bpp": 0.5, "psnr": 25.0},
    ]
    averaged = metrics.average_rd(records)
    assert list(averaged) == [10, 50]
    assert averaged[50] == {"bpp": 2.0, "psnr": 35.0, "count": 2}
    with pytest.raises(ValueError):
        metrics.average_rd([])
    with pytest.raises(ValueError, match="quality"):
        metrics.average_rd([{"bpp": 1.0}])


def _psnr_hvs_m_loops(a, b):
    """A literal transcription of psnrhvsm.m's loops (one block at a time), as an independent check."""
    import scipy.fft

    def vari(z):
        return np.var(z, ddof=1) * z.size

    def maskeff(z, zdct):
        m = sum(
            zdct[k, j] ** 2 * metrics.MASK_COEFFICIENTS[k, j]
            for k in range(8)
            for j in range(8)
            if (k, j) != (0, 0)
        )
        pop = vari(z)
        if pop != 0:
            pop = (vari(z[:4, :4]) + vari(z[:4, 4:]) + vari(z[4:, 4:]) + vari(z[4:, :4])) / pop
        return np.sqrt(m * pop) / 32

    total, count = 0.0, 0
    for y in range(0, a.shape[0] - 7, 8):
        for x in range(0, a.shape[1] - 7, 8):
            block_a, block_b = a[y : y + 8, x : x + 8], b[y : y + 8, x : x + 8]
            dct_a, dct_b = (
                scipy.fft.dctn(block_a, norm="ortho"),
                scipy.fft.dctn(block_b, norm="ortho"),
            )
            mask = max(maskeff(block_a, dct_a), maskeff(block_b, dct_b))
            for k in range(8):
                for j in range(8):
                    u = abs(dct_a[k, j] - dct_b[k, j])
                    if (k, j) != (0, 0):
                        u = (
                            0
                            if u < mask / metrics.MASK_COEFFICIENTS[k, j]
                            else u - mask / metrics.MASK_COEFFICIENTS[k, j]
                        )
                    total += (u * metrics.CSF_COEFFICIENTS[k, j]) ** 2
                    count += 1
    return 10 * np.log10(255**2 / (total / count))


def test_psnr_hvs_m_matches_the_reference_loops():
    reference, distorted = jpeg_pair(quality=15, size=64)
    gray_a, gray_b = reference[..., 1], distorted[..., 1]
    assert metrics.psnr_hvs_m(gray_a, gray_b) == pytest.approx(
        _psnr_hvs_m_loops(gray_a.astype(float), gray_b.astype(float)), abs=1e-9
    )
    with_masking = metrics.psnr_hvs_m(reference, distorted)
    without = metrics.psnr_hvs_m(reference, distorted, with_masking=False)
    assert with_masking > without > metrics.psnr(reference, distorted, on="y") - 5
    assert metrics.psnr_hvs_m(reference, reference) == math.inf
    with pytest.raises(ValueError):
        metrics.psnr_hvs_m(reference[:4, :4], distorted[:4, :4])


def test_vifp():
    reference, distorted = jpeg_pair(quality=10, size=96)
    better = jpeg_pair(quality=60, size=96)[1]
    assert metrics.vifp(reference, reference) == pytest.approx(1.0, abs=1e-4)
    assert metrics.vifp(reference, better) > metrics.vifp(reference, distorted) > 0
    batch = metrics.vifp(
        images.to_tensor(reference, "cpu").repeat(2, 1, 1, 1),
        torch.cat([images.to_tensor(distorted, "cpu"), images.to_tensor(better, "cpu")]),
    )
    assert batch.shape == (2,) and batch[1] > batch[0]
    with pytest.raises(ValueError):
        metrics.vifp(reference[:30, :30], distorted[:30, :30])


def test_ssim_and_ms_ssim_on_kodak(kodak_dir):
    from helpers import data

    for name, picture in data.kodak(names=["kodim03", "kodim14", "kodim21"]).items():
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, "JPEG", quality=25)
        distorted = np.asarray(Image.open(buffer))
        x, y = (
            images.to_tensor(picture, "cpu").double(),
            images.to_tensor(distorted, "cpu").double(),
        )
        assert metrics.ssim(picture, distorted) == pytest.approx(
            pytorch_msssim.ssim(x, y, data_range=1.0).item(), abs=1e-4
        ), name
        assert metrics.ms_ssim(picture, distorted) == pytest.approx(
            pytorch_msssim.ms_ssim(x, y, data_range=1.0).item(), abs=1e-4
        ), name
        theirs = skimage_ssim(picture, distorted)
        assert metrics.ssim(picture, distorted) == pytest.approx(theirs, abs=1e-3), name


def test_bootstrap_interval_against_scipy_and_the_normal_case():
    import scipy.stats

    rng = np.random.default_rng(3)
    values = rng.normal(10.0, 2.0, 400)
    ours = metrics.bootstrap_interval(np.mean, values, resamples=4000, seed=1)
    assert ours.value == pytest.approx(values.mean())
    # the known case: the mean of n normal values lies within ±1.96 σ/√n
    half = 1.96 * values.std(ddof=1) / math.sqrt(len(values))
    assert ours.low == pytest.approx(values.mean() - half, abs=0.03)
    assert ours.high == pytest.approx(values.mean() + half, abs=0.03)
    # the oracle: scipy's percentile bootstrap on the same data
    theirs = scipy.stats.bootstrap(
        (values,), np.mean, n_resamples=4000, method="percentile", random_state=2
    ).confidence_interval
    assert ours.low == pytest.approx(theirs.low, abs=0.02)
    assert ours.high == pytest.approx(theirs.high, abs=0.02)
    # agreement on 500 photos at 80 %: the binomial interval is about ±3.5 points
    hits = np.zeros(500)
    hits[:400] = 1
    agreement = metrics.bootstrap_interval(np.mean, hits)
    assert agreement.high - agreement.low == pytest.approx(
        2 * 1.96 * math.sqrt(0.8 * 0.2 / 500), abs=0.01
    )
    expected = f"0.800 [{agreement.low:.3f}, {agreement.high:.3f}]"
    assert not agreement.is_tie and agreement.format(3) == expected


def test_bootstrap_interval_pairs_the_units_and_names_ties():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 5, 60)  # photos differ a lot from each other ...
    better = base + 0.5 + rng.normal(0, 0.1, 60)  # ... but one coder is always a little better
    paired = metrics.bootstrap_interval(lambda a, b: (b - a).mean(), base, better)
    assert paired.low > 0.4 and not paired.is_tie  # paired: the photo-to-photo spread cancels
    noise = base + rng.normal(0, 1, 60)
    assert metrics.bootstrap_interval(lambda a, b: (b - a).mean(), base, noise).is_tie
    same = metrics.bootstrap_interval(lambda a, b: (a - b).mean(), base, base)
    assert (same.low, same.high) == (0.0, 0.0) and same.is_tie
    again = metrics.bootstrap_interval(np.mean, base, seed=0)
    assert again == metrics.bootstrap_interval(np.mean, base, seed=0)  # seeded
    with pytest.raises(ValueError, match="same number of units"):
        metrics.bootstrap_interval(np.mean, base, base[:10])
    with pytest.raises(ValueError, match="at least 2"):
        metrics.bootstrap_interval(np.mean, base[:1])
    with pytest.raises(ValueError, match="confidence"):
        metrics.bootstrap_interval(np.mean, base, confidence=95)
    with pytest.raises(ValueError, match="not finite"):
        metrics.bootstrap_interval(lambda a: np.nan if a.min() < -5 else a.mean(), base)
