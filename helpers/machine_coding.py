"""Chapter 9: coding for machines. A neural preprocessor before a standard codec, trained through a
proxy, after Lu, Ge, Zhong, Geng and Hu, "Preprocessing Enhanced Image Compression for Machine
Vision" (arXiv 2206.05650, IEEE TCSVT 2024).

The file stays an ordinary JPEG (Pillow/libjpeg) or HEIF (pillow-heif, HEVC intra): only the pixels
handed to the encoder change. Pieces, in the chapter's order:

- ``NPP``: X -> X_bar = X + pixel branch (1 x 1 convolutions) + a small U-Net, whose feature channels
  are scaled by the **quantization adaptation** (two small MLPs: codec quality -> one scale per channel,
  one MLP for the encoder's channels, one for the decoder's): one network for every quality.
- Proxies, because the standard codec has no gradient. ``DiffJPEG`` is chapter 1's JPEG written in
  torch (the JFIF colour transform, 4:2:0 box downsampling, the 8 x 8 DCT, libjpeg's quantization
  tables, straight-through rounding, fancy upsampling) with a rate model fitted to real file sizes
  (``RateModel``). ``LearnedProxy`` is the course's hyperprior fine-tuned to imitate the codec at a
  few qualities (L_p = R_p + lambda_p * MSE(proxy's output, codec's output), trained by
  ``helpers.recipes.coding_for_machines.proxy_recipe``).
- ``through_codec``: forward through the real codec, backward through the proxy (the decoded image and
  the real bits replace the proxy's in the forward pass; the gradients are the proxy's).
- the NPP's training (``helpers.recipes.coding_for_machines.npp_recipe``): L = R + lambda * D_m + beta * D_pre, R in bits per pixel, D_m the knowledge-
  distillation loss against EfficientNet-Lite0's prediction on the original (no labels), D_pre the
  MSE between X and X_bar.
- ``encode`` / ``decode``: real files (the NPP runs before the encoder; decoding is the codec's own).

Images are float tensors in [0, 1], (N, 3, H, W), or uint8 arrays (H, W, 3) at the public entry points.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import autoencoder, config, images, jpeg, registry, standard_codecs

__all__ = [
    "CODECS",
    "TRAINING_QUALITIES",
    "MIN_SIZE",
    "check_codec",
    "check_quality",
    "DiffJPEG",
    "RateModel",
    "rate_features",
    "fit_rate_model",
    "QualityAdaptation",
    "NPP",
    "LearnedProxy",
    "real_codec",
    "through_codec",
    "distillation_loss",
    "codec_curve",
    "curve_at",
    "quant_tables",
    "top1",
    "preprocess",
    "encode",
    "decode",
    "load_pretrained",
    "load_proxy",
    "load_npp",
    "Machine",
    "PRETRAINED",
    "PROXY_QUALITIES",
    "rate_accuracy",
    "pareto",
    "bd_rate_accuracy",
]

#: the standard codecs an NPP can sit in front of (names of helpers.standard_codecs)
CODECS = ("jpeg", "heif")
#: the qualities each codec's NPP is trained over (inclusive range), and the learned proxies' qualities
TRAINING_QUALITIES = {"jpeg": (5, 90), "heif": (10, 85)}
PROXY_QUALITIES = {"jpeg": (10, 25, 50, 75), "heif": (10, 30, 55, 80)}
#: the smallest side the U-Net takes (two halvings, and a 3 x 3 neighbourhood at the coarsest scale)
MIN_SIZE = 16


def check_codec(codec: str) -> str:
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {list(CODECS)}, got {codec!r}")
    return codec


def check_quality(codec: str, quality) -> float:
    """The quality as a float, or a clear error naming the codec's range."""
    check_codec(codec)
    low, high = standard_codecs.get(codec).quality_range
    if isinstance(quality, bool) or not isinstance(quality, (int, float, np.integer, np.floating)):
        raise TypeError(f"{codec}: quality must be a number in {low}..{high}, got {quality!r}")
    if not low <= float(quality) <= high:
        raise ValueError(f"{codec}: quality must lie in {low}..{high}, got {quality}")
    return float(quality)


def _quality_tensor(codec: str, qualities, n: int, device) -> torch.Tensor:
    if isinstance(qualities, torch.Tensor):
        values = qualities.detach().to("cpu", torch.float64).reshape(-1).tolist()
    elif np.ndim(qualities) == 0:
        values = [qualities] * n
    else:
        values = list(np.asarray(qualities).reshape(-1))
    if len(values) != n:
        raise ValueError(f"{len(values)} qualities for {n} images")
    return torch.tensor(
        [check_quality(codec, q) for q in values], dtype=torch.float32, device=device
    )


