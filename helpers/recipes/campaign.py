"""Training campaigns: trainings that outlive a session.

    python -m helpers.recipes.campaign run NAME [--minutes 150] [--threads 1] [--out campaigns]
    python -m helpers.recipes.campaign status [--out campaigns]

A campaign is one model trained for as long as its validation curve still rises, across sessions and
machines. It keeps two files in ``campaigns/`` (top level of the repository, never in the wheel):

- ``NAME.pt``: the latest snapshot, overwritten in place (atomically) every ``snapshot_minutes``, at
  the end of a run and on SIGTERM / Ctrl-C: the trained weights in float16, Adam's moments in
  bfloat16, the step, the random state's seed and what the campaign fixed at its start (a rate model,
  a codec curve). A resumed run continues from it on any device (CPU or GPU).
- ``campaign-NAME.jsonl``: the learning curve, one JSON object a line, appended: ``{"kind": "train",
  "step", "loss", ...}`` (means over the last ``log_every`` steps) and ``{"kind": "val", "step", ...}``
  (the validation metric on a fixed validation split, never the test photos) and ``{"kind": "event"}``
  (a start, a resumption, a changed learning rate).

The campaigns of this round are listed in ``CAMPAIGNS`` (``chapter8-dct``, ``chapter9-npp-jpeg``).
Validation photos: the ImageNet sample photos whose index is a multiple of 10 (100 photos, all even,
so outside the 500 odd-numbered test photos); their crops are removed from the training set.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import config

__all__ = [
    "Campaign",
    "CAMPAIGNS",
    "VALIDATION_EVERY",
    "validation_indices",
    "validation_photos",
    "training_crop_mask",
    "run",
    "load_snapshot",
    "read_curve",
    "main",
]

#: ImageNet sample photos (by index) that validate every campaign: 100 even indices (the odd ones are
#: the chapters' 500 test photos)
VALIDATION_EVERY = 10


def validation_indices() -> list[int]:
    """The ImageNet sample indices of the validation split: 0, 10, ..., 990 (100 photos)."""
    return list(range(0, 1000, VALIDATION_EVERY))


def validation_photos() -> list[tuple[np.ndarray, int]]:
    """(centre-cropped 224 x 224 uint8 photo, label) of the validation split."""
    from .. import compressed_domain, data

    keep = set(validation_indices())
    return [
        (compressed_domain.resize_center_crop(image), label)
        for i, (image, label, _) in enumerate(data.imagenet_samples())
        if i in keep
    ]


def training_crop_mask(count: int, crops_per_image: int = 6, bsds_photos: int = 300) -> np.ndarray:
    """True for the rows of chapter 8's distillation set (``recipes.compressed_domain.distillation_set``) that
    do not come from a validation photo: its photos are BSDS500's 300, then the even ImageNet photos
    in order, ``crops_per_image`` rows each."""
    photo = np.arange(count) // crops_per_image
    imagenet_index = (photo - bsds_photos) * 2  # the even photos, in order
    validation = (photo >= bsds_photos) & (imagenet_index % VALIDATION_EVERY == 0)
    return ~validation


@dataclass
class Campaign:
    """What a campaign trains and how: built once per run by its ``setup`` function.

    ``model`` holds every trained weight (saved in the snapshot); ``parameter_groups`` are the
    optimizer's groups (each with its own "lr"); ``batches(step)`` yields batches from that step on;
    ``loss(batch)`` returns (loss, metrics); ``validate()`` returns the validation metrics;
    ``fixed`` is what the campaign computed once at its first start (stored in the snapshot and
    handed back to ``setup`` on resumption, so a resumed run trains against the same targets)."""

    name: str
    model: nn.Module
    parameter_groups: list[dict]
    batches: Callable[[int], Iterator[Any]]
    loss: Callable[[Any], tuple[torch.Tensor, dict]]
    validate: Callable[[], dict]
    fixed: dict = field(default_factory=dict)
    description: str = ""
    grad_clip: float = 1.0
    log_every: int = 25
    validate_every: int = 300
    snapshot_minutes: float = 5.0


def _half(state: dict, dtype=torch.float16) -> dict:
    return {
        k: v.to(dtype) if torch.is_tensor(v) and v.is_floating_point() else v
        for k, v in state.items()
    }


def _optimizer_state(optimizer: torch.optim.Optimizer) -> dict:
    state = optimizer.state_dict()
    return {
        "state": {k: _half(v, torch.bfloat16) for k, v in state["state"].items()},
        "param_groups": state["param_groups"],
    }


def save_snapshot(path: Path, campaign: Campaign, optimizer, step: int, seconds: float) -> None:
    """The campaign's snapshot: float16 weights, bfloat16 Adam moments (a temporary file, a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "name": campaign.name,
        "model": _half(campaign.model.state_dict()),
        "optimizer": _optimizer_state(optimizer),
        "step": step,
        "seconds": seconds,
        "fixed": campaign.fixed,
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def load_snapshot(path: str | os.PathLike) -> dict:
    """A snapshot's dict (weights still float16)."""
    return torch.load(path, map_location="cpu", weights_only=False)


