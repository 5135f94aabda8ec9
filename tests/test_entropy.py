import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import entropy
from helpers.jpeg.bitstream import STD_AC_CHROMA, STD_AC_LUMA, STD_DC_CHROMA, STD_DC_LUMA


def test_information_and_entropy():
    assert entropy.information(0.5) == 1.0
    np.testing.assert_allclose(entropy.information(np.array([1.0, 0.25])), [0.0, 2.0])
    assert entropy.entropy([0.5, 0.5]) == 1.0
    assert entropy.entropy([1.0, 0.0]) == 0.0
    assert entropy.entropy([0.25] * 4) == 2.0
    assert entropy.empirical_entropy([1, 1, 2, 2]) == 1.0
    assert entropy.empirical_entropy(np.zeros((3, 3))) == 0.0


def test_information_and_entropy_bad_input():
    for bad in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            entropy.information(bad)
    with pytest.raises(ValueError, match="sum to 1"):
        entropy.entropy([0.5, 0.6])
    with pytest.raises(ValueError):
        entropy.entropy([])
    with pytest.raises(ValueError):
        entropy.empirical_entropy([])


def _kraft(lengths):
    return sum(2.0**-length for length in lengths)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(0, 300), st.integers(1, 10_000), min_size=2, max_size=60))
def test_huffman_is_complete_and_near_entropy(frequencies):
    lengths = entropy.huffman_code_lengths(frequencies)
    assert set(lengths) == set(frequencies)
    assert _kraft(lengths.values()) == pytest.approx(1.0)  # a full binary tree
    total = sum(frequencies.values())
    average = sum(frequencies[s] * lengths[s] for s in frequencies) / total
    bound = entropy.entropy([count / total for count in frequencies.values()])
    assert bound - 1e-9 <= average < bound + 1


def test_huffman_small_cases():
    assert entropy.huffman_code_lengths({"a": 5}) == {"a": 1}
    assert entropy.huffman_code_lengths({"a": 1, "b": 1, "c": 2}) == {"a": 2, "b": 2, "c": 1}
    with pytest.raises(ValueError):
        entropy.huffman_code_lengths({"a": 0})
    with pytest.raises(ValueError):
        entropy.huffman_code_lengths({"a": -1, "b": 3})


def test_canonical_code_standard_tables():
    table = entropy.canonical_code(*STD_DC_LUMA)
    assert table[0] == (0b00, 2) and table[1] == (0b010, 3) and table[11] == (0b111111110, 9)
    for spec in (STD_DC_LUMA, STD_DC_CHROMA, STD_AC_LUMA, STD_AC_CHROMA):
        codes = entropy.canonical_code(*spec)
        words = [format(code, f"0{length}b") for code, length in codes.values()]
        # prefix-free, and no code is all ones (T.81 reserves it)
        assert not any(a != b and b.startswith(a) for a in words for b in words)
        assert not any(set(w) == {"1"} for w in words)
    assert len(entropy.canonical_code(*STD_AC_LUMA)) == 162


def test_canonical_code_bad_input():
    with pytest.raises(ValueError, match="16"):
        entropy.canonical_code([1, 1], [0, 1])
    with pytest.raises(ValueError, match="HUFFVAL"):
        entropy.canonical_code([0, 2] + [0] * 14, [1])
    with pytest.raises(ValueError, match="over-subscribes"):
        entropy.canonical_code([3] + [0] * 15, [0, 1, 2])


def test_jpeg_table_limits_lengths_to_16():
    # Fibonacci counts make an unlimited Huffman code about 30 bits deep.
    counts = [0] * 256
    a, b = 1, 1
    for symbol in range(30):
        counts[symbol] = a
        a, b = b, a + b
    bits, huffval = entropy.jpeg_huffman_table(counts)
    assert sum(bits) == 30 and sorted(huffval) == list(range(30))
    lengths = entropy.code_lengths_from_table(bits, huffval)
    assert max(lengths.values()) <= 16
    assert _kraft(lengths.values()) < 1.0  # the all-ones code point stays free
    unlimited = entropy.huffman_code_lengths({s: c for s, c in enumerate(counts) if c})
    assert max(unlimited.values()) > 16
    cost = sum(counts[s] * lengths[s] for s in lengths)
    ideal = sum(counts[s] * unlimited[s] for s in unlimited)
    assert ideal <= cost <= 1.01 * ideal


def test_jpeg_table_single_symbol_and_bad_input():
    bits, huffval = entropy.jpeg_huffman_table([5] + [0] * 255)
    assert huffval == [0] and entropy.code_lengths_from_table(bits, huffval) == {0: 1}
    with pytest.raises(ValueError):
        entropy.jpeg_huffman_table([1] * 10)
    with pytest.raises(ValueError):
        entropy.jpeg_huffman_table([-1] + [0] * 255)


