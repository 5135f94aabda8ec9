"""Chapter 8's recipes: the digits ResNet, the distillation set and the adapters that read JPEG
coefficients or a hyperprior's latents, trained by knowledge transfer from EfficientNet-Lite0."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import autoencoder, config, images, training
from ..compressed_domain import (
    INPUT_SIZE,
    AdapterClassifier,
    DigitsNet,
    dct_tensors,
    digits,
    pixel_input,
    read_coefficients,
    teacher_parts,
)

__all__ = [
    "digits_recipe",
    "training_photos",
    "distillation_set",
    "jpeg_batch",
    "adapter_recipe",
    "digits_cli",
]


def digits_recipe(
    num_steps: int = 1500,
    checkpoint_path: str | Path | None = None,
    *,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool = True,
) -> tuple[DigitsNet, training.History]:
    """Train DigitsNet on the training digits (pixels, random shifts of up to 2 pixels)."""
    config.seed_everything(seed)
    (train_x, train_y), _ = digits()
    x = (torch.from_numpy(train_x).float()[:, None] - 128) / 128
    y = torch.from_numpy(train_y).long()
    generator = torch.Generator().manual_seed(seed)

    def batches():
        while True:
            pick = torch.randint(0, len(x), (batch_size,), generator=generator)
            shift = torch.randint(-2, 3, (2,), generator=generator).tolist()
            yield torch.roll(x[pick], shifts=shift, dims=(2, 3)), y[pick]

    def loss_fn(model, batch):
        logits = model(batch[0])
        accuracy = (logits.argmax(1) == batch[1]).float().mean()
        return F.cross_entropy(logits, batch[1]), {"accuracy": accuracy}

    model = DigitsNet()
    history = training.train(
        model,
        batches(),
        loss_fn,
        num_steps,
        lr=lr,
        checkpoint_path=checkpoint_path,
        progress=progress,
        log_every=25,
        extra={"widths": list(model.widths)},
        lr_schedule=training.drop_schedule(lr, int(num_steps * 0.7)),
    )
    return model, history


def training_photos(seed: int = 0) -> list[np.ndarray]:
    """BSDS500 train+val (300) and the even-numbered ImageNet sample photos (500): the adapters'
    training images. The odd-numbered 500 are held out for evaluation (``held_out_photos``)."""
    from .. import data

    photos = [images.load_image(p) for p in data.bsds500("all")]
    photos += [image for i, (image, _, _) in enumerate(data.imagenet_samples()) if i % 2 == 0]
    return photos


def random_crop(
    x: torch.Tensor, rng: np.random.Generator, longest_short_side: int = 320
) -> np.ndarray:
    """One training crop of photo ``x`` (1, 3, H, W) in [0, 1]: the shorter side scaled to a random
    224-``longest_short_side`` pixels, a random 224 x 224 window, flipped left-right half the time;
    uint8 (224, 224, 3)."""
    short = int(rng.integers(INPUT_SIZE, longest_short_side + 1))
    scale = short / min(x.shape[-2:])
    shape = (
        max(INPUT_SIZE, round(x.shape[-2] * scale)),
        max(INPUT_SIZE, round(x.shape[-1] * scale)),
    )
    resized = F.interpolate(x, size=shape, mode="bilinear", antialias=True, align_corners=False)
    top = int(rng.integers(0, shape[0] - INPUT_SIZE + 1))
    left = int(rng.integers(0, shape[1] - INPUT_SIZE + 1))
    crop = images.to_uint8(resized[..., top : top + INPUT_SIZE, left : left + INPUT_SIZE])
    return np.ascontiguousarray(crop[:, ::-1]) if rng.random() < 0.5 else crop


def distillation_set(crops_per_image: int = 6, seed: int = 0, cache: bool = True) -> dict:
    """Random 224 x 224 crops of the training photos (shorter side scaled to 224-320, flipped) with
    the teacher's targets: stride-8 features (after block 4), logits, and the hyperprior's y_hat
    at qualities 1-4 of each crop. Cached under config.cache_dir()."""
    path = config.cache_dir() / f"ch8_distillation_{crops_per_image}_{seed}.pt"
    if cache and path.is_file():
        return torch.load(path, weights_only=True)
    rng = np.random.default_rng(seed)
    crops = []
    for photo in training_photos():
        x = images.to_tensor(images.as_rgb(photo))
        for _ in range(crops_per_image):
            crops.append(random_crop(x, rng))
    crops = np.stack(crops)
    front, tail = teacher_parts("dct")
    f8, logits, latents = [], [], []
    codecs = [
        autoencoder.load_pretrained("bmshj2018-hyperprior", q).to("cpu") for q in (1, 2, 3, 4)
    ]
    with torch.no_grad():
        for start in range(0, len(crops), 32):
            x = pixel_input(crops[start : start + 32])
            features = front(x)
            f8.append(features.half())
            logits.append(tail(features).half())
            pixels = images.pad_to_multiple(
                torch.from_numpy(crops[start : start + 32]).permute(0, 3, 1, 2).float() / 255, 64
            )[0]
            latents.append(
                torch.stack(
                    [torch.round(c.g_a(pixels))[..., :14, :14].to(torch.int16) for c in codecs], 1
                )
            )
    result = {
        "crops": torch.from_numpy(crops),
        "features8": torch.cat(f8),
        "logits": torch.cat(logits),
        "latents": torch.cat(latents),
    }
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(result, path)
    return result


def jpeg_batch(crops: np.ndarray, qualities: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Real 4:2:0 JPEG files of the crops (Pillow/libjpeg), read back as adapter inputs."""
    from PIL import Image

    lumas, chromas = [], []
    for crop, quality in zip(crops, qualities):
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(crop)).save(
            buffer, "JPEG", quality=int(quality), subsampling=2
        )
        luma, chroma = dct_tensors(read_coefficients(buffer.getvalue()))
        lumas.append(luma)
        chromas.append(chroma)
    return torch.cat(lumas), torch.cat(chromas)