def read_curve(path: str | os.PathLike, kind: str | None = None) -> list[dict]:
    """The records of a ``campaign-NAME.jsonl`` learning curve (of one ``kind`` when given)."""
    records = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    return [r for r in records if kind is None or r.get("kind") == kind]


def _append(path: Path, record: dict) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")


class _Stop:
    """SIGTERM / SIGINT set a flag; the loop saves a snapshot and returns."""

    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame):
        self.requested = True


def run(
    name: str,
    minutes: float | None = None,
    out: str | os.PathLike = "campaigns",
    until_step: int | None = None,
    lr_scale: float | None = None,
    validate_first: bool = False,
) -> int:
    """Run (or resume) campaign ``name`` for ``minutes`` of wall clock (or until ``until_step``):
    snapshots every few minutes, validation every ``validate_every`` steps. Returns the last step.
    ``lr_scale`` multiplies every group's learning rate from now on (recorded as an event)."""
    if name not in CAMPAIGNS:
        raise ValueError(f"no campaign {name!r}; campaigns: {sorted(CAMPAIGNS)}")
    out = Path(out)
    snapshot_path, curve_path = out / f"{name}.pt", out / f"campaign-{name}.jsonl"
    snapshot = load_snapshot(snapshot_path) if snapshot_path.is_file() else None
    campaign = CAMPAIGNS[name](snapshot["fixed"] if snapshot else None)
    device = config.device()
    campaign.model.to(device)
    optimizer = torch.optim.Adam(campaign.parameter_groups)
    step, seconds = 0, 0.0
    if snapshot is not None:
        campaign.model.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in snapshot["model"].items()}
        )
        state = snapshot["optimizer"]
        optimizer.load_state_dict(
            {
                "state": {
                    k: {
                        n: t.float() if torch.is_tensor(t) and t.is_floating_point() else t
                        for n, t in v.items()
                    }
                    for k, v in state["state"].items()
                },
                "param_groups": state["param_groups"],
            }
        )
        step, seconds = int(snapshot["step"]), float(snapshot["seconds"])
    if lr_scale is not None:
        for group in optimizer.param_groups:
            group["lr"] *= lr_scale
    _append(
        curve_path,
        {
            "kind": "event",
            "step": step,
            "event": "resume" if snapshot else "start",
            "time": time.strftime("%Y-%m-%d %H:%M:%S"),
            "device": str(device),
            "threads": torch.get_num_threads(),
            "lr": [g["lr"] for g in optimizer.param_groups],
            "description": campaign.description,
        },
    )
    stop = _Stop()
    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    started = time.perf_counter()
    last_snapshot = started
    deadline = None if minutes is None else started + 60 * minutes
    batches = campaign.batches(step)
    window: list[dict] = []

    def validate() -> None:
        campaign.model.eval()
        t0 = time.perf_counter()
        with torch.no_grad():
            metrics = campaign.validate()
        campaign.model.train()
        _append(
            curve_path,
            {
                "kind": "val",
                "step": step,
                **metrics,
                "val_seconds": round(time.perf_counter() - t0, 1),
            },
        )
        print(f"[{name}] validation at step {step}: {metrics}", flush=True)

    try:
        if validate_first or snapshot is None:
            validate()
        campaign.model.train()
        while not stop.requested and (deadline is None or time.perf_counter() < deadline):
            if until_step is not None and step >= until_step:
                break
            batch = next(batches)
            optimizer.zero_grad(set_to_none=True)
            loss, metrics = campaign.loss(batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"[{name}] loss became {float(loss)} at step {step}")
            loss.backward()
            params = [p for g in campaign.parameter_groups for p in g["params"]]
            torch.nn.utils.clip_grad_norm_(params, campaign.grad_clip)
            optimizer.step()
            step += 1
            window.append(
                {"loss": float(loss.detach()), **{k: float(v) for k, v in metrics.items()}}
            )
            if step % campaign.log_every == 0:
                now = time.perf_counter()
                record = {
                    "kind": "train",
                    "step": step,
                    "seconds": round(seconds + now - started, 1),
                }
                for key in window[0]:
                    record[key] = float(np.mean([w[key] for w in window]))
                _append(curve_path, record)
                window = []
            if step % campaign.validate_every == 0:
                validate()
            if time.perf_counter() - last_snapshot > 60 * campaign.snapshot_minutes:
                save_snapshot(
                    snapshot_path,
                    campaign,
                    optimizer,
                    step,
                    seconds + time.perf_counter() - started,
                )
                last_snapshot = time.perf_counter()
    finally:
        save_snapshot(
            snapshot_path, campaign, optimizer, step, seconds + time.perf_counter() - started
        )
        _append(
            curve_path,
            {
                "kind": "event",
                "step": step,
                "event": "snapshot",
                "time": time.strftime("%Y-%m-%d %H:%M:%S"),
            },
        )
        for s, handler in previous.items():
            signal.signal(s, handler)
    return step