def _check_batch(x: torch.Tensor) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"expected an RGB batch (N, 3, H, W) in [0, 1], got {shape}")
    if min(x.shape[-2:]) < MIN_SIZE:
        raise ValueError(
            f"the image is {x.shape[-2]} x {x.shape[-1]}: the NPP's U-Net needs at least "
            f"{MIN_SIZE} x {MIN_SIZE} pixels"
        )
    return x


def _as_rgb_array(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(
            f"expected an RGB image (H, W, 3), got shape {array.shape}; convert grey or RGBA "
            "images with helpers.images.as_rgb first"
        )
    array = images.as_uint8(array)
    if min(array.shape[:2]) < MIN_SIZE:
        raise ValueError(
            f"the image is {array.shape[0]} x {array.shape[1]}: the NPP's U-Net needs at least "
            f"{MIN_SIZE} x {MIN_SIZE} pixels"
        )
    return array


# ----------------------------------------------------------------------------------------------
# A differentiable JPEG (chapter 1 in torch) and its rate model
# ----------------------------------------------------------------------------------------------

_RGB_TO_YCBCR = torch.tensor(
    [[0.299, 0.587, 0.114], [-0.16874, -0.33126, 0.5], [0.5, -0.41869, -0.08131]]
)
_YCBCR_TO_RGB = torch.tensor([[1.0, 0.0, 1.402], [1.0, -0.34414, -0.71414], [1.0, 1.772, 0.0]])


def _round_st(x: torch.Tensor) -> torch.Tensor:
    """round(x) forward, identity backward (straight-through)."""
    return x + (torch.round(x) - x).detach()


def _round_cubic(x: torch.Tensor) -> torch.Tensor:
    """round(x) forward; backward the derivative of Shin and Song's round(x) + (x - round(x))^3,
    3 (x - round(x))^2: zero at a level's centre, where a small change does not survive
    quantization, and large near the decision thresholds, where it does."""
    r = torch.round(x).detach()
    cubic = (x - r) ** 3
    return r + cubic - cubic.detach()


def quant_tables(qualities: torch.Tensor) -> torch.Tensor:
    """libjpeg's luma and chroma tables for each quality: (N, 2, 8, 8), as in jpeg.quant_table."""
    q = qualities.to(torch.float64).clamp(1, 100)
    scale = torch.where(q < 50, torch.floor(5000 / q), 200 - 2 * q)
    base = torch.tensor(
        np.stack([jpeg.QUANT_LUMA, jpeg.QUANT_CHROMA]), dtype=torch.float64, device=q.device
    )
    tables = torch.floor((base[None] * scale[:, None, None, None] + 50) / 100).clamp(1, 255)
    return tables.to(torch.float32)


def _blocks(plane: torch.Tensor) -> torch.Tensor:
    """(N, H, W) -> (N, H/8, W/8, 8, 8)."""
    n, h, w = plane.shape
    return plane.reshape(n, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)


def _unblocks(blocks: torch.Tensor) -> torch.Tensor:
    n, hb, wb = blocks.shape[:3]
    return blocks.permute(0, 1, 3, 2, 4).reshape(n, hb * 8, wb * 8)


def rate_features(levels: list[torch.Tensor], soft: list[torch.Tensor] | None = None):
    """Per image: [sum over AC of log2(1 + |level|), AC nonzeros, sum over DC differences of
    log2(1 + |diff|), blocks] of quantized coefficients ``levels`` (per plane, (N, Hb, Wb, 8, 8)).
    With ``soft`` (the unrounded levels) the nonzero count passes its gradient through
    min(|level|, 1): the features stay differentiable."""
    rows = []
    for i, level in enumerate(levels):
        n = level.shape[0]
        flat = level.reshape(n, -1, 64)
        ac = flat[..., 1:]
        nonzero = (ac != 0).to(ac.dtype)
        if soft is not None:
            relaxed = soft[i].reshape(n, -1, 64)[..., 1:].abs().clamp(max=1)
            nonzero = relaxed + (nonzero - relaxed).detach()
        dc = flat[..., 0]
        diff = torch.cat([dc[:, :1], dc[:, 1:] - dc[:, :-1]], dim=1)
        rows.append(
            torch.stack(
                [
                    torch.log2(1 + ac.abs()).sum((1, 2)),
                    nonzero.sum((1, 2)),
                    torch.log2(1 + diff.abs()).sum(1),
                    torch.full((n,), float(flat.shape[1]), device=level.device, dtype=level.dtype),
                ],
                dim=1,
            )
        )
    luma, chroma = rows[0], rows[1] + rows[2]
    return torch.cat([luma, chroma], dim=1)  # (N, 8)


class RateModel(nn.Module):
    """bits = weights . rate_features + header bits: a linear model of a baseline JPEG's size from
    its quantized coefficients, fitted to Pillow's real files by ``fit_rate_model``."""

    def __init__(self, weights=None, header_bits: float = 0.0):
        super().__init__()
        w = torch.zeros(8) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        self.register_buffer("weights", w.reshape(8))
        self.register_buffer("header_bits", torch.tensor(float(header_bits)))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features @ self.weights + self.header_bits


class DiffJPEG(nn.Module):
    """A differentiable stand-in for Pillow's baseline 4:2:0 JPEG: forward(x, qualities) ->
    (decoded x_hat in [0, 1], bits per image). Every rounding (to 8-bit YCbCr, to quantization levels,
    to 8-bit output) is exact in the forward pass and straight-through in the backward pass, so the
    gradient of a loss on x_hat and on the bits reaches x. ``rounding="cubic"`` changes the backward
    pass of the quantization levels on the way to x_hat (not to the bits) to Shin and Song's cubic
    approximation: a pixel change that quantization would erase then gets (almost) no gradient, where
    straight-through passes every change as if JPEG were the identity."""

    codec = "jpeg"
    ROUNDINGS = ("straight-through", "cubic")

    def __init__(self, rate: RateModel | None = None, rounding: str = "straight-through"):
        super().__init__()
        if rounding not in self.ROUNDINGS:
            raise ValueError(f"rounding must be one of {self.ROUNDINGS}, got {rounding!r}")
        self.rate = RateModel() if rate is None else rate
        self.rounding = rounding
        self.register_buffer("dct", jpeg.dct_matrix(8, dtype=torch.float32))

    def levels(self, x: torch.Tensor, qualities: torch.Tensor):
        """The (unrounded) quantized coefficients of each plane: [Y, Cb, Cr], (N, Hb, Wb, 8, 8)."""
        if x.shape[-2] % 16 or x.shape[-1] % 16:
            raise ValueError(f"DiffJPEG needs sides that are multiples of 16, got {tuple(x.shape)}")
        m = _RGB_TO_YCBCR.to(x)
        offset = torch.tensor([0.0, 128.0, 128.0], device=x.device)[None, :, None, None]
        ycc = _round_st(torch.einsum("ij,njhw->nihw", m, x * 255) + offset).clamp(0, 255)
        tables = quant_tables(qualities).to(x)
        out = []
        for c in range(3):
            plane = ycc[:, c]
            if c:  # chroma: libjpeg's h2v2 downsampling, the mean of each 2 x 2 (bias aside)
                plane = F.avg_pool2d(plane[:, None], 2)[:, 0]
            coefficients = self.dct @ _blocks(plane - 128) @ self.dct.T
            table = tables[:, 1 if c else 0][:, None, None]
            out.append(coefficients / table)
        return out, tables

    def forward(self, x: torch.Tensor, qualities):
        x = _check_batch(x)
        if not isinstance(qualities, torch.Tensor):
            qualities = torch.full((x.shape[0],), float(qualities))
        q = torch.round(qualities.to(x.device, torch.float32).reshape(-1))
        soft, tables = self.levels(x, q)
        rounded = [_round_st(s) for s in soft]  # the rate model's levels: straight-through
        image_levels = (
            rounded if self.rounding == "straight-through" else [_round_cubic(s) for s in soft]
        )
        planes = []
        for c, level in enumerate(image_levels):
            table = tables[:, 1 if c else 0][:, None, None]
            pixels = _round_st(_unblocks(self.dct.T @ (level * table) @ self.dct) + 128).clamp(
                0, 255
            )
            if c:  # libjpeg's "fancy" upsampling: the triangle filter, i.e. bilinear at x 2
                pixels = F.interpolate(
                    pixels[:, None], scale_factor=2, mode="bilinear", align_corners=False
                )[:, 0]
            planes.append(pixels)
        ycc = torch.stack([planes[0], planes[1] - 128, planes[2] - 128], 1)
        rgb = torch.einsum("ij,njhw->nihw", _YCBCR_TO_RGB.to(x), ycc)
        x_hat = _round_st(rgb).clamp(0, 255) / 255
        bits = self.rate(rate_features(rounded, soft))
        return x_hat, bits


def fit_rate_model(
    crops: np.ndarray, qualities=(5, 10, 20, 35, 50, 75, 90)
) -> tuple[RateModel, dict]:
    """Non-negative least-squares fit of RateModel to the real sizes of Pillow's JPEGs of ``crops`` (uint8,
    (N, H, W, 3), sides multiples of 16) at ``qualities``; also returns the fit's errors."""
    diff = DiffJPEG()
    rows, sizes = [], []
    for quality in qualities:
        x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            soft, _ = diff.levels(x, torch.full((len(crops),), float(quality)))
            rows.append(rate_features([torch.round(s) for s in soft]))
        codec = standard_codecs.get("jpeg")
        sizes += [8.0 * len(codec.encode(crop, quality)) for crop in crops]
    a = torch.cat(rows).double().numpy()
    a = np.concatenate([a, np.ones((len(a), 1))], axis=1)
    b = np.asarray(sizes)
    from scipy.optimize import nnls

    # non-negative weights: more coefficients, or larger ones, never make the model's file smaller
    solution, _ = nnls(a, b)
    model = RateModel(solution[:8], solution[8])
    predicted = a @ solution
    relative = np.abs(predicted - b) / b
    return model, {
        "mean_relative_error": float(relative.mean()),
        "max_relative_error": float(relative.max()),
        "images": len(b),
    }


# ----------------------------------------------------------------------------------------------
# The preprocessor: a pixel branch and a U-Net, scaled by the quantization adaptation
# ----------------------------------------------------------------------------------------------


class QualityAdaptation(nn.Module):
    """Two small MLPs, quality -> one positive scale per feature channel: one for the U-Net's
    encoder channels, one for its decoder's. They start at 1 (the last layers are zero: 2 sigmoid(0))."""

    def __init__(self, encoder_channels: int, decoder_channels: int, hidden: int = 32):
        super().__init__()

        def mlp(out: int) -> nn.Sequential:
            net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, out))
            nn.init.zeros_(net[2].weight)
            nn.init.zeros_(net[2].bias)
            return net

        self.encoder, self.decoder = mlp(encoder_channels), mlp(decoder_channels)

    def forward(self, quality: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """quality (N,) normalized to [0, 1] -> (encoder scales, decoder scales), each (N, C)."""
        q = quality.reshape(-1, 1)
        return 2 * torch.sigmoid(self.encoder(q)), 2 * torch.sigmoid(self.decoder(q))


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
    )


