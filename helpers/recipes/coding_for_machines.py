"""Chapter 9's recipes: the learned proxies that imitate a standard codec, and the neural
preprocessor (NPP) trained through a proxy in front of JPEG or HEIF."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import autoencoder, config, images, training
from ..machine_coding import (
    NPP,
    PROXY_QUALITIES,
    TRAINING_QUALITIES,
    DiffJPEG,
    LearnedProxy,
    Machine,
    RateModel,
    check_codec,
    check_quality,
    codec_curve,
    curve_at,
    distillation_loss,
    fit_rate_model,
    load_proxy,
    real_codec,
    through_codec,
)

__all__ = ["training_crops", "proxy_recipe", "NPPObjective", "npp_objective", "npp_recipe"]


def training_crops() -> tuple[torch.Tensor, torch.Tensor]:
    """Chapter 8's distillation set: 4,800 224 x 224 crops of BSDS500 and the even-numbered ImageNet
    sample photos (uint8, (N, 224, 224, 3)) and EfficientNet-Lite0's logits on each."""
    from . import compressed_domain

    data = compressed_domain.distillation_set()
    return data["crops"], data["logits"]


def _closest_hyperprior(codec: str, quality: int, crops: torch.Tensor) -> int:
    """The shipped hyperprior quality (1-4) whose rate on ``crops`` is closest to the codec's."""
    x = crops.permute(0, 3, 1, 2).float() / 255
    _, real_bits = real_codec(codec, x, quality)
    target = float(real_bits.mean())
    best, gap = 1, math.inf
    for level in (1, 2, 3, 4):
        model = autoencoder.load_pretrained("bmshj2018-hyperprior", level).to("cpu")
        with torch.no_grad():
            out = model(images.pad_to_multiple(x, 64)[0])
        bits = sum(-torch.log2(lik).sum() for lik in out["likelihoods"].values()) / len(x)
        if abs(math.log(float(bits) / target)) < gap:
            best, gap = level, abs(math.log(float(bits) / target))
    return best


class _ProxyTrainer(nn.Module):
    """The learned proxy with one log-lambda per quality (buffers, so a resumed run keeps them)."""

    def __init__(self, proxy: LearnedProxy, start_lambda: dict):
        super().__init__()
        self.proxy = proxy
        self.register_buffer(
            "log_lambda", torch.tensor([math.log(start_lambda[q]) for q in proxy.qualities])
        )


