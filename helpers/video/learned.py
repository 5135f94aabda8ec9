"""The small networks of chapter 10's deep tools and their integer forms (their training:
``helpers.recipes.video_tools``).

* ``intra``: 80 reconstructed luma neighbours (``intra.luma_context``) -> an 8x8 luma prediction, an
  extra intra mode (after Li et al., "Fully Connected Network-Based Intra Prediction for Image
  Coding", IEEE TIP 2018: a fully connected network on the reconstructed L-shaped context).
* ``chroma``: the block's downsampled luma and the chroma/luma neighbours (``intra.chroma_context``)
  -> an 8x8 chroma prediction, an extra chroma mode beside the linear model.
* ``upsampler``: a half-resolution plane -> its four full-resolution phases (a 3-layer CNN whose
  output is a correction of nearest-neighbour upsampling), for frames coded at half resolution.

The fully connected networks are 1x1 convolutions on (N, C, 1, 1), so ``helpers.fixedpoint`` turns all
three into integer networks: the codec runs only the integer forms (the decoder must form the same
prediction as the encoder, bit for bit, on every machine). Inputs are centred on the context mean and
scaled by powers of two that the conversion folds into the weights exactly.

Training (``python -m helpers.recipes video tools --steps 8000``) uses BSDS500 only (never the test
sequences): the contexts come from the photo coded as an I-frame by the hybrid codec itself at a random
quality in 10..90 (what its decoder has; ``--contexts jpeg`` uses Pillow's JPEG instead, faster), the
targets from the original photo; luma and chroma are the BT.601 limited-range planes the video files
hold. The upsampler learns from 2x2-averaged crops re-encoded by Pillow's JPEG.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from .. import fixedpoint, registry

__all__ = [
    "TOOLS",
    "build",
    "IntegerTool",
    "load_integer",
    "centre",
    "SCALE",
]

#: name -> (inputs, outputs, hidden width)
TOOLS = {"intra": (80, 64, 128), "chroma": (96, 64, 96), "upsampler": (1, 4, 24)}
#: inputs and outputs are pixel offsets divided by this (a power of two: folded exactly)
SCALE = 32
FAMILY = "video"


def build(name: str) -> torch.nn.Sequential:
    """The float network of a tool ('intra', 'chroma' or 'upsampler')."""
    if name not in TOOLS:
        raise ValueError(f"unknown tool network {name!r}; expected one of {sorted(TOOLS)}")
    inputs, outputs, width = TOOLS[name]
    kernel, padding = (3, 1) if name == "upsampler" else (1, 0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(inputs, width, kernel, padding=padding),
        torch.nn.ReLU(),
        torch.nn.Conv2d(width, width, kernel, padding=padding),
        torch.nn.ReLU(),
        torch.nn.Conv2d(width, outputs, kernel, padding=padding),
    )


def centre(name: str, context: np.ndarray) -> np.ndarray:
    """The integer mean a tool's input is centred on (int64 per row of ``context`` (N, C))."""
    context = np.asarray(context, dtype=np.int64)
    if name == "chroma":  # chroma comes back around the neighbouring chroma's mean
        part = context[:, 80:96]
    else:
        part = context
    return (part.sum(axis=1) + part.shape[1] // 2) // part.shape[1]


# ----------------------------------------------------------------------------- integer forms


class IntegerTool:
    """A tool network in integers: ``predict(inputs)`` takes int64 contexts (N, C) (or, for the
    upsampler, one int64 plane (h, w)) and returns int64 predictions, the same on every machine.
    ``fixedpoint.integer_path`` chooses "torch" (float64 tensors holding integers, on the CPU) or
    "numpy" (the int64 reference)."""

    def __init__(self, name: str):
        if name not in TOOLS:
            raise ValueError(f"unknown tool network {name!r}; expected one of {sorted(TOOLS)}")
        self.name = name
        self._float = None  # the float network with its scales folded in (``from_state``)
        self.network = None
        self.fraction_out = 0

    def _run(self, x: np.ndarray) -> np.ndarray:
        if fixedpoint.current_path() == "numpy":
            return self.network.numpy(x)
        return self.network.torch(torch.from_numpy(x.astype(np.float64))).numpy().astype(np.int64)

    @classmethod
    def from_state(cls, name: str, state: dict) -> IntegerTool:
        """The integer form of trained float weights (the conversion is exact: same integers everywhere)."""
        tool = cls(name)
        model = build(name).eval()
        model.load_state_dict(state)
        # fold the input scale (1 / SCALE) and the output scale (x SCALE): powers of two, exact
        with torch.no_grad():
            model[0].weight.div_(SCALE)
            model[-1].weight.mul_(SCALE)
            model[-1].bias.mul_(SCALE)
        tool._float = model
        fractions = [0, 8, 8, 8, 8, 8]
        tool.network = fixedpoint.convert(model, fractions, weight_fraction=[18, 14, 14, 14, 14])
        tool.fraction_out = fractions[-1]
        return tool

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Integer predictions: contexts (N, C) -> (N, 64) pixels; or a plane (h, w) -> (2h, 2w)."""
        inputs = np.asarray(inputs, dtype=np.int64)
        if self.name == "upsampler":
            low = inputs
            out = self._run((low - 128)[None, None])[0]
            out = fixedpoint.shift_round(out, self.fraction_out) + low[None]
            high = np.empty((low.shape[0] * 2, low.shape[1] * 2), dtype=np.int64)
            high[0::2, 0::2], high[0::2, 1::2], high[1::2, 0::2], high[1::2, 1::2] = out
            return np.clip(high, 0, 255)
        mean = centre(self.name, inputs)[:, None]
        out = self._run((inputs - mean)[:, :, None, None])[:, :, 0, 0]
        return np.clip(fixedpoint.shift_round(out, self.fraction_out) + mean, 0, 255)


@cache
def load_integer(name: str) -> IntegerTool:
    """The shipped tool network ``name`` ('intra', 'chroma', 'upsampler') in integer form."""
    path = registry.weights_path(FAMILY, "tools")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if name not in state["model"]:
        raise ValueError(f"unknown tool network {name!r}; shipped: {sorted(state['model'])}")
    return IntegerTool.from_state(name, state["model"][name])


# ----------------------------------------------------------------------------- the codec's own loop filter