# ----------------------------------------------------------------------------------------------
# Chapter 8: the DCT-domain adapter, with the first blocks of Lite0's back half fine-tuned
# ----------------------------------------------------------------------------------------------

#: how many of Lite0's blocks after the join the chapter-8 campaign fine-tunes (5-10: stride 16)
TAIL_TRAINED = 6


class _DCTStudent(nn.Module):
    """What the chapter-8 campaign trains: the DCT adapter and Lite0's blocks 5-10 (the rest of the
    tail stays frozen and comes from PyPI)."""

    def __init__(self):
        super().__init__()
        from .. import compressed_domain as cd

        self.classifier = cd.AdapterClassifier("dct")
        self.adapter = self.classifier.adapter
        self.trained_blocks = nn.ModuleList(self.classifier.tail.blocks[:TAIL_TRAINED])

    def state_dict(self, *args, **kwargs):  # the adapter and the trained blocks only
        return {
            **{f"adapter.{k}": v for k, v in self.adapter.state_dict().items()},
            **{f"trained_blocks.{k}": v for k, v in self.trained_blocks.state_dict().items()},
        }

    def load_state_dict(self, state, strict: bool = True):
        self.adapter.load_state_dict(
            {k[8:]: v for k, v in state.items() if k.startswith("adapter.")}
        )
        self.trained_blocks.load_state_dict(
            {k[15:]: v for k, v in state.items() if k.startswith("trained_blocks.")}
        )

    def train(self, mode: bool = True):
        super().train(mode)
        self.classifier.tail.eval()  # batch-norm statistics of Lite0 stay as trained on ImageNet
        return self


