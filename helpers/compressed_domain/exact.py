"""Chapter 8, part 1: JPEG decoding as a linear map, and the exact conversion of a small residual
network into one that reads DCT coefficients (Ehrlich and Davis, ICCV 2019), with its ReLU
approximations."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import images, jpeg
from ..jpeg import JPEGError

__all__ = [
    "BLOCK",
    "digit_inputs",
    "FREQUENCY_BANDS",
    "band_mask",
    "to_coefficients",
    "to_pixels",
    "decoding_matrix",
    "linear_decode",
    "digits",
    "jpeg_digits",
    "DigitsNet",
    "block_conv_weights",
    "CoefficientNet",
    "convert",
    "relu_exact",
    "relu_direct",
    "relu_asm",
    "paper_blocks",
    "relu_errors",
]

BLOCK = 8
#: the number of diagonal frequency bands of an 8 x 8 block: u + v = 0 .. 14
FREQUENCY_BANDS = 2 * BLOCK - 1


# ----------------------------------------------------------------------------------------------
# Block DCT on tensors, and JPEG decoding as a linear map
# ----------------------------------------------------------------------------------------------


def _dct(dtype, device) -> torch.Tensor:
    return jpeg.dct_matrix(BLOCK, dtype=dtype, device=device)


def to_coefficients(x: torch.Tensor) -> torch.Tensor:
    """Pixels (N, C, H, W), H and W multiples of 8 -> block DCT coefficients (N, C * 64, H/8, W/8)."""
    n, c, h, w = x.shape
    if h % BLOCK or w % BLOCK:
        raise ValueError(f"height and width must be multiples of 8, got {h} x {w}")
    d = _dct(x.dtype, x.device)
    blocks = x.reshape(n, c, h // 8, 8, w // 8, 8).permute(0, 1, 2, 4, 3, 5)
    coefficients = d @ blocks @ d.T  # (n, c, hb, wb, 8, 8)
    return coefficients.permute(0, 1, 4, 5, 2, 3).reshape(n, c * 64, h // 8, w // 8)


def to_pixels(coefficients: torch.Tensor) -> torch.Tensor:
    """The inverse of ``to_coefficients``: (N, C * 64, Hb, Wb) -> (N, C, 8 Hb, 8 Wb)."""
    n, c64, hb, wb = coefficients.shape
    if c64 % 64:
        raise ValueError(f"coefficient channels must be a multiple of 64, got {c64}")
    d = _dct(coefficients.dtype, coefficients.device)
    blocks = coefficients.reshape(n, c64 // 64, 8, 8, hb, wb).permute(0, 1, 4, 5, 2, 3)
    pixels = d.T @ blocks @ d
    return pixels.permute(0, 1, 2, 4, 3, 5).reshape(n, c64 // 64, hb * 8, wb * 8)


def band_mask(k: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """The 64 frequencies (natural order) with u + v < k: k = 1 keeps DC, k = 15 keeps all."""
    if not isinstance(k, int) or not 1 <= k <= FREQUENCY_BANDS:
        raise ValueError(f"k must be an int in 1..{FREQUENCY_BANDS}, got {k!r}")
    u = torch.arange(8, device=device)
    return ((u[:, None] + u[None, :]) < k).to(dtype).reshape(64)


def decoding_matrix(table) -> np.ndarray:
    """The 64 x 64 matrix that decodes one block: pixels (row-major, level shift not added) =
    M @ levels (zigzag order, as the file stores them). M = IDCT basis @ diag(quantization table)."""
    table = np.asarray(table, dtype=np.float64)
    if table.shape != (8, 8):
        raise ValueError(f"a quantization table is 8 x 8, got shape {table.shape}")
    d = jpeg.dct_matrix(8).numpy()
    basis = np.einsum("ui,vj->ijuv", d, d).reshape(64, 64)  # pixel (i, j) from coefficient (u, v)
    natural = np.asarray(jpeg.ZIGZAG).reshape(64)  # zigzag position -> natural index
    return basis[:, natural] * table.reshape(64)[natural][None, :]


def linear_decode(frame) -> np.ndarray:
    """Decode a baseline frame (``jpeg.read_jpeg``) with linear maps only: per block M @ levels + 128,
    chroma upsampled by repetition, YCbCr -> RGB. Float RGB (H, W, 3), neither rounded nor clamped."""
    planes = []
    h_max, v_max = frame.h_max, frame.v_max
    for component in frame.components:
        matrix = decoding_matrix(frame.quant_tables[component.table_id])
        levels = component.coefficients.astype(np.float64)  # (rows, cols, 64) zigzag
        blocks = levels @ matrix.T + 128.0
        rows, cols = blocks.shape[:2]
        plane = blocks.reshape(rows, cols, 8, 8).transpose(0, 2, 1, 3).reshape(rows * 8, cols * 8)
        plane = np.repeat(np.repeat(plane, v_max // component.v, 0), h_max // component.h, 1)
        planes.append(plane[: frame.height, : frame.width])
    if len(planes) == 1:
        return np.repeat(planes[0][:, :, None], 3, axis=2)
    y, cb, cr = planes[:3]
    (_, _, r_cr), (_, g_cb, g_cr), (_, b_cb, _) = images.YCBCR_TO_RGB  # JFIF's inverse transform
    return np.stack(
        [y + r_cr * (cr - 128), y + g_cb * (cb - 128) + g_cr * (cr - 128), y + b_cb * (cb - 128)],
        axis=-1,
    )


# ----------------------------------------------------------------------------------------------
# Exact conversion: a small residual network on JPEG-compressed digits
# ----------------------------------------------------------------------------------------------


def digits(size: int = 32, seed: int = 0, test_fraction: float = 0.3):
    """scikit-learn's bundled 8 x 8 digits (1,797, no download), scaled to 0-255 and upsampled to
    ``size`` (bilinear): ((train uint8 (N, size, size), labels), (test ..., labels)), a fixed split."""
    from sklearn.datasets import load_digits

    if size % 8:
        raise ValueError(f"size must be a multiple of 8 (whole JPEG blocks), got {size}")
    bunch = load_digits()
    x = torch.from_numpy(bunch.images.astype(np.float32) * (255.0 / 16.0))[:, None]
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    pictures = x[:, 0].round().clamp(0, 255).to(torch.uint8).numpy()
    order = np.random.default_rng(seed).permutation(len(pictures))
    cut = int(round(len(order) * (1 - test_fraction)))
    train, test = order[:cut], order[cut:]
    return (pictures[train], bunch.target[train]), (pictures[test], bunch.target[test])


def jpeg_digits(pictures: np.ndarray, quality: int = 50) -> list[bytes]:
    """Each grayscale digit as a baseline JPEG written by chapter 1's encoder."""
    return [jpeg.encode(p, quality=quality) for p in pictures]