class NPP(nn.Module):
    """Neural preprocessing: X_bar = clamp(X + pixel(X) + unet(X, q)), the last layer of each branch
    zero, so an untrained NPP is the identity. ``adaptive=False`` drops the quantization adaptation
    (a per-quality model: the quality is then ignored)."""

    def __init__(
        self,
        codec: str = "jpeg",
        width: int = 16,
        adaptive: bool = True,
        quality: int | None = None,
    ):
        super().__init__()
        self.codec = check_codec(codec)
        self.width, self.adaptive = width, adaptive
        #: the one quality a per-quality model (``adaptive=False``) was trained at
        self.quality = None if quality is None else int(check_quality(codec, quality))
        w = width
        self.pixel = nn.Sequential(nn.Conv2d(3, w, 1), nn.LeakyReLU(0.1), nn.Conv2d(w, 3, 1))
        self.enc1, self.enc2, self.enc3 = (
            _double_conv(3, w),
            _double_conv(w, 2 * w),
            _double_conv(2 * w, 4 * w),
        )
        self.up2, self.dec2 = (
            nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2),
            _double_conv(4 * w, 2 * w),
        )
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), _double_conv(2 * w, w)
        self.out = nn.Conv2d(w, 3, 1)
        for last in (self.pixel[2], self.out):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.adaptation = QualityAdaptation(w + 2 * w + 4 * w, 2 * w + w) if adaptive else None

    def normalized_quality(self, qualities, n: int, device) -> torch.Tensor:
        low, high = standard_codecs.get(self.codec).quality_range
        q = _quality_tensor(self.codec, qualities, n, device)
        return (q - low) / (high - low)

    def residual(self, x: torch.Tensor, qualities) -> torch.Tensor:
        """X_bar - X before clamping: what the NPP adds (its negative is what it removes)."""
        x = _check_batch(x)
        h, w = x.shape[-2:]
        pad = (0, (-w) % 4, 0, (-h) % 4)
        z = F.pad(x, pad, mode="replicate") if any(pad) else x
        ones = torch.ones(x.shape[0], 1, device=x.device)
        if self.adaptive:
            enc, dec = self.adaptation(self.normalized_quality(qualities, x.shape[0], x.device))
        else:
            enc, dec = ones.expand(-1, 7 * self.width), ones.expand(-1, 3 * self.width)
        c = self.width
        e1 = self.enc1(z) * enc[:, :c, None, None]
        e2 = self.enc2(F.avg_pool2d(e1, 2)) * enc[:, c : 3 * c, None, None]
        e3 = self.enc3(F.avg_pool2d(e2, 2)) * enc[:, 3 * c :, None, None]
        d2 = self.dec2(torch.cat([self.up2(e3), e2], 1)) * dec[:, : 2 * c, None, None]
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1)) * dec[:, 2 * c :, None, None]
        out = self.pixel(z) + self.out(d1)
        return out[..., :h, :w]

    def forward(self, x: torch.Tensor, qualities) -> torch.Tensor:
        return (x + self.residual(x, qualities)).clamp(0, 1)


