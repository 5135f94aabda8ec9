"""The small networks of chapter 10's deep tools, their training recipe, and their integer forms.

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

Training (``python -m helpers.video.learned --steps 8000``) uses BSDS500 only (never the test
sequences): the contexts come from the photo coded as an I-frame by the hybrid codec itself at a random
quality in 10..90 (what its decoder has; ``--contexts jpeg`` uses Pillow's JPEG instead, faster), the
targets from the original photo; luma and chroma are the BT.601 limited-range planes the video files
hold. The upsampler learns from 2x2-averaged crops re-encoded by Pillow's JPEG.
"""

from __future__ import annotations

import argparse
import io
import time
from functools import cache

import numpy as np
import torch
from PIL import Image

from .. import fixedpoint, images, registry
from . import intra

__all__ = [
    "TOOLS",
    "build",
    "IntegerTool",
    "load_integer",
    "rgb_to_yuv420",
    "train",
    "main",
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


def rgb_to_yuv420(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range Y, U, V uint8 planes of an RGB photo (even size), chroma 2x2-averaged:
    the planes a QCIF test file holds."""
    rgb = np.asarray(image, dtype=np.float64)
    height, width = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    red, green, blue = (rgb[:height, :width, k] for k in range(3))
    y = 16 + 0.257 * red + 0.504 * green + 0.098 * blue
    u = 128 - 0.148 * red - 0.291 * green + 0.439 * blue
    v = 128 + 0.439 * red - 0.368 * green - 0.071 * blue

    def plane(values, halve):
        if halve:
            values = values.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
        return np.clip(np.round(values), 0, 255).astype(np.uint8)

    return plane(y, False), plane(u, True), plane(v, True)


def _jpeg_planes(image: np.ndarray, quality: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=int(quality))
    return rgb_to_yuv420(np.asarray(Image.open(buffer).convert("RGB")))


def _intra_samples(clean: np.ndarray, decoded: np.ndarray, rng, count: int):
    """(context, target) pairs at random 8x8-aligned luma blocks."""
    rows, cols = clean.shape[0] // 8, clean.shape[1] // 8
    inputs, targets = [], []
    for _ in range(count):
        by, bx = int(rng.integers(0, rows)), int(rng.integers(0, cols))
        context = intra.luma_context(decoded, by * 8, bx * 8)
        inputs.append(context)
        targets.append(clean[by * 8 : by * 8 + 8, bx * 8 : bx * 8 + 8].ravel())
    return inputs, targets


def _chroma_samples(clean_c: np.ndarray, decoded_y, decoded_c, rng, count: int):
    rows, cols = clean_c.shape[0] // 8, clean_c.shape[1] // 8
    inputs, targets = [], []
    for _ in range(count):
        by, bx = int(rng.integers(0, rows)), int(rng.integers(0, cols))
        inputs.append(intra.chroma_context(decoded_y, decoded_c, by * 8, bx * 8))
        targets.append(clean_c[by * 8 : by * 8 + 8, bx * 8 : bx * 8 + 8].ravel())
    return inputs, targets


def centre(name: str, context: np.ndarray) -> np.ndarray:
    """The integer mean a tool's input is centred on (int64 per row of ``context`` (N, C))."""
    context = np.asarray(context, dtype=np.int64)
    if name == "chroma":  # chroma comes back around the neighbouring chroma's mean
        part = context[:, 80:96]
    else:
        part = context
    return (part.sum(axis=1) + part.shape[1] // 2) // part.shape[1]


def _codec_planes(photo: np.ndarray, quality: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The photo's planes as the hybrid codec reconstructs them when it codes the photo as an I-frame
    (loop filter off: intra prediction reads the reconstruction before the filter)."""
    from . import hybrid

    y, u, v = rgb_to_yuv420(photo)
    frames = {"y": y[None], "u": u[None], "v": v[None]}
    decoded = hybrid.analyze(frames, quality, hybrid.Tools(loop_filter="none")).decoded
    return decoded["y"][0], decoded["u"][0], decoded["v"][0]


def _make_data(photos, rng, per_photo: int = 400, contexts: str = "jpeg"):
    """Training pairs; ``contexts`` 'jpeg' (Pillow's JPEG reconstruction, fast) or 'codec' (the hybrid
    codec's own I-frame reconstruction: what the tools read in the codec)."""
    intra_x, intra_y, chroma_x, chroma_y, planes = [], [], [], [], []
    for photo in photos:
        quality = int(rng.integers(10, 91))
        if contexts == "codec":  # a 160 x 240 crop: the codec is slower than Pillow
            top, left = (
                int(rng.integers(0, photo.shape[0] - 160)) // 2 * 2,
                int(rng.integers(0, photo.shape[1] - 240)) // 2 * 2,
            )
            photo = (
                photo[top : top + 160, left : left + 240]
                if photo.shape[0] >= 160 and photo.shape[1] >= 240
                else photo
            )
        clean = rgb_to_yuv420(photo)
        decoded = (
            _jpeg_planes(photo, quality) if contexts == "jpeg" else _codec_planes(photo, quality)
        )
        x, y = _intra_samples(clean[0], decoded[0], rng, per_photo)
        intra_x += x
        intra_y += y
        for component in (1, 2):
            x, y = _chroma_samples(
                clean[component], decoded[0], decoded[component], rng, per_photo // 2
            )
            chroma_x += x
            chroma_y += y
        planes.append(clean)
    return (np.array(intra_x), np.array(intra_y), np.array(chroma_x), np.array(chroma_y), planes)


def _halve(plane: np.ndarray) -> np.ndarray:
    """The 2x2 rounded mean, the codec's downsampler (even sizes)."""
    return intra.downsample_luma(plane).astype(np.uint8)


def _upsampler_batch(planes, rng, size: int, batch: int):
    lows, highs = [], []
    for _ in range(batch):
        plane = planes[int(rng.integers(len(planes)))][int(rng.integers(3))]
        top = int(rng.integers(0, plane.shape[0] - size)) // 2 * 2
        left = int(rng.integers(0, plane.shape[1] - size)) // 2 * 2
        high = plane[top : top + size, left : left + size]
        low = _halve(high)
        # the low-resolution frame is coded: blur it the way a coder would, with Pillow's JPEG
        buffer = io.BytesIO()
        Image.fromarray(low).save(buffer, "JPEG", quality=int(rng.integers(20, 91)))
        low = np.asarray(Image.open(buffer))
        lows.append((low.astype(np.float32) - 128.0) / SCALE)
        phases = np.stack([high[0::2, 0::2], high[0::2, 1::2], high[1::2, 0::2], high[1::2, 1::2]])
        highs.append((phases.astype(np.float32) - low[None].astype(np.float32)) / SCALE)
    return torch.from_numpy(np.stack(lows)[:, None]), torch.from_numpy(np.stack(highs))


def _fit(name: str, batch, steps: int, log_every: int) -> torch.nn.Sequential:
    """Adam (1e-3, cosine schedule) on the MSE of ``build(name)`` over ``batch()`` -> (inputs, targets);
    the last batch's RMSE in grey levels is left on the model as ``last_rmse``."""
    model = build(name)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for step in range(steps):
        inputs, targets = batch()
        loss = torch.nn.functional.mse_loss(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        model.last_rmse = float(loss.detach()) ** 0.5 * SCALE
        if step % log_every == 0 or step == steps - 1:
            print(f"{name} step {step} rmse {model.last_rmse:.2f} grey levels", flush=True)
    return model


def train(
    steps: int = 4000, seed: int = 0, photos=None, log_every: int = 500, contexts: str = "jpeg"
) -> dict:
    """Train the three networks on BSDS500; returns {name: state_dict} and the training losses.
    ``contexts``: where the decoded neighbours come from ('jpeg': Pillow; 'codec': the hybrid codec)."""
    from .. import data

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    photos = data.bsds500(split="train") if photos is None else photos
    photos = [images.load_image(p) if not isinstance(p, np.ndarray) else p for p in photos]
    intra_x, intra_y, chroma_x, chroma_y, planes = _make_data(photos, rng, contexts=contexts)
    results, log = {}, {}
    for name, inputs, targets in (("intra", intra_x, intra_y), ("chroma", chroma_x, chroma_y)):
        mean = centre(name, inputs)[:, None]
        x = torch.from_numpy((inputs - mean).astype(np.float32) / SCALE)[:, :, None, None]
        y = torch.from_numpy((targets - mean).astype(np.float32) / SCALE)[:, :, None, None]

        def batch(x=x, y=y):
            index = torch.from_numpy(rng.integers(0, x.shape[0], 512))
            return x[index], y[index]

        model = _fit(name, batch, steps, log_every)
        with torch.no_grad():
            rmse = float(torch.nn.functional.mse_loss(model(x), y)) ** 0.5 * SCALE
        results[name], log[name] = (
            model.state_dict(),
            {"train_rmse": rmse, "samples": int(x.shape[0])},
        )
    model = _fit("upsampler", lambda: _upsampler_batch(planes, rng, 48, 16), steps, log_every)
    results["upsampler"], log["upsampler"] = model.state_dict(), {"last_rmse": model.last_rmse}
    return {"models": results, "log": log}


# ----------------------------------------------------------------------------- integer forms


class IntegerTool:
    """A tool network in integers: ``predict(inputs)`` takes int64 contexts (N, C) (or, for the
    upsampler, one int64 plane (h, w)) and returns int64 predictions, the same on every machine.
    ``path`` "torch" (float64 tensors holding integers, on the CPU) or "numpy" (the int64 reference)."""

    def __init__(self, name: str):
        if name not in TOOLS:
            raise ValueError(f"unknown tool network {name!r}; expected one of {sorted(TOOLS)}")
        self.name = name
        self._float = None  # the float network with its scales folded in (``from_state``)
        self.network = None
        self.fraction_out = 0
        self.path = "torch"

    def _run(self, x: np.ndarray) -> np.ndarray:
        if self.path == "numpy":
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

LOOP_FILTER_QUALITIES = (12, 25, 45, 70)


def loop_filter_pairs(frames: int = 50, photos: int = 24, seed: int = 0):
    """(decoded luma before the loop filter, original luma, quality) from the hybrid codec itself:
    Foreman frames 0..frames-1 (the training split) coded as sequences, and BSDS500 photos coded as
    I-frames, at LOOP_FILTER_QUALITIES, with the loop filter off (the artifacts the filter will see)."""
    from .. import data
    from . import hybrid

    rng = np.random.default_rng(seed)
    pairs = []
    video = data.video_sequence("foreman", frames, 0)
    for quality in LOOP_FILTER_QUALITIES:
        result = hybrid.analyze(video, quality, hybrid.Tools(loop_filter="none"))
        pairs += [(result.decoded["y"][n], video["y"][n], quality) for n in range(frames)]
    for path in data.bsds500(split="train")[:photos]:
        y, u, v = rgb_to_yuv420(images.load_image(path))
        h, w = y.shape[0] // 16 * 16, y.shape[1] // 16 * 16
        planes = {
            "y": y[None, :h, :w],
            "u": u[None, : h // 2, : w // 2],
            "v": v[None, : h // 2, : w // 2],
        }
        quality = int(rng.choice(LOOP_FILTER_QUALITIES))
        result = hybrid.analyze(planes, quality, hybrid.Tools(loop_filter="none"))
        pairs.append((result.decoded["y"][0], planes["y"][0], quality))
    return pairs


def train_loop_filter(pairs, steps: int = 800, seed: int = 0, crop: int = 64, batch: int = 16,
                      lr: float = 2e-4) -> torch.nn.Module:  # fmt: skip
    """Fine-tune chapter 5's conditioned filter on the hybrid codec's own output (MSE on luma)."""
    from .. import filters

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = filters.load_pretrained("conditioned").cpu().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        decoded, clean, quality = [], [], []
        for _ in range(batch):
            noisy, original, q = pairs[int(rng.integers(len(pairs)))]
            top = int(rng.integers(0, noisy.shape[0] - crop + 1))
            left = int(rng.integers(0, noisy.shape[1] - crop + 1))
            decoded.append(noisy[top : top + crop, left : left + crop])
            clean.append(original[top : top + crop, left : left + crop])
            quality.append(q)
        x = torch.from_numpy(np.stack(decoded).astype(np.float32) / 255)[:, None]
        y = torch.from_numpy(np.stack(clean).astype(np.float32) / 255)[:, None]
        loss = torch.nn.functional.mse_loss(model(x, torch.tensor(quality)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0 or step == steps - 1:
            with torch.no_grad():
                gain = 10 * torch.log10(torch.nn.functional.mse_loss(x, y) / loss.detach())
            print(f"loop filter step {step}: gain {float(gain):.2f} dB", flush=True)
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    """python -m helpers.video.learned [--steps N] [--out FILE] [--ship] [--loop-filter]"""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--loop-filter",
        action="store_true",
        help="fine-tune chapter 5's filter on the hybrid codec's output instead",
    )
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--contexts",
        choices=["jpeg", "codec"],
        default="codec",
        help="decoded neighbours from Pillow's JPEG or from the hybrid codec's I-frames",
    )
    parser.add_argument("--out", default="video-tools.pt")
    parser.add_argument(
        "--ship", action="store_true", help="write helpers/weights + MANIFEST entry"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    start = time.time()
    if args.loop_filter:
        pairs = loop_filter_pairs()
        print(f"{len(pairs)} pairs after {time.time() - start:.0f} s", flush=True)
        model = train_loop_filter(pairs, args.steps, args.seed)
        payload = {"model": model.state_dict()}
        torch.save(payload, args.out)
        if args.ship:
            registry.ship(payload, "video-loop-filter.pt", FAMILY, "loop-filter",
                          build={"name": "conditioned", "features": 64, "depth": 12},
                          data="the hybrid codec's own output, loop filter off: Foreman frames 0-49 at "
                               f"qualities {list(LOOP_FILTER_QUALITIES)} and 24 BSDS500 photos as I-frames",
                          steps=args.steps, init="filters/conditioned (chapter 5)",
                          command=f"python -m helpers.video.learned --loop-filter --steps {args.steps} --ship")  # fmt: skip
        return
    result = train(args.steps, args.seed, contexts=args.contexts)
    payload = {"model": result["models"], "log": result["log"]}
    torch.save(payload, args.out)
    print(f"saved {args.out} after {time.time() - start:.0f} s: {result['log']}")
    if args.ship:
        registry.ship(payload, "video-tools.pt", FAMILY, "tools", build={},
                      data=f"BSDS500 train (200 photos), decoded contexts from {args.contexts} at qualities 10-90",
                      steps=args.steps,
                      command=f"python -m helpers.video.learned --steps {args.steps} --contexts {args.contexts} --ship",
                      figures=result["log"])  # fmt: skip


if __name__ == "__main__":
    main()
