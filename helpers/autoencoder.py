"""Autoencoder codecs (chapter 4): Ballé's factorized prior and scale hyperprior, the R + λD loss
and the training recipe used for the shipped checkpoints.

Public entry points: ``load_pretrained(name, quality)`` (the workbench's own checkpoints, or
CompressAI's with a network), ``compress(model, image) -> bytes`` and ``decompress(model, data) -> image``
(real bytes: a small header and the entropy coder's strings), and the training recipe. The models are
CompressAI's own classes so that checkpoints stay loadable by CompressAI and by the readable versions
the chapter builds. (GDN by hand and the quantization proxies come with the chapter 4 notebook.)
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import warnings
from pathlib import Path

import numpy as np
import torch

with warnings.catch_warnings():  # compressai calls torch.jit.script, which torch now deprecates
    warnings.simplefilter("ignore", FutureWarning)
    from compressai.models import FactorizedPrior, ScaleHyperprior

from . import config, data, images, training

__all__ = [
    "ARCHITECTURES",
    "build_model",
    "RateDistortionLoss",
    "train_recipe",
    "fit_quantiles",
    "GDN",
    "quantize",
    "PROXIES",
    "ProxyCodec",
    "compare_proxies",
    "QUALITY_LAMBDAS",
    "COMPRESSAI_ONLY",
    "load_pretrained",
    "compress",
    "decompress",
    "main",
]

#: CompressAI's λ for its quality 1..4 (MSE models); the workbench ships the same four rate points.
QUALITY_LAMBDAS = {1: 0.0018, 2: 0.0035, 3: 0.0067, 4: 0.013}
WEIGHTS = Path(__file__).parent / "weights"

#: name -> (class, default N, default M); the names are CompressAI's zoo names.
ARCHITECTURES = {
    "bmshj2018-factorized": (FactorizedPrior, 64, 96),
    "bmshj2018-hyperprior": (ScaleHyperprior, 64, 96),
}


def build_model(name: str, N: int | None = None, M: int | None = None) -> torch.nn.Module:
    """Build an untrained codec by zoo name with N (transform) and M (latent) channels."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; expected one of {sorted(ARCHITECTURES)}")
    cls, default_n, default_m = ARCHITECTURES[name]
    N = default_n if N is None else N
    M = default_m if M is None else M
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
            deconv(M, N, 5, 2, 2, 1), GDN(N, inverse=True),
            deconv(N, N, 5, 2, 2, 1), GDN(N, inverse=True),
            deconv(N, 3, 5, 2, 2, 1),
        )  # fmt: skip
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