# ----------------------------------------------------------------------------------------------
# Learned proxies, the real codec in the forward pass
# ----------------------------------------------------------------------------------------------


class LearnedProxy(nn.Module):
    """The course's hyperprior fine-tuned to imitate ``codec`` at each of ``qualities``: forward(x,
    qualities) -> (x_hat, bits per image), each image through the model of its quality (which must
    be one of ``qualities``, or any with ``nearest = True``). Rates are the models' likelihoods (no
    entropy coding)."""

    def __init__(
        self, codec: str, qualities=None, models: dict | None = None, start: dict | None = None
    ):
        super().__init__()
        self.codec = check_codec(codec)
        self.qualities = tuple(int(q) for q in (qualities or PROXY_QUALITIES[codec]))
        if models is None:
            start = start or {}
            models = {
                str(q): autoencoder.build_model("bmshj2018-hyperprior", N=64, M=96)
                if q not in start
                else start[q]
                for q in self.qualities
            }
        self.models = nn.ModuleDict({str(q): m for q, m in models.items()})
        #: stand in for any quality with the model of the nearest one (the NPP's training sets this:
        #: the real codec runs at the drawn quality, the proxy only supplies the gradient)
        self.nearest = False

    def forward(self, x: torch.Tensor, qualities):
        x = _check_batch(x)
        q = _quality_tensor(self.codec, qualities, x.shape[0], x.device).round().long().tolist()
        if self.nearest:
            q = [min(self.qualities, key=lambda p, v=v: abs(p - v)) for v in q]
        unknown = sorted(set(q) - set(self.qualities))
        if unknown:
            raise ValueError(
                f"this proxy imitates {self.codec} at qualities {list(self.qualities)}, not {unknown}"
            )
        padded, (h, w) = images.pad_to_multiple(x, 64)
        x_hat = torch.empty_like(x)
        bits = torch.empty(x.shape[0], device=x.device)
        for quality in sorted(set(q)):
            index = torch.tensor([i for i, v in enumerate(q) if v == quality], device=x.device)
            out = self.models[str(quality)](padded[index])
            x_hat[index] = out["x_hat"][..., :h, :w].clamp(0, 1)
            bits[index] = sum(
                -torch.log2(lik).sum((1, 2, 3)) for lik in out["likelihoods"].values()
            )
        return x_hat, bits