def _block_input(data: bytes) -> torch.Tensor:
    """The dequantized coefficients of a grayscale JPEG, scaled like the pixel network's input
    (pixels - 128) / 128: (1, 64, Hb, Wb) float64. Reads with chapter 1's reader."""
    frame = jpeg.read_jpeg(data)
    if len(frame.components) != 1:
        raise JPEGError(
            f"the digits network reads grayscale JPEGs; this file has {len(frame.components)} components"
        )
    component = frame.components[0]
    table = frame.quant_tables[component.table_id].astype(np.float64).reshape(64)
    levels = jpeg.unzigzag(component.coefficients.astype(np.float64)).reshape(
        component.coefficients.shape[:2] + (64,)
    )
    rows, cols = images.ceil_div(frame.height, 8), images.ceil_div(frame.width, 8)
    values = levels[:rows, :cols] * table / 128.0
    return torch.from_numpy(values.transpose(2, 0, 1).copy())[None]


def digit_inputs(files: list[bytes]) -> tuple[torch.Tensor, torch.Tensor]:
    """(coefficients (N, 64, Hb, Wb), pixels (N, 1, H, W)) float64 of JPEG digit files: the
    converted network's input and the pixel network's input decoded by the exact float IDCT."""
    coefficients = torch.cat([_block_input(f) for f in files])
    return coefficients, to_pixels(coefficients)