def train_recipe(
    name: str,
    lmbda: float,
    num_steps: int,
    checkpoint_path: str | Path,
    crop_size: int = 128,
    batch_size: int = 8,
    lr: float = 1e-4,
    N: int | None = None,
    M: int | None = None,
    seed: int = 0,
    init_from: str | Path | None = None,
    progress: bool = True,
    lr_drop_at: int | None = None,
) -> training.History:
    """Train a codec on random BSDS500 crops (train + val) with R + λD; checkpoints at checkpoint_path.

    ``lr_drop_at``: from this (absolute) step on the learning rate is lr / 10, the usual last phase.
    A resumed run draws fresh crops (the crop seed is offset by the step it resumes from).
    """
    config.seed_everything(seed)
    model = build_model(name, N, M)
    if init_from is not None and not Path(checkpoint_path).is_file():
        state = torch.load(init_from, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
    crops = data.RandomCrops(data.bsds500("all"), crop_size=crop_size, seed=seed)
    criterion = RateDistortionLoss(lmbda)
    # The entropy bottleneck's quantiles do not enter the R + lambda D loss (training adds noise,
    # it does not round); they only bound the CDF tables of the real coder, so they are fitted
    # separately (fit_quantiles), and gradient clipping sees only the transform and prior parameters.
    parameters = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    optimizer = torch.optim.Adam(parameters, lr=lr)

    def loss_fn(model, batch):
        terms = criterion(model(batch), batch)
        psnr = -10 * torch.log10(terms["mse"].detach())
        return terms["loss"], {"bpp": terms["bpp"], "psnr": psnr}

    extra = {
        "name": name,
        "lmbda": lmbda,
        "N": N if N is not None else ARCHITECTURES[name][1],
        "M": M if M is not None else ARCHITECTURES[name][2],
        "crop_size": crop_size,
        "batch_size": batch_size,
        "lr": lr,
        "lr_drop_at": lr_drop_at,
        "init_from": None if init_from is None else Path(init_from).name,
        "data": "BSDS500 train+val (300 images)",
    }
    history = training.run_recipe(
        model, lambda start: crops.batches(batch_size, seed=seed + start), loss_fn, num_steps,
        checkpoint_path, lr, lr_drop_at, extra, progress, optimizer=optimizer, log_every=50,
    )  # fmt: skip
    extra["aux_loss"] = fit_quantiles(model)
    training.save_checkpoint(
        checkpoint_path, model, optimizer, history.steps[-1] if history.steps else 0, history, extra
    )
    return history


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


def load_pretrained(name: str, quality: int, source: str = "workbench") -> torch.nn.Module:
    """A trained codec in eval mode with its entropy coder's tables built (``update(force=True)``).

    Args:
        name: "bmshj2018-factorized" or "bmshj2018-hyperprior" (CompressAI's zoo names; shipped
            here), or "mbt2018-mean" / "mbt2018" (Minnen et al. 2018, with source="compressai").
        quality: 1 (lowest rate) .. 4, trained with QUALITY_LAMBDAS[quality] (CompressAI: 1 .. 8).
        source: "workbench" (checkpoints in helpers/weights, listed in MANIFEST.json) or "compressai"
            (CompressAI's published weights; needs a network).
    """
    if name not in ARCHITECTURES and name not in COMPRESSAI_ONLY:
        raise ValueError(
            f"unknown architecture {name!r}; expected one of {sorted(ARCHITECTURES) + list(COMPRESSAI_ONLY)}"
        )
    if name in COMPRESSAI_ONLY and source != "compressai":
        raise ValueError(
            f"the workbench ships no {name} weights; use source='compressai' (needs a network)"
        )
    qualities = range(1, 9) if source == "compressai" else QUALITY_LAMBDAS
    if quality not in qualities:
        raise ValueError(f"quality must be one of {list(qualities)}, got {quality!r}")
    if source == "compressai":
        from compressai import zoo

        try:
            model = getattr(zoo, name.replace("-", "_"))(quality=quality, pretrained=True)
        except Exception as error:
            raise RuntimeError(
                f"could not download CompressAI's {name} quality {quality} ({error}); without a "
                "network use source='workbench'"
            ) from error
        model.eval().update(force=True)
        return model.to(config.device())
    if source != "workbench":
        raise ValueError(f"source must be 'workbench' or 'compressai', got {source!r}")
    manifest = json.loads((WEIGHTS / "MANIFEST.json").read_text())["checkpoints"]
    found = [
        file
        for file, entry in manifest.items()
        if entry.get("architecture") == name
        and entry.get("quality") == quality
        and entry.get("status") == "shipped"
    ]
    if not found:
        shipped = sorted(
            (e["architecture"], e.get("quality"))
            for e in manifest.values()
            if e["status"] == "shipped"
        )
        raise FileNotFoundError(
            f"no shipped workbench checkpoint for {name} quality {quality}; shipped: {shipped}. "
            f"Train one: python -m helpers.autoencoder --name {name} --lmbda {QUALITY_LAMBDAS[quality]}"
        )
    state = torch.load(WEIGHTS / found[0], map_location="cpu", weights_only=False)
    extra = state.get("extra", {})
    model = build_model(name, extra.get("N"), extra.get("M"))
    model.load_state_dict(state["model"])
    model.eval().update(force=True)
    return model.to(config.device())


_MAGIC = b"NCW1"


def compress(model: torch.nn.Module, image) -> bytes:
    """Encode a uint8 RGB image into bytes: a header (image and latent sizes, string lengths) and the
    entropy coder's strings. The image is padded to a multiple of 64 and cropped back on decoding."""
    array = images.as_uint8(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"compress expects an RGB image (H, W, 3), got {array.shape}")
    height, width = array.shape[:2]
    device = next(model.parameters()).device
    x, _ = images.pad_to_multiple(images.to_tensor(array, device=device), 64)
    with torch.no_grad():
        out = model.compress(x)
    strings = [s[0] for s in out["strings"]]
    header = struct.pack(">4sHHHHB", _MAGIC, height, width, *out["shape"], len(strings))
    lengths = b"".join(struct.pack(">I", len(s)) for s in strings)
    return header + lengths + b"".join(strings)


def decompress(model: torch.nn.Module, data: bytes, as_tensor: bool = False):
    """Decode bytes from ``compress`` with the same model: uint8 RGB (H, W, 3), or with as_tensor the
    decoder's float output (1, 3, H, W) in [0, 1] (to compare with a forward pass before rounding)."""
    data = bytes(data)
    size = struct.calcsize(">4sHHHHB")
    if len(data) < size or data[:4] != _MAGIC:
        raise ValueError("not a workbench autoencoder bitstream (bad header)")
    _, height, width, latent_h, latent_w, count = struct.unpack(">4sHHHHB", data[:size])
    offset = size + 4 * count
    if len(data) < offset:
        raise ValueError("truncated bitstream")
    lengths = [struct.unpack(">I", data[size + 4 * i : size + 4 * i + 4])[0] for i in range(count)]
    if offset + sum(lengths) != len(data):
        raise ValueError("bitstream length does not match its header")
    strings = []
    for length in lengths:
        strings.append([data[offset : offset + length]])
        offset += length
    with torch.no_grad():
        x_hat = model.decompress(strings, (latent_h, latent_w))["x_hat"]
    x_hat = x_hat[..., :height, :width].clamp(0, 1)
    return x_hat if as_tensor else images.to_uint8(x_hat)


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m helpers.autoencoder --name ... --lmbda ... --steps ... --out ..."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--name", default="bmshj2018-hyperprior", choices=sorted(ARCHITECTURES))
    parser.add_argument("--lmbda", type=float, default=0.0067)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--crop-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--N", type=int, default=None)
    parser.add_argument("--M", type=int, default=None)
    parser.add_argument("--init-from", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--lr-drop-at", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config.set_num_threads(args.threads)
    history = train_recipe(
        args.name,
        args.lmbda,
        args.steps,
        args.out,
        crop_size=args.crop_size,
        batch_size=args.batch_size,
        lr=args.lr,
        N=args.N,
        M=args.M,
        init_from=args.init_from,
        progress=False,
        lr_drop_at=args.lr_drop_at,
        seed=args.seed,
    )
    print(f"done: step {history.steps[-1] if history.steps else 0}, loss {history.last():.4f}")


if __name__ == "__main__":
    main()
