"""Chapter 9's measurements -> helpers/reference/machine_coding_study.json (each part replaces its key).

    python scripts/machine_coding_study.py --part proxies|curves|per-quality|equal-bytes \
        [--runs runs/ch9] [--limit 500] [--configs jpeg jpeg+npp-jpeg ...] [--threads 2]

With --runs the models come from the training checkpoints (scripts/train_machine_coding.sh),
otherwise from the shipped weights. Photos: the 500 odd-numbered ImageNet sample photos, centre
224 x 224 crops (chapter 8's held-out set); every rate is a real file's size.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from helpers import compressed_domain as cd
from helpers import config, data, images, metrics
from helpers import machine_coding as mc

OUT = Path(mc.__file__).resolve().parents[1] / "reference" / "machine_coding_study.json"
QUALITIES = {"jpeg": [5, 10, 15, 20, 30, 50, 75, 90], "heif": [10, 20, 30, 45, 60, 80]}
MACHINES = ("efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2")


def _model(name: str, runs: str | None, quality: int | None = None):
    if runs is None:
        return mc.load_pretrained(name, quality)
    if quality is not None:
        return mc.load_npp(Path(runs) / f"npp_jpeg_q{quality}.pt")
    files = {
        "npp-jpeg": "npp_jpeg.pt",
        "npp-jpeg-learned": "npp_jpeg_learned.pt",
        "npp-heif": "npp_heif.pt",
        "proxy-jpeg": "proxy_jpeg.pt",
        "proxy-heif": "proxy_heif.pt",
    }
    path = Path(runs) / files[name]
    return mc.load_proxy(path) if name.startswith("proxy") else mc.load_npp(path)


def _photos(limit: int):
    pairs = cd.held_out_photos(limit)
    return np.stack([p for p, _ in pairs]), np.array([label for _, label in pairs])


def proxies(runs, limit):
    """How closely each proxy imitates the real codec: PSNR(proxy output, real decode), rate error."""
    photos, _ = _photos(min(limit, 100))
    x = torch.from_numpy(photos).permute(0, 3, 1, 2).float() / 255
    out = {}
    candidates = [
        ("diffjpeg", "jpeg", mc.load_pretrained("diffjpeg") if runs is None else None),
        ("learned-jpeg", "jpeg", _model("proxy-jpeg", runs)),
        ("learned-heif", "heif", _model("proxy-heif", runs)),
    ]
    if candidates[0][2] is None:
        state = torch.load(Path(runs) / "npp_jpeg.pt", weights_only=True)
        candidates[0] = ("diffjpeg", "jpeg", mc.DiffJPEG(mc.RateModel()))
        candidates[0][2].rate.load_state_dict(state["extra"]["rate_model"])
    for name, codec, proxy in candidates:
        proxy = proxy.cpu().eval()
        rows = []
        for quality in mc.PROXY_QUALITIES[codec]:
            real, real_bits = mc.real_codec(codec, x, quality)
            with torch.no_grad():
                hats, bits = zip(*(proxy(x[i : i + 20], quality) for i in range(0, len(x), 20)))
            hat, bits = torch.cat(hats), torch.cat(bits)
            mse = ((hat - real) ** 2).mean((1, 2, 3)).clamp_min(1e-10)
            rows.append(
                {
                    "quality": quality,
                    "psnr_proxy_vs_codec": float((10 * torch.log10(1 / mse)).mean()),
                    "psnr_codec_vs_original": float(
                        np.mean(
                            [
                                metrics.psnr(a, images.to_uint8(b[None]))
                                for a, b in zip(photos, real)
                            ]
                        )
                    ),
                    "rate_error": float(((bits - real_bits).abs() / real_bits).mean()),
                    "codec_bpp": float(real_bits.mean() / (224 * 224)),
                    "proxy_bpp": float(bits.mean() / (224 * 224)),
                }
            )
            print(name, rows[-1], flush=True)
        out[name] = rows
    return out


#: (codec, NPP or None, machines) of each accuracy-rate curve
PLAN = {
    "jpeg": ("jpeg", None, MACHINES),
    "jpeg+npp-jpeg": ("jpeg", "npp-jpeg", MACHINES),
    "jpeg+npp-jpeg-learned": ("jpeg", "npp-jpeg-learned", MACHINES[:1]),
    "heif": ("heif", None, MACHINES[::2]),
    "heif+npp-heif": ("heif", "npp-heif", MACHINES[:1]),
}


def _bd_rates(out: dict) -> dict:
    bd = {}
    for key, (codec, name, _) in PLAN.items():
        if name is None or key not in out or codec not in out:
            continue
        for machine in out[key][0]:
            if machine.startswith("efficientnet") and machine in out[codec][0]:
                for measure in ("agreement", "accuracy"):
                    entry = mc.bd_rate_accuracy(out[codec], out[key], machine, measure)
                    if "bytes" in out[codec][0] and "bytes" in out[key][0]:  # per-photo rows
                        interval = mc.bd_rate_interval(out[codec], out[key], machine, measure)
                        entry["interval_95"] = [interval.low, interval.high]
                    bd[f"{key}/{machine}/{measure}"] = entry
    return bd


def curves(runs, limit, configs=None):
    """Accuracy-rate curves of real files on the held-out photos. Each config is stored in the JSON
    as soon as it is measured (only its own key, so two runs with different configs can go side by
    side), with the BD-rates of every NPP curve present against its codec alone."""
    photos, labels = _photos(limit)
    loaded = {}
    for key in configs or []:
        codec, name, names = PLAN[key]
        started = time.perf_counter()
        machines = {n: loaded.setdefault(n, mc.Machine(n)) for n in names}
        npp = None if name is None else _model(name, runs)
        rows = mc.rate_accuracy(
            photos, labels, codec, QUALITIES[codec], npp, machines, progress=True
        )
        study = json.loads(OUT.read_text()) if OUT.is_file() else {}
        out = study.setdefault("curves", {})
        out["photos"] = len(photos)
        out[key] = rows
        out["bd_rate"] = _bd_rates(out)
        OUT.write_text(data.study_json(study))
        print(key, f"{time.perf_counter() - started:.0f} s", flush=True)
    study = json.loads(OUT.read_text()) if OUT.is_file() else {}
    out = study.get("curves", {})
    out["bd_rate"] = _bd_rates(out)
    for k, v in out["bd_rate"].items():
        print(k, v, flush=True)
    return out


def per_quality(runs, limit):
    """Per-quality NPPs against the adaptive one at the same quality (and at equal rate)."""
    photos, labels = _photos(limit)
    machines = {"efficientnet-lite0": mc.Machine()}
    adaptive = _model("npp-jpeg", runs)
    out = {}
    for q in (20, 50):
        single = _model("npp-jpeg", runs, quality=q)
        rows = {
            "per_quality": mc.rate_accuracy(photos, labels, "jpeg", [q], single, machines)[0],
            "adaptive": mc.rate_accuracy(photos, labels, "jpeg", [q], adaptive, machines)[0],
        }
        print(q, rows, flush=True)
        out[f"q{q}"] = rows
    return out


def equal_bytes(runs, limit, quality: int = 30):
    """One size per photo (Pillow's NPP + JPEG file at ``quality``): uniform JPEG, chapter 7's ROI JPEG,
    the classifier-in-the-loop ROI coder, NPP + JPEG and NPP + ROI JPEG, all at that size and all
    with optimized Huffman tables (chapter 7's size search: a fractional quality for the uniform
    coders, the Lagrangian for ROI), so only where the bits go differs."""
    from helpers import cam, roi

    photos, labels = _photos(limit)
    npp = _model("npp-jpeg", runs)
    classifier = cam.load_classifier("efficientnet-lite0")
    machines = {name: mc.Machine(name) for name in ("efficientnet-lite0", "efficientnet-lite2")}
    coders = ["uniform", "roi", "roi-in-the-loop", "npp", "npp+roi"]
    decoded = {c: [] for c in coders}
    sizes = {c: [] for c in coders}
    for i, photo in enumerate(photos):
        target = mc.encode(photo, "jpeg", quality, npp)
        roi_map = cam.cam_map(classifier, photo, "gradcam")
        x_bar = mc.preprocess(npp, photo, quality)
        n = len(target)
        files = {  # every file through the same encoder options (optimized Huffman tables)
            "npp": roi.uniform_for_size(x_bar, n),
            "uniform": roi.uniform_for_size(photo, n),
            "roi": roi.encode(photo, roi_map, target_bytes=n),
            "roi-in-the-loop": roi.encode_keeping_decision(photo, roi_map, classifier, n).data,
            "npp+roi": roi.encode(x_bar, roi_map, target_bytes=n),
        }
        for c in coders:
            decoded[c].append(images.decode_bytes(files[c]))
            sizes[c].append(len(files[c]))
        if i % 20 == 0:
            print(i, {c: sizes[c][-1] for c in coders}, flush=True)
    out = {"photos": len(photos), "quality_of_npp_file": quality, "rows": {}}
    originals = {n: mc.top1(m, photos) for n, m in machines.items()}
    for c in coders:
        batch = np.stack(decoded[c])
        row = {
            "bpp": float(np.mean(sizes[c]) * 8 / (224 * 224)),
            "psnr": float(np.mean([metrics.psnr(a, b) for a, b in zip(photos, batch)])),
        }
        for n, m in machines.items():
            top = mc.top1(m, batch)
            row[n] = {
                "agreement": float(np.mean(top == originals[n])),
                "accuracy": float(np.mean(top == labels)),
            }
        out["rows"][c] = row
        print(c, row, flush=True)
    return out


ABLATIONS = {  # checkpoint in --runs -> what differs from the shipped npp-jpeg recipe
    "npp_jpeg_fixed_lambda8_step500.pt": "L = R + 8 D_m (absolute, fixed lambda), straight-through, 500 steps",
    "npp_jpeg_ste.pt": "relative loss, lambda 1, straight-through rounding, lr 5e-4, 1,000 steps",
    "npp_jpeg_l05.pt": "relative loss, lambda 0.5 (rate weighted up), cubic rounding, 800 steps",
    "npp_jpeg.pt": "the shipped recipe: relative loss, lambda 1, cubic rounding, 1,000 steps",
}


class _Blur(torch.nn.Module):
    """A fixed preprocessor for comparison: a Gaussian blur of every image, whatever the quality."""

    codec = "jpeg"

    def __init__(self, sigma: float):
        super().__init__()
        self.sigma = sigma
        self.device_probe = torch.nn.Parameter(torch.zeros(1), requires_grad=False)

    def forward(self, x, quality):
        from scipy.ndimage import gaussian_filter

        blurred = [gaussian_filter(i, (0, self.sigma, self.sigma)) for i in x.cpu().numpy()]
        return torch.from_numpy(np.stack(blurred)).to(x)


def ablations(runs, limit, qualities=(5, 10, 20, 40, 75)):
    """BD-rate at equal Lite0 agreement of training variants (checkpoints in ``runs``), on the first
    ``limit`` held-out photos at five qualities: what each recipe change was worth."""
    photos, labels = _photos(limit)
    machines = {"efficientnet-lite0": mc.Machine()}
    alone = mc.rate_accuracy(photos, labels, "jpeg", qualities, None, machines, False)
    out = {"photos": len(photos), "qualities": list(qualities), "jpeg": alone}
    for file, what in ABLATIONS.items():
        path = Path(runs) / file
        if not path.is_file():
            continue
        rows = mc.rate_accuracy(
            photos, labels, "jpeg", qualities, mc.load_npp(path), machines, False
        )
        out[file] = {
            "what": what,
            "steps": int(torch.load(path, weights_only=True)["step"]),
            "rows": rows,
            "bd": mc.bd_rate_accuracy(alone, rows),
        }
        print(file, out[file]["bd"], flush=True)
    for sigma in (0.5, 0.8, 1.2):
        rows = mc.rate_accuracy(photos, labels, "jpeg", qualities, _Blur(sigma), machines, False)
        out[f"blur_{sigma}"] = {
            "what": f"a Gaussian blur (sigma {sigma} pixels) before JPEG",
            "rows": rows,
            "bd": mc.bd_rate_accuracy(alone, rows),
        }
        print(sigma, out[f"blur_{sigma}"]["bd"], flush=True)
    return out


PARTS = {
    "proxies": proxies,
    "curves": curves,
    "per-quality": per_quality,
    "equal-bytes": equal_bytes,
    "ablations": ablations,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=sorted(PARTS), required=True)
    parser.add_argument("--runs")
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--configs", nargs="*", choices=sorted(PLAN), help="curves: which to measure"
    )
    args = parser.parse_args()
    config.set_num_threads(args.threads)
    config.seed_everything(0)
    started = time.perf_counter()
    options = {"configs": args.configs} if args.part == "curves" else {}
    result = PARTS[args.part](args.runs, args.limit, **options)
    study = json.loads(OUT.read_text()) if OUT.is_file() else {}
    study[args.part] = result
    study.setdefault("seconds", {})[args.part] = round(time.perf_counter() - started, 1)
    OUT.write_text(data.study_json(study))
    print(f"{args.part}: {time.perf_counter() - started:.0f} s -> {OUT}")


if __name__ == "__main__":
    main()
