"""Autoencoder codecs (chapter 4): Ballé's factorized prior and scale hyperprior, GDN, the
quantization proxies and the R + λD loss.

Public entry points: ``load_pretrained(name, quality)`` (the workbench's own checkpoints;
``load_compressai`` for CompressAI's with a network), ``compress(model, image) -> bytes`` and
``decompress(model, data) -> uint8 image`` (a self-describing file: helpers.container framing, a
header and the entropy coder's strings). The models are CompressAI's own classes so that checkpoints
stay loadable by CompressAI. Training lives in helpers.recipes.
"""

from __future__ import annotations

import math
import struct
import warnings

import numpy as np
import torch

with warnings.catch_warnings():  # compressai calls torch.jit.script, which torch now deprecates
    warnings.simplefilter("ignore", FutureWarning)
    from compressai.models import FactorizedPrior, MeanScaleHyperprior, ScaleHyperprior

from . import config, container, data, fixedpoint, images, registry, training

__all__ = [
    "ARCHITECTURES",
    "build_model",
    "RateDistortionLoss",
    "fit_quantiles",
    "GDN",
    "quantize",
    "PROXIES",
    "ProxyCodec",
    "compare_proxies",
    "QUALITY_LAMBDAS",
    "COMPRESSAI_ONLY",
    "load_pretrained",
    "model_kind",
    "decode_latents",
    "load_compressai",
    "AutoencoderStreamError",
    "compress",
    "decompress",
    "decompress_tensor",
    "IntegerHyperprior",
    "integer_tables",
    "load_integer",
]

#: CompressAI's λ for its quality 1..4 (MSE models); the workbench ships the same four rate points.
QUALITY_LAMBDAS = {1: 0.0018, 2: 0.0035, 3: 0.0067, 4: 0.013}

#: name -> (class, default keyword arguments); the names are CompressAI's zoo names.
ARCHITECTURES = {
    "bmshj2018-factorized": (FactorizedPrior, {"N": 64, "M": 96}),
    "bmshj2018-hyperprior": (ScaleHyperprior, {"N": 64, "M": 96}),
    # Minnen et al. 2018 without the autoregressive context (decoding stays parallel): the
    # hyper-synthesis predicts a mean and a scale for every latent
    "mbt2018-mean": (MeanScaleHyperprior, {"N": 64, "M": 96}),
}


