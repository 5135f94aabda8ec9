"""Training recipes of the shipped models: one place, one command-line shape.

    python -m helpers.recipes pixelcnn --name gated --steps 20000 --out runs/gated.pt
    python -m helpers.recipes autoencoder --name bmshj2018-hyperprior --lmbda 0.0067 --steps 16000 \
        --out runs/hyperprior.pt --lr 3e-4 --lr-drop-at 14000
    python -m helpers.recipes filters --name conditioned --steps 10000 --out runs/filter.pt

Every recipe is ``<family>_recipe(name, num_steps, checkpoint_path, *, ...)``: the house loop of
``training.run_recipe`` (Adam, lr / 10 from ``lr_drop_at``, clipping, checkpoints every 250 steps,
fresh crops on resume) on random crops of BSDS500 (train + val). The teaching modules (pixelcnn,
autoencoder, filters) hold the models and losses; this module only trains them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import (
    autoencoder,
    compressed_domain,
    config,
    data,
    filters,
    images,
    jpeg,
    machine_coding,
    pixelcnn,
    training,
)

__all__ = [
    "pixelcnn_recipe",
    "multiscale_recipe",
    "downscaled_photos",
    "autoencoder_recipe",
    "JPEGPairs",
    "filter_recipe",
    "main",
]


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

    extra = dict(name=name, output=output, hidden=hidden, num_layers=num_layers,
                 crop_size=crop_size, batch_size=batch_size, lr=lr, lr_drop_at=lr_drop_at,
                 data="BSDS500 train+val (300 images)")  # fmt: skip
    return training.run_recipe(
        model, lambda start: crops.batches(batch_size, seed=seed + start), loss_fn, num_steps,
        checkpoint_path, lr, lr_drop_at, extra, progress,
    )  # fmt: skip


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
    from . import multiscale

    if training_data not in ("bsds500", "bsds500+imagenet"):
        raise ValueError(
            f"training_data must be 'bsds500' or 'bsds500+imagenet', got {training_data!r}"
        )
    config.seed_everything(seed)
    model = multiscale.build_model(name, hidden=hidden, blocks=blocks, mixtures=mixtures)
    pictures = list(data.bsds500("all"))
    if training_data == "bsds500+imagenet":
        pictures += [p for p, _, _ in data.imagenet_samples()]
    crops = data.RandomCrops(downscaled_photos(pictures, seed=seed, min_side=crop_size),
                             crop_size=crop_size, seed=seed)  # fmt: skip

    def loss_fn(model, batch):
        return multiscale.bits_loss(model, batch), {}

    extra = dict(name=name, hidden=hidden, blocks=blocks, mixtures=mixtures, crop_size=crop_size,
                 batch_size=batch_size, lr=lr, lr_drop_at=lr_drop_at,
                 data=("BSDS500 train+val (300) + ImageNet sample photos (1,000)"
                       if training_data == "bsds500+imagenet" else "BSDS500 train+val (300)")
                 + ", each shrunk by 0.6-0.8 (Lanczos)")  # fmt: skip
    return training.run_recipe(
        model, lambda start: crops.batches(batch_size, seed=seed + start), loss_fn, num_steps,
        checkpoint_path, lr, lr_drop_at, extra, progress,
    )  # fmt: skip


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
    sources = {"bsds500": "BSDS500 train+val (300 images)",
               "bsds500+imagenet": "BSDS500 train+val (300) + ImageNet sample photos (1,000)"}  # fmt: skip
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
        model, lambda start: crops.batches(batch_size, seed=seed + start), loss_fn, num_steps,
        checkpoint_path, lr, lr_drop_at, extra, progress, optimizer=optimizer, log_every=50,
    )  # fmt: skip
    extra["aux_loss"] = autoencoder.fit_quantiles(model)
    training.save_checkpoint(
        checkpoint_path, model, optimizer, history.steps[-1] if history.steps else 0, history, extra
    )
    return history


class JPEGPairs:
    """(decoded luma, clean luma, quality) crops from images re-encoded with chapter 1's JPEG.

    Each image is coded once per quality and kept in memory (cached on disk under
    config.cache_dir()). Crops start on the 8x8 grid, so block edges sit where they sit at test time.
    Note: BSDS500's photos are themselves JPEGs at about quality 92-95; their faint artifacts are
    part of the "clean" target, far below those of qualities 10-50.
    """

    def __init__(self, sources, qualities=(10, 15, 20, 25, 30, 40, 50), crop_size: int = 64,
                 seed: int = 0, cache: bool = True):  # fmt: skip
        if crop_size % 8:
            raise ValueError(f"crop_size must be a multiple of 8, got {crop_size}")
        sources = list(sources)
        if not sources:
            raise ValueError("JPEGPairs needs at least one image")
        self.qualities = tuple(int(q) for q in qualities)
        self.crop_size = crop_size
        self.generator = np.random.default_rng(seed)
        digest = hashlib.sha256(json.dumps(self.qualities).encode())
        for source in sources:  # a path by its name, an in-memory image by its pixels
            is_path = isinstance(source, (str, Path))
            digest.update(
                str(source).encode() if is_path else np.ascontiguousarray(source).tobytes()
            )
        key = digest.hexdigest()[:16]
        path = config.cache_dir() / "filters" / f"pairs_{key}.npz"
        if cache and path.is_file():
            stored = np.load(path, allow_pickle=False)
            self.clean = [stored[f"clean{i}"] for i in range(len(sources))]
            self.decoded = [
                [stored[f"decoded{i}_{q}"] for q in self.qualities] for i in range(len(sources))
            ]
            return
        self.clean, self.decoded = [], []
        for source in sources:
            rgb = images.load_image(source) if isinstance(source, (str, Path)) else source
            rgb = images.as_uint8(rgb)
            self.clean.append(np.round(filters.luma(rgb)).astype(np.uint8))
            self.decoded.append(
                [
                    np.round(filters.luma(jpeg.decode(jpeg.encode(rgb, int(q))))).astype(np.uint8)
                    for q in self.qualities
                ]
            )
        if cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            arrays = {f"clean{i}": c for i, c in enumerate(self.clean)}
            for i, per_quality in enumerate(self.decoded):
                arrays.update({f"decoded{i}_{q}": d for q, d in zip(self.qualities, per_quality)})
            temporary = path.with_suffix(".part.npz")
            np.savez(temporary, **arrays)
            temporary.replace(path)

    def batch(self, batch_size: int, rng: np.random.Generator):
        """(decoded, clean, quality): float (B, 1, crop, crop) tensors in [0, 1] and (B,) qualities."""
        size = self.crop_size
        picks = rng.integers(0, len(self.clean), size=batch_size)
        levels = rng.integers(0, len(self.qualities), size=batch_size)
        decoded, clean = [], []
        for i, level in zip(picks, levels):
            height, width = self.clean[i].shape
            top = 8 * rng.integers(0, (height - size) // 8 + 1)
            left = 8 * rng.integers(0, (width - size) // 8 + 1)
            window = (slice(top, top + size), slice(left, left + size))
            pair = [self.decoded[i][level][window], self.clean[i][window]]
            if rng.random() < 0.5:  # a flip keeps the 8x8 grid when size is a multiple of 8
                pair = [p[:, ::-1] for p in pair]
            decoded.append(pair[0])
            clean.append(pair[1])
        as_tensor = lambda a: torch.from_numpy(np.stack(a)[:, None].astype(np.float32) / 255.0)  # noqa: E731
        quality = torch.tensor([self.qualities[j] for j in levels], dtype=torch.float32)
        return as_tensor(decoded), as_tensor(clean), quality

    def batches(self, batch_size: int, seed: int | None = None):
        """Infinite, seeded iterator of batches for training.train."""
        rng = self.generator if seed is None else np.random.default_rng(seed)
        while True:
            yield self.batch(batch_size, rng)


def filter_recipe(
    name: str,
    num_steps: int,
    checkpoint_path: str | Path,
    *,
    crop_size: int = 64,
    batch_size: int = 16,
    lr: float = 1e-3,
    lr_drop_at: int | None = None,
    qualities=(10, 15, 20, 25, 30, 40, 50),
    max_images: int | None = None,
    seed: int = 0,
    progress: bool = True,
    **sizes,
) -> training.History:
    """Train a luma filter on BSDS500 (train + val) re-encoded at ``qualities``; loss = MSE."""
    config.seed_everything(seed)
    model = filters.build_model(name, **sizes)
    sources = data.bsds500("all")[:max_images]
    pairs = JPEGPairs(sources, qualities=qualities, crop_size=crop_size, seed=seed)

    def loss_fn(model, batch):
        decoded, clean, quality = batch
        mse = nn.functional.mse_loss(model(decoded, quality), clean)
        with torch.no_grad():
            gain = 10 * torch.log10(nn.functional.mse_loss(decoded, clean) / mse)
        return mse, {"gain_db": float(gain)}

    extra = dict(name=name, sizes=sizes, crop_size=crop_size, batch_size=batch_size, lr=lr,
                 lr_drop_at=lr_drop_at, qualities=list(qualities),
                 data=f"BSDS500 train+val ({len(sources)} images), chapter 1 JPEG 4:2:0, luma")  # fmt: skip
    return training.run_recipe(
        model, lambda start: pairs.batches(batch_size, seed=seed + start), loss_fn, num_steps,
        checkpoint_path, lr, lr_drop_at, extra, progress,
    )  # fmt: skip


def _digits(name: str, num_steps: int, checkpoint_path, *, seed: int = 0, lr: float | None = None,
            batch_size: int | None = None, progress: bool = True) -> training.History:  # fmt: skip
    """Chapter 8's small pixel-domain ResNet on scikit-learn's digits (``compressed_domain.DigitsNet``)."""
    options = {k: v for k, v in {"lr": lr, "batch_size": batch_size}.items() if v is not None}
    return compressed_domain.digits_recipe(
        num_steps, checkpoint_path, seed=seed, progress=progress, **options
    )[1]


_FAMILIES = {
    "pixelcnn": (pixelcnn_recipe, pixelcnn.ARCHITECTURES, "gated"),
    # chapter 3: the parallel (multi-scale) lossless codec
    "multiscale": (multiscale_recipe, {"multiscale": None}, "multiscale"),
    "autoencoder": (autoencoder_recipe, autoencoder.ARCHITECTURES, "bmshj2018-hyperprior"),
    "filters": (filter_recipe, filters.ARCHITECTURES, "conditioned"),
    # chapter 8: the adapters read JPEG coefficients ("dct") or the hyperprior's latents ("latent")
    "adapter": (compressed_domain.adapter_recipe, compressed_domain.JOIN, "dct"),
    "digits": (_digits, {"resnet": None}, "resnet"),
    # chapter 9: a proxy imitating a standard codec, and the neural preprocessor in front of it
    "proxy": (machine_coding.proxy_recipe, {c: None for c in machine_coding.CODECS}, "jpeg"),
    "npp": (machine_coding.npp_recipe, {c: None for c in machine_coding.CODECS}, "jpeg"),
}


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m helpers.recipes FAMILY --name ... --steps ... --out ... [options]"""
    parser = argparse.ArgumentParser(prog="python -m helpers.recipes", description=main.__doc__)
    commands = parser.add_subparsers(dest="family", required=True)
    for family, (_, architectures, default) in _FAMILIES.items():
        command = commands.add_parser(family)
        command.add_argument("--name", default=default, choices=sorted(architectures))
        command.add_argument("--steps", type=int, required=True)
        command.add_argument("--out", required=True, help="checkpoint path (resumed if it exists)")
        command.add_argument("--crop-size", type=int)
        command.add_argument("--batch-size", type=int)
        command.add_argument("--lr", type=float)
        command.add_argument("--lr-drop-at", type=int)
        command.add_argument("--seed", type=int, default=0)
        command.add_argument("--threads", type=int)
        if family == "pixelcnn":
            command.add_argument("--output", choices=pixelcnn.OUTPUTS)
            command.add_argument("--hidden", type=int)
            command.add_argument("--num-layers", type=int)
        if family == "multiscale":
            command.add_argument("--training-data", choices=["bsds500", "bsds500+imagenet"])
            command.add_argument("--hidden", type=int)
            command.add_argument("--blocks", type=int)
            command.add_argument("--mixtures", type=int)
        if family == "autoencoder":
            command.add_argument("--lmbda", type=float)
            command.add_argument("--N", type=int)
            command.add_argument("--M", type=int)
            command.add_argument("--init-from")
            command.add_argument("--training-data", choices=["bsds500", "bsds500+imagenet"])
        if family == "filters":
            command.add_argument("--max-images", type=int)
        if family == "adapter":
            command.add_argument("--gate-weight", type=float)
            command.add_argument("--crops-per-image", type=int)
        if family == "npp":
            command.add_argument("--proxy", choices=["diffjpeg", "learned"])
            command.add_argument("--proxy-path")
            command.add_argument("--quality", type=int, help="a per-quality model (no adaptation)")
            command.add_argument("--lmbda", type=float)
            command.add_argument("--beta", type=float)
            command.add_argument("--rounding", choices=["straight-through", "cubic"])
    args = vars(parser.parse_args(argv))
    config.set_num_threads(args.pop("threads"))
    recipe = _FAMILIES[args.pop("family")][0]
    name, steps, out = args.pop("name"), args.pop("steps"), args.pop("out")
    options = {key: value for key, value in args.items() if value is not None}
    history = recipe(name, steps, out, progress=False, **options)
    print(f"done: step {history.steps[-1] if history.steps else 0}, loss {history.last():.6f}")


if __name__ == "__main__":
    main()