def proxy_recipe(
    codec: str,
    num_steps: int,
    checkpoint_path: str | Path,
    *,
    qualities=None,
    batch_size: int = 8,
    crop_size: int = 128,
    lr: float = 1e-4,
    rate_control: float = 0.05,
    seed: int = 0,
    progress: bool = True,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> training.History:
    """Fine-tune the hyperprior to imitate ``codec`` at each quality: L_p = R_p + lambda_p 255^2
    MSE(proxy(X), codec(X)). Each quality's model starts from the shipped hyperprior whose rate is
    closest to the codec's, and its lambda_p follows the rate: multiplied by
    exp(-rate_control * log(R_p / R_codec)) every step, so the proxy's rate settles at the codec's.
    ``data`` = (uint8 crops (N, H, W, 3), logits) replaces chapter 8's distillation set."""
    check_codec(codec)
    qualities = tuple(int(q) for q in (qualities or PROXY_QUALITIES[codec]))
    crops, _ = training_crops() if data is None else data
    crop = crop_size
    probe = crops[:: max(1, len(crops) // 24)][:24, :crop, :crop]
    start, lambdas = {}, {}
    for q in qualities:
        level = _closest_hyperprior(codec, q, probe)
        start[q] = copy.deepcopy(autoencoder.load_pretrained("bmshj2018-hyperprior", level)).to(
            "cpu"
        )
        lambdas[q] = autoencoder.QUALITY_LAMBDAS[level]
    trainer = _ProxyTrainer(LearnedProxy(codec, qualities, start=start), lambdas)

    def batches_from(step: int):
        rng = np.random.default_rng(seed + step)
        while True:
            index = rng.integers(0, len(crops), batch_size)
            top, left = rng.integers(0, crops.shape[1] - crop + 1, 2)
            batch = crops[index, top : top + crop, left : left + crop]
            quality = int(rng.choice(qualities))
            x = batch.permute(0, 3, 1, 2).float() / 255
            target, bits = real_codec(codec, x, quality)
            yield x, target, bits, torch.tensor(qualities.index(quality))

    def loss_fn(model, batch):
        x, target, codec_bits, slot = batch
        quality = model.proxy.qualities[int(slot)]
        x_hat, bits = model.proxy(x, quality)
        pixels = x.shape[-2] * x.shape[-1]
        rate, codec_rate = bits.mean() / pixels, codec_bits.mean() / pixels
        mse = F.mse_loss(x_hat, target)
        with torch.no_grad():
            model.log_lambda[slot] -= rate_control * torch.log(rate / codec_rate)
        loss = rate + model.log_lambda[slot].exp() * 255**2 * mse
        return loss, {
            f"bpp_q{quality}": rate,
            f"codec_bpp_q{quality}": codec_rate,
            f"psnr_q{quality}": -10 * torch.log10(mse),
            f"lambda_q{quality}": model.log_lambda[slot].exp(),
        }

    extra = {
        "codec": codec,
        "qualities": list(qualities),
        "crop": crop,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
    }
    trainer.train()
    history = training.run_recipe(
        trainer,
        batches_from,
        loss_fn,
        num_steps,
        checkpoint_path,
        lr=lr,
        extra=extra,
        progress=progress,
        log_every=10,
    )
    trainer.eval()
    for model in trainer.proxy.models.values():
        model.update(force=True)
    return history


def _check_proxy(codec: str, proxy: str) -> None:
    check_codec(codec)
    if proxy not in ("diffjpeg", "learned"):
        raise ValueError(f"proxy must be 'diffjpeg' or 'learned', got {proxy!r}")
    if proxy == "diffjpeg" and codec != "jpeg":
        raise ValueError("the differentiable JPEG imitates JPEG only; use proxy='learned' for heif")


@dataclass
class NPPObjective:
    """What an NPP trains against, shared by ``npp_recipe`` and the chapter 9 campaign: the
    batches (crops, the teacher's logits, a quality per crop) and the loss
    L = R + lmbda * D_m + beta * D_pre (each of R and D_m divided by the codec's own at that
    quality when ``curve`` is given: the relative loss)."""

    crops: torch.Tensor
    logits: torch.Tensor
    proxy: nn.Module
    machine: nn.Module
    choices: np.ndarray
    curve: dict | None = None
    lmbda: float = 1.0
    beta: float = 5.0
    temperature: float = 1.0
    real_forward: bool = True
    batch_size: int = 8
    seed: int = 0

    def batches(self, step: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Random crops from ``step`` on (a resumed run draws what an unbroken one would)."""
        rng = np.random.default_rng(self.seed + 1 + step)
        while True:
            index = torch.from_numpy(rng.integers(0, len(self.crops), self.batch_size))
            flip = rng.random() < 0.5  # the teacher's logits of a flipped crop are nearly the same
            x = self.crops[index].permute(0, 3, 1, 2).float() / 255
            qualities = torch.from_numpy(rng.choice(self.choices, self.batch_size)).float()
            yield (x.flip(-1) if flip else x), self.logits[index].float(), qualities

    def loss(self, npp: nn.Module, batch) -> tuple[torch.Tensor, dict]:
        device = next(npp.parameters()).device
        x, teacher, q = (b.to(device) for b in batch)
        x_bar = npp(x, q)
        if self.real_forward:
            x_hat, bits = through_codec(self.proxy, x_bar, q)
        else:
            x_hat, bits = self.proxy(x_bar, q)
        bpp = bits / (x.shape[-2] * x.shape[-1])
        d_m = distillation_loss(self.machine(x_hat), teacher, self.temperature, per_image=True)
        d_pre = F.mse_loss(x_bar, x)
        metrics = {"bpp": bpp.mean().detach(), "kd": d_m.mean().detach(), "mse_pre": d_pre.detach()}
        if self.curve is not None:
            bpp_codec, kd_codec = curve_at(self.curve, q)
            bpp, d_m = bpp / bpp_codec, d_m / kd_codec
            metrics.update(relative_rate=bpp.mean().detach(), relative_kd=d_m.mean().detach())
        return bpp.mean() + self.lmbda * d_m.mean() + self.beta * d_pre, metrics


def npp_objective(
    codec: str,
    crops: torch.Tensor,
    logits: torch.Tensor,
    *,
    proxy: str = "diffjpeg",
    proxy_path: str | Path | None = None,
    quality: int | None = None,
    relative: bool = True,
    rounding: str = "cubic",
    rate_model: RateModel | None = None,
    curve: dict | None = None,
    seed: int = 0,
    **settings,
) -> tuple[NPPObjective, dict]:
    """The NPP's objective in front of ``codec`` and what it fitted: (objective, {"rate_fit",
    "rate_model", "codec_curve"}). The differentiable JPEG's rate model is fitted on 96 crops
    unless ``rate_model`` is given, and the codec's own curve (``codec_curve``, 8 qualities, 64
    crops) measured when ``relative`` unless ``curve`` is given, so that a resumed run keeps both.
    ``settings``: the other fields of ``NPPObjective`` (lmbda, beta, temperature, real_forward,
    batch_size)."""
    _check_proxy(codec, proxy)
    device = config.device()
    fit = {}
    if proxy == "diffjpeg":
        if rate_model is None:
            rng = np.random.default_rng(seed)
            sample = crops[rng.choice(len(crops), min(96, len(crops)), replace=False)].numpy()
            rate_model, fit = fit_rate_model(sample)
        proxy_net = DiffJPEG(rate_model, rounding)
    else:
        if proxy_path is None:
            raise ValueError("proxy='learned' needs proxy_path (a proxy_recipe checkpoint)")
        proxy_net = load_proxy(proxy_path)
        proxy_net.nearest = True
    choices = np.arange(TRAINING_QUALITIES[codec][0], TRAINING_QUALITIES[codec][1] + 1)
    if quality is not None:
        check_quality(codec, quality)
        choices = np.asarray([quality])
    # a learned proxy runs in training mode: additive noise instead of rounding, so that its
    # gradient is not zero (CompressAI rounds without a straight-through estimator in eval mode)
    proxy_net = proxy_net.to(device).train(proxy == "learned")
    for p in proxy_net.parameters():
        p.requires_grad_(False)
    machine = Machine().to(device)
    if relative and curve is None:
        rng = np.random.default_rng(seed + 2)
        sample = torch.from_numpy(rng.choice(len(crops), min(64, len(crops)), replace=False))
        grid = np.unique(np.linspace(choices.min(), choices.max(), 8).round().astype(int))
        temperature = settings.get("temperature", 1.0)
        curve = codec_curve(codec, crops[sample], logits[sample], grid, machine, temperature)
    objective = NPPObjective(
        crops,
        logits,
        proxy_net,
        machine,
        choices,
        curve if relative else None,
        seed=seed,
        **settings,
    )
    fitted = {
        "rate_fit": fit,
        "rate_model": proxy_net.rate.state_dict() if proxy == "diffjpeg" else None,
        "codec_curve": objective.curve,
    }
    return objective, fitted


def npp_recipe(
    codec: str,
    num_steps: int,
    checkpoint_path: str | Path,
    *,
    proxy: str = "diffjpeg",
    proxy_path: str | Path | None = None,
    quality: int | None = None,
    lmbda: float = 1.0,
    beta: float = 5.0,
    relative: bool = True,
    rounding: str = "cubic",
    temperature: float = 1.0,
    batch_size: int = 8,
    lr: float = 5e-4,
    lr_drop_at: int | None = None,
    width: int = 16,
    real_forward: bool = True,
    seed: int = 0,
    progress: bool = True,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> training.History:
    """Train an NPP in front of ``codec``: L = R + lmbda * D_m + beta * D_pre, R in bits per pixel
    (real file sizes in the forward pass when ``real_forward``, the proxy's gradient), D_m the
    distillation loss of EfficientNet-Lite0 on the decoded image against its logits on the original,
    D_pre the MSE between X and X_bar.

    ``relative`` (the default) measures R and D_m of each image against the codec alone at that
    image's quality (``codec_curve`` on 64 of the crops): L = R / R_codec(q) + lmbda * D_m /
    D_codec(q) + beta * D_pre. A fixed lmbda cannot suit every quality: the codec's own exchange
    rate between bits and the machine's loss changes about a hundredfold from quality 5 to 90, and
    the ratio of the two normalizers follows it (within a factor of two here), so with lmbda = 1
    the NPP is paid only for beating the codec's own trade at every quality.

    ``rounding`` is the differentiable JPEG's backward pass through quantization (``DiffJPEG``).
    Qualities are drawn per image from TRAINING_QUALITIES (a learned proxy stands in with its
    nearest quality's model); ``quality=`` trains a per-quality model (no adaptation layer) at that
    quality only. ``data`` = (uint8 crops (N, H, W, 3) with sides multiples of 16,
    EfficientNet-Lite0's logits (N, 1000) on them) replaces chapter 8's distillation set (4,800
    crops of 224 x 224)."""
    _check_proxy(codec, proxy)
    crops, logits = training_crops() if data is None else data
    objective, fitted = npp_objective(
        codec,
        crops,
        logits,
        proxy=proxy,
        proxy_path=proxy_path,
        quality=quality,
        relative=relative,
        rounding=rounding,
        seed=seed,
        lmbda=lmbda,
        beta=beta,
        temperature=temperature,
        real_forward=real_forward,
        batch_size=batch_size,
    )
    npp = NPP(codec, width=width, adaptive=quality is None, quality=quality)
    extra = {
        "codec": codec,
        "proxy": proxy,
        "quality": quality,
        "lmbda": lmbda,
        "beta": beta,
        "temperature": temperature,
        "batch_size": batch_size,
        "lr": lr,
        "width": width,
        "real_forward": real_forward,
        "seed": seed,
        "relative": relative,
        "rounding": rounding if proxy == "diffjpeg" else None,
        **fitted,
    }
    history = training.run_recipe(
        npp,
        objective.batches,
        objective.loss,
        num_steps,
        checkpoint_path,
        lr=lr,
        lr_drop_at=lr_drop_at,
        extra=extra,
        progress=progress,
        log_every=10,
    )
    return history