def test_code_lengths_from_table():
    lengths = entropy.code_lengths_from_table(*STD_DC_CHROMA)
    assert lengths[0] == 2 and lengths[11] == 11
    assert math.isclose(_kraft(lengths.values()), 1 - 2**-11)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(1, 500), min_size=1, max_size=12).flatmap(
        lambda counts: st.tuples(
            st.just(counts), st.lists(st.integers(0, len(counts) - 1), max_size=300)
        )
    )
)
def test_range_coder_round_trips(case):
    counts, symbols = case
    payload = entropy.arithmetic_encode(symbols, counts)
    assert entropy.arithmetic_decode(payload, len(symbols), counts) == symbols


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.lists(st.integers(1, 1000), min_size=2, max_size=6), min_size=1, max_size=60),
    st.data(),
)
def test_range_coder_with_one_table_per_symbol(tables, draw):
    symbols = [draw.draw(st.integers(0, len(t) - 1)) for t in tables]
    payload = entropy.arithmetic_encode(symbols, tables)
    assert entropy.arithmetic_decode(payload, len(symbols), tables) == symbols


@pytest.mark.parametrize("counts", [[50, 30, 10, 5, 3, 2], [65000, 500, 36], [1] * 256])
def test_range_coder_is_close_to_the_ideal_length(counts):
    rng = np.random.default_rng(1)
    symbols = rng.choice(len(counts), size=100_000, p=np.array(counts) / sum(counts))
    payload = entropy.arithmetic_encode(symbols, counts)
    ideal_bytes = entropy.ideal_code_length(symbols, counts) / 8
    assert len(payload) < ideal_bytes * 1.005 + 4
    assert entropy.arithmetic_decode(payload, len(symbols), counts) == symbols.tolist()


def test_constriction_path_round_trips():
    rng = np.random.default_rng(2)
    probabilities = rng.dirichlet(np.ones(8), size=500)
    symbols = np.array([rng.choice(8, p=p) for p in probabilities])
    payload = entropy.fast_encode(symbols, probabilities)
    np.testing.assert_array_equal(
        entropy.fast_decode(payload, len(symbols), probabilities), symbols
    )
    static = np.array([0.5, 0.25, 0.125, 0.125])
    stream = rng.choice(4, size=10_000, p=static)
    payload = entropy.fast_encode(stream, static)
    np.testing.assert_array_equal(entropy.fast_decode(payload, len(stream), static), stream)
    assert len(payload) < entropy.ideal_code_length(stream, static * 8) / 8 * 1.01 + 8
    with pytest.raises(ValueError):
        entropy.fast_encode(stream, np.ones((3, 4)) / 4)
    with pytest.raises(ValueError):
        entropy.fast_decode(b"\x00\x01\x02", 3, static)


def test_range_coder_bad_input():
    with pytest.raises(ValueError, match="zero frequency"):
        entropy.arithmetic_encode([1], [5, 0, 3])
    with pytest.raises(ValueError, match="zero frequency"):
        entropy.arithmetic_encode([7], [5, 3])
    with pytest.raises(ValueError, match="sum"):
        entropy.arithmetic_encode([0], [1 << 25])
    with pytest.raises(ValueError, match="tables"):
        entropy.arithmetic_encode([0, 1], [[1, 1]])
    encoder = entropy.RangeEncoder()
    with pytest.raises(ValueError, match="inside"):
        encoder.encode(3, 2, 4)
    encoder.finish()
    with pytest.raises(RuntimeError):
        encoder.encode(0, 1, 2)
    with pytest.raises(TypeError):
        entropy.RangeDecoder("abc")
    with pytest.raises(ValueError):
        entropy.RangeDecoder(b"").target(0)


def test_adaptive_code_length():
    # a constant stream costs less and less: sum_t -log2((t + 1) / (t + alphabet))
    bits = entropy.adaptive_code_length([3] * 10, alphabet=4)
    expected = -sum(np.log2((t + 1) / (t + 4)) for t in range(10))
    assert bits == pytest.approx(expected)
    # contexts keep separate counts: two interleaved constant streams in two contexts
    mixed = entropy.adaptive_code_length([0, 1] * 5, alphabet=4, contexts=[0, 1] * 5)
    assert mixed == pytest.approx(2 * entropy.adaptive_code_length([0] * 5, alphabet=4))
    # and it approaches the empirical entropy on a long i.i.d. stream
    rng = np.random.default_rng(0)
    stream = rng.choice(4, size=20000, p=[0.5, 0.25, 0.125, 0.125])
    assert entropy.adaptive_code_length(stream, 4) / stream.size == pytest.approx(1.75, abs=0.01)
    with pytest.raises(ValueError):
        entropy.adaptive_code_length([0, 7], alphabet=4)


def test_interval_steps_shrink_by_each_probability():
    from fractions import Fraction

    steps = entropy.interval_steps("ABA", {"A": 3, "B": 1})
    assert [s["symbol"] for s in steps] == ["A", "B", "A"]
    # A -> [0, 3/4); B -> [9/16, 3/4); A -> [9/16, 9/16 + 3/64)
    assert (steps[0]["low"], steps[0]["high"]) == (0, Fraction(3, 4))
    assert (steps[1]["low"], steps[1]["high"]) == (Fraction(9, 16), Fraction(3, 4))
    assert steps[2]["high"] - steps[2]["low"] == Fraction(9, 64)
    width = steps[-1]["high"] - steps[-1]["low"]
    assert steps[-1]["bits"] == math.ceil(-math.log2(width)) + 1
    with pytest.raises(ValueError, match="frequency"):
        entropy.interval_steps("ABC", {"A": 3, "B": 1})
    with pytest.raises(ValueError, match="at least one"):
        entropy.interval_steps("")
