"""Chapter 10's recipes: the deep tools' small networks (learned intra, chroma, upsampler), the
codec-trained loop filter, the fast mode decision's classifier and the learned P-frame codec.

    python -m helpers.recipes video tools [--steps 8000] [--contexts codec] [--ship]
    python -m helpers.recipes video loop-filter [--steps 600] [--ship]
    python -m helpers.recipes video fast-mode [--frames 50] [--ship]
    python -m helpers.recipes video pframe --quality Q [--steps 2000] [--ship]

Training data: BSDS500 photos and Foreman frames 0-49 (never the test frames 50-99, Bus or Highway).
"""

from __future__ import annotations

import argparse
import io
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .. import config, images, registry
from ..images import rgb_to_yuv420
from ..video import intra
from ..video.fastmode import QUALITIES, FastModeModel
from ..video.learned import FAMILY, SCALE, build, centre
from ..video.pframe import BLOCK, LAMBDAS, SEARCH, PFrameCodec

__all__ = [
    "train_tools",
    "loop_filter_pairs",
    "train_loop_filter",
    "fast_mode_examples",
    "fit_fast_mode",
    "train_pframe",
    "main",
]


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


def _codec_planes(photo: np.ndarray, quality: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The photo's planes as the hybrid codec reconstructs them when it codes the photo as an I-frame
    (loop filter off: intra prediction reads the reconstruction before the filter)."""
    from ..video import hybrid

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


def train_tools(
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


LOOP_FILTER_QUALITIES = (12, 25, 45, 70)


def loop_filter_pairs(frames: int = 50, photos: int = 24, seed: int = 0):
    """(decoded luma before the loop filter, original luma, quality) from the hybrid codec itself:
    Foreman frames 0..frames-1 (the training split) coded as sequences, and BSDS500 photos coded as
    I-frames, at LOOP_FILTER_QUALITIES, with the loop filter off (the artifacts the filter will see)."""
    from .. import data
    from ..video import hybrid

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


def train_loop_filter(
    pairs, steps: int = 800, seed: int = 0, crop: int = 64, batch: int = 16, lr: float = 2e-4
) -> torch.nn.Module:
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


def tools_main(argv: list[str] | None = None) -> None:
    """python -m helpers.recipes video tools [--steps N] [--out FILE] [--ship] [--loop-filter]"""
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
            registry.ship(
                payload,
                "video-loop-filter.pt",
                FAMILY,
                "loop-filter",
                build={"name": "conditioned", "features": 64, "depth": 12},
                data="the hybrid codec's own output, loop filter off: Foreman frames 0-49 at "
                f"qualities {list(LOOP_FILTER_QUALITIES)} and 24 BSDS500 photos as I-frames",
                steps=args.steps,
                init="filters/conditioned (chapter 5)",
                command=f"python -m helpers.recipes video loop-filter --steps {args.steps} --ship",
            )
        return
    result = train_tools(args.steps, args.seed, contexts=args.contexts)
    payload = {"model": result["models"], "log": result["log"]}
    torch.save(payload, args.out)
    print(f"saved {args.out} after {time.time() - start:.0f} s: {result['log']}")
    if args.ship:
        registry.ship(
            payload,
            "video-tools.pt",
            FAMILY,
            "tools",
            build={},
            data=f"BSDS500 train (200 photos), decoded contexts from {args.contexts} at qualities 10-90",
            steps=args.steps,
            command=f"python -m helpers.recipes video tools --steps {args.steps} --contexts {args.contexts} --ship",
            figures=result["log"],
        )


def fast_mode_examples(frames, qualities=QUALITIES) -> np.ndarray:
    """(features..., chosen type) rows of every P macroblock under the full search."""
    from ..video import hybrid

    rows = []
    for quality in qualities:
        rows += hybrid.analyze(frames, quality, collect_features=True).features
    return np.array(rows, dtype=np.float64)


def fit_fast_mode(examples: np.ndarray, recall: float = 0.9, steps: int = 2000) -> FastModeModel:
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


def fast_mode_main(argv: list[str] | None = None) -> None:
    """python -m helpers.recipes video fast-mode [--frames N] [--ship]"""
    from .. import data

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--frames", type=int, default=50, help="Foreman frames 0..N-1 (training split)"
    )
    parser.add_argument("--recall", type=float, default=0.9)
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args(argv)
    examples = fast_mode_examples(data.video_sequence("foreman", args.frames))
    model = fit_fast_mode(examples, args.recall)
    label = examples[:, 5] == 2
    keep = model.probability(examples[:, :5]) >= model.threshold
    figures = {
        "macroblocks": int(label.size),
        "intra_share": float(label.mean()),
        "intra_searched_share": float(keep.mean()),
        "intra_recall": float(keep[label].mean()),
        "threshold": model.threshold,
    }
    print(figures)
    if args.ship:
        registry.ship(
            {"model": model.state(), "figures": figures},
            "video-fast-mode.pt",
            "video",
            "fast-mode",
            build={},
            steps="LBFGS, at most 2000 iterations",
            data=f"Foreman frames 0-{args.frames - 1}, qualities {list(QUALITIES)}",
            command=f"python -m helpers.recipes video fast-mode --frames {args.frames} --ship",
            figures=figures,
        )


def _synthetic_pair(photo: np.ndarray, rng, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(reference, current) YUV 4:4:4 uint8 crops: current = reference moved by a random shift and a
    small rotation/zoom (synthetic motion)."""

    height, width = photo.shape[:2]
    top, left = int(rng.integers(8, height - size - 8)), int(rng.integers(8, width - size - 8))
    angle, zoom = float(rng.normal(0, 1.5)), float(np.exp(rng.normal(0, 0.02)))
    shift = rng.normal(0, 3, 2)
    image = Image.fromarray(photo)
    moved = np.asarray(
        image.rotate(
            angle,
            resample=Image.BILINEAR,
            center=(left + size / 2, top + size / 2),
            translate=(float(shift[1]), float(shift[0])),
        ).resize((int(width * zoom), int(height * zoom)), Image.BILINEAR)
    )
    reference = photo[top : top + size, left : left + size]
    current = moved[top : top + size, left : left + size]
    if current.shape[:2] != (size, size):
        current = reference

    def yuv444(rgb):
        y, u, v = rgb_to_yuv420(rgb)
        return np.stack([y, u.repeat(2, 0).repeat(2, 1), v.repeat(2, 0).repeat(2, 1)])

    return yuv444(reference), yuv444(current)


def _video_pairs(frames: dict, rng, size: int):
    n = int(rng.integers(0, frames["y"].shape[0] - 1))
    top, left = (
        int(rng.integers(0, (144 - size) // 8 + 1)) * 8,
        int(rng.integers(0, (176 - size) // 8 + 1)) * 8,
    )

    def crop(index):
        planes = [frames["y"][index]] + [frames[c][index].repeat(2, 0).repeat(2, 1) for c in "uv"]
        return np.stack([p[top : top + size, left : left + size] for p in planes])

    return crop(n), crop(n + 1)


def train_pframe(
    lmbda: float,
    steps: int,
    init_quality: int,
    seed: int = 0,
    size: int = 64,
    batch: int = 8,
    log_every: int = 100,
    init_state: dict | None = None,
    prediction_weight: float = 1.0,
) -> PFrameCodec:
    """R + lambda (D + w D_pred): D_pred, the prediction's own error, keeps the compensation network a
    predictor (DVC trains it alone first, for the same reason: jointly, nothing stops the residual
    coder from doing the prediction's work, intra-like, at a higher rate)."""
    from .. import autoencoder, data, images

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = PFrameCodec()
    shipped = autoencoder.load_pretrained("bmshj2018-hyperprior", init_quality)
    model.residual.load_state_dict(shipped.state_dict())
    if init_state is not None:
        model.load_state_dict(init_state)
    model = model.to(config.device()).train()
    photos = [images.load_image(p) for p in data.bsds500(split="train")[:100]]
    video = data.video_sequence("foreman", 50, 0)
    main_parameters = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    aux_parameters = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    # the new modules learn from scratch (1e-3); the hyperprior, started from chapter 4's, is fine-tuned (1e-4)
    fresh = [
        p
        for n, p in model.named_parameters()
        if not n.endswith(".quantiles") and not n.startswith("residual.")
    ]
    tuned = [
        p
        for n, p in model.named_parameters()
        if not n.endswith(".quantiles") and n.startswith("residual.")
    ]
    optimizer = torch.optim.Adam([{"params": fresh, "lr": 1e-3}, {"params": tuned, "lr": 1e-4}])
    motion_optimizer = torch.optim.Adam(aux_parameters, lr=1e-3)
    from ..video.toy import motion_search

    started = time.time()
    for step in range(steps):
        pairs = [
            (
                _video_pairs(video, rng, size)
                if rng.random() < 0.5
                else _synthetic_pair(photos[int(rng.integers(len(photos)))], rng, size)
            )
            for _ in range(batch)
        ]
        reference = torch.from_numpy(np.stack([p[0] for p in pairs]).astype(np.float32) / 255).to(
            config.device()
        )
        current = torch.from_numpy(np.stack([p[1] for p in pairs]).astype(np.float32) / 255).to(
            config.device()
        )
        blocks = torch.from_numpy(
            np.stack(
                [
                    np.moveaxis(motion_search(p[1][0], p[0][0], SEARCH, BLOCK, 2.0), -1, 0)
                    for p in pairs
                ]
            ).astype(np.float32)
        ).to(config.device())
        reconstruction, bits_motion, bits_residual, prediction = model(current, reference, blocks)
        pixels = batch * size * size
        mse = F.mse_loss(reconstruction, current)
        weight = prediction_weight * max(0.0, 1.0 - step / max(1, steps))  # fades out over training
        loss = (
            lmbda * 255**2 * (mse + weight * F.mse_loss(prediction, current))
            + (bits_motion + bits_residual) / pixels
        )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(main_parameters, 1.0)
        optimizer.step()
        aux = model.aux_loss()
        motion_optimizer.zero_grad()
        aux.backward()
        motion_optimizer.step()
        if step % log_every == 0 or step == steps - 1:
            print(
                f"step {step} loss {float(loss):.4f} psnr {-10 * math.log10(float(mse)):.2f} "
                f"bpp motion {float(bits_motion) / pixels:.4f} residual {float(bits_residual) / pixels:.4f} "
                f"({time.time() - started:.0f} s)",
                flush=True,
            )
    model.eval()
    model.update(force=True)
    return model


def pframe_main(argv: list[str] | None = None) -> None:
    """python -m helpers.recipes video pframe --quality Q [--steps N] [--ship]"""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--quality", type=int, choices=sorted(LAMBDAS), required=True)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--ship", action="store_true")
    parser.add_argument("--init", help="continue from a checkpoint (its 'model' state)")
    parser.add_argument("--prediction-weight", type=float, default=1.0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    init_state = (
        torch.load(args.init, map_location="cpu", weights_only=True)["model"] if args.init else None
    )
    model = train_pframe(
        LAMBDAS[args.quality],
        args.steps,
        init_quality={1: 1, 2: 3}[args.quality],
        init_state=init_state,
        prediction_weight=args.prediction_weight,
    )
    payload = {"model": model.cpu().parameters_only()}
    torch.save(payload, f"pframe_q{args.quality}.pt")
    if args.ship:
        registry.ship(
            payload,
            f"video-pframe_q{args.quality}.pt",
            "video",
            "pframe",
            args.quality,
            build={},
            lmbda=LAMBDAS[args.quality],
            steps=args.steps,
            data="Foreman frames 0-49 (consecutive pairs) and BSDS500 train crops with synthetic motion",
            command=f"python -m helpers.recipes video pframe --quality {args.quality} --steps {args.steps} --ship",
        )


def main(argv: list[str] | None = None) -> None:
    """python -m helpers.recipes video tools|loop-filter|fast-mode|pframe [options]"""
    commands = {
        "tools": tools_main,
        "loop-filter": lambda a: tools_main(["--loop-filter", *a]),
        "fast-mode": fast_mode_main,
        "pframe": pframe_main,
    }
    argv = list(argv) if argv is not None else None
    if not argv or argv[0] not in commands:
        raise SystemExit(
            f"usage: python -m helpers.recipes video {{{'|'.join(commands)}}} [options]"
        )
    commands[argv[0]](argv[1:])