def adapter_recipe(
    kind: str,
    num_steps: int,
    checkpoint_path: str | Path,
    *,
    batch_size: int = 24,
    lr: float = 2e-3,
    lr_drop_at: int | None = None,
    qualities: tuple[int, int] = (20, 95),
    gate_weight: float = 0.05,
    temperature: float = 2.0,
    crops_per_image: int = 6,
    seed: int = 0,
    progress: bool = True,
) -> training.History:
    """Knowledge transfer into an adapter: loss = feature MSE (per-channel normalized) against the
    pixel network's own features + T^2 KL between its logits and ours at temperature T (+ the gate's
    sparsity for "dct"). JPEG qualities are drawn from ``qualities`` per crop (real files); latents
    from a random hyperprior quality 1-4 per crop. No labels are used."""
    config.seed_everything(seed)
    bank = distillation_set(crops_per_image, seed)
    model = AdapterClassifier(kind)
    if kind == "latent":  # start the upsampling layer from g_s's first layer (quality 3)
        synthesis = autoencoder.load_pretrained("bmshj2018-hyperprior", 3).to("cpu").g_s
        model.adapter.up.load_state_dict(nn.Sequential(synthesis[0], synthesis[1]).state_dict())
    target_key = "features8"  # both adapters join after block 4 (stride 8, 40 channels)
    model.adapter.set_targets(bank[target_key][:: max(1, len(bank[target_key]) // 1000)])
    spread = model.adapter.target_std.clone()[None, :, None, None]

    def batches_from(start: int):
        rng = np.random.default_rng(seed + 1 + start)
        while True:
            pick = rng.integers(0, len(bank["crops"]), batch_size)
            teacher = {
                "features": bank[target_key][pick].float(),
                "logits": bank["logits"][pick].float(),
            }
            if kind == "dct":
                quality = rng.integers(qualities[0], qualities[1] + 1, batch_size)
                luma, chroma = jpeg_batch(bank["crops"][pick].numpy(), quality)
                yield (luma, chroma), teacher
            else:
                quality = rng.integers(0, 4, batch_size)
                yield (bank["latents"][pick, quality].float(),), teacher

    def loss_fn(model, batch):
        inputs, teacher = batch
        features = model.adapter(*inputs)
        logits = model.tail(features)
        feature_loss = (((features - teacher["features"]) / spread.to(features.device)) ** 2).mean()
        kd = (
            F.kl_div(
                F.log_softmax(logits / temperature, 1),
                F.softmax(teacher["logits"] / temperature, 1),
                reduction="batchmean",
            )
            * temperature**2
        )
        loss = feature_loss + kd
        agreement = (logits.argmax(1) == teacher["logits"].argmax(1)).float().mean()
        metrics = {"feature_mse": feature_loss, "kd": kd, "agreement": agreement}
        if kind == "dct":
            penalty = model.adapter.gate_penalty()
            loss = loss + gate_weight * penalty
            metrics["gates_on"] = (model.adapter.gate_logits > 0).float().mean()
        return loss, metrics

    parameters = [p for p in model.adapter.parameters() if p.requires_grad]
    extra = {
        "kind": kind,
        "batch_size": batch_size,
        "lr": lr,
        "lr_drop_at": lr_drop_at,
        "qualities": list(qualities),
        "gate_weight": gate_weight,
        "temperature": temperature,
        "crops_per_image": crops_per_image,
        "data": "BSDS500 train+val (300) + even-numbered ImageNet sample photos (500)",
    }
    return training.run_recipe(
        model,
        batches_from,
        loss_fn,
        num_steps,
        checkpoint_path,
        lr,
        lr_drop_at,
        extra,
        progress,
        optimizer=torch.optim.Adam(parameters, lr=lr),
        log_every=25,
    )


def digits_cli(
    name: str,
    num_steps: int,
    checkpoint_path,
    *,
    seed: int = 0,
    lr: float | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> training.History:
    """``digits_recipe`` in the command line's shape (name, steps, path): chapter 8's small pixel-domain
    ResNet on scikit-learn's digits (``compressed_domain.DigitsNet``)."""
    options = {k: v for k, v in {"lr": lr, "batch_size": batch_size}.items() if v is not None}
    return digits_recipe(num_steps, checkpoint_path, seed=seed, progress=progress, **options)[1]
