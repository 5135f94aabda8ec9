"""Artifact-removal filters for block-DCT coding: a classical deblocking filter, ARCNN, DnCNN and a
quality-conditioned network, PSNR-B, and the training data (BSDS500 re-encoded with chapter 1's JPEG).

Every filter works on the luma (Y) plane, where the eye sees blocking; ``apply`` takes and returns
uint8 RGB and filters Y only, leaving the decoded chroma as it is.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from . import fixedpoint, images, jpeg, metrics, registry

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
    "luma",
    "load_pretrained",
    "IntegerFilter",
    "load_integer",
]

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


def luma(image) -> np.ndarray:
    """The JFIF luma Y of a uint8 RGB image (or the grey image itself) as float64 (H, W), unrounded."""
    array = images.as_uint8(image)
    if array.ndim == 3:
        return images.rgb_to_ycbcr(array.astype(np.float64))[..., 0]
    return array.astype(np.float64)


def blocking_effect_factor(image, block: int = 8) -> float:
    """Yim & Bovik's blocking effect factor of one image (its luma): how much stronger the jumps
    across block edges are than the jumps inside blocks, weighted by log2(B) / log2(min(H, W))."""
    plane = luma(image)
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
    ref, out = luma(reference), luma(test)
    if ref.shape != out.shape:
        raise ValueError(f"reference and test differ in shape: {ref.shape} vs {out.shape}")
    mse = float(np.mean((ref - out) ** 2)) + blocking_effect_factor(test, block)
    return metrics.psnr_from_mse(mse)


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
            nn.Conv2d(channels, 64, 9, padding=4),
            nn.PReLU(64),
            nn.Conv2d(64, 32, 7, padding=3),
            nn.PReLU(32),
            nn.Conv2d(32, 16, 1),
            nn.PReLU(16),
            nn.Conv2d(16, channels, 5, padding=2),
        )

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
    """Filter a decoded JPEG (uint8 RGB (H, W, 3) or grey (H, W)) coded at ``quality`` with a
    learned filter; uint8 out. Only luma is filtered; the decoded chroma is kept (``deblock`` is
    the classical filter with the same arguments)."""
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality!r}")
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a filter module (torch.nn.Module), got {type(model).__name__}; "
            "the classical filter is filters.deblock(image, quality)"
        )
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


def load_pretrained(name: str, quality: int | None = None) -> nn.Module:
    """A shipped filter ("conditioned": one network for every JPEG quality, which it takes as an
    input; ``registry.shipped("filters")`` lists them) in eval mode on config.device().
    quality must be None (the conditioned filter covers qualities 10-50)."""
    if quality is not None:
        raise ValueError(
            f"the shipped filters take the quality as an input; got quality={quality!r}"
        )
    return registry.load("filters", name, None, build_model)


# ----------------------------------------------------------------------------- integer in-loop filter
# A loop filter's output becomes the next frame's reference, so encoder and decoder must compute it to
# the bit (standard codecs specify their loop filters in integers for that reason). The integer form of
# the conditioned filter takes the pixels (0..255) and the quality (1..100) as plain integers: 1/255
# and 1/100 are folded into the first layer's weights (24 fraction bits), 255 into the last layer's,
# every activation has 16 fraction bits, and the filtered pixel is p - round(correction), clamped.


class IntegerFilter(fixedpoint.TwoPaths, nn.Module):
    """The integer (fixed-point) form of a ConditionedDnCNN: ``filter_luma(luma, quality)`` gives the
    same uint8 plane on every machine; ``fixedpoint.integer_path`` chooses "torch" (float64 holding
    integers) or "numpy" (int64 reference). The float model stays inside (its parameters are the fingerprint)."""

    FIRST_WEIGHT_FRACTION, WEIGHT_FRACTION, FRACTION = 24, 14, 16

    def __init__(self, model: nn.Module):
        super().__init__()
        from . import fixedpoint

        if not isinstance(model, ConditionedDnCNN):
            raise TypeError(
                f"only the conditioned filter has an integer form, not {type(model).__name__}"
            )
        self.model = model.eval()
        scaled = copy.deepcopy(model.body).to("cpu").double()
        with torch.no_grad():
            first, last = scaled[0], scaled[-1]
            inner = first.in_channels - 1
            first.weight[:, :inner] /= 255.0  # the pixels enter as 0..255
            first.weight[:, inner:] /= 100.0  # the quality enters as 1..100
            last.weight *= 255.0  # the correction leaves in grey levels
            last.bias *= 255.0
        count = len(scaled)
        fractions = [0] + [self.FRACTION] * count
        weights = [self.FIRST_WEIGHT_FRACTION] + [self.WEIGHT_FRACTION] * (count - 1)
        self.network = fixedpoint.convert(scaled, fractions, weights)

    def filter_luma(self, luma: np.ndarray, quality: int) -> np.ndarray:
        """Filter a uint8 (H, W) plane coded at ``quality``: uint8 (H, W), in integers only."""
        from . import fixedpoint

        luma = np.asarray(luma)
        if luma.ndim != 2 or luma.dtype != np.uint8:
            raise ValueError(f"luma must be a uint8 (H, W) plane, got {luma.dtype} {luma.shape}")
        if isinstance(quality, bool) or int(quality) != quality or not 1 <= quality <= 100:
            raise ValueError(f"quality must be an int in 1..100, got {quality!r}")
        height, width = luma.shape
        padded = np.pad(luma.astype(np.int64), ((0, (-height) % 8), (0, (-width) % 8)), mode="edge")
        h2, w2 = padded.shape[0] // 2, padded.shape[1] // 2
        # pixel_unshuffle by 2: channel 2 * dy + dx holds the pixels at (2i + dy, 2j + dx)
        small = padded.reshape(h2, 2, w2, 2).transpose(1, 3, 0, 2).reshape(4, h2, w2)
        planes = np.concatenate([small, np.full((1, h2, w2), int(quality), np.int64)])[None]
        if self.path == "numpy":
            correction = self.network.numpy(planes)
        else:
            device = next(self.model.parameters()).device
            tensor = torch.from_numpy(planes.astype(np.float64)).to(device)
            correction = self.network.torch(tensor).cpu().numpy().astype(np.int64)
        correction = fixedpoint.shift_round(correction[0], self.FRACTION)  # grey levels, rounded
        full = correction.reshape(2, 2, h2, w2).transpose(2, 0, 3, 1).reshape(2 * h2, 2 * w2)
        return np.clip(padded - full, 0, 255)[:height, :width].astype(np.uint8)

    def forward(self, x: torch.Tensor, quality) -> torch.Tensor:
        return self.model(x, quality)


def load_integer(name: str = "conditioned") -> IntegerFilter:
    """The integer form of a shipped filter (``load_pretrained(name)``), derived exactly from its
    float weights: what the toy video codec runs in the loop (video.encode(..., 'conditioned-int'))."""
    return IntegerFilter(load_pretrained(name))