def _jpeg_validation(photos: np.ndarray, qualities) -> dict:

    out = {}
    for quality in qualities:
        files = []
        for photo in photos:
            import io

            from PIL import Image

            buffer = io.BytesIO()
            Image.fromarray(photo).save(buffer, "JPEG", quality=int(quality), subsampling=2)
            files.append(buffer.getvalue())
        out[quality] = files
    return out


def chapter8_training_photos() -> list[np.ndarray]:
    """Chapter 8's training photos without the validation split: BSDS500's 300 and the even ImageNet
    sample photos that are not validation photos (400)."""
    from . import compressed_domain as recipes_cd

    photos = recipes_cd.training_photos()
    bsds = len(photos) - 500
    return [
        photo
        for j, photo in enumerate(photos)
        if j < bsds or (2 * (j - bsds)) % VALIDATION_EVERY != 0
    ]


def chapter8_dct(fixed: dict | None) -> Campaign:
    """The DCT adapter (a fresh one) and Lite0's blocks 5-10 trained by distillation from Lite0 on
    pixels (feature MSE after block 4 + T^2 KL of the logits, T = 2), every gate open (no sparsity
    term), JPEG qualities drawn per crop from 25-95 (real Pillow files). Validation: top-1 agreement
    with Lite0 on the original photo at JPEG q30 / q50 / q75 / q90, beside decode-then-classify.

    Data: until step 2,700 a fixed bank of 6 crops per training photo (``distillation_set``), whose
    training agreement (79 %) ran far ahead of the validation's (58-65 %); from step 2,700 on, fresh
    random crops every step (shorter side 224-400, flips) of the 700 training photos, the teacher's
    targets computed on the fly."""
    import io

    from PIL import Image

    from .. import compressed_domain as cd
    from .. import images
    from . import compressed_domain as recipes_cd

    fixed = dict(fixed or {})
    seed = fixed.setdefault("seed", 0)
    config.seed_everything(seed)
    bank = recipes_cd.distillation_set(6, 0)
    keep = torch.from_numpy(np.flatnonzero(training_crop_mask(len(bank["crops"]))))
    f8 = bank["features8"][keep]
    del bank
    student = _DCTStudent()
    adapter = student.adapter
    adapter.set_targets(f8[:: max(1, len(f8) // 1000)])
    spread = adapter.target_std.clone()[None, :, None, None]
    del f8
    adapter.gate_logits.requires_grad_(False)  # every frequency channel kept
    device = config.device()
    qualities = fixed.setdefault("qualities", [25, 95])
    temperature = fixed.setdefault("temperature", 2.0)
    sources = [images.to_tensor(images.as_rgb(photo)) for photo in chapter8_training_photos()]
    front, tail = recipes_cd.teacher_parts("dct")
    front, tail = front.to(device), tail.to(device)
    batch_size = 24

    def batches(step: int):
        rng = np.random.default_rng(seed + 1 + step)
        while True:
            pick = rng.integers(0, len(sources), batch_size)
            batch_crops = np.stack([recipes_cd.random_crop(sources[i], rng, 400) for i in pick])
            quality = rng.integers(qualities[0], qualities[1] + 1, batch_size)
            luma, chroma = recipes_cd.jpeg_batch(batch_crops, quality)
            with torch.no_grad():
                features = front(cd.pixel_input(batch_crops).to(device))
                teacher = tail(features)
            yield luma, chroma, features, teacher

    def loss(batch):
        luma, chroma, features, teacher = (b.to(device) for b in batch)
        predicted = adapter(luma, chroma)
        student_logits = student.classifier.tail(predicted)
        feature_loss = (((predicted - features) / spread.to(device)) ** 2).mean()
        kd = (
            F.kl_div(
                F.log_softmax(student_logits / temperature, 1),
                F.softmax(teacher / temperature, 1),
                reduction="batchmean",
            )
            * temperature**2
        )
        agreement = (student_logits.argmax(1) == teacher.argmax(1)).float().mean()
        return feature_loss + kd, {
            "feature_mse": feature_loss.detach(),
            "kd": kd.detach(),
            "agreement": agreement,
        }

    photos = np.stack([p for p, _ in validation_photos()])
    net = cd.efficientnet()
    with torch.no_grad():
        reference = torch.cat(
            [net(cd.pixel_input(photos[i : i + 25])) for i in range(0, 100, 25)]
        ).argmax(1)
    val_qualities = (30, 50, 75, 90)
    files = _jpeg_validation(photos, val_qualities)
    baseline = {}
    with torch.no_grad():
        for quality in val_qualities:
            decoded = np.stack(
                [np.asarray(Image.open(io.BytesIO(f)).convert("RGB")) for f in files[quality]]
            )
            top = torch.cat(
                [net(cd.pixel_input(decoded[i : i + 25])) for i in range(0, 100, 25)]
            ).argmax(1)
            baseline[quality] = float((top == reference).float().mean())
    tensors = {
        q: [cd.dct_tensors(cd.read_coefficients(f)) for f in files[q]] for q in val_qualities
    }

    def validate() -> dict:
        result = {}
        for quality in val_qualities:
            luma = torch.cat([t[0] for t in tensors[quality]]).to(device)
            chroma = torch.cat([t[1] for t in tensors[quality]]).to(device)
            top = torch.cat(
                [
                    student.classifier(luma[i : i + 25], chroma[i : i + 25]).argmax(1).cpu()
                    for i in range(0, 100, 25)
                ]
            )
            result[f"agreement_q{quality}"] = float((top == reference).float().mean())
            result[f"decode_then_classify_q{quality}"] = baseline[quality]
        return result

    adapter_params = [p for p in adapter.parameters() if p.requires_grad]
    tail_params = list(student.trained_blocks.parameters())
    for p in tail_params:
        p.requires_grad_(True)
    return Campaign(
        name="chapter8-dct",
        model=student,
        parameter_groups=[
            {"params": adapter_params, "lr": 1e-3},
            {"params": tail_params, "lr": 1e-4},
        ],
        batches=batches,
        loss=loss,
        validate=validate,
        fixed=fixed,
        description="DCT adapter (fresh, all 192 channels) + Lite0 blocks 5-10 fine-tuned (lr 1e-4); "
        "distillation (feature MSE + KD T=2); from step 2700 fresh random crops every step (shorter "
        "side 224-400, flips) of the 700 training photos (the validation photos left out), "
        "teacher on the fly (before: a fixed bank of 6 crops per photo); JPEG q25-95 per "
        "crop; batch 24",
    )


# ----------------------------------------------------------------------------------------------
# Chapter 9: the NPP in front of JPEG through the differentiable JPEG
# ----------------------------------------------------------------------------------------------


def chapter9_npp_jpeg(fixed: dict | None) -> Campaign:
    """The shipped JPEG NPP (1,000 steps) trained on: relative loss R / R_jpeg(q) + D_m / D_jpeg(q)
    + 5 D_pre, the real codec forward and the differentiable JPEG's cubic rounding backward, qualities
    5-90 per crop, batch 8. Validation: real files of the 100 validation photos at JPEG qualities
    5-90 with and without the NPP: bpp, Lite0 agreement, BD-rate at equal agreement (Pareto + pchip)
    and at equal distillation loss (a smoother measure of the same thing)."""
    from .. import machine_coding as mc
    from .. import registry

    fixed = dict(fixed or {})
    init = fixed.setdefault("init", "npp-jpeg")
    return _chapter9(
        fixed,
        "chapter9-npp-jpeg",
        build_npp=lambda machine: registry.load("machine_coding", init, None, mc.NPP).float(),
        beta=5.0,
        lr=5e-4,
        validate_every=300,
        design="NPP (width 16, adaptive) from the shipped npp-jpeg (1,000 steps); relative loss "
        "lambda 1, beta 5",
    )


def chapter9_npp_blur(fixed: dict | None) -> Campaign:
    """A new design after chapter9-npp-jpeg went flat: ``GuidedBlurNPP`` (a per-pixel mix of the photo
    and its Gaussian blurs, steered by Lite0's CAM; it can only remove detail), from the identity, with
    the same objective (relative loss, beta 1: blurring is its only move) and the same validation."""
    from .. import machine_coding as mc

    return _chapter9(
        fixed,
        "chapter9-npp-blur",
        build_npp=lambda machine: mc.GuidedBlurNPP("jpeg", width=16, machine=machine),
        beta=1.0,
        lr=1e-3,
        validate_every=250,
        design="GuidedBlurNPP (width 16, sigmas 1/2/4, Lite0's CAM) from the identity; relative "
        "loss lambda 1, beta 1",
    )


def _chapter9(
    fixed: dict | None,
    name: str,
    *,
    build_npp: Callable[[torch.nn.Module], torch.nn.Module],
    beta: float,
    lr: float,
    validate_every: int,
    design: str,
) -> Campaign:
    """Chapter 9's campaigns share the data, the objective and the validation; each names its NPP
    (``build_npp(machine)``), its rate-distortion weight beta (a default: a snapshot's own wins), its
    learning rate, how often it validates and a line describing it."""
    from .. import machine_coding as mc
    from .. import metrics as measures
    from .. import standard_codecs

    fixed = dict(fixed or {})
    seed = fixed.setdefault("seed", 0)
    config.seed_everything(seed)
    from . import coding_for_machines as recipes_cfm
    from . import compressed_domain as recipes_cd

    bank = recipes_cd.distillation_set(6, 0)
    keep = torch.from_numpy(np.flatnonzero(training_crop_mask(len(bank["crops"]))))
    crops, logits = bank["crops"][keep], bank["logits"][keep]
    device = config.device()
    rate_model = None
    if "rate_model" in fixed:
        rate_model = mc.RateModel(
            fixed["rate_model"]["weights"], fixed["rate_model"]["header_bits"]
        )
    beta, lmbda = fixed.setdefault("beta", beta), fixed.setdefault("lmbda", 1.0)
    objective, fitted = recipes_cfm.npp_objective(
        "jpeg",
        crops,
        logits,
        rate_model=rate_model,
        curve=fixed.get("codec_curve"),
        seed=seed,
        lmbda=lmbda,
        beta=beta,
        batch_size=8,
    )
    if "rate_model" not in fixed:
        fixed["rate_model"] = {k: v.tolist() for k, v in fitted["rate_model"].items()}
        fixed["rate_fit"] = fitted["rate_fit"]
        fixed["codec_curve"] = fitted["codec_curve"]
    machine = objective.machine
    npp = build_npp(machine).to(device)

    def loss(batch):
        return objective.loss(npp, batch)

    photos = np.stack([p for p, _ in validation_photos()])
    val_qualities = (5, 10, 15, 20, 30, 40, 50, 70, 90)
    x_all = torch.from_numpy(photos).permute(0, 3, 1, 2).float().div(255)
    with torch.no_grad():
        reference_logits = torch.cat(
            [machine(x_all[i : i + 25].to(device)).cpu() for i in range(0, 100, 25)]
        )
    standard = standard_codecs.get("jpeg")

    def kd_rows(npp_model):
        rows = []
        for quality in val_qualities:
            with torch.no_grad():
                source = (
                    x_all
                    if npp_model is None
                    else torch.cat(
                        [
                            npp_model(x_all[i : i + 25].to(device), quality).cpu()
                            for i in range(0, 100, 25)
                        ]
                    )
                )
                files = [standard.encode(measures_uint8(s), quality) for s in source]
                decoded = (
                    torch.from_numpy(np.stack([standard.decode(f) for f in files]))
                    .permute(0, 3, 1, 2)
                    .float()
                    / 255
                )
                student = torch.cat(
                    [machine(decoded[i : i + 25].to(device)).cpu() for i in range(0, 100, 25)]
                )
            agreement = float((student.argmax(1) == reference_logits.argmax(1)).float().mean())
            kd = float(mc.distillation_loss(student, reference_logits))
            bpp = float(np.mean([8 * len(f) for f in files])) / (224 * 224)
            rows.append({"quality": quality, "bpp": bpp, "agreement": agreement, "kd": kd})
        return rows

    base_rows = kd_rows(None)

    def validate() -> dict:
        rows = kd_rows(npp)
        as_study = [
            {"bpp": r["bpp"], "efficientnet-lite0": {"agreement": r["agreement"]}} for r in rows
        ]
        base_study = [
            {"bpp": r["bpp"], "efficientnet-lite0": {"agreement": r["agreement"]}}
            for r in base_rows
        ]
        bd_agreement = mc.bd_rate_accuracy(base_study, as_study)["bd_rate"]
        bd_kd = measures.bd_rate(
            [r["bpp"] for r in base_rows],
            [-math.log(r["kd"]) for r in base_rows],
            [r["bpp"] for r in rows],
            [-math.log(r["kd"]) for r in rows],
            method="pchip",
        )
        return {
            "bd_rate_agreement": bd_agreement,
            "bd_rate_kd": float(bd_kd),
            "rows": rows,
            "jpeg_rows": base_rows,
        }

    data = "real JPEG forward, DiffJPEG cubic backward; qualities 5-90; batch 8; chapter 8's distillation set minus the validation photos"
    return Campaign(
        name=name,
        model=npp,
        parameter_groups=[{"params": list(npp.parameters()), "lr": lr}],
        batches=objective.batches,
        loss=loss,
        validate=validate,
        fixed=fixed,
        log_every=10,
        validate_every=validate_every,
        description=f"{design}; {data}",
    )


def measures_uint8(x: torch.Tensor) -> np.ndarray:
    """A (3, H, W) float image in [0, 1] -> uint8 (H, W, 3)."""
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


#: campaign name -> setup(fixed) -> Campaign
CAMPAIGNS: dict[str, Callable[[dict | None], Campaign]] = {
    "chapter8-dct": chapter8_dct,
    "chapter9-npp-jpeg": chapter9_npp_jpeg,
    "chapter9-npp-blur": chapter9_npp_blur,
}


def main(argv: list[str] | None = None) -> None:
    """Command line: run NAME [--minutes M] [--threads T] [--out DIR] | status [--out DIR]."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.recipes.campaign",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run", help="run or resume a campaign")
    go.add_argument("name", choices=sorted(CAMPAIGNS))
    go.add_argument("--minutes", type=float, default=None)
    go.add_argument("--until-step", type=int, default=None)
    go.add_argument("--threads", type=int, default=1)
    go.add_argument("--lr-scale", type=float, default=None)
    go.add_argument("--out", default="campaigns")
    show = sub.add_parser("status", help="the last validation of every campaign")
    show.add_argument("--out", default="campaigns")
    args = parser.parse_args(argv)
    if args.command == "run":
        config.set_num_threads(args.threads)
        step = run(args.name, args.minutes, args.out, args.until_step, args.lr_scale)
        print(f"[{args.name}] stopped at step {step}")
        return
    for name in sorted(CAMPAIGNS):
        path = Path(args.out) / f"campaign-{name}.jsonl"
        if not path.is_file():
            print(f"{name}: not started")
            continue
        val = read_curve(path, "val")
        last = {k: v for k, v in (val[-1] if val else {}).items() if k not in ("rows", "jpeg_rows")}
        print(f"{name}: {last}")


if __name__ == "__main__":
    main()
