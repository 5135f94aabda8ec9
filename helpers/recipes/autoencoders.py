"""Chapter 4's recipe: the autoencoder codecs (factorized, scale and mean-scale hyperpriors)."""

from __future__ import annotations

from pathlib import Path

import torch

from .. import autoencoder, config, data, training

__all__ = ["autoencoder_recipe"]


def autoencoder_recipe(
    name: str,
    num_steps: int,
    checkpoint_path: str | Path,
    *,
    lmbda: float = 0.0067,
    crop_size: int = 128,
    batch_size: int = 8,
    lr: float = 1e-4,
    lr_drop_at: int | None = None,
    N: int | None = None,
    M: int | None = None,
    init_from: str | Path | None = None,
    training_data: str = "bsds500",
    seed: int = 0,
    progress: bool = True,
) -> training.History:
    """Train a codec with R + λD (``autoencoder.RateDistortionLoss``), then fit its quantiles.

    A resumed run draws fresh crops (the crop seed is offset by the step it resumes from);
    ``init_from`` starts from another checkpoint (the fine-tuned qualities; another architecture's
    checkpoint gives the parameters whose names and shapes match, e.g. g_a and g_s of a scale
    hyperprior for a mean-scale one). ``training_data``: "bsds500" (300 photos) or
    "bsds500+imagenet" (plus the 1,000 ImageNet sample photos; never Kodak).
    """
    config.seed_everything(seed)
    model = autoencoder.build_model(name, N, M)
    if init_from is not None and not Path(checkpoint_path).is_file():
        state = torch.load(init_from, map_location="cpu", weights_only=True)["model"]
        own = model.state_dict()
        matching = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        if len(matching) == len(state) == len(own):
            model.load_state_dict(state)
        elif not matching:
            raise ValueError(f"{init_from}: no parameter matches a {name} model")
        else:
            model.load_state_dict(matching, strict=False)
    sources = {
        "bsds500": "BSDS500 train+val (300 images)",
        "bsds500+imagenet": "BSDS500 train+val (300) + ImageNet sample photos (1,000)",
    }
    if training_data not in sources:
        raise ValueError(f"training_data must be one of {sorted(sources)}, got {training_data!r}")
    pictures = list(data.bsds500("all"))
    if training_data == "bsds500+imagenet":
        pictures += [p for p, _, _ in data.imagenet_samples() if min(p.shape[:2]) >= crop_size]
    crops = data.RandomCrops(pictures, crop_size=crop_size, seed=seed)
    criterion = autoencoder.RateDistortionLoss(lmbda)
    # The entropy bottleneck's quantiles do not enter the R + lambda D loss (training adds noise,
    # it does not round); they only bound the CDF tables of the real coder, so they are fitted
    # separately (fit_quantiles), and gradient clipping sees only the transform and prior parameters.
    parameters = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    optimizer = torch.optim.Adam(parameters, lr=lr)

    def loss_fn(model, batch):
        terms = criterion(model(batch), batch)
        psnr = -10 * torch.log10(terms["mse"].detach())
        return terms["loss"], {"bpp": terms["bpp"], "psnr": psnr}

    defaults = autoencoder.ARCHITECTURES[name][1]
    extra = {
        "name": name,
        "lmbda": lmbda,
        "N": defaults["N"] if N is None else N,
        "M": defaults["M"] if M is None else M,
        "crop_size": crop_size,
        "batch_size": batch_size,
        "lr": lr,
        "lr_drop_at": lr_drop_at,
        "init_from": None if init_from is None else Path(init_from).name,
        "data": sources[training_data],
    }
    history = training.run_recipe(
        model,
        lambda start: crops.batches(batch_size, seed=seed + start),
        loss_fn,
        num_steps,
        checkpoint_path,
        lr,
        lr_drop_at,
        extra,
        progress,
        optimizer=optimizer,
        log_every=50,
    )
    extra["aux_loss"] = autoencoder.fit_quantiles(model)
    training.save_checkpoint(
        checkpoint_path, model, optimizer, history.steps[-1] if history.steps else 0, history, extra
    )
    return history
