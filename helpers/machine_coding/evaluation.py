"""Chapter 9, evaluation: Real files with and without the NPP, the accuracy-rate evaluation, and the shipped models."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .. import config, images, registry, standard_codecs
from .common import as_rgb_array, check_codec, check_quality
from .diffjpeg import DiffJPEG, RateModel
from .npp import NPP
from .proxies import Machine, load_proxy

__all__ = [
    "top1",
    "preprocess",
    "encode",
    "decode",
    "load_pretrained",
    "rate_accuracy",
    "pareto",
    "bd_rate_accuracy",
    "bd_rate_interval",
]


def _npp_codec(npp: nn.Module | None, codec: str) -> None:
    if npp is not None and getattr(npp, "codec", codec) != codec:
        raise ValueError(f"this NPP was trained in front of {npp.codec}, not {codec}")


def preprocess(npp: NPP, image, quality) -> np.ndarray:
    """X_bar as the encoder sees it: the NPP's output at ``quality``, rounded to uint8 (H, W, 3)."""
    array = as_rgb_array(image)
    check_quality(npp.codec, quality)
    device = next(npp.parameters()).device
    x = torch.from_numpy(array).permute(2, 0, 1)[None].float().div(255).to(device)
    with torch.no_grad():
        return images.to_uint8(npp(x, quality).cpu())


def encode(image, codec: str = "jpeg", quality=50, npp: NPP | None = None) -> bytes:
    """An ordinary JPEG or HEIF file of ``image`` (uint8 RGB (H, W, 3)) at ``quality``, with the
    NPP in front of the encoder when given. Any viewer opens it; ``decode`` is the codec's own."""
    check_codec(codec)
    check_quality(codec, quality)
    _npp_codec(npp, codec)
    array = as_rgb_array(image) if npp is not None else images.as_uint8(image)
    if npp is not None:
        array = preprocess(npp, array, quality)
    return standard_codecs.get(codec).encode(array, int(round(float(quality))))


def decode(data: bytes) -> np.ndarray:
    """A JPEG or HEIF file -> uint8 RGB (H, W, 3); anything else raises ValueError (nothing is lost:
    the bytes are only read)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    if data[:2] == b"\xff\xd8":
        return standard_codecs.get("jpeg").decode(bytes(data))
    if data[4:8] == b"ftyp":
        return standard_codecs.get("heif").decode(bytes(data))
    raise ValueError("not a JPEG (FF D8 ...) or HEIF (.... ftyp) file")


def top1(machine: nn.Module, batch: np.ndarray, size: int = 25) -> np.ndarray:
    """The machine's top-1 class of each uint8 image (N, H, W, 3), in batches of ``size``."""
    device = next(machine.buffers()).device
    out = []
    with torch.no_grad():
        for start in range(0, len(batch), size):
            x = torch.from_numpy(np.ascontiguousarray(batch[start : start + size]))
            out.append(machine(x.permute(0, 3, 1, 2).float().div(255).to(device)).argmax(1).cpu())
    return torch.cat(out).numpy()


def rate_accuracy(
    photos: np.ndarray,
    labels,
    codec: str,
    qualities,
    npp: NPP | None = None,
    machines: dict | None = None,
    measure_fidelity: bool = True,
    progress: bool = False,
) -> list[dict]:
    """Real files of ``photos`` (uint8 (N, H, W, 3)) at each quality, with or without the NPP: per
    quality the mean bits per pixel of the files, each machine's top-1 agreement with its own
    prediction on the original and its top-1 accuracy against ``labels``, and (``measure_fidelity``)
    the mean PSNR and SSIM of the decoded image against the original: what a person loses."""
    from .. import metrics

    check_codec(codec)
    _npp_codec(npp, codec)
    photos = np.asarray(photos)
    labels = np.asarray(labels)
    machines = machines if machines is not None else {"efficientnet-lite0": Machine()}
    reference = {name: top1(m, photos) for name, m in machines.items()}
    rows = []
    qualities = list(qualities)
    for quality in qualities:
        check_quality(codec, quality)
        sources = photos
        if npp is not None:
            device = next(npp.parameters()).device
            sources = []
            with torch.no_grad():
                for start in range(0, len(photos), 25):
                    x = torch.from_numpy(photos[start : start + 25]).permute(0, 3, 1, 2)
                    out = npp(x.float().div(255).to(device), quality).cpu()
                    sources += [images.to_uint8(o[None]) for o in out]
            sources = np.stack(sources)
        standard = standard_codecs.get(codec)
        files = [standard.encode(s, int(quality)) for s in sources]
        decoded = np.stack([standard.decode(f) for f in files])
        pixels = photos.shape[1] * photos.shape[2]
        row = {
            "quality": quality,
            "bpp": float(np.mean([8 * len(f) / pixels for f in files])),
            "pixels": int(pixels),
            "bytes": [len(f) for f in files],  # per photo: what bd_rate_interval resamples
        }
        for name, machine in machines.items():
            top = top1(machine, decoded)
            row[name] = {
                "agreement": float(np.mean(top == reference[name])),
                "accuracy": float(np.mean(top == labels)),
                "agrees": (top == reference[name]).astype(int).tolist(),
                "correct": (top == labels).astype(int).tolist(),
            }
        if measure_fidelity:
            row["psnr"] = float(np.mean([metrics.psnr(a, b) for a, b in zip(photos, decoded)]))
            row["ssim"] = float(np.mean([metrics.ssim(a, b) for a, b in zip(photos, decoded)]))
        rows.append(row)
        if progress:
            shown = {
                k: ({m: v[m] for m in ("agreement", "accuracy")} if isinstance(v, dict) else v)
                for k, v in row.items()
                if k != "bytes"
            }
            print(
                f"{codec} q{quality} {'NPP' if npp is not None else 'alone'}: {shown}", flush=True
            )
    for name in machines:
        for row in rows:
            row[name]["original_accuracy"] = float(np.mean(reference[name] == labels))
    return rows