def real_codec(codec: str, x: torch.Tensor, qualities) -> tuple[torch.Tensor, torch.Tensor]:
    """The standard codec itself on a batch: (decoded images in [0, 1], bits of each real file)."""
    check_codec(codec)
    q = _quality_tensor(codec, qualities, x.shape[0], "cpu").tolist()
    arrays = [images.to_uint8(image[None]) for image in x.detach().to("cpu")]
    standard = standard_codecs.get(codec)
    decoded, bits = [], []
    for array, quality in zip(arrays, q):
        data = standard.encode(array, int(round(quality)))
        decoded.append(standard.decode(data))
        bits.append(8.0 * len(data))
    out = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2).float().div(255).to(x.device)
    return out, torch.tensor(bits, device=x.device)


def through_codec(proxy: nn.Module, x: torch.Tensor, qualities):
    """Forward through the real codec, backward through the proxy: x_hat and bits equal the real
    codec's decoded image and file size; their gradients are the proxy's."""
    proxy_hat, proxy_bits = proxy(x, qualities)
    real_hat, real_bits = real_codec(proxy.codec, x, qualities)
    return (
        proxy_hat + (real_hat - proxy_hat).detach(),
        proxy_bits + (real_bits - proxy_bits).detach(),
    )


def distillation_loss(
    student: torch.Tensor, teacher: torch.Tensor, temperature: float = 1.0, per_image: bool = False
):
    """T^2 KL(softmax(teacher / T) || softmax(student / T)) in nats: the mean over the batch, or one
    value per image with ``per_image``."""
    t = temperature
    terms = (
        F.kl_div(
            F.log_softmax(student / t, 1),
            F.log_softmax(teacher.float() / t, 1),
            log_target=True,
            reduction="none",
        ).sum(1)
        * t
        * t
    )
    return terms if per_image else terms.mean()


