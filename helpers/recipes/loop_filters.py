"""Chapter 5's recipe: the post and in-loop filters, trained on JPEG pairs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import config, data, filters, images, jpeg, training

__all__ = ["JPEGPairs", "filter_recipe"]


class JPEGPairs:
    """(decoded luma, clean luma, quality) crops from images re-encoded with chapter 1's JPEG.

    Each image is coded once per quality and kept in memory (cached on disk under
    config.cache_dir()). Crops start on the 8x8 grid, so block edges sit where they sit at test time.
    Note: BSDS500's photos are themselves JPEGs at about quality 92-95; their faint artifacts are
    part of the "clean" target, far below those of qualities 10-50.
    """

    def __init__(
        self,
        sources,
        qualities=(10, 15, 20, 25, 30, 40, 50),
        crop_size: int = 64,
        seed: int = 0,
        cache: bool = True,
    ):
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

    extra = dict(
        name=name,
        sizes=sizes,
        crop_size=crop_size,
        batch_size=batch_size,
        lr=lr,
        lr_drop_at=lr_drop_at,
        qualities=list(qualities),
        data=f"BSDS500 train+val ({len(sources)} images), chapter 1 JPEG 4:2:0, luma",
    )
    return training.run_recipe(
        model,
        lambda start: pairs.batches(batch_size, seed=seed + start),
        loss_fn,
        num_steps,
        checkpoint_path,
        lr,
        lr_drop_at,
        extra,
        progress,
    )
