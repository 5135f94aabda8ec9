"""helpers.budget: the one search for a setting that lands on a target (a byte budget, an average)."""

import math

import pytest

from helpers import budget


def test_bisect_finds_the_crossing_both_ways():
    assert budget.bisect(lambda x: x * x, 2.0, 0.0, 2.0) == pytest.approx(math.sqrt(2))
    assert budget.bisect(lambda x: -x, -3.0, 0.0, 10.0, increasing=False) == pytest.approx(3.0)
    assert budget.bisect(lambda q: q * 10, 505, 1, 100, integer=True) in (50, 51)
    with pytest.raises(ValueError, match="below"):
        budget.bisect(lambda x: x, 1.0, 2.0, 1.0)


def test_fit_to_size_stops_within_tolerance_or_returns_the_closest():
    calls = []

    def encode(setting):
        calls.append(setting)
        return b"x" * int(100 * setting)

    setting, data = budget.fit_to_size(encode, 1234, 0.0, 64.0, tolerance=0.01)
    assert abs(len(data) - 1234) <= 12.34 and len(data) == int(100 * setting)
    quality, data = budget.fit_to_size(lambda q: b"x" * (7 * int(q)), 100, 1, 100, integer=True)
    assert quality == 14 and len(data) == 98  # 98 and 105 bracket 100: 98 is closer
    falling = budget.fit_to_size(lambda s: b"x" * int(1000 / s), 300, 1.0, 10.0, increasing=False)
    assert abs(len(falling[1]) - 300) <= 3
    # unreachable: the closest file tried comes back
    assert len(budget.fit_to_size(lambda s: b"x" * 10, 1000, 0.0, 1.0)[1]) == 10
    with pytest.raises(ValueError, match="target_bytes"):
        budget.fit_to_size(encode, 0, 0.0, 1.0)
    with pytest.raises(ValueError, match="tolerance"):
        budget.fit_to_size(encode, 10, 0.0, 1.0, tolerance=1.5)
