"""Artifact-removal filters for block-DCT coding: a classical deblocking filter, ARCNN, DnCNN and a
quality-conditioned network, PSNR-B, and the training data (BSDS500 re-encoded with chapter 1's JPEG).

Every filter works on the luma (Y) plane, where the eye sees blocking; ``apply`` takes and returns
uint8 RGB and filters Y only, leaving the decoded chroma as it is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from helpers import config, data, images, jpeg, training

__all__ = [
    "deblock",
    "deblock_strength",
    "blocking_effect_factor",
    "psnr_b",
    "ARCNN",
    "DnCNN",
    "ConditionedDnCNN",
    "ARCHITECTURES",
    "build_model",
    "filter_luma",
    "apply",
    "jpeg_round_trip",
    "JPEGPairs",
    "load_pretrained",
    "train_recipe",
]

WEIGHTS = Path(__file__).parent / "weights"


# --- the classical baseline -------------------------------------------------------------------


def deblock_strength(quality: int) -> tuple[float, float, float]:
    """(alpha, beta, tc) in grey levels for a JPEG quality: thresholds grow with the luma DC step.

    A block edge is smoothed only where the step across it is small (|p0 - q0| < alpha) and both
    sides are flat (|p1 - p0|, |q1 - q0| < beta): a big step there is a real edge, not an artifact.
    tc caps the correction, as in H.264's clipping.
    """
    step = float(jpeg.quant_table(int(quality))[0, 0])  # the DC step of the 8x8 DCT
    unit = step / 8.0  # one DC step moves every pixel of a block by step / 8 grey levels
    return 2.5 * unit + 2.0, 0.6 * unit + 1.0, 1.0 * unit + 1.0


def _filter_edges(plane: np.ndarray, alpha: float, beta: float, tc: float, block: int) -> None:
    """Filter the vertical block edges of ``plane`` (float, modified in place)."""
    columns = np.arange(block, plane.shape[1] - 1, block)
    if columns.size == 0:
        return
    p1, p0 = plane[:, columns - 2], plane[:, columns - 1]
    q0, q1 = plane[:, columns], plane[:, columns + 1]
    active = (np.abs(p0 - q0) < alpha) & (np.abs(p1 - p0) < beta) & (np.abs(q1 - q0) < beta)
    delta = np.clip(((q0 - p0) * 4 + (p1 - q1)) / 8, -tc, tc) * active
    # the second pixel on each side moves half as far: a ramp instead of a step
    delta_p1 = np.clip((p0 + q0) / 2 - p1, -tc / 2, tc / 2) * active / 2
    delta_q1 = np.clip((p0 + q0) / 2 - q1, -tc / 2, tc / 2) * active / 2
    plane[:, columns - 1] = p0 + delta
    plane[:, columns] = q0 - delta
    plane[:, columns - 2] = p1 + delta_p1
    plane[:, columns + 1] = q1 + delta_q1


def deblock(image, quality: int, block: int = 8, strength: float = 1.0) -> np.ndarray:
    """A simplified H.264/HEVC-style deblocking filter across the 8x8 grid; uint8 in, uint8 out.

    Filters vertical edges then horizontal ones on the luma of an RGB image (or on a grey image).
    ``strength`` scales the thresholds from ``deblock_strength(quality)``; 0 leaves the image as is.
    """
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality!r}")
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength!r}")
    array = images.as_uint8(image)
    alpha, beta, tc = (strength * v for v in deblock_strength(quality))
    ycbcr = images.rgb_to_ycbcr(array.astype(np.float64)) if array.ndim == 3 else None
    plane = ycbcr[..., 0].copy() if ycbcr is not None else array.astype(np.float64)
    _filter_edges(plane, alpha, beta, tc, block)
    transposed = np.ascontiguousarray(plane.T)
    _filter_edges(transposed, alpha, beta, tc, block)
    plane = transposed.T
    if ycbcr is None:
        return np.clip(np.round(plane), 0, 255).astype(np.uint8)
    ycbcr[..., 0] = plane
    return np.clip(np.round(images.ycbcr_to_rgb(ycbcr)), 0, 255).astype(np.uint8)


# --- PSNR-B -----------------------------------------------------------------------------------


def _luma(image) -> np.ndarray:
    array = images.as_uint8(image)
    if array.ndim == 3:
        return images.rgb_to_ycbcr(array.astype(np.float64))[..., 0]
    return array.astype(np.float64)


def blocking_effect_factor(image, block: int = 8) -> float:
    """Yim & Bovik's blocking effect factor of one image (its luma): how much stronger the jumps
    across block edges are than the jumps inside blocks, weighted by log2(B) / log2(min(H, W))."""
    plane = _luma(image)
    height, width = plane.shape
    horizontal = (plane[:, :-1] - plane[:, 1:]) ** 2  # pair (j, j+1)
    vertical = (plane[:-1, :] - plane[1:, :]) ** 2
    across_h = (np.arange(width - 1) + 1) % block == 0
    across_v = (np.arange(height - 1) + 1) % block == 0
    boundary = horizontal[:, across_h].sum() + vertical[across_v, :].sum()
    inside = horizontal[:, ~across_h].sum() + vertical[~across_v, :].sum()
    n_boundary = height * across_h.sum() + width * across_v.sum()
    n_inside = height * (~across_h).sum() + width * (~across_v).sum()
    if n_boundary == 0 or n_inside == 0:
        return 0.0
    d_boundary, d_inside = boundary / n_boundary, inside / n_inside
    if d_boundary <= d_inside:
        return 0.0
    eta = math.log2(block) / math.log2(min(height, width))
    return float(eta * (d_boundary - d_inside))


def psnr_b(reference, test, block: int = 8) -> float:
    """PSNR-B (Yim & Bovik, IEEE TIP 2011) on luma: PSNR with MSE + the test image's blocking factor.

    As in the paper the factor looks at ``test`` only, so a blocky image scores a finite PSNR-B
    even against itself; infinity needs identical images without blocking.
    """
    ref, out = _luma(reference), _luma(test)
    if ref.shape != out.shape:
        raise ValueError(f"reference and test differ in shape: {ref.shape} vs {out.shape}")
    mse = float(np.mean((ref - out) ** 2)) + blocking_effect_factor(test, block)
    return float("inf") if mse == 0 else 10 * math.log10(255.0**2 / mse)


# --- learned filters --------------------------------------------------------------------------


def _quality_tensor(quality, batch: int, device) -> torch.Tensor:
    q = torch.as_tensor(quality, dtype=torch.float32, device=device).reshape(-1)
    return q.expand(batch) if q.numel() == 1 else q


class ARCNN(nn.Module):
    """ARCNN (Dong, Deng, Loy, Tang, "Compression Artifacts Reduction by a Deep Convolutional
    Network", ICCV 2015): feature extraction 9x9, enhancement 7x7, mapping 1x1, reconstruction 5x5.
    Here it predicts the correction (a residual), which trains much faster on a CPU."""

    def __init__(self, channels: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 64, 9, padding=4), nn.PReLU(64),
            nn.Conv2d(64, 32, 7, padding=3), nn.PReLU(32),
            nn.Conv2d(32, 16, 1), nn.PReLU(16),
            nn.Conv2d(16, channels, 5, padding=2),
        )  # fmt: skip

    def forward(self, x: torch.Tensor, quality=None) -> torch.Tensor:
        return x + self.body(x)


class DnCNN(nn.Module):
    """DnCNN (Zhang, Zuo, Chen, Meng, Zhang, "Beyond a Gaussian Denoiser: Residual Learning of Deep
    CNN for Image Denoising", IEEE TIP 2017): a stack of 3x3 conv + ReLU predicting the artifact."""

    def __init__(self, channels: int = 1, features: int = 48, depth: int = 8):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, features, 3, padding=1), nn.ReLU(True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(features, features, 3, padding=1), nn.ReLU(True)]
        layers.append(nn.Conv2d(features, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, quality=None) -> torch.Tensor:
        return x - self.body(x)


class ConditionedDnCNN(nn.Module):
    """One filter for every JPEG quality: the quality enters as an extra input plane, as in
    QP-aware in-loop filters and FFDNet's noise-level map (Zhang, Zuo, Zhang, IEEE TIP 2018).
    Like FFDNet it works on 2x2 pixel-unshuffled planes: four times fewer positions per layer."""

    def __init__(self, channels: int = 1, features: int = 64, depth: int = 12):
        super().__init__()
        inner = 4 * channels
        layers: list[nn.Module] = [nn.Conv2d(inner + 1, features, 3, padding=1), nn.ReLU(True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(features, features, 3, padding=1), nn.ReLU(True)]
        layers.append(nn.Conv2d(features, inner, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, quality) -> torch.Tensor:
        if quality is None:
            raise ValueError("ConditionedDnCNN needs the JPEG quality (1..100)")
        small = nn.functional.pixel_unshuffle(x, 2)
        q = _quality_tensor(quality, x.shape[0], x.device) / 100.0
        plane = q.view(-1, 1, 1, 1).expand(-1, 1, *small.shape[2:])
        correction = self.body(torch.cat([small, plane], dim=1))
        return x - nn.functional.pixel_shuffle(correction, 2)


#: name -> (class, keyword arguments); "conditioned" is the recommended, shipped filter.
ARCHITECTURES = {
    "arcnn": (ARCNN, {}),
    "dncnn": (DnCNN, {"features": 48, "depth": 8}),
    "conditioned": (ConditionedDnCNN, {"features": 64, "depth": 12}),
}


def build_model(name: str, **overrides) -> nn.Module:
    """An untrained filter by name ('arcnn', 'dncnn', 'conditioned'); overrides change its sizes."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown filter {name!r}; choose from {sorted(ARCHITECTURES)}")
    cls, kwargs = ARCHITECTURES[name]
    return cls(**{**kwargs, **overrides})


@torch.no_grad()
def filter_luma(model: nn.Module, luma: np.ndarray, quality: int) -> np.ndarray:
    """Filter a uint8 (H, W) luma plane; return float64 (H, W) in grey levels (not rounded)."""
    if luma.ndim != 2:
        raise ValueError(f"luma must be (H, W), got shape {luma.shape}")
    device = next(model.parameters()).device
    x = torch.from_numpy(np.asarray(luma, dtype=np.float32) / 255.0)[None, None].to(device)
    height, width = luma.shape
    pad_h, pad_w = (-height) % 8, (-width) % 8
    if pad_h or pad_w:
        x = nn.functional.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    out = model(x, quality)[0, 0, :height, :width]
    return out.double().cpu().numpy() * 255.0


def apply(model: nn.Module, image, quality: int) -> np.ndarray:
    """Filter a decoded JPEG (uint8 RGB (H, W, 3) or grey (H, W)) coded at ``quality``; uint8 out.

    Only luma is filtered; the decoded chroma is kept. ``model`` may also be the string 'deblock'
    for the classical filter.
    """
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality!r}")
    if isinstance(model, str):
        if model != "deblock":
            raise ValueError(f"model must be a filter module or 'deblock', got {model!r}")
        return deblock(image, quality)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module or 'deblock', got {type(model).__name__}")
    array = images.as_uint8(image)
    was_training = model.training
    model.eval()
    try:
        if array.ndim == 2:
            return np.clip(np.round(filter_luma(model, array, quality)), 0, 255).astype(np.uint8)
        ycbcr = images.rgb_to_ycbcr(array.astype(np.float64))
        y = np.clip(np.round(ycbcr[..., 0]), 0, 255).astype(np.uint8)
        ycbcr[..., 0] = filter_luma(model, y, quality)
        return np.clip(np.round(images.ycbcr_to_rgb(ycbcr)), 0, 255).astype(np.uint8)
    finally:
        model.train(was_training)


# --- data and training ------------------------------------------------------------------------


def jpeg_round_trip(image, quality: int, subsampling: str = "4:2:0") -> tuple[np.ndarray, int]:
    """Encode with chapter 1's encoder and decode: (decoded uint8 image, size in bytes)."""
    encoded = jpeg.encode(images.as_uint8(image), int(quality), subsampling)
    return jpeg.decode(encoded), len(encoded)


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
            self.clean.append(np.round(_luma(rgb)).astype(np.uint8))
            self.decoded.append(
                [
                    np.round(_luma(jpeg_round_trip(rgb, q)[0])).astype(np.uint8)
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


def train_recipe(name: str, num_steps: int, checkpoint_path: str | Path, crop_size: int = 64,
                 batch_size: int = 16, lr: float = 1e-3, lr_drop_at: int | None = None,
                 qualities=(10, 15, 20, 25, 30, 40, 50), max_images: int | None = None,
                 seed: int = 0, progress: bool = True, **sizes) -> training.History:  # fmt: skip
    """Train a luma filter on BSDS500 (train + val) re-encoded at ``qualities``; loss = MSE."""
    config.seed_everything(seed)
    model = build_model(name, **sizes)
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


def load_pretrained(name: str | None = None) -> nn.Module:
    """A shipped filter (helpers/weights, MANIFEST.json) in eval mode; None = the recommended one."""
    manifest = json.loads((WEIGHTS / "MANIFEST.json").read_text())["checkpoints"]
    wanted = "conditioned" if name is None else name
    found = [f for f, e in manifest.items() if e.get("architecture") == f"filter-{wanted}"]
    if not found:
        raise FileNotFoundError(
            f"no shipped filter {wanted!r}; train one: python -m helpers.filters --name {wanted} "
            "--out <checkpoint>"
        )
    state = torch.load(WEIGHTS / found[0], map_location="cpu", weights_only=False)
    model = build_model(state["extra"]["name"], **state["extra"].get("sizes", {}))
    model.load_state_dict(state["model"])
    return model.eval().to(config.device())


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m helpers.filters --name conditioned --steps ... --out ..."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--name", default="conditioned", choices=sorted(ARCHITECTURES))
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--crop-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--lr-drop-at", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    config.set_num_threads(args.threads)
    history = train_recipe(
        args.name, args.steps, args.out, args.crop_size, args.batch_size, args.lr,
        args.lr_drop_at, progress=False,
    )  # fmt: skip
    print(f"done: step {history.steps[-1] if history.steps else 0}, loss {history.last():.6f}")


if __name__ == "__main__":
    main()
