"""Learned fast mode decision for chapter 10's hybrid codec (an encoder-only tool).

In a P-frame most of the encoder's mode search goes into intra: four 8x8 luma blocks times six or
seven modes, each transformed, quantized and counted, plus the chroma modes, for every macroblock,
where intra wins in a few percent of them. A small classifier (logistic regression on five features
the encoder has before the intra search: the skip and inter costs, the inter error, the luma variance,
lambda; ``hybrid._features``) predicts whether intra would win; below a threshold the search is
skipped. The decoder is untouched (the bitstream stays valid whatever the encoder decides).

Trained on Foreman frames 0-49 (the chapter's training split; the tests code frames 50-99, Bus and
Highway) at qualities 10, 25, 50 and 75, with labels from the full search: ``python -m
helpers.video.fastmode --ship``. The threshold keeps the intra search where the probability is at least
``threshold`` (chosen on the training frames for a recall of intra decisions of about 90 %: a missed
intra macroblock costs bits; a needless search costs only time).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from .. import registry

__all__ = ["FastModeModel", "training_examples", "fit", "load_pretrained", "main"]

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
        return {"mean": torch.tensor(self.mean), "scale": torch.tensor(self.scale),
                "weights": torch.tensor(self.weights), "bias": float(self.bias),
                "threshold": float(self.threshold)}  # fmt: skip


def training_examples(frames, qualities=QUALITIES) -> np.ndarray:
    """(features..., chosen type) rows of every P macroblock under the full search."""
    from . import hybrid

    rows = []
    for quality in qualities:
        rows += hybrid.analyze(frames, quality, collect_features=True).features
    return np.array(rows, dtype=np.float64)


def fit(examples: np.ndarray, recall: float = 0.9, steps: int = 2000) -> FastModeModel:
    """Fit the logistic regression (intra vs not) and pick the threshold for ``recall`` of intra."""
    x, label = examples[:, :5], (examples[:, 5] == 2).astype(np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    inputs = torch.from_numpy((x - mean) / scale)
    target = torch.from_numpy(label)
    weights = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights, bias], max_iter=steps)
    positive = float(label.mean())
    pos_weight = torch.tensor((1 - positive) / max(positive, 1e-6), dtype=torch.float64)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            inputs @ weights + bias, target, pos_weight=pos_weight
        )
        loss.backward()
        return loss

    optimizer.step(closure)
    model = FastModeModel(mean, scale, weights.detach().numpy(), float(bias.detach()), 0.5)
    probabilities = model.probability(x)
    intra_probabilities = np.sort(probabilities[label == 1])
    if intra_probabilities.size:
        model.threshold = float(intra_probabilities[int((1 - recall) * intra_probabilities.size)])
    return model


@cache
def load_pretrained() -> FastModeModel:
    """The shipped classifier (registry key ``video/fast-mode``)."""
    state = torch.load(
        registry.weights_path("video", "fast-mode"), map_location="cpu", weights_only=True
    )
    model = state["model"]
    return FastModeModel(model["mean"].numpy(), model["scale"].numpy(), model["weights"].numpy(),
                         float(model["bias"]), float(model["threshold"]))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """python -m helpers.video.fastmode [--frames N] [--ship]"""
    from .. import data

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--frames", type=int, default=50, help="Foreman frames 0..N-1 (training split)"
    )
    parser.add_argument("--recall", type=float, default=0.9)
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args(argv)
    examples = training_examples(data.video_sequence("foreman", args.frames))
    model = fit(examples, args.recall)
    label = examples[:, 5] == 2
    keep = model.probability(examples[:, :5]) >= model.threshold
    figures = {"macroblocks": int(label.size), "intra_share": float(label.mean()),
               "intra_searched_share": float(keep.mean()), "intra_recall": float(keep[label].mean()),
               "threshold": model.threshold}  # fmt: skip
    print(figures)
    if args.ship:
        registry.ship({"model": model.state(), "figures": figures}, "video-fast-mode.pt", "video", "fast-mode",
                      build={}, steps="LBFGS, at most 2000 iterations", data=f"Foreman frames 0-{args.frames - 1}, qualities {list(QUALITIES)}",
                      command=f"python -m helpers.video.fastmode --frames {args.frames} --ship",
                      figures=figures)  # fmt: skip


if __name__ == "__main__":
    main()
