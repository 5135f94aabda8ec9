"""Chapter 3's reference rANS coder: exact round trips, the information bound, constriction as an oracle
(its stack coder, AnsCoder, on chapter 3's PixelCNN streams), the protocol and damaged streams."""

import constriction
import numpy as np
import pytest

from helpers import entropy, rans


def _stream(rng, count, alphabet=40, precision=16, per_symbol=False):
    if per_symbol:
        p = rng.dirichlet(np.full(alphabet, 0.3), size=count)
        tables = rans.frequencies_from_probabilities(p, precision)
        symbols = np.array([rng.choice(alphabet, p=t / t.sum()) for t in tables], np.int64)
        return symbols, tables
    p = np.exp(-np.abs(np.arange(alphabet) - alphabet // 2) / 3.0)
    table = rans.frequencies_from_probabilities(p / p.sum(), precision)
    return rng.choice(alphabet, size=count, p=table / table.sum()), table


@pytest.mark.parametrize("precision", [4, 12, 16, 24])
@pytest.mark.parametrize("count", [0, 1, 2, 7, 300, 5000])
@pytest.mark.parametrize("per_symbol", [False, True])
def test_round_trip_is_exact_and_within_64_bits_of_the_information(precision, count, per_symbol):
    rng = np.random.default_rng(precision * 1000 + count)
    symbols, tables = _stream(rng, count, alphabet=12, precision=precision, per_symbol=per_symbol)
    data = rans.encode(symbols, tables)
    np.testing.assert_array_equal(rans.decode(data, count, tables), symbols)
    information = entropy.ideal_code_length(symbols, tables) if count else 0.0
    assert information <= 8 * len(data) <= information + 64  # the final state is the only overhead


def test_it_is_a_stack_and_the_coder_classes_say_so():
    encoder = rans.RansEncoder(4)
    for cumulative, frequency in [(0, 8), (8, 4), (12, 4)]:  # pushed a, b, c
        encoder.put(cumulative, frequency)
    decoder = rans.RansDecoder(encoder.finish(), 4)
    popped = []
    for _ in range(3):
        slot = decoder.slot()
        cumulative, frequency = (0, 8) if slot < 8 else (8, 4) if slot < 12 else (12, 4)
        decoder.take(cumulative, frequency)
        popped.append(cumulative)
    decoder.finish()
    assert popped == [12, 8, 0]  # c, b, a: last in, first out


def test_same_size_as_constriction_and_the_range_coder_on_a_long_stream():
    rng = np.random.default_rng(3)
    symbols, table = _stream(rng, 20_000, alphabet=41)
    ours = rans.encode(symbols, table)
    coder = constriction.stream.stack.AnsCoder()
    coder.encode_reverse(
        symbols.astype(np.int32),
        constriction.stream.model.Categorical(table / 2**16, perfect=False),
    )
    theirs = coder.get_compressed().nbytes
    assert abs(len(ours) - theirs) <= max(4, 0.001 * theirs)
    assert abs(len(ours) - len(entropy.arithmetic_encode(symbols, table))) <= 12


def test_chapter_3_pixelcnn_stream_within_a_word_of_constriction(kodak_dir):
    """The PixelCNN's own stream (one table per subpixel) of a real Kodak crop; whole-image sizes are in
    benchmarks/bench_rans.py (0.1 % is below one 32-bit word on a crop this small)."""
    from helpers import data, pixelcnn

    crop = data.kodak(names=["kodim23"])["kodim23"][100:120, 300:320]
    symbols, tables = pixelcnn.coding_stream(pixelcnn.load_pretrained("gated"), crop)
    assert tables.shape == (symbols.size, 256) and (tables.sum(1) == pixelcnn.FREQUENCY_TOTAL).all()
    ours = rans.encode(symbols, tables)
    np.testing.assert_array_equal(rans.decode(ours, symbols.size, tables), symbols)
    coder = constriction.stream.stack.AnsCoder()
    coder.encode_reverse(
        symbols.astype(np.int32),
        constriction.stream.model.Categorical(perfect=False),
        tables / pixelcnn.FREQUENCY_TOTAL,
    )
    assert len(ours) <= coder.get_compressed().nbytes + 4
    assert 8 * len(ours) <= entropy.ideal_code_length(symbols, tables) + 64


def test_frequencies_from_probabilities():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(30), size=50)
    p[0, :5] = 0.0  # impossible symbols still get 1
    tables = rans.frequencies_from_probabilities(p, 12)
    assert tables.shape == p.shape and tables.dtype == np.int64
    assert (tables.sum(1) == 4096).all() and tables.min() >= 1
    np.testing.assert_array_equal(tables, rans.frequencies_from_probabilities(p, 12))
    single = rans.frequencies_from_probabilities(p[3], 12)
    np.testing.assert_array_equal(single, tables[3])
    assert single.argmax() == p[3].argmax()  # the remainder went to the most probable symbol
    for bad, match in [
        (np.zeros(4), "not all 0"),
        (np.array([0.5, np.nan]), "finite"),
        (np.ones(20), "do not fit"),
    ]:
        with pytest.raises(ValueError, match=match):
            rans.frequencies_from_probabilities(bad, 4)
    with pytest.raises(ValueError, match="precision"):
        rans.frequencies_from_probabilities(np.ones(2), 25)


def test_bad_tables_and_symbols_are_refused_clearly():
    table = np.array([8, 8, 0, 16])
    with pytest.raises(ValueError, match="zero frequency"):
        rans.encode([2], table)
    with pytest.raises(ValueError, match="out of range"):
        rans.encode([4], table)
    with pytest.raises(ValueError, match="power of two"):
        rans.encode([0], np.array([3, 4]))
    with pytest.raises(ValueError, match="integer"):
        rans.encode([0], np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="tables for"):
        rans.encode([0, 1], np.array([[8, 8]]))
    with pytest.raises(ValueError, match="interval"):
        rans.RansEncoder(4).put(10, 8)


def test_garbage_raises_value_error_only():
    """A raw stream carries no checksum: the decoder's own checks (the state's range, a clean end with
    every word read and the state back at 0) refuse most garbage with a ValueError and never fail with
    anything else. Garbage shorter than the symbols need can end "cleanly" (a state with no words left
    decays to 0, whose symbol is 0): the container's CRC and symbol count are what refuse it."""
    rng = np.random.default_rng(7)
    symbols, table = _stream(rng, 500)
    data = rans.encode(symbols, table)
    refused = 0
    for _ in range(200):
        garbage = rng.integers(0, 256, 4 * rng.integers(0, 2 * len(data) // 4)).astype(np.uint8)
        try:
            rans.decode(garbage.tobytes(), 500, table)
        except ValueError:
            refused += 1
        with pytest.raises(rans.RansStreamError):
            rans.decompress(table, rans.compress(table, symbols)[:18] + garbage.tobytes())
    assert refused > 150
    with pytest.raises(ValueError, match="did not end cleanly"):
        rans.decode(data, 499, table)  # a symbol left in the state
    with pytest.raises(TypeError):
        rans.decode("text", 1, table)


def test_compress_protocol_bytes_alone_and_damage():
    rng = np.random.default_rng(9)
    symbols, table = _stream(rng, 3000)
    data = rans.compress(table, symbols)
    assert isinstance(data, bytes)
    np.testing.assert_array_equal(rans.decompress(table, data), symbols)
    assert issubclass(rans.RansStreamError, ValueError)
    other = table.copy()
    other[[0, -1]] += [1, -1]
    for bad in (data[: len(data) // 2], b"", b"\x89PNG\r\n\x1a\n" + data[8:], data + b"\x00"):
        with pytest.raises(rans.RansStreamError):
            rans.decompress(table, bad)
    with pytest.raises(rans.RansStreamError, match="other frequency tables"):
        rans.decompress(other, data)
    per_symbol, tables = _stream(rng, 50, per_symbol=True)
    np.testing.assert_array_equal(
        rans.decompress(tables, rans.compress(tables, per_symbol)), per_symbol
    )
    with pytest.raises(ValueError, match="one possible symbol"):
        rans.compress(np.array([16, 0]), [0, 0])