def build_model(name: str, N: int | None = None, M: int | None = None) -> torch.nn.Module:
    """Build an untrained codec by zoo name with N (transform) and M (latent) channels."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; expected one of {sorted(ARCHITECTURES)}")
    cls, defaults = ARCHITECTURES[name]
    N = defaults["N"] if N is None else N
    M = defaults["M"] if M is None else M
    if N < 1 or M < 1:
        raise ValueError(f"N and M must be positive, got N={N}, M={M}")
    return cls(N, M)


class GDN(torch.nn.Module):
    """Generalized divisive normalization (Ballé, Laparra, Simoncelli, ICLR 2016), readable version:

    y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)   (inverse=True, IGDN: multiply instead).

    beta and gamma are kept positive by storing their square roots (compressai adds a pedestal and a
    lower bound for stable training; ``from_compressai`` copies its effective values).
    """

    def __init__(self, channels: int, inverse: bool = False, gamma_init: float = 0.1):
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        self.inverse = inverse
        self.beta_root = torch.nn.Parameter(torch.ones(channels))
        self.gamma_root = torch.nn.Parameter(torch.sqrt(gamma_init * torch.eye(channels)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        beta = self.beta_root**2
        gamma = (self.gamma_root**2).reshape(channels, channels, 1, 1)
        norm = torch.sqrt(torch.nn.functional.conv2d(x**2, gamma, beta))  # a 1x1 convolution
        return x * norm if self.inverse else x / norm

    @classmethod
    def from_compressai(cls, layer: torch.nn.Module) -> GDN:
        """The same function as a compressai.layers.GDN, in this parametrization."""
        beta = layer.beta_reparam(layer.beta).detach()
        gamma = layer.gamma_reparam(layer.gamma).detach()
        ours = cls(beta.numel(), inverse=layer.inverse)
        with torch.no_grad():
            ours.beta_root.copy_(beta.sqrt())
            ours.gamma_root.copy_(gamma.sqrt())
        return ours


#: quantization proxies for training (rounding has zero gradient almost everywhere)
PROXIES = ("noise", "ste", "soft", "round")


def quantize(y: torch.Tensor, proxy: str = "noise", alpha: float = 5.0) -> torch.Tensor:
    """Quantize latents for training or coding.

    "noise": y + u, u ~ U(-0.5, 0.5) (Ballé et al. 2017: the density of y + u matches the rounded
    latent's probability mass); "ste": round in the forward pass, identity gradient (straight-through);
    "soft": soft rounding s_alpha(y) = floor(y) + 0.5 tanh(alpha r) / tanh(alpha / 2) + 0.5 with
    r = y - floor(y) - 0.5 (Agustsson & Theis 2020), which tends to rounding as alpha grows;
    "round": plain rounding (what the decoder sees).
    """
    if proxy == "noise":
        return y + torch.empty_like(y).uniform_(-0.5, 0.5)
    if proxy == "ste":
        return y + (torch.round(y) - y).detach()
    if proxy == "soft":
        if alpha <= 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
        floor = torch.floor(y)
        r = y - floor - 0.5
        return floor + 0.5 * torch.tanh(alpha * r) / math.tanh(alpha / 2) + 0.5
    if proxy == "round":
        return torch.round(y)
    raise ValueError(f"unknown proxy {proxy!r}; expected one of {PROXIES}")


class ProxyCodec(torch.nn.Module):
    """A small factorized-prior codec (Ballé et al. 2017 shape: three strided convolutions with GDN,
    a factorized entropy model, the mirror with IGDN) whose training quantizer is a choice of proxy.

    forward(x, proxy) -> {"x_hat", "likelihoods": {"y"}}: in training y goes through ``quantize(y,
    proxy)``; in eval mode it is rounded. The likelihood is the learned density's mass at the quantized
    values (for "noise": its density convolved with the unit box, as in CompressAI).
    """

    def __init__(self, N: int = 32, M: int = 48):
        super().__init__()
        from compressai.entropy_models import EntropyBottleneck

        conv = torch.nn.Conv2d
        deconv = torch.nn.ConvTranspose2d
        self.g_a = torch.nn.Sequential(
            conv(3, N, 5, 2, 2), GDN(N), conv(N, N, 5, 2, 2), GDN(N), conv(N, M, 5, 2, 2)
        )
        self.g_s = torch.nn.Sequential(
            deconv(M, N, 5, 2, 2, 1),
            GDN(N, inverse=True),
            deconv(N, N, 5, 2, 2, 1),
            GDN(N, inverse=True),
            deconv(N, 3, 5, 2, 2, 1),
        )
        self.entropy_bottleneck = EntropyBottleneck(M)

    def forward(self, x: torch.Tensor, proxy: str = "noise") -> dict:
        y = self.g_a(x)
        y_hat = quantize(y, proxy if self.training else "round")
        channels = y_hat.shape[1]
        values = y_hat.transpose(0, 1).reshape(channels, 1, -1)
        likelihood, _, _ = self.entropy_bottleneck._likelihood(values)
        likelihood = likelihood.clamp(min=1e-9).reshape(channels, y_hat.shape[0], *y_hat.shape[2:])
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": likelihood.transpose(0, 1)}}


def compare_proxies(
    proxies: tuple[str, ...] = ("noise", "ste", "soft"),
    num_steps: int = 1500,
    lmbda: float = 0.0067,
    crop_size: int = 64,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    evaluation_images: int = 4,
) -> dict[str, dict]:
    """Train one ProxyCodec per proxy on the same BSDS500 crops; evaluate all with real rounding.

    Returns {proxy: {"history": training.History, "bpp", "psnr"}} (bpp from the likelihoods of the
    rounded latents on central crops of the first Kodak images, or of the sample photos offline).
    """
    from . import metrics

    pictures = list(data.sample_images(evaluation_images, size=256, quiet=True).values())
    results = {}
    for proxy in proxies:
        if proxy not in PROXIES:
            raise ValueError(f"unknown proxy {proxy!r}; expected some of {PROXIES}")
        config.seed_everything(seed)
        model = ProxyCodec()
        crops = data.RandomCrops(data.bsds500("all"), crop_size=crop_size, seed=seed)
        criterion = RateDistortionLoss(lmbda)

        def loss_fn(model, batch, proxy=proxy, criterion=criterion):
            terms = criterion(model(batch, proxy), batch)
            return terms["loss"], {"bpp": terms["bpp"], "psnr": -10 * torch.log10(terms["mse"])}

        history = training.train(
            model,
            crops.batches(batch_size, seed=seed),
            loss_fn,
            num_steps,
            optimizer=torch.optim.Adam(model.parameters(), lr=lr),
            log_every=10,
            grad_clip=1.0,
            progress=False,
        )
        bpps, psnrs = [], []
        with torch.no_grad():
            for picture in pictures:
                x = images.to_tensor(picture, device=next(model.parameters()).device)
                out = model(x)
                pixels = x.shape[-2] * x.shape[-1]
                bpps.append(float(torch.log2(out["likelihoods"]["y"]).sum() / -pixels))
                psnrs.append(metrics.psnr(picture, images.to_uint8(out["x_hat"].clamp(0, 1))))
        results[proxy] = {
            "history": history,
            "bpp": float(np.mean(bpps)),
            "psnr": float(np.mean(psnrs)),
        }
    return results


class RateDistortionLoss(torch.nn.Module):
    """L = λ·255²·MSE + bpp (Ballé et al. 2018; CompressAI's convention for λ)."""

    def __init__(self, lmbda: float = 0.0067):
        super().__init__()
        if not lmbda > 0:
            raise ValueError(f"lmbda must be positive, got {lmbda!r}")
        self.lmbda = lmbda

    def forward(self, output: dict, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return {'loss', 'bpp', 'mse'} for a model output {'x_hat', 'likelihoods'} and the input."""
        batch, _, height, width = target.shape
        num_pixels = batch * height * width
        bpp = sum(torch.log(lik).sum() for lik in output["likelihoods"].values()) / (
            -math.log(2) * num_pixels
        )
        mse = torch.nn.functional.mse_loss(output["x_hat"], target)
        return {"loss": self.lmbda * 255**2 * mse + bpp, "bpp": bpp, "mse": mse}


def fit_quantiles(model: torch.nn.Module, num_steps: int = 3000, lr: float = 1e-2) -> float:
    """Fit the entropy bottleneck's quantiles (CompressAI's auxiliary loss) alone; return the final aux loss.

    The aux loss depends only on the learned density, not on data, so this takes seconds.
    """
    quantiles = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    if not quantiles:
        raise ValueError("fit_quantiles: the model has no entropy bottleneck quantiles")
    optimizer = torch.optim.Adam(quantiles, lr=lr)
    loss = model.aux_loss()
    for _ in range(num_steps):
        optimizer.zero_grad()
        loss = model.aux_loss()
        loss.backward()
        optimizer.step()
    return float(loss.detach())


#: Minnen et al. 2018 (mean-scale hyperprior; + autoregressive context): CompressAI's weights only
COMPRESSAI_ONLY = ("mbt2018-mean", "mbt2018")


def load_pretrained(name: str, quality: int | None = None) -> torch.nn.Module:
    """A shipped codec (helpers/weights, MANIFEST.json) in eval mode on config.device(), with its
    entropy coder's tables built (``update(force=True)``).

    Args:
        name: "bmshj2018-factorized" or "bmshj2018-hyperprior" (CompressAI's zoo names).
        quality: 1 (lowest rate) .. 4, trained with QUALITY_LAMBDAS[quality]; required.
    ``registry.shipped("autoencoder")`` lists what is shipped; CompressAI's published weights load
    with ``load_compressai`` (needs a network).
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; shipped: {sorted(ARCHITECTURES)}")
    if quality not in QUALITY_LAMBDAS:
        raise ValueError(f"quality must be one of {list(QUALITY_LAMBDAS)}, got {quality!r}")
    model = registry.load("autoencoder", name, quality, build_model)
    model.update(force=True)
    return model


def load_compressai(name: str, quality: int) -> torch.nn.Module:
    """CompressAI's published model (downloads its weights: needs a network), like load_pretrained.

    name: "bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean" or "mbt2018"; quality 1..8.
    """
    if name not in ARCHITECTURES and name not in COMPRESSAI_ONLY:
        raise ValueError(
            f"unknown model {name!r}; expected one of {sorted(ARCHITECTURES) + list(COMPRESSAI_ONLY)}"
        )
    if quality not in range(1, 9):
        raise ValueError(f"quality must be in 1..8, got {quality!r}")
    from compressai import zoo

    try:
        model = getattr(zoo, name.replace("-", "_"))(quality=quality, pretrained=True)
    except Exception as error:
        raise RuntimeError(
            f"could not download CompressAI's {name} quality {quality} ({error}); without a network "
            "use load_pretrained (the workbench's own weights)"
        ) from error
    model.eval().update(force=True)
    return model.to(config.device())


class AutoencoderStreamError(container.StreamError):
    """A stream that is not an autoencoder file of this model, or is damaged."""


_MAGIC, _VERSION = b"NCWA", 1
#: height, width, model kind, latent channels M, model fingerprint, CRC-32 of the decoded latent y_hat
_HEADER = ">HHBHII"
_KINDS = {
    "factorized": 0,
    "hyperprior": 1,
    "mean-scale": 2,
    "integer-hyperprior": 3,
    "integer-mean-scale": 4,
}


def _kind(model: torch.nn.Module) -> str:
    if isinstance(model, IntegerHyperprior):
        return "integer-" + model.kind
    if hasattr(model, "context_prediction"):
        raise ValueError(
            "autoregressive models (mbt2018) decode serially; compress supports the factorized, "
            "scale-hyperprior and mean-scale (mbt2018-mean) models"
        )
    if isinstance(model, MeanScaleHyperprior):
        return "mean-scale"
    if hasattr(model, "gaussian_conditional") and hasattr(model, "h_s"):
        return "hyperprior"
    if hasattr(model, "entropy_bottleneck") and hasattr(model, "g_s"):
        return "factorized"
    raise TypeError(
        f"model must be a CompressAI factorized or hyperprior codec, got {type(model).__name__}"
    )


def _latent_channels(model: torch.nn.Module) -> int:
    if isinstance(model, IntegerHyperprior):
        model = model.model
    return int(model.g_a[-1].out_channels)


def _latent_size(kind: str, height: int, width: int) -> tuple[int, int]:
    """What the entropy bottleneck codes: y (factorized, stride 16) or z (hyperprior, stride 64)."""
    padded = images.ceil_div(height, 64) * 64, images.ceil_div(width, 64) * 64
    stride = 16 if kind == "factorized" else 64
    return padded[0] // stride, padded[1] // stride


def _least_bits(rows) -> float:
    """The fewest bits any one symbol can cost under these CDF tables (16-bit precision): -log2 of the
    largest probability any table gives. A string of n bytes holds at most 8 n / least_bits symbols."""
    largest = max(
        int(np.max(np.diff(np.asarray(row, dtype=np.int64)))) for row in rows if len(row) > 1
    )
    return -math.log2(largest / 2**16)


def _table_rows(coder) -> list:
    """The CDF rows of a coder: the integer decoder's ``_Coder`` or a CompressAI entropy model."""
    if isinstance(coder, _Coder):
        return coder.cdf
    cdf, lengths = coder._quantized_cdf.cpu().numpy(), coder._cdf_length.cpu().numpy()
    return [cdf[i, : int(n)] for i, n in enumerate(lengths)]


def _check_capacity(
    model, kind: str, strings: list, height: int, width: int, channels: int
) -> None:
    """Refuse a header that declares more symbols than its strings can hold (a forged size), before
    decoding anything: every symbol costs at least ``_least_bits`` of its tables."""
    z_size = _latent_size(kind.removeprefix("integer-"), height, width)
    if kind.startswith("integer-"):
        coders = [(model.y_coder, channels, 4), (model.z_coder, len(model.z_coder.cdf), 1)]
    elif kind == "factorized":
        coders = [(model.entropy_bottleneck, channels, 1)]
    else:
        z_channels = len(model.entropy_bottleneck._cdf_length)
        coders = [
            (model.gaussian_conditional, channels, 4),
            (model.entropy_bottleneck, z_channels, 1),
        ]
    for (coder, count, scale), string in zip(coders, strings):
        symbols = count * z_size[0] * scale * z_size[1] * scale
        if symbols * _least_bits(_table_rows(coder)) > 8 * len(string[0]) + 64:
            raise AutoencoderStreamError(
                f"a {height} x {width} image's {symbols} latent symbols cannot fit in "
                f"{len(string[0])} bytes: the header declares more than the file holds"
            )


def _decode_latent(model: torch.nn.Module, kind: str, strings: list, size: tuple[int, int]):
    """y_hat from the strings, as CompressAI's ``decompress`` computes it before g_s."""
    if kind.startswith("integer-"):
        return model.decode_y(strings[0][0], strings[1][0], size)[0]
    if kind == "factorized":
        return model.entropy_bottleneck.decompress(strings[0], size)
    z_hat = model.entropy_bottleneck.decompress(strings[1], size)
    if kind == "mean-scale":
        scales, means = model.h_s(z_hat).chunk(2, 1)
        indexes = model.gaussian_conditional.build_indexes(scales)
        return model.gaussian_conditional.decompress(strings[0], indexes, means=means)
    indexes = model.gaussian_conditional.build_indexes(model.h_s(z_hat))
    return model.gaussian_conditional.decompress(strings[0], indexes, z_hat.dtype)


def compress(model: torch.nn.Module, image) -> bytes:
    """Encode a uint8 RGB image into a self-describing file: the header (image size, model kind,
    latent channels, the model's fingerprint, string lengths) and the entropy coder's strings, framed
    by helpers.container (magic, version, CRC-32). Padded to a multiple of 64, cropped back on decoding."""
    kind = _kind(model)
    array = images.as_rgb(image)
    height, width = array.shape[:2]
    device = next(model.parameters()).device
    x, _ = images.pad_to_multiple(images.to_tensor(array, device=device), 64)
    with torch.no_grad():
        out = model.compress(x)
        if kind.startswith("integer-"):
            y_hat = out["y_hat"]  # the integer decoder's y_hat: the encoder computes it too
        else:
            y_hat = _decode_latent(model, kind, out["strings"], tuple(out["shape"]))
    strings = [s[0] for s in out["strings"]]
    header = struct.pack(
        _HEADER,
        height,
        width,
        _KINDS[kind],
        _latent_channels(model),
        container.fingerprint(model),
        container.content_crc(np.array([height, width]), y_hat),
    ) + b"".join(struct.pack(">I", len(s)) for s in strings)
    return container.pack(_MAGIC, _VERSION, header, b"".join(strings))


def decompress(model: torch.nn.Module, data: bytes) -> np.ndarray:
    """Decode ``compress``'s bytes with the model that wrote them: uint8 RGB (H, W, 3).

    Raises AutoencoderStreamError for a foreign, damaged or truncated stream, or one written by
    another model; every header field is checked before the native entropy decoder runs. With an
    ``IntegerHyperprior`` every decoded pixel is an integer function of the bytes (any machine).
    """
    if isinstance(model, IntegerHyperprior):
        return _integer_pixels(model, data)
    return images.to_uint8(decompress_tensor(model, data))


def model_kind(model: torch.nn.Module) -> str:
    """ "factorized", "hyperprior" or "mean-scale": which file layout ``compress`` writes for it."""
    return _kind(model)


def decode_latents(model: torch.nn.Module, data: bytes) -> tuple[torch.Tensor, int, int]:
    """Entropy decoding only: (y_hat (1, M, H/16, W/16) over the padded image, height, width) of a
    ``compress`` file, with every check of ``decompress``; the synthesis transform g_s is not run
    (chapter 8 classifies straight from y_hat)."""
    kind = _kind(model)
    header, payload = container.unpack(data, _MAGIC, _VERSION, AutoencoderStreamError)
    count = 1 if kind == "factorized" else 2
    layout = _HEADER + f"{count}I"
    height, width, kind_code, channels, print_, latent_crc, *lengths = container.read_fields(
        header, layout, AutoencoderStreamError
    )
    if kind_code != _KINDS[kind]:
        names = {v: k for k, v in _KINDS.items()}
        raise AutoencoderStreamError(
            f"stream written by a {names.get(kind_code, 'unknown')} model; the model given is {kind}"
        )
    if channels != _latent_channels(model) or not height or not width:
        raise AutoencoderStreamError(
            f"stream for M={channels} latent channels and a {height} x {width} image; the model "
            f"has M={_latent_channels(model)}"
        )
    container.check_fingerprint(model, print_, AutoencoderStreamError)
    strings = [[part] for part in container.split_lengths(payload, lengths, AutoencoderStreamError)]
    _check_capacity(model, kind, strings, height, width, channels)
    with container.decoding(AutoencoderStreamError), torch.no_grad():
        y_hat = _decode_latent(model, kind, strings, _latent_size(kind, height, width))
    container.check_content(latent_crc, AutoencoderStreamError, np.array([height, width]), y_hat)
    return y_hat, height, width


def decompress_tensor(model: torch.nn.Module, data: bytes) -> torch.Tensor:
    """``decompress`` before rounding: the decoder's output (1, 3, H, W) in [0, 1] (to compare
    with a forward pass)."""
    y_hat, height, width = decode_latents(model, data)
    with torch.no_grad():
        x_hat = model.g_s(y_hat)
    return x_hat[..., :height, :width].clamp(0, 1)


def _integer_pixels(model, data: bytes) -> np.ndarray:
    y_hat, height, width = decode_latents(model, data)
    return model.pixels(y_hat)[:height, :width]


# ----------------------------------------------------------------------------- integer decoding
#: fraction bits of a latent quantization step (chapter 7's learned ROI codec) in the integer decoder
STEP_FRACTION = 16

# Section 10 of chapter 4: the hyperprior with an integer hyper-synthesis (the scale indexes, and the
# means of a mean-scale model, are integer functions of z's symbols), an integer image synthesis (every
# pixel is an integer function of the bytes), and entropy-coder tables that are shipped, not recomputed.


def integer_tables(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The entropy coder's tables of a float hyperprior, as computed on this machine by ``update``:
    the quantized CDFs (each row cut to its length, rows concatenated), their lengths and offsets for
    z (entropy bottleneck) and y (Gaussian conditional). An IntegerHyperprior ships them, so no
    decoder recomputes them in floating point."""
    model.update(force=True)
    tables = {}
    for prefix, coder in (("z", model.entropy_bottleneck), ("y", model.gaussian_conditional)):
        lengths = coder._cdf_length.detach().cpu().reshape(-1)
        rows = coder._quantized_cdf.detach().cpu()
        tables[f"{prefix}_cdf"] = torch.cat([row[:n] for row, n in zip(rows, lengths.tolist())])
        tables[f"{prefix}_cdf_length"] = lengths.clone()
        tables[f"{prefix}_offset"] = coder._offset.detach().cpu().clone()
    return tables


class _Coder:
    """rANS coding (CompressAI's C++ coder) with fixed integer tables."""

    def __init__(self, cdf, lengths, offsets):
        self.lengths = lengths.reshape(-1).to(torch.int32).tolist()
        if int(sum(self.lengths)) != cdf.numel():
            raise ValueError("the CDF table does not hold the rows its lengths announce")
        flat = cdf.reshape(-1).to(torch.int32).tolist()
        starts = np.concatenate([[0], np.cumsum(self.lengths)]).tolist()
        self.cdf = [flat[a:b] for a, b in zip(starts[:-1], starts[1:])]
        self.offsets = offsets.reshape(-1).to(torch.int32).tolist()

    def encode(self, symbols: np.ndarray, indexes: np.ndarray) -> bytes:
        from compressai import ans

        return ans.RansEncoder().encode_with_indexes(
            symbols.reshape(-1).astype(np.int32).tolist(),
            indexes.reshape(-1).astype(np.int32).tolist(),
            self.cdf,
            self.lengths,
            self.offsets,
        )

    def decode(self, string: bytes, indexes: np.ndarray) -> np.ndarray:
        from compressai import ans

        values = ans.RansDecoder().decode_with_indexes(
            string,
            indexes.reshape(-1).astype(np.int32).tolist(),
            self.cdf,
            self.lengths,
            self.offsets,
        )
        return np.asarray(values, dtype=np.int64).reshape(indexes.shape)


class IntegerHyperprior(fixedpoint.TwoPaths, torch.nn.Module):
    """A scale or mean-scale hyperprior whose decoder is integer (Ballé, Johnston & Minnen 2019).

    The encoder's analysis transforms g_a and h_a stay float (what they compute is sent). Everything
    the decoder computes is integer: z's symbols from shipped tables; h_s in fixed point
    (``fixedpoint.IntegerNetwork``), its scales compared with integer thresholds to give the table
    indexes (and its means, for a mean-scale model, added in fixed point); y's symbols from shipped
    tables; g_s in fixed point; pixels = round(255 x) clamped, an integer rule. ``fixedpoint.integer_path``
    chooses the fast torch implementation ("torch", float64 holding integers, on the model's device)
    or the numpy int64 reference ("numpy"); both give the same integers.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tables: dict,
        h_s_fractions: list[int],
        g_s_fractions: list[int],
        weight_fraction: int = 14,
    ):
        super().__init__()
        base = _kind(model)
        if base not in ("hyperprior", "mean-scale"):
            raise ValueError(
                f"only scale and mean-scale hyperpriors have an integer form, not {base}"
            )
        self.model = model.eval()
        self.kind = base
        self.h_s_int = fixedpoint.convert(model.h_s, h_s_fractions, weight_fraction)
        self.g_s_int = fixedpoint.convert(model.g_s, g_s_fractions, weight_fraction)
        self.h_s_fractions, self.g_s_fractions = list(h_s_fractions), list(g_s_fractions)
        self.weight_fraction = weight_fraction
        self.tables = {k: torch.as_tensor(v) for k, v in tables.items()}
        self.z_coder = _Coder(tables["z_cdf"], tables["z_cdf_length"], tables["z_offset"])
        self.y_coder = _Coder(tables["y_cdf"], tables["y_cdf_length"], tables["y_offset"])
        # z = symbol + median; the median in fixed point, exactly from the stored float32 quantiles
        medians = model.entropy_bottleneck.quantiles[:, 0, 1].detach().cpu().numpy()
        self.medians_q = fixedpoint.to_fixed(medians, h_s_fractions[0])
        self.medians = torch.from_numpy(medians.astype(np.float32))
        # index = (L - 1) - #{i < L - 1 : scale <= table_i}  (CompressAI's build_indexes, in integers)
        table = model.gaussian_conditional.scale_table.detach().cpu().numpy().astype(np.float64)
        self.thresholds = np.floor(table[:-1] * 2.0 ** h_s_fractions[-1]).astype(np.int64)

    def _run(self, network: fixedpoint.IntegerNetwork, x_q: np.ndarray) -> np.ndarray:
        if self.path == "numpy":
            return network.numpy(x_q)
        device = next(self.model.parameters()).device
        out = network.torch(torch.from_numpy(x_q.astype(np.float64)).to(device))
        return out.cpu().numpy().astype(np.int64)

    def entropy_parameters(self, z_symbols: np.ndarray, steps_q: np.ndarray | None = None):
        """(scale-table indexes, means in fixed point with g_s's input bits or None) from z's symbols:
        the integer function of the bytes that both encoder and decoder evaluate.

        steps_q: a quantization step per latent position (1, 1, h, w) with ``STEP_FRACTION`` bits
        (chapter 7's learned ROI codec): the index then compares scale / step with the table, as
        scale * 2**16 <= threshold * step, in integers."""
        f = self.h_s_fractions[0]
        z_q = z_symbols.astype(np.int64) * (1 << f) + self.medians_q[None, :, None, None]
        out = self._run(self.h_s_int, z_q)
        if self.kind == "mean-scale":
            scales, means = np.split(out, 2, axis=1)
            shift = self.h_s_fractions[-1] - self.g_s_fractions[0]
            if shift >= 0:
                means = fixedpoint.shift_round(means, shift)
            else:
                means = means * (1 << -shift)
        else:
            scales, means = out, None
        if steps_q is None:
            below = scales[..., None] <= self.thresholds
        else:
            if self.kind != "hyperprior":
                raise ValueError("a latent step needs a zero-mean (scale) hyperprior")
            left = scales * (1 << STEP_FRACTION)
            below = left[..., None] <= steps_q[..., None] * self.thresholds
        indexes = len(self.thresholds) - below.sum(-1)
        return indexes.astype(np.int32), means

    def z_indexes(self, size) -> np.ndarray:
        """The entropy-model index of each of z's symbols: its channel (z's factorized prior has one
        table per channel), broadcast to (1, channels, *size)."""
        channels = self.medians_q.size
        return np.broadcast_to(np.arange(channels)[None, :, None, None], (1, channels, *size))

    def compress(self, x: torch.Tensor) -> dict:
        """CompressAI's ``compress`` contract ({"strings": [[y], [z]], "shape"}) plus "y_hat"."""
        with torch.no_grad():
            y = self.model.g_a(x)
            z_in = torch.abs(y) if self.kind == "hyperprior" else y
            z = self.model.h_a(z_in)
        medians = self.medians.to(z.device)[None, :, None, None]
        z_symbols = torch.round(z - medians).cpu().numpy().astype(np.int64)
        z_indexes = self.z_indexes(z.shape[-2:])
        z_string = self.z_coder.encode(z_symbols, z_indexes)
        indexes, means = self.entropy_parameters(z_symbols)
        f = self.g_s_fractions[0]
        y_np = y.cpu().numpy().astype(np.float64)
        if means is not None:
            y_np = y_np - means / 2.0**f
        y_symbols = np.round(y_np).astype(np.int64)
        y_string = self.y_coder.encode(y_symbols, indexes)
        # what the decoder will read back (the rANS coder clips symbols beyond its tables' tails)
        decoded = self.y_coder.decode(y_string, indexes)
        y_hat = self.latents_from_symbols(decoded, means)
        return {"strings": [[y_string], [z_string]], "shape": z.shape[-2:], "y_hat": y_hat}

    def latents_from_symbols(
        self, y_symbols: np.ndarray, means, steps_q: np.ndarray | None = None
    ) -> torch.Tensor:
        """y_hat from the decoded symbols, in fixed point then as float (exact): symbol (+ mean) at
        g_s's input fraction bits, or symbol x a per-element step (``steps_q``, STEP_FRACTION bits:
        chapter 7's learned ROI codec)."""
        f = self.g_s_fractions[0]
        if steps_q is None:
            y_q = y_symbols * (1 << f) + (0 if means is None else means)
        else:  # y = symbol * step, the step with STEP_FRACTION bits
            y_q = y_symbols * steps_q
            y_q = (
                fixedpoint.shift_round(y_q, STEP_FRACTION - f)
                if f <= STEP_FRACTION
                else y_q << (f - STEP_FRACTION)
            )
        return torch.from_numpy(y_q.astype(np.float64) / 2.0**f).float()

    def decode_y(self, y_string: bytes, z_string: bytes, size) -> tuple[torch.Tensor, np.ndarray]:
        """(y_hat as float (exact: integers over a power of two), the scale indexes) from the strings."""
        z_symbols = self.z_coder.decode(z_string, self.z_indexes(size))
        indexes, means = self.entropy_parameters(z_symbols)
        y_symbols = self.y_coder.decode(y_string, indexes)
        return self.latents_from_symbols(y_symbols, means), indexes

    def _y_fixed(self, y_hat: torch.Tensor) -> np.ndarray:
        return fixedpoint.to_fixed(y_hat.detach().cpu().numpy(), self.g_s_fractions[0])

    def g_s(self, y_hat: torch.Tensor) -> torch.Tensor:
        """The integer synthesis, returned as float x_hat (1, 3, H, W) for comparison."""
        out = self._run(self.g_s_int, self._y_fixed(y_hat))
        return torch.from_numpy(out / 2.0 ** self.g_s_fractions[-1]).float()

    def pixels(self, y_hat: torch.Tensor) -> np.ndarray:
        """uint8 RGB (H, W, 3) of the padded image: round(255 x) clamped to 0..255, in integers."""
        out = self._run(self.g_s_int, self._y_fixed(y_hat))
        values = fixedpoint.shift_round(out[0] * 255, self.g_s_fractions[-1])
        return np.clip(values, 0, 255).astype(np.uint8).transpose(1, 2, 0)

    def forward(self, x: torch.Tensor) -> dict:
        return self.model(x)


def load_integer(
    name: str = "bmshj2018-hyperprior", quality: int | None = None
) -> IntegerHyperprior:
    """A shipped hyperprior with its integer decoder (section 10 of chapter 4): the float model of
    ``load_pretrained`` plus the shipped entropy-coder tables and fraction bits (MANIFEST entry
    ``autoencoder/<name>-int/qN``). Its files decode to the same pixels on any machine."""
    model = load_pretrained(name, quality)
    found = registry.entry("autoencoder", name + "-int", quality)
    payload = torch.load(
        registry.weights_path("autoencoder", name + "-int", quality),
        map_location="cpu",
        weights_only=True,
    )
    return IntegerHyperprior(
        model,
        payload["tables"],
        found["h_s_fractions"],
        found["g_s_fractions"],
        found["weight_fraction"],
    )
