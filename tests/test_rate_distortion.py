"""Rate-distortion theory, measured: closed forms for the Gaussian R(D) and reverse water-filling, and the
high-rate gap of an entropy-coded uniform scalar quantizer measured on Gaussian samples."""

import numpy as np
import pytest
from scipy.fft import dctn

from helpers import rate_distortion as rd


def test_gaussian_rd_closed_form():
    assert rd.gaussian_rd(4.0, 1.0) == pytest.approx(1.0)
    assert rd.gaussian_rd(1.0, 2.0) == 0.0  # D above the variance: send nothing
    np.testing.assert_allclose(rd.gaussian_rd([16.0, 1.0], 1.0), [2.0, 0.0])
    with pytest.raises(ValueError):
        rd.gaussian_rd(1.0, 0.0)


def test_reverse_water_filling_by_hand():
    # variances 4 and 1: at a mean distortion 0.75 both are coded at the level 0.75
    low = rd.reverse_water_filling([4.0, 1.0], 0.75)
    assert low.level == pytest.approx(0.75) and low.coded == 2
    assert low.rate == pytest.approx(0.5 * (0.5 * np.log2(4 / 0.75) + 0.5 * np.log2(1 / 0.75)))
    # at 1.25 the level is 1.5: the small component is not coded (distortion = its variance)
    high = rd.reverse_water_filling([4.0, 1.0], 1.25)
    assert high.level == pytest.approx(1.5) and high.coded == 1
    np.testing.assert_allclose(high.distortions, [1.5, 1.0])
    assert high.rate == pytest.approx(0.5 * 0.5 * np.log2(4 / 1.5))
    assert high.distortion == pytest.approx(1.25)
    # equal variances: the scalar R(D); at or above the mean variance: nothing to send
    assert rd.reverse_water_filling([2.0] * 5, 0.5).rate == pytest.approx(rd.gaussian_rd(2.0, 0.5))
    assert rd.reverse_water_filling([4.0, 1.0], 3.0).rate == 0.0
    with pytest.raises(ValueError):
        rd.reverse_water_filling([], 1.0)


def test_water_filling_beats_any_other_split():
    """At the same total distortion, any other split of the distortions costs more bits."""
    rng = np.random.default_rng(0)
    variances = rng.gamma(0.5, 10.0, 16)
    best = rd.reverse_water_filling(variances, 1.0)
    for _ in range(200):
        other = rng.dirichlet(np.ones(16)) * 16.0  # distortions summing to 16, mean 1
        other = np.minimum(other, variances)
        if other.mean() < 1.0 - 1e-9:  # the cap made it better than allowed: skip
            continue
        assert rd.gaussian_rd(variances, other).mean() >= best.rate - 1e-9


def test_the_high_rate_gap_of_uniform_quantization_is_measured():
    x = np.random.default_rng(1).standard_normal(400_000)
    point = rd.quantizer_point(x, 0.1)
    assert point["distortion"] == pytest.approx(0.1**2 / 12, rel=0.02)
    gap = point["rate"] - rd.gaussian_rd(1.0, point["distortion"])
    assert gap == pytest.approx(rd.HIGH_RATE_GAP_BITS, abs=0.02)
    assert rd.HIGH_RATE_GAP_BITS == pytest.approx(0.2546, abs=1e-4)
    assert rd.HIGH_RATE_GAP_DB == pytest.approx(1.533, abs=1e-3)
    # at low rate a dead zone is closer to R(D) than plain rounding
    uniform, dead = rd.quantizer_point(x, 2.0), rd.quantizer_point(x, 2.0, offset=1 / 3)
    gaps = [p["rate"] - rd.gaussian_rd(1.0, p["distortion"]) for p in (uniform, dead)]
    assert gaps[1] < gaps[0]


def test_scalar_quantize_and_dead_zone():
    indices, values = rd.scalar_quantize([-1.6, -0.4, 0.4, 0.6, 1.4], 1.0)
    np.testing.assert_array_equal(indices, [-2, 0, 0, 1, 1])
    np.testing.assert_allclose(values, indices)
    dead, _ = rd.scalar_quantize([0.6, 1.6], 1.0, offset=1 / 6)
    np.testing.assert_array_equal(dead, [0, 1])
    with pytest.raises(ValueError):
        rd.scalar_quantize([1.0], 0.0)


def test_block_dct_variances_match_scipy():
    plane = np.random.default_rng(2).normal(size=(20, 27))
    variances = rd.block_dct_variances([plane])
    tiles = [plane[r : r + 8, c : c + 8] for r in (0, 8) for c in (0, 8, 16)]
    expected = np.var([dctn(t, norm="ortho") for t in tiles], axis=0)
    np.testing.assert_allclose(variances, expected)
    with pytest.raises(ValueError):
        rd.block_dct_variances([np.zeros((4, 4))])