def pareto(rates, scores) -> tuple[np.ndarray, np.ndarray]:
    """The points no other point beats (lower rate and higher score): what a BD fit can use, whose
    scores must rise with the rate."""
    order = np.argsort(rates)
    keep, best = [], -np.inf
    for i in order:
        if scores[i] > best:
            keep.append(i)
            best = scores[i]
    keep = np.asarray(keep)
    return np.asarray(rates)[keep], np.asarray(scores)[keep]


def bd_rate_accuracy(
    anchor: list[dict],
    test: list[dict],
    machine: str = "efficientnet-lite0",
    measure: str = "agreement",
) -> dict:
    """BD-rate (percent; negative saves bits) of ``test`` against ``anchor`` at equal ``measure``
    ("agreement" or "accuracy", in percent) of ``machine``, over the overlap of their Pareto fronts
    (pchip), with the overlap and the points used."""
    import warnings

    from .. import metrics

    if measure not in ("agreement", "accuracy"):
        raise ValueError(f"measure must be 'agreement' or 'accuracy', got {measure!r}")
    curves = []
    for rows in (anchor, test):
        rates = np.array([r["bpp"] for r in rows])
        scores = np.array([100 * r[machine][measure] for r in rows])
        curves.append(pareto(rates, scores))
    (ra, qa), (rt, qt) = curves
    low, high = max(qa.min(), qt.min()), min(qa.max(), qt.max())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = (
            metrics.bd_rate(ra, qa, rt, qt, method="pchip")
            if min(len(qa), len(qt)) >= 2
            else math.nan
        )
    return {
        "bd_rate": float(value),
        "overlap": [float(low), float(high)],
        "points": [int(len(qa)), int(len(qt))],
        "warnings": [str(w.message) for w in caught],
    }


def _resampled(rows: list[dict], picks: np.ndarray, machine: str) -> list[dict]:
    """The rows of a rate-accuracy curve recomputed on the photos ``picks`` (with repeats)."""
    out = []
    for row in rows:
        scores = row[machine]
        out.append(
            {
                "bpp": float(np.mean(np.asarray(row["bytes"])[picks]) * 8 / row["pixels"]),
                machine: {
                    "agreement": float(np.mean(np.asarray(scores["agrees"])[picks])),
                    "accuracy": float(np.mean(np.asarray(scores["correct"])[picks])),
                },
            }
        )
    return out


def bd_rate_interval(
    anchor: list[dict],
    test: list[dict],
    machine: str = "efficientnet-lite0",
    measure: str = "agreement",
    resamples: int = 1000,
    seed: int = 0,
):
    """``bd_rate_accuracy`` with its bootstrap 95 % interval over photos (``metrics.Interval``): each
    resample draws the photos with replacement, recomputes both curves on them (the same photos for
    both: paired) and their BD-rate. Needs the per-photo rows ``rate_accuracy`` stores ("bytes",
    "agrees", "correct")."""
    from .. import metrics

    for rows in (anchor, test):
        if not rows or "bytes" not in rows[0] or "agrees" not in rows[0].get(machine, {}):
            raise ValueError(
                "bd_rate_interval needs per-photo rows (a study measured with rate_accuracy since "
                "session 16: 'bytes' per photo and 'agrees'/'correct' per machine)"
            )
    count = len(anchor[0]["bytes"])
    if any(len(r["bytes"]) != count for r in (*anchor, *test)):
        raise ValueError("the two curves must be measured on the same photos")

    def statistic(picks):
        return bd_rate_accuracy(
            _resampled(anchor, picks, machine), _resampled(test, picks, machine), machine, measure
        )["bd_rate"]

    return metrics.bootstrap_interval(statistic, np.arange(count), resamples=resamples, seed=seed)


def load_pretrained(name: str, quality: int | None = None) -> nn.Module:
    """A shipped chapter-9 model (``registry.shipped("machine_coding")`` lists them), in eval mode on
    config.device(): "npp-jpeg" (the NPP in front of JPEG through the differentiable JPEG, every
    quality; with ``quality`` 20 or 50, a per-quality NPP without the adaptation layer),
    "npp-jpeg-learned" (through the learned JPEG proxy), "npp-heif" (in front of HEIF, through its
    learned proxy), "proxy-jpeg" / "proxy-heif" (the hyperprior fine-tuned to imitate each codec at
    PROXY_QUALITIES) and "diffjpeg" (the differentiable JPEG with its fitted rate model)."""
    wanted = registry.key("machine_coding", name, quality)
    if wanted not in registry.shipped("machine_coding"):
        raise registry.WeightsError(
            f"no chapter-9 model {wanted!r}; shipped: {registry.shipped('machine_coding')}"
        )
    if name.startswith("npp"):
        return registry.load("machine_coding", name, quality, NPP)
    if name == "diffjpeg":
        return DiffJPEG(registry.load("machine_coding", name, None, RateModel).cpu()).to(
            config.device()
        )
    return load_proxy(registry.weights_path("machine_coding", name)).to(config.device())
