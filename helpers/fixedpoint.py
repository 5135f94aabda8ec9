"""Integer (fixed-point) networks: decoders whose output is the same on every machine (chapter 4,
section 10; the cure for the failure of section 9).

An entropy decoder must rebuild the encoder's probability tables bit for bit. A float network does not
give them: another thread count, another BLAS, a GPU or float64 sums in another order and moves the
last bits, and a scale that sat on a table boundary changes its index. Ballé, Johnston and Minnen
("Integer networks for data compression with latent-variable models", ICLR 2019) make the networks
that feed the entropy coder integer: integer weights, integer sums, rounding by a documented rule.

Here a trained float network is converted to fixed point: every tensor is an integer ``q`` standing for
``q / 2**f`` with a stated number of fraction bits ``f`` per layer. A convolution sums integer products
exactly; its output is rescaled by a rounding right shift, ``(v + 2**(k-1)) >> k`` (round half up);
ReLU is ``max(v, 0)``; the inverse GDN takes an exact integer square root. Nothing else is used, so the
result is a function of the integers alone.

Two implementations compute the same integers:

* ``IntegerNetwork.numpy``: the reference, numpy ``int64`` throughout (im2col and integer dot products);
* ``IntegerNetwork.torch``: the fast path, torch ``float64`` tensors that hold integers. Sums of
  integers below 2**53 are exact in float64 in any order (that is what makes threads, BLAS and GPUs
  agree), so every layer checks before it runs that no partial sum can reach 2**53 (``OverflowError``
  otherwise), and cuDNN (whose FFT and Winograd algorithms leave the integers) is switched off.

Tests check that both give identical integers, with one and two threads, on CPU and GPU.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "EXACT_LIMIT",
    "IntegerLayer",
    "IntegerNetwork",
    "convert",
    "shift_round",
    "isqrt",
    "to_fixed",
    "conv_layer",
    "apply_conv",
    "Table",
    "TwoPaths",
    "PATHS",
    "current_path",
    "integer_path",
]

#: every integer a float64 holds exactly lies below this
EXACT_LIMIT = 2**53


def to_fixed(values, fraction: int) -> np.ndarray:
    """``round(values * 2**fraction)`` as int64, computed exactly from float32/float64 values
    (multiplying by a power of two and rounding are exact in IEEE arithmetic, on every machine)."""
    scaled = np.asarray(values, dtype=np.float64) * float(2**fraction)
    if not np.all(np.isfinite(scaled)) or np.abs(scaled).max(initial=0) >= 2**62:
        raise OverflowError(f"values do not fit {fraction} fraction bits in int64")
    return np.round(scaled).astype(np.int64)  # round half to even, exact


def shift_round(values, shift: int):
    """``round(values / 2**shift)`` with halves rounded up, for integers (numpy int64, or torch float64
    holding integers); shift 0 returns the values."""
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if shift == 0:
        return values
    if isinstance(values, torch.Tensor):
        return torch.floor((values + float(2 ** (shift - 1))) * (1.0 / 2**shift))
    return (values + (1 << (shift - 1))) >> shift


def isqrt(values):
    """floor(sqrt(v)) of non-negative integers below 2**53, exactly: the correctly rounded float64
    square root (IEEE 754 requires it) corrected by one where it rounded up or down."""
    if isinstance(values, torch.Tensor):
        root = torch.floor(torch.sqrt(values))
        root = root - (root * root > values).to(root.dtype)
        return root + ((root + 1) * (root + 1) <= values).to(root.dtype)
    root = np.floor(np.sqrt(values.astype(np.float64))).astype(np.int64)
    root -= root * root > values
    return root + ((root + 1) * (root + 1) <= values)


@dataclass
class IntegerLayer:
    """One layer of an integer network.

    kind: "conv", "deconv" (transposed convolution), "relu", "leaky_relu" or "igdn".
    For conv/deconv: ``weight`` (int64, PyTorch's layout) with ``weight_fraction`` bits, ``bias`` with
    ``fraction_in + weight_fraction`` bits, ``stride``, ``padding``, ``output_padding``; the output has
    ``fraction_out`` bits. For leaky_relu: ``slope`` with 16 bits. For igdn: ``gamma`` (C, C) with
    ``weight_fraction`` bits and ``beta`` with ``fraction_in + weight_fraction`` bits.
    """

    kind: str
    fraction_in: int
    fraction_out: int
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    weight_fraction: int = 0
    stride: int = 1
    padding: int = 0
    output_padding: int = 0
    slope: int = 0
    tensors: dict = field(default_factory=dict, repr=False)  # cached torch copies per device

    def _torch(self, name: str, device) -> torch.Tensor:
        key = (name, str(device))
        if key not in self.tensors:
            array = getattr(self, name)
            self.tensors[key] = torch.from_numpy(array.astype(np.float64)).to(device)
        return self.tensors[key]

    def row_sum(self) -> int:
        """The largest sum of |weights| feeding one output: the gain of the layer's integer sum."""
        w = np.abs(self.weight)
        if self.kind == "deconv":  # (C_in, C_out, k, k): an output sums over C_in and the taps
            return int(w.sum(axis=(0, 2, 3)).max())
        if self.kind == "igdn":
            return int(w.sum(axis=1).max())
        return int(w.sum(axis=(1, 2, 3)).max())


def _check_exact(peak: float, layer_gain: int, offset: int, what: str) -> None:
    if peak * layer_gain + offset >= EXACT_LIMIT:
        raise OverflowError(
            f"{what}: a partial sum could reach {peak * layer_gain + offset:.3g} >= 2**53, where "
            "float64 stops holding integers exactly; this input is outside the network's range"
        )


def _im2col_conv(x: np.ndarray, weight: np.ndarray, stride: int, padding) -> np.ndarray:
    """Integer 2-D convolution (cross-correlation, as PyTorch) of x (N, C, H, W) with (O, C, kh, kw);
    padding is one number or (rows, columns)."""
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = weight.shape[-2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # (N, C, H', W', kh, kw)
    n, c, h, w = windows.shape[:4]
    columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * kh * kw)
    out = columns @ weight.reshape(weight.shape[0], -1).T  # int64 products and sums: exact
    return out.reshape(n, h, w, -1).transpose(0, 3, 1, 2)


def _deconv_numpy(x, weight, stride, padding, output_padding) -> np.ndarray:
    """Transposed convolution as PyTorch defines it: zeros inserted between inputs, then a plain
    convolution with the flipped, transposed kernel."""
    n, c, h, w = x.shape
    k = weight.shape[-1]
    dilated = np.zeros((n, c, (h - 1) * stride + 1, (w - 1) * stride + 1), dtype=np.int64)
    dilated[:, :, ::stride, ::stride] = x
    low, high = k - 1 - padding, k - 1 - padding + output_padding
    dilated = np.pad(dilated, ((0, 0), (0, 0), (low, high), (low, high)))
    kernel = np.ascontiguousarray(weight.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    return _im2col_conv(dilated, kernel, 1, 0)


@contextlib.contextmanager
def _exact_backend(device: torch.device):
    """cuDNN may pick FFT or Winograd convolutions, which leave the integers: use the native kernels."""
    if device.type == "cuda":
        with torch.backends.cudnn.flags(enabled=False):
            yield
    else:
        yield


class IntegerNetwork:
    """A sequence of IntegerLayers: ``numpy(x)`` (int64 reference) and ``torch(x)`` (float64 integers)
    take and return integers with ``fraction_in`` / ``fraction_out`` fraction bits."""

    def __init__(self, layers: list[IntegerLayer]):
        if not layers:
            raise ValueError("an integer network needs at least one layer")
        self.layers = layers

    @property
    def fraction_in(self) -> int:
        return self.layers[0].fraction_in

    @property
    def fraction_out(self) -> int:
        return self.layers[-1].fraction_out

    def numpy(self, x) -> np.ndarray:
        """The reference: numpy int64 arithmetic (x: (N, C, H, W) integers)."""
        x = np.asarray(x)
        if x.dtype.kind not in "iu":
            raise TypeError(f"the integer network takes integers, got {x.dtype}")
        x = x.astype(np.int64)
        for index, layer in enumerate(self.layers):
            what = f"layer {index} ({layer.kind})"
            peak = int(np.abs(x).max(initial=0))
            if layer.kind in ("conv", "deconv"):
                _check_exact(peak, layer.row_sum(), int(np.abs(layer.bias).max(initial=0)), what)
                if layer.kind == "conv":
                    acc = _im2col_conv(x, layer.weight, layer.stride, layer.padding)
                else:
                    acc = _deconv_numpy(
                        x, layer.weight, layer.stride, layer.padding, layer.output_padding
                    )
                acc = acc + layer.bias[None, :, None, None]
                shift = layer.fraction_in + layer.weight_fraction - layer.fraction_out
                x = shift_round(acc, shift)
            elif layer.kind == "relu":
                x = np.maximum(x, 0)
            elif layer.kind == "leaky_relu":
                _check_exact(peak, layer.slope, 0, what)
                x = np.where(x >= 0, x, shift_round(x * layer.slope, 16))
            elif layer.kind == "igdn":
                x = self._igdn_numpy(x, layer, what)
            else:
                raise ValueError(f"unknown integer layer kind {layer.kind!r}")
        return x

    @staticmethod
    def _igdn_numpy(x: np.ndarray, layer: IntegerLayer, what: str) -> np.ndarray:
        f, g = layer.fraction_in, layer.weight_fraction
        peak = int(np.abs(x).max(initial=0))
        _check_exact(peak, peak, 0, what + " x^2")
        square = shift_round(x * x, f)
        _check_exact(int(square.max(initial=0)), layer.row_sum(), int(layer.bias.max()), what)
        gamma = layer.weight[:, :, None, None]
        norm = _im2col_conv(square, gamma, 1, 0) + layer.bias[None, :, None, None]
        root = isqrt(norm)  # fraction (f + g) / 2
        _check_exact(peak, int(root.max(initial=0)), 0, what + " x*norm")
        return shift_round(x * root, (f + g) // 2 + f - layer.fraction_out)

    def torch(self, x: torch.Tensor) -> torch.Tensor:
        """The fast path: float64 tensors holding integers, on x's device; equal to ``numpy``."""
        if x.dtype != torch.float64:
            raise TypeError(f"the torch path takes float64 tensors holding integers, got {x.dtype}")
        device = x.device
        with _exact_backend(device), torch.no_grad():
            for index, layer in enumerate(self.layers):
                what = f"layer {index} ({layer.kind})"
                peak = float(x.abs().max()) if x.numel() else 0.0
                if layer.kind in ("conv", "deconv"):
                    bias = layer._torch("bias", device)
                    _check_exact(
                        peak, layer.row_sum(), int(np.abs(layer.bias).max(initial=0)), what
                    )
                    weight = layer._torch("weight", device)
                    if layer.kind == "conv":
                        acc = F.conv2d(x, weight, bias, layer.stride, layer.padding)
                    else:
                        acc = F.conv_transpose2d(
                            x, weight, bias, layer.stride, layer.padding, layer.output_padding
                        )
                    shift = layer.fraction_in + layer.weight_fraction - layer.fraction_out
                    x = shift_round(acc, shift)
                elif layer.kind == "relu":
                    x = torch.clamp_min(x, 0)
                elif layer.kind == "leaky_relu":
                    _check_exact(peak, layer.slope, 0, what)
                    x = torch.where(x >= 0, x, shift_round(x * float(layer.slope), 16))
                elif layer.kind == "igdn":
                    f, g = layer.fraction_in, layer.weight_fraction
                    _check_exact(peak, peak, 0, what + " x^2")
                    square = shift_round(x * x, f)
                    top = float(square.max()) if square.numel() else 0.0
                    _check_exact(top, layer.row_sum(), int(layer.bias.max()), what)
                    gamma = layer._torch("weight", device)[:, :, None, None]
                    norm = F.conv2d(square, gamma, layer._torch("bias", device))
                    root = isqrt(norm)
                    _check_exact(peak, float(root.max()) if root.numel() else 0.0, 0, what)
                    x = shift_round(x * root, (f + g) // 2 + f - layer.fraction_out)
                else:
                    raise ValueError(f"unknown integer layer kind {layer.kind!r}")
        return x

    def summary(self) -> list[dict]:
        """One row per layer: kind, fraction bits in/out, weight fraction bits, largest |weight|."""
        return [
            {
                "kind": layer.kind,
                "fraction_in": layer.fraction_in,
                "fraction_out": layer.fraction_out,
                "weight_fraction": layer.weight_fraction,
                "max_weight": int(np.abs(layer.weight).max()) if layer.weight is not None else None,
            }
            for layer in self.layers
        ]


def _gdn_parameters(module) -> tuple[np.ndarray, np.ndarray]:
    """Effective beta and gamma of a compressai GDN, recomputed in float64 numpy from the stored
    float32 parameters (lower bound, square, minus the pedestal), the same on every machine."""

    def effective(reparam, raw) -> np.ndarray:
        pedestal = float(reparam.pedestal)
        bound = float(reparam.lower_bound.bound)
        values = np.maximum(raw.detach().cpu().numpy().astype(np.float64), bound)
        return values * values - pedestal

    return effective(module.beta_reparam, module.beta), effective(
        module.gamma_reparam, module.gamma
    )


def convert(
    sequential: torch.nn.Module,
    fractions: list[int],
    weight_fraction: int | list[int] = 14,
    gdn_fraction: int | None = None,
) -> IntegerNetwork:
    """Convert a float Sequential (Conv2d, ConvTranspose2d, ReLU, LeakyReLU, compressai inverse GDN) to
    an IntegerNetwork.

    fractions: the fraction bits of the input and of each layer's output (len(layers) + 1 numbers);
    weight_fraction: bits of the convolution weights (one number, or one per layer); gdn_fraction:
    bits of GDN's gamma (default:
    weight_fraction, made even with the input's bits so the square root lands on whole bits).
    The conversion uses only exact operations on the stored parameters, so it gives the same integers
    on every machine.
    """
    modules = list(sequential)
    if len(fractions) != len(modules) + 1:
        raise ValueError(f"need {len(modules) + 1} fraction counts, got {len(fractions)}")
    per_layer = (
        list(weight_fraction)
        if isinstance(weight_fraction, (list, tuple))
        else [weight_fraction] * len(modules)
    )
    if len(per_layer) != len(modules):
        raise ValueError(f"need {len(modules)} weight fraction counts, got {len(per_layer)}")
    layers = []
    for index, module in enumerate(modules):
        f_in, f_out = fractions[index], fractions[index + 1]
        weight_fraction = per_layer[index]
        name = type(module).__name__
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            deconv = isinstance(module, torch.nn.ConvTranspose2d)
            (k1, k2), (s1, s2) = module.kernel_size, module.stride
            (p1, p2) = module.padding
            if k1 != k2 or s1 != s2 or p1 != p2 or module.groups != 1 or module.dilation != (1, 1):
                raise ValueError(
                    f"layer {index}: only square, ungrouped, undilated kernels convert"
                )
            if f_out > f_in + weight_fraction:
                raise ValueError(f"layer {index}: output bits {f_out} > input + weight bits")
            layers.append(
                IntegerLayer(
                    "deconv" if deconv else "conv",
                    f_in,
                    f_out,
                    weight=to_fixed(module.weight.detach().cpu().numpy(), weight_fraction),
                    bias=to_fixed(module.bias.detach().cpu().numpy(), f_in + weight_fraction),
                    weight_fraction=weight_fraction,
                    stride=s1,
                    padding=p1,
                    output_padding=module.output_padding[0] if deconv else 0,
                )
            )
        elif isinstance(module, torch.nn.ReLU):
            if f_out != f_in:
                raise ValueError(f"layer {index}: ReLU keeps the fraction bits")
            layers.append(IntegerLayer("relu", f_in, f_out))
        elif isinstance(module, torch.nn.LeakyReLU):
            if f_out != f_in:
                raise ValueError(f"layer {index}: LeakyReLU keeps the fraction bits")
            slope = int(to_fixed(module.negative_slope, 16))
            layers.append(IntegerLayer("leaky_relu", f_in, f_out, slope=slope))
        elif name == "GDN" and getattr(module, "inverse", False):
            g = weight_fraction if gdn_fraction is None else gdn_fraction
            g += (f_in + g) % 2
            beta, gamma = _gdn_parameters(module)
            layers.append(
                IntegerLayer(
                    "igdn",
                    f_in,
                    f_out,
                    weight=to_fixed(gamma, g),
                    bias=to_fixed(beta, f_in + g),
                    weight_fraction=g,
                )
            )
        else:
            raise ValueError(f"layer {index}: {name} has no integer form here")
    return IntegerNetwork(layers)


def fraction_plan(
    sequential: torch.nn.Module,
    example: torch.Tensor,
    headroom_bits: int = 4,
    max_fraction: int = 16,
    weight_fraction: int = 14,
) -> list[int]:
    """Fraction bits per tensor so that, on ``example`` with ``headroom_bits`` to spare, no integer sum
    reaches 2**53: the largest value of each tensor (on the example) decides how many bits its
    integer part needs; the rest, up to ``max_fraction``, goes to the fraction."""
    modules = list(sequential)
    peaks = [float(example.abs().max())]
    x = example
    with torch.no_grad():
        for module in modules:
            x = module(x)
            peaks.append(float(x.abs().max()))
    fractions = []
    for peak in peaks:
        needed = math.ceil(math.log2(max(peak, 1.0) * 2**headroom_bits))
        # an integer sum of the next layer multiplies by the weights (up to 2**weight_fraction each,
        # summed over up to 2**12 taps): leave it room below 2**53
        fractions.append(max(0, min(max_fraction, 53 - 12 - weight_fraction - needed)))
    # a layer cannot create fraction bits: f_out <= f_in + weight bits always holds here
    return fractions


# ----------------------------------------------------------------------------- building blocks
# For networks that are not a plain Sequential (the gated PixelCNN): one convolution and one table
# lookup that take numpy int64 arrays (the reference) or torch float64 tensors (the fast path).


def conv_layer(
    module: torch.nn.Conv2d,
    fraction_in: int,
    fraction_out: int,
    weight_fraction: int,
    weight=None,
    bias=None,
) -> IntegerLayer:
    """An IntegerLayer for a Conv2d of any kernel shape (``weight``/``bias``: float64 arrays that
    replace the module's, e.g. masked or rescaled; converted exactly)."""
    w = module.weight.detach().cpu().numpy().astype(np.float64) if weight is None else weight
    b = module.bias.detach().cpu().numpy().astype(np.float64) if bias is None else bias
    if module.groups != 1 or module.dilation != (1, 1) or module.stride != (1, 1):
        raise ValueError("only ungrouped, undilated, stride-1 convolutions convert here")
    return IntegerLayer(
        "conv",
        fraction_in,
        fraction_out,
        weight=to_fixed(w, weight_fraction),
        bias=to_fixed(b, fraction_in + weight_fraction),
        weight_fraction=weight_fraction,
        padding=tuple(module.padding),
    )


def apply_conv(layer: IntegerLayer, x):
    """One convolution of an IntegerLayer on numpy int64 or torch float64 integers, with its shift."""
    peak = float(np.abs(x).max()) if isinstance(x, np.ndarray) else float(x.abs().max())
    _check_exact(peak, layer.row_sum(), int(np.abs(layer.bias).max(initial=0)), "convolution")
    shift = layer.fraction_in + layer.weight_fraction - layer.fraction_out
    if isinstance(x, np.ndarray):
        acc = _im2col_conv(x, layer.weight, 1, layer.padding) + layer.bias[None, :, None, None]
        return shift_round(acc, shift)
    with _exact_backend(x.device):
        acc = F.conv2d(
            x, layer._torch("weight", x.device), layer._torch("bias", x.device), 1, layer.padding
        )
    return shift_round(acc, shift)


class Table:
    """A function tabulated on a fixed-point grid and read with linear interpolation, in integers.

    ``values[i]`` = round(f(low + i / 2**grid_bits) * 2**value_bits), computed in 40-digit decimal
    arithmetic (the same on every machine). ``lookup(x, fraction)`` clamps x (fraction bits) to
    [low, high], then interpolates between the two nearest entries with a rounding shift.
    """

    def __init__(
        self, function: str, low: int, high: int, grid_bits: int = 8, value_bits: int = 16
    ):
        from decimal import Decimal, localcontext

        self.function, self.low, self.high = function, low, high
        self.grid_bits, self.value_bits = grid_bits, value_bits
        count = (high - low) * 2**grid_bits + 1
        with localcontext() as context:
            context.prec = 40
            one = Decimal(1)
            values = []
            for i in range(count):
                t = Decimal(low) + Decimal(i) / Decimal(2**grid_bits)
                if function == "tanh":
                    e = (2 * t).exp()
                    v = (e - one) / (e + one)
                elif function == "sigmoid":
                    v = one / (one + (-t).exp())
                elif function == "exp":
                    v = t.exp()
                else:
                    raise ValueError(f"unknown table function {function!r}")
                values.append(int((v * Decimal(2**value_bits)).to_integral_value()))
        self.values = np.array(values, dtype=np.int64)
        self._tensors: dict = {}

    def lookup(self, x, fraction: int):
        """f(x) with ``value_bits`` fraction bits, for x with ``fraction`` bits (>= grid_bits)."""
        step = fraction - self.grid_bits
        if step < 0:
            raise ValueError(f"inputs need at least {self.grid_bits} fraction bits, got {fraction}")
        low, high = self.low * 2**fraction, self.high * 2**fraction
        if isinstance(x, np.ndarray):
            clamped = np.clip(x, low, high) - low
            index = clamped >> step
            rest = clamped - (index << step)
            upper = np.minimum(index + 1, self.values.size - 1)
            base, top = self.values[index], self.values[upper]
            return base + shift_round((top - base) * rest, step)
        device = x.device
        if str(device) not in self._tensors:
            self._tensors[str(device)] = torch.from_numpy(self.values.astype(np.float64)).to(device)
        values = self._tensors[str(device)]
        clamped = torch.clamp(x, low, high) - low
        index = torch.floor(clamped * (1.0 / 2**step))
        rest = clamped - index * 2**step
        upper = torch.clamp_max(index + 1, self.values.size - 1)
        base, top = values[index.long()], values[upper.long()]
        return base + shift_round((top - base) * rest, step)


_PATH = contextvars.ContextVar("integer_path", default="torch")
PATHS = ("torch", "numpy")


def current_path() -> str:
    """The implementation every integer network runs now: "torch" (float64 tensors holding integers,
    on the model's device; the default) or "numpy" (the int64 reference). See ``integer_path``."""
    return _PATH.get()


@contextlib.contextmanager
def integer_path(path: str):
    """``with fixedpoint.integer_path("numpy"):`` every integer network (the coders' decoders, the
    loop filters, the video tools) runs its int64 numpy reference inside the block, then the previous
    path again. The one switch: no decoder object holds a path of its own, so a cached shipped model
    is never changed behind another caller's back."""
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, got {path!r}")
    token = _PATH.set(path)
    try:
        yield path
    finally:
        _PATH.reset(token)


class TwoPaths:
    """Mixed into an integer coder: ``path`` is the current ``integer_path`` (read-only)."""

    @property
    def path(self) -> str:
        return current_path()
