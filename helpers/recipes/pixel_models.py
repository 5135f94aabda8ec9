"""Chapter 3's recipes: the PixelCNN and the parallel (multi-scale) lossless codec."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import config, data, images, pixelcnn, training

__all__ = ["pixelcnn_recipe", "multiscale_recipe", "downscaled_photos"]


def pixelcnn_recipe(
    name: str,
    num_steps: int,
    checkpoint_path: str | Path,
    *,
    crop_size: int = 32,
    batch_size: int = 16,
    lr: float = 1e-3,
    lr_drop_at: int | None = None,
    output: str = "logistic_mixture",
    hidden: int = 60,
    num_layers: int = 6,
    seed: int = 0,
    progress: bool = True,
) -> training.History:
    """Train a PixelCNN ("pixelcnn" or "gated"); the loss is the mean bits per subpixel."""
    config.seed_everything(seed)
    model = pixelcnn.build_model(name, output=output, hidden=hidden, num_layers=num_layers)
    crops = data.RandomCrops(data.bsds500("all"), crop_size=crop_size, seed=seed)

    def loss_fn(model, batch):
        return pixelcnn.bits_loss(model, batch), {}

    extra = dict(
        name=name,
        output=output,
        hidden=hidden,
        num_layers=num_layers,
        crop_size=crop_size,
        batch_size=batch_size,
        lr=lr,
        lr_drop_at=lr_drop_at,
        data="BSDS500 train+val (300 images)",
    )
    return training.run_recipe(
        model,
        lambda start: crops.batches(batch_size, seed=seed + start),
        loss_fn,
        num_steps,
        checkpoint_path,
        lr,
        lr_drop_at,
        extra,
        progress,
    )


def downscaled_photos(
    pictures, low: float = 0.6, high: float = 0.8, seed: int = 0, min_side: int = 64
) -> list[np.ndarray]:
    """Each photo shrunk once by a random factor in [low, high] (Pillow's Lanczos filter, antialiased):
    the training photos are JPEGs, and shrinking them hides their block and ringing artifacts, which
    a lossless model would otherwise learn to expect (L3C shrinks Open Images the same way)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for picture in pictures:
        array = (
            images.load_image(picture)
            if isinstance(picture, (str, Path))
            else images.as_uint8(picture)
        )
        array = np.repeat(array[..., None], 3, axis=2) if array.ndim == 2 else array
        factor = rng.uniform(low, high)
        size = (max(1, round(array.shape[1] * factor)), max(1, round(array.shape[0] * factor)))
        small = np.asarray(Image.fromarray(array).resize(size, Image.LANCZOS))
        if min(small.shape[:2]) >= min_side:
            out.append(small)
    return out


def multiscale_recipe(
    name: str,
    num_steps: int,
    checkpoint_path: str | Path,
    *,
    crop_size: int = 64,
    batch_size: int = 16,
    lr: float = 1e-3,
    lr_drop_at: int | None = None,
    hidden: int = 48,
    blocks: int = 3,
    mixtures: int = 5,
    training_data: str = "bsds500+imagenet",
    seed: int = 0,
    progress: bool = True,
) -> training.History:
    """Train the parallel lossless codec (helpers.multiscale) on BSDS500 + the ImageNet sample photos
    (``training_data="bsds500"``: BSDS500 alone), each shrunk once by 0.6-0.8 (``downscaled_photos``;
    never Kodak); the loss is the mean bits per subpixel of the three steps of a crop's first three
    scales."""
    from .. import multiscale

    if training_data not in ("bsds500", "bsds500+imagenet"):
        raise ValueError(
            f"training_data must be 'bsds500' or 'bsds500+imagenet', got {training_data!r}"
        )
    config.seed_everything(seed)
    model = multiscale.build_model(name, hidden=hidden, blocks=blocks, mixtures=mixtures)
    pictures = list(data.bsds500("all"))
    if training_data == "bsds500+imagenet":
        pictures += [p for p, _, _ in data.imagenet_samples()]
    crops = data.RandomCrops(
        downscaled_photos(pictures, seed=seed, min_side=crop_size), crop_size=crop_size, seed=seed
    )

    def loss_fn(model, batch):
        return multiscale.bits_loss(model, batch), {}

    extra = dict(
        name=name,
        hidden=hidden,
        blocks=blocks,
        mixtures=mixtures,
        crop_size=crop_size,
        batch_size=batch_size,
        lr=lr,
        lr_drop_at=lr_drop_at,
        data=(
            "BSDS500 train+val (300) + ImageNet sample photos (1,000)"
            if training_data == "bsds500+imagenet"
            else "BSDS500 train+val (300)"
        )
        + ", each shrunk by 0.6-0.8 (Lanczos)",
    )
    return training.run_recipe(
        model,
        lambda start: crops.batches(batch_size, seed=seed + start),
        loss_fn,
        num_steps,
        checkpoint_path,
        lr,
        lr_drop_at,
        extra,
        progress,
    )