class _Residual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class DigitsNet(nn.Module):
    """A small ResNet in the pixel domain: stem conv, three residual blocks (the last two of stride
    2), global average pooling, a linear classifier. Input (N, 1, 32, 32) = (pixels - 128) / 128."""

    def __init__(self, widths: tuple[int, int, int] = (8, 16, 32), classes: int = 10):
        super().__init__()
        a, b, c = widths
        self.widths = tuple(widths)
        self.stem = nn.Conv2d(1, a, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(a)
        self.blocks = nn.Sequential(_Residual(a, a, 1), _Residual(a, b, 2), _Residual(b, c, 2))
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        return self.fc(self.blocks(x).mean(dim=(2, 3)))


def block_conv_weights(weight: torch.Tensor, stride: int, padding: int) -> torch.Tensor:
    """A pixel-domain convolution (weight (Cout, Cin, k, k), zero padding) as a convolution over the
    8 x 8 block grid: weights (Cout * 64, Cin * 64, 3, 3) for ``F.conv2d(coefficients, W, stride=stride,
    padding=1)``. Found by pushing every DCT basis function through the pixel convolution (float64)."""
    cout, cin, k, _ = weight.shape
    if stride not in (1, 2) or k > 3 or padding > 1:
        raise ValueError("supported: kernels up to 3 x 3, padding up to 1, stride 1 or 2")
    weight = weight.detach().to(torch.float64)
    flat = weight.permute(1, 0, 2, 3).reshape(cin * cout, 1, k, k)  # (cin, cout) pairs as groups
    d = _dct(torch.float64, None)
    basis = torch.einsum("ui,vj->uvij", d, d).reshape(64, 1, 8, 8)  # pixels of each frequency
    base = stride - 1  # the input block under kernel offset 0 for output block (1, 1)
    start, stop = (
        8 * stride - padding,
        15 * stride - padding + k,
    )  # the input window of block (1, 1)
    result = torch.zeros(cout * 64, cin * 64, 3, 3, dtype=torch.float64)
    for di in range(3):
        for dj in range(3):
            probe = torch.zeros(64, 1, 32, 32, dtype=torch.float64)
            top, left = 8 * (base + di), 8 * (base + dj)
            probe[:, :, top : top + 8, left : left + 8] = basis
            window = probe[:, :, start:stop, start:stop].expand(-1, cin * cout, -1, -1)
            out = F.conv2d(window, flat, stride=stride, groups=cin * cout)  # (64, cin*cout, 8, 8)
            spectrum = d @ out @ d.T  # each output block's coefficients
            spectrum = spectrum.reshape(64, cin, cout, 64)  # (f_in, c, o, f_out)
            result[:, :, di, dj] = spectrum.permute(2, 3, 1, 0).reshape(cout * 64, cin * 64)
    return result


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode batch norm folded into the preceding bias-free convolution: (weight, bias)."""
    with torch.no_grad():
        double = {
            name: getattr(bn, name).to(torch.float64)
            for name in ("weight", "bias", "running_mean", "running_var")
        }
        scale = double["weight"] / torch.sqrt(double["running_var"] + bn.eps)
        weight = conv.weight.to(torch.float64) * scale[:, None, None, None]
        return weight, double["bias"] - double["running_mean"] * scale


class _BlockConv(nn.Module):
    """A folded conv + batch norm, acting on coefficients. A per-channel bias is a constant image:
    in the DCT domain it is 8 x bias on the DC coefficient and nothing elsewhere."""

    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d):
        super().__init__()
        weight, bias = _fold(conv, bn)
        self.stride = conv.stride[0]
        self.register_buffer("weight", block_conv_weights(weight, self.stride, conv.padding[0]))
        dc = torch.zeros(weight.shape[0], 64, dtype=torch.float64)
        dc[:, 0] = 8.0 * bias.to(torch.float64)
        self.register_buffer("bias", dc.reshape(-1))

    def forward(self, x):
        return F.conv2d(x, self.weight.to(x.dtype), self.bias.to(x.dtype), self.stride, 1)


def relu_exact(coefficients: torch.Tensor) -> torch.Tensor:
    """ReLU in the DCT domain, exactly: decode each block, keep the positive pixels, re-encode."""
    return to_coefficients(F.relu(to_pixels(coefficients)))


def _truncate(coefficients: torch.Tensor, k: int) -> torch.Tensor:
    n, c64, hb, wb = coefficients.shape
    mask = band_mask(k, coefficients.dtype, coefficients.device)
    return (coefficients.reshape(n, c64 // 64, 64, hb, wb) * mask[:, None, None]).reshape(
        coefficients.shape
    )


def relu_direct(coefficients: torch.Tensor, k: int) -> torch.Tensor:
    """ReLU of the approximation from the k lowest frequency bands (u + v < k): the direct method."""
    return relu_exact(_truncate(coefficients, k))


def relu_asm(coefficients: torch.Tensor, k: int) -> torch.Tensor:
    """Approximated spatial masking (Ehrlich and Davis): the mask ``approximation > 0`` from the k
    lowest bands, applied to the full signal. Exact where the approximation has the right sign."""
    pixels = to_pixels(coefficients)
    mask = to_pixels(_truncate(coefficients, k)) > 0
    return to_coefficients(pixels * mask)


def paper_blocks(count: int = 100_000, seed: int = 0) -> torch.Tensor:
    """Ehrlich and Davis's test blocks for the ReLU approximations: random 4 x 4 pixel blocks in
    [-1, 1] scaled to 8 x 8 with a box filter (image-like, unlike fully random 8 x 8 blocks), as
    coefficients (count, 64, 1, 1) float64."""
    generator = torch.Generator().manual_seed(seed)
    small = torch.rand(count, 1, 4, 4, generator=generator, dtype=torch.float64) * 2 - 1
    return to_coefficients(small.repeat_interleave(2, 2).repeat_interleave(2, 3))


def relu_errors(coefficients: torch.Tensor) -> list[dict]:
    """RMSE against the exact ReLU (in the pixel domain; the DCT is orthonormal, so also in the
    coefficient domain) of direct truncation and ASM, for k = 1..15 bands."""
    exact = relu_exact(coefficients)
    rows = []
    for k in range(1, FREQUENCY_BANDS + 1):
        rows.append(
            {
                "k": k,
                **{
                    name: float((f(coefficients, k) - exact).pow(2).mean().sqrt())
                    for name, f in (("direct", relu_direct), ("asm", relu_asm))
                },
            }
        )
    return rows


class CoefficientNet(nn.Module):
    """``convert(DigitsNet)``: the same network on (N, 64, Hb, Wb) coefficients of (pixels - 128)/128.

    ``forward(x, relu="exact" | "direct" | "asm", k=15)``: every ReLU computed that way.
    Global average pooling of a feature map is the mean of its DC coefficients / 8.
    """

    def __init__(self, net: DigitsNet):
        super().__init__()
        net = net.eval()
        self.stem = _BlockConv(net.stem, net.bn)
        self.blocks = nn.ModuleList()
        for block in net.blocks:
            parts = nn.ModuleDict(
                {
                    "conv1": _BlockConv(block.conv1, block.bn1),
                    "conv2": _BlockConv(block.conv2, block.bn2),
                }
            )
            if block.shortcut is not None:
                parts["shortcut"] = _BlockConv(block.shortcut[0], block.shortcut[1])
            self.blocks.append(parts)
        self.fc = copy.deepcopy(net.fc).double()  # float64, like the block convolutions

    def forward(self, x: torch.Tensor, relu: str = "exact", k: int = FREQUENCY_BANDS):
        functions = {
            "exact": relu_exact,
            "direct": lambda t: relu_direct(t, k),
            "asm": lambda t: relu_asm(t, k),
        }
        if relu not in functions:
            raise ValueError(f"relu must be one of {sorted(functions)}, got {relu!r}")
        if x.ndim != 4 or x.shape[1] != 64:
            raise ValueError(
                f"expected (N, 64, Hb, Wb) coefficients of one channel, got {tuple(x.shape)}"
            )
        act = functions[relu]
        x = act(self.stem(x))
        for parts in self.blocks:
            out = parts["conv2"](act(parts["conv1"](x)))
            x = act(out + (parts["shortcut"](x) if "shortcut" in parts else x))
        n, c64 = x.shape[:2]
        pooled = x.reshape(n, c64 // 64, 64, -1)[:, :, 0].mean(dim=2) / 8.0
        return self.fc(pooled.to(self.fc.weight.dtype))


def convert(net: DigitsNet) -> CoefficientNet:
    """Ehrlich and Davis's exact conversion of a trained pixel network (eval mode, float64 maps)."""
    if not isinstance(net, DigitsNet):
        raise TypeError(f"convert takes a DigitsNet, got {type(net).__name__}")
    device = next(net.parameters()).device
    return CoefficientNet(copy.deepcopy(net).cpu()).to(device)  # built on the CPU, in float64


# ----------------------------------------------------------------------------------------------
# Photos: JPEG coefficients and the hyperprior's latents as network inputs
# ----------------------------------------------------------------------------------------------
