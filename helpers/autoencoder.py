"""Autoencoder codecs (chapter 4): Ballé's factorized prior and scale hyperprior, the R + λD loss
and the training recipe used for the shipped checkpoints.

This first part holds what training needs; GDN, the quantization proxies, real bitstreams and
``load_pretrained`` come with chapter 4. The models are CompressAI's own classes so that checkpoints
stay loadable by CompressAI and by the readable versions the chapter builds.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
from compressai.models import FactorizedPrior, ScaleHyperprior

from . import config, data, training

__all__ = [
    "ARCHITECTURES",
    "build_model",
    "RateDistortionLoss",
    "train_recipe",
    "fit_quantiles",
    "main",
]

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
) -> training.History:
    """Train a codec on random BSDS500 crops (train + val) with R + λD; checkpoints at checkpoint_path."""
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
        "data": "BSDS500 train+val (300 images)",
    }
    history = training.train(
        model,
        crops.batches(batch_size, seed=seed),
        loss_fn,
        num_steps,
        optimizer=optimizer,
        checkpoint_path=checkpoint_path,
        checkpoint_every=250,
        log_every=50,
        grad_clip=1.0,
        progress=progress,
        extra=extra,
    )
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
    )
    print(f"done: step {history.steps[-1] if history.steps else 0}, loss {history.last():.4f}")


if __name__ == "__main__":
    main()