def codec_curve(
    codec: str,
    crops: torch.Tensor,
    logits: torch.Tensor,
    qualities,
    machine=None,
    temperature: float = 1.0,
) -> dict:
    """The codec alone on ``crops`` (uint8 (N, H, W, 3)) at each quality: mean bits per pixel of the
    real files and mean distillation loss of ``machine`` (Lite0) against ``logits``. Its slope is the
    codec's own exchange rate between bits and the machine's loss; the NPP's loss is measured
    relative to it (``recipes.coding_for_machines.npp_recipe``)."""
    machine = machine if machine is not None else Machine()
    device = next(machine.buffers()).device
    x = crops.permute(0, 3, 1, 2).float() / 255
    curve = {"quality": [], "bpp": [], "kd": []}
    for quality in qualities:
        decoded, bits = real_codec(codec, x, quality)
        with torch.no_grad():
            student = torch.cat(
                [machine(decoded[i : i + 16].to(device)).cpu() for i in range(0, len(x), 16)]
            )
        curve["quality"].append(float(quality))
        curve["bpp"].append(float(bits.mean()) / (x.shape[-2] * x.shape[-1]))
        curve["kd"].append(float(distillation_loss(student, logits.float(), temperature)))
    return curve


def curve_at(curve: dict, qualities: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The codec curve's bpp and distillation loss at each quality (log-linear interpolation)."""
    q = qualities.detach().cpu().double().numpy()
    known = np.asarray(curve["quality"])
    bpp = np.exp(np.interp(q, known, np.log(curve["bpp"])))
    kd = np.exp(np.interp(q, known, np.log(np.maximum(curve["kd"], 1e-6))))
    to = dict(dtype=torch.float32, device=qualities.device)
    return torch.as_tensor(bpp, **to), torch.as_tensor(kd, **to)


class Machine(nn.Module):
    """A frozen ImageNet classifier on images in [0, 1]: its own normalization, resized to its input
    size when the image is smaller (Lite1: 240, Lite2: 260). The machine the NPP codes for."""

    def __init__(self, name: str = "efficientnet-lite0"):
        super().__init__()
        from . import cam

        classifier = cam.load_classifier(name)
        self.name, self.size, self.names = name, classifier.input_size, classifier.names
        self.net = classifier.model.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(classifier.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(classifier.std).view(1, 3, 1, 1))

    def train(self, mode: bool = True):
        return super().train(False)  # always eval: batch norm keeps its statistics, no dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if min(x.shape[-2:]) < self.size:
            scale = self.size / min(x.shape[-2:])
            x = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
        return self.net((x - self.mean) / self.std)


def load_proxy(path: str | Path) -> LearnedProxy:
    """A LearnedProxy from a proxy_recipe (helpers.recipes.coding_for_machines) checkpoint (or a shipped file holding its state)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state["model"] = {
        k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()
    }
    extra = state.get("extra", state)
    proxy = LearnedProxy(extra["codec"], extra["qualities"])
    weights = {k[len("proxy.") :]: v for k, v in state["model"].items() if k.startswith("proxy.")}
    tables = ("_offset", "_quantized_cdf", "_cdf_length", "scale_table")  # rebuilt by update()
    weights = {k: v for k, v in (weights or state["model"]).items() if not k.endswith(tables)}
    proxy.load_state_dict(weights, strict=False)
    for model in proxy.models.values():
        model.update(force=True)
    return proxy.eval()


# ----------------------------------------------------------------------------------------------
# Real files, and the accuracy-rate evaluation
# ----------------------------------------------------------------------------------------------


def _npp_codec(npp: nn.Module | None, codec: str) -> None:
    if npp is not None and getattr(npp, "codec", codec) != codec:
        raise ValueError(f"this NPP was trained in front of {npp.codec}, not {codec}")


def preprocess(npp: NPP, image, quality) -> np.ndarray:
    """X_bar as the encoder sees it: the NPP's output at ``quality``, rounded to uint8 (H, W, 3)."""
    array = _as_rgb_array(image)
    check_quality(npp.codec, quality)
    device = next(npp.parameters()).device
    x = torch.from_numpy(array).permute(2, 0, 1)[None].float().div(255).to(device)
    with torch.no_grad():
        return images.to_uint8(npp(x, quality).cpu())


def encode(image, codec: str = "jpeg", quality=50, npp: NPP | None = None) -> bytes:
    """An ordinary JPEG or HEIF file of ``image`` (uint8 RGB (H, W, 3)) at ``quality``, with the
    NPP in front of the encoder when given. Any viewer opens it; ``decode`` is the codec's own."""
    check_codec(codec)
    check_quality(codec, quality)
    _npp_codec(npp, codec)
    array = _as_rgb_array(image) if npp is not None else images.as_uint8(image)
    if npp is not None:
        array = preprocess(npp, array, quality)
    return standard_codecs.get(codec).encode(array, int(round(float(quality))))


def decode(data: bytes) -> np.ndarray:
    """A JPEG or HEIF file -> uint8 RGB (H, W, 3); anything else raises ValueError (nothing is lost:
    the bytes are only read)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    if data[:2] == b"\xff\xd8":
        return standard_codecs.get("jpeg").decode(bytes(data))
    if data[4:8] == b"ftyp":
        return standard_codecs.get("heif").decode(bytes(data))
    raise ValueError("not a JPEG (FF D8 ...) or HEIF (.... ftyp) file")


def top1(machine: nn.Module, batch: np.ndarray, size: int = 25) -> np.ndarray:
    """The machine's top-1 class of each uint8 image (N, H, W, 3), in batches of ``size``."""
    device = next(machine.buffers()).device
    out = []
    with torch.no_grad():
        for start in range(0, len(batch), size):
            x = torch.from_numpy(np.ascontiguousarray(batch[start : start + size]))
            out.append(machine(x.permute(0, 3, 1, 2).float().div(255).to(device)).argmax(1).cpu())
    return torch.cat(out).numpy()


def rate_accuracy(
    photos: np.ndarray,
    labels,
    codec: str,
    qualities,
    npp: NPP | None = None,
    machines: dict | None = None,
    measure_fidelity: bool = True,
    progress: bool = False,
) -> list[dict]:
    """Real files of ``photos`` (uint8 (N, H, W, 3)) at each quality, with or without the NPP: per
    quality the mean bits per pixel of the files, each machine's top-1 agreement with its own
    prediction on the original and its top-1 accuracy against ``labels``, and (``measure_fidelity``)
    the mean PSNR and SSIM of the decoded image against the original: what a person loses."""
    from . import metrics

    check_codec(codec)
    _npp_codec(npp, codec)
    photos = np.asarray(photos)
    labels = np.asarray(labels)
    machines = machines if machines is not None else {"efficientnet-lite0": Machine()}
    reference = {name: top1(m, photos) for name, m in machines.items()}
    rows = []
    qualities = list(qualities)
    for quality in qualities:
        check_quality(codec, quality)
        sources = photos
        if npp is not None:
            device = next(npp.parameters()).device
            sources = []
            with torch.no_grad():
                for start in range(0, len(photos), 25):
                    x = torch.from_numpy(photos[start : start + 25]).permute(0, 3, 1, 2)
                    out = npp(x.float().div(255).to(device), quality).cpu()
                    sources += [images.to_uint8(o[None]) for o in out]
            sources = np.stack(sources)
        standard = standard_codecs.get(codec)
        files = [standard.encode(s, int(quality)) for s in sources]
        decoded = np.stack([standard.decode(f) for f in files])
        pixels = photos.shape[1] * photos.shape[2]
        row = {"quality": quality, "bpp": float(np.mean([8 * len(f) / pixels for f in files]))}
        for name, machine in machines.items():
            top = top1(machine, decoded)
            row[name] = {
                "agreement": float(np.mean(top == reference[name])),
                "accuracy": float(np.mean(top == labels)),
            }
        if measure_fidelity:
            row["psnr"] = float(np.mean([metrics.psnr(a, b) for a, b in zip(photos, decoded)]))
            row["ssim"] = float(np.mean([metrics.ssim(a, b) for a, b in zip(photos, decoded)]))
        rows.append(row)
        if progress:
            print(f"{codec} q{quality} {'NPP' if npp is not None else 'alone'}: {row}", flush=True)
    for name in machines:
        for row in rows:
            row[name]["original_accuracy"] = float(np.mean(reference[name] == labels))
    return rows


def pareto(rates, scores) -> tuple[np.ndarray, np.ndarray]:
    """The points no other point beats (lower rate and higher score): what a BD fit can use, whose
    scores must rise with the rate."""
    order = np.argsort(rates)
    keep, best = [], -np.inf
    for i in order:
        if scores[i] > best:
            keep.append(i)
            best = scores[i]
    keep = np.asarray(keep)
    return np.asarray(rates)[keep], np.asarray(scores)[keep]


def bd_rate_accuracy(
    anchor: list[dict],
    test: list[dict],
    machine: str = "efficientnet-lite0",
    measure: str = "agreement",
) -> dict:
    """BD-rate (percent; negative saves bits) of ``test`` against ``anchor`` at equal ``measure``
    ("agreement" or "accuracy", in percent) of ``machine``, over the overlap of their Pareto fronts
    (pchip), with the overlap and the points used."""
    import warnings

    from . import metrics

    if measure not in ("agreement", "accuracy"):
        raise ValueError(f"measure must be 'agreement' or 'accuracy', got {measure!r}")
    curves = []
    for rows in (anchor, test):
        rates = np.array([r["bpp"] for r in rows])
        scores = np.array([100 * r[machine][measure] for r in rows])
        curves.append(pareto(rates, scores))
    (ra, qa), (rt, qt) = curves
    low, high = max(qa.min(), qt.min()), min(qa.max(), qt.max())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = (
            metrics.bd_rate(ra, qa, rt, qt, method="pchip")
            if min(len(qa), len(qt)) >= 2
            else math.nan
        )
    return {
        "bd_rate": float(value),
        "overlap": [float(low), float(high)],
        "points": [int(len(qa)), int(len(qt))],
        "warnings": [str(w.message) for w in caught],
    }


#: the shipped chapter-9 models (registry family "machine_coding")
PRETRAINED = {
    "npp-jpeg": "the NPP in front of JPEG, trained through the differentiable JPEG, every quality",
    "npp-jpeg-learned": "the NPP in front of JPEG, trained through the learned JPEG proxy",
    "npp-jpeg-q20": "a per-quality NPP (no adaptation layer) for JPEG quality 20",
    "npp-jpeg-q50": "a per-quality NPP for JPEG quality 50",
    "npp-heif": "the NPP in front of HEIF, trained through the learned HEIF proxy",
    "proxy-jpeg": "the hyperprior fine-tuned to imitate JPEG at qualities 10, 25, 50, 75",
    "proxy-heif": "the hyperprior fine-tuned to imitate HEIF at qualities 10, 30, 55, 80",
    "diffjpeg": "the differentiable JPEG with its rate model fitted to Pillow's file sizes",
}


def load_pretrained(name: str, quality: int | None = None) -> nn.Module:
    """A shipped chapter-9 model by name (PRETRAINED lists them), in eval mode on config.device().
    quality must be None: an adaptive NPP serves every quality, the per-quality ones carry theirs in
    the name ("npp-jpeg-q20")."""
    if quality is not None:
        raise ValueError(f"the chapter-9 models take no quality argument; got quality={quality!r}")
    if name not in PRETRAINED:
        raise registry.WeightsError(f"no chapter-9 model {name!r}; shipped: {sorted(PRETRAINED)}")
    if name.startswith("npp"):
        return registry.load("machine_coding", name, None, NPP)
    if name == "diffjpeg":
        return DiffJPEG(registry.load("machine_coding", name, None, RateModel).cpu()).to(
            config.device()
        )
    registry.entry("machine_coding", name)  # a clear error when the manifest lacks it
    return load_proxy(registry.weights_path("machine_coding", name)).to(config.device())


def load_npp(path: str | Path) -> NPP:
    """An NPP from an ``npp_recipe`` (helpers.recipes.coding_for_machines) checkpoint (what you trained yourself), in eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    extra = state.get("extra", {})
    npp = NPP(
        extra.get("codec", "jpeg"),
        width=extra.get("width", 16),
        adaptive=extra.get("quality") is None,
        quality=extra.get("quality"),
    )
    npp.load_state_dict(state["model"])
    return npp.eval().to(config.device())
