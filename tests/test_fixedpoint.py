"""helpers.fixedpoint: integer networks whose numpy int64 reference and torch float64 path agree exactly."""

import math

import numpy as np
import pytest
import torch

from helpers import autoencoder, fixedpoint


def _random_network(seed: int = 0) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    from compressai.layers import GDN

    net = torch.nn.Sequential(
        torch.nn.ConvTranspose2d(4, 6, 5, 2, 2, 1),
        GDN(6, inverse=True),
        torch.nn.ReLU(),
        torch.nn.Conv2d(6, 5, 3, 1, 1),
        torch.nn.LeakyReLU(0.01),
        torch.nn.Conv2d(5, 3, 5, 2, 2),
    )
    with torch.no_grad():
        for module in net:
            if isinstance(module, GDN):  # a non-trivial gamma (compressai starts at 0.1 I)
                module.gamma.add_(0.05 * torch.rand_like(module.gamma))
    return net.eval()


def test_rounding_shift_and_square_root_are_exact():
    rng = np.random.default_rng(0)
    values = rng.integers(-(2**50), 2**50, size=2000, dtype=np.int64)
    for shift in (0, 1, 7, 16):
        expected = np.array(
            [math.floor(v / 2**shift + 0.5) if shift else v for v in values.tolist()]
        )
        assert np.array_equal(fixedpoint.shift_round(values, shift), expected)
        as_torch = fixedpoint.shift_round(torch.from_numpy(values.astype(np.float64)), shift)
        assert np.array_equal(as_torch.numpy().astype(np.int64), expected)
    squares = rng.integers(0, 2**52, size=2000, dtype=np.int64)
    squares[:4] = [0, 1, 2**52 - 1, (2**26 - 1) ** 2]
    expected = np.array([math.isqrt(v) for v in squares.tolist()])
    assert np.array_equal(fixedpoint.isqrt(squares), expected)
    assert np.array_equal(
        fixedpoint.isqrt(torch.from_numpy(squares.astype(np.float64))).numpy().astype(np.int64),
        expected,
    )
    with pytest.raises(ValueError, match="shift"):
        fixedpoint.shift_round(values, -1)


def test_numpy_reference_and_torch_path_agree_exactly_and_track_the_float_network():
    net = _random_network()
    x = torch.randn(2, 4, 5, 7) * 3
    fractions = fixedpoint.fraction_plan(net, x)
    integer = fixedpoint.convert(net, fractions)
    x_q = fixedpoint.to_fixed(x.numpy(), fractions[0])
    reference = integer.numpy(x_q)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        fast = integer.torch(torch.from_numpy(x_q.astype(np.float64)))
        assert np.array_equal(fast.numpy().astype(np.int64), reference)
    with torch.no_grad():
        expected = net(x).numpy()
    error = np.abs(reference / 2.0 ** fractions[-1] - expected).max()
    assert error < 1e-3, error  # fixed point with ~16 fraction bits tracks the float network
    assert error > 0  # ...but is its own arithmetic


def test_out_of_range_inputs_and_bad_layers_are_refused():
    net = _random_network()
    integer = fixedpoint.convert(net, [16] * 7)
    huge = np.full((1, 4, 3, 3), 2**40, dtype=np.int64)
    with pytest.raises(OverflowError, match="2\\*\\*53"):
        integer.numpy(huge)
    with pytest.raises(OverflowError, match="2\\*\\*53"):
        integer.torch(torch.from_numpy(huge.astype(np.float64)))
    with pytest.raises(TypeError, match="integers"):
        integer.numpy(np.zeros((1, 4, 3, 3)))
    with pytest.raises(TypeError, match="float64"):
        integer.torch(torch.zeros(1, 4, 3, 3))
    with pytest.raises(ValueError, match="integer form"):
        fixedpoint.convert(torch.nn.Sequential(torch.nn.Sigmoid()), [8, 8])
    with pytest.raises(ValueError, match="fraction counts"):
        fixedpoint.convert(net, [16, 16])


def test_integer_hyperprior_indexes_match_the_float_model_almost_everywhere():
    import skimage.data

    crop = skimage.data.astronaut()[:128, 128:320]
    model = autoencoder.load_integer("bmshj2018-hyperprior", 3)
    x = torch.from_numpy(crop.transpose(2, 0, 1).copy()).float()[None] / 255
    with torch.no_grad():
        z = model.model.h_a(torch.abs(model.model.g_a(x)))
        z_hat = model.model.entropy_bottleneck.decompress(
            model.model.entropy_bottleneck.compress(z), z.shape[-2:]
        )
        float_indexes = model.model.gaussian_conditional.build_indexes(model.model.h_s(z_hat))
    symbols = torch.round(z - model.medians[None, :, None, None]).numpy().astype(np.int64)
    integer_indexes, _ = model.entropy_parameters(symbols)
    agree = (integer_indexes == float_indexes.numpy()).mean()
    assert agree > 0.995, (
        agree
    )  # the rest sit within rounding of a table boundary: a rate cost only
    with fixedpoint.integer_path("numpy"):
        assert model.path == "numpy"
        assert np.array_equal(model.entropy_parameters(symbols)[0], integer_indexes)
    assert model.path == "torch"  # the switch ends with its block
    with pytest.raises(ValueError, match="path"):
        with fixedpoint.integer_path("float"):
            pass
    with pytest.raises(AttributeError):
        model.path = "numpy"  # no object holds a path of its own


def test_a_mean_scale_hyperprior_gets_an_integer_decoder_too():
    import skimage.data

    torch.manual_seed(0)
    model = autoencoder.build_model("mbt2018-mean", N=8, M=12).eval()
    tables = autoencoder.integer_tables(model)
    example = torch.round(torch.randn(1, 8, 2, 3) * 2)
    h_plan = fixedpoint.fraction_plan(model.h_s, example)
    g_plan = fixedpoint.fraction_plan(model.g_s, torch.round(torch.randn(1, 12, 8, 12) * 4))
    integer = autoencoder.IntegerHyperprior(model, tables, h_plan, g_plan)
    crop = skimage.data.coffee()[:64, :128]
    data = autoencoder.compress(integer, crop)
    decoded = autoencoder.decompress(integer, data)
    with fixedpoint.integer_path("numpy"):
        assert np.array_equal(autoencoder.decompress(integer, data), decoded)
    assert autoencoder.model_kind(integer) == "integer-mean-scale"
