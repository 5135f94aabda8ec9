"""Learned fast mode decision for chapter 10's hybrid codec (an encoder-only tool).

In a P-frame most of the encoder's mode search goes into intra: four 8x8 luma blocks times six or
seven modes, each transformed, quantized and counted, plus the chroma modes, for every macroblock,
where intra wins in a few percent of them. A small classifier (logistic regression on five features
the encoder has before the intra search: the skip and inter costs, the inter error, the luma variance,
lambda; ``hybrid._features``) predicts whether intra would win; below a threshold the search is
skipped. The decoder is untouched (the bitstream stays valid whatever the encoder decides).

Trained on Foreman frames 0-49 (the chapter's training split; the tests code frames 50-99, Bus and
Highway) at qualities 10, 25, 50 and 75, with labels from the full search: ``python -m
helpers.recipes video fast-mode --ship``. The threshold keeps the intra search where the probability is at least
``threshold`` (chosen on the training frames for a recall of intra decisions of about 90 %: a missed
intra macroblock costs bits; a needless search costs only time).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from .. import registry

__all__ = ["FastModeModel", "QUALITIES", "load_pretrained"]

QUALITIES = (10, 25, 50, 75)


@dataclass
class FastModeModel:
    """Logistic regression: P(intra wins) = sigmoid(w . standardized features + b)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float

    def probability(self, features) -> np.ndarray:
        x = (np.asarray(features, dtype=np.float64)[..., :5] - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))

    def wants_intra(self, feature) -> bool:
        return bool(self.probability(feature) >= self.threshold)

    def state(self) -> dict:
        return {
            "mean": torch.tensor(self.mean),
            "scale": torch.tensor(self.scale),
            "weights": torch.tensor(self.weights),
            "bias": float(self.bias),
            "threshold": float(self.threshold),
        }


@cache
def load_pretrained(name: str, quality: int | None = None) -> FastModeModel:
    """The shipped classifier: ``load_pretrained("fast-mode")`` (registry key ``video/fast-mode``;
    no quality: one classifier serves every quality)."""
    if name != "fast-mode":
        raise registry.WeightsError(f"no fast-mode classifier {name!r}; shipped: 'fast-mode'")
    if quality is not None:
        raise ValueError(f"the fast-mode classifier serves every quality; got quality={quality!r}")
    state = torch.load(
        registry.weights_path("video", "fast-mode"), map_location="cpu", weights_only=True
    )
    model = state["model"]
    return FastModeModel(
        model["mean"].numpy(),
        model["scale"].numpy(),
        model["weights"].numpy(),
        float(model["bias"]),
        float(model["threshold"]),
    )
