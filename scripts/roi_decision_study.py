"""Chapter 6: ROI JPEG and the classifier's decision, per image, for several coder strengths.

For each ImageNet sample photo: Pillow JPEG q50 (the anchor) and ROI files of the same size (ROI-weighted
RDO at several strengths, Grad-CAM top-3 map of EfficientNet-Lite0), each decoded and classified by
EfficientNet-Lite0 (the network that drew the map) and EfficientNet-Lite2 (a network the encoder never
sees). Kodak: the map-weighted PSNR inside and outside the ROI for the same files. Per-image rows go to a
JSON-lines file; ``roi.decision_ladder_summary`` style aggregation is done by --summarize.

    WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/roi_decision_study.py --imagenet 1000
"""

from __future__ import annotations

import argparse
import json
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from helpers import cam, config, data, images, roi

RUNGS = {
    "rdo (base 75, floor 0.05)": dict(base_quality=75, weight_floor=0.05),
    "rdo (base 75, floor 0.2)": dict(base_quality=75, weight_floor=0.2),
    "rdo (base 65, floor 0.5)": dict(base_quality=65, weight_floor=0.5),
    "rdo (base 55, floor 0.5)": dict(base_quality=55, weight_floor=0.5),
}
_STATE: dict = {}


def _classifiers():
    if not _STATE:
        config.set_num_threads(1)
        _STATE["lite0"] = cam.load_classifier("efficientnet-lite0")
        _STATE["lite2"] = cam.load_classifier("efficientnet-lite2")
    return _STATE["lite0"], _STATE["lite2"]


def _probabilities(classifier, image) -> np.ndarray:
    out = np.zeros(1000)
    for index, _name, p in cam.predict(classifier, image, 1000):
        out[index] = p
    return out


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def measure(image: np.ndarray, kodak: bool = False) -> dict:
    """One image: the anchor and every rung, their sizes and both classifiers' view of the decode."""
    lite0, lite2 = _classifiers()
    image = _rgb(image)
    heat = cam.cam_map(lite0, image, "gradcam", top_k=3)
    originals = {"lite0": _probabilities(lite0, image), "lite2": _probabilities(lite2, image)}
    row: dict = {
        name: {"top": int(p.argmax()), "p": float(p.max())} for name, p in originals.items()
    }
    anchor = roi.uniform_jpeg(image, 50)
    files = {"uniform": anchor}
    for name, options in RUNGS.items():
        files[name] = roi.encode(image, heat, mode="rdo", target_bytes=len(anchor), **options)
    for name, file in files.items():
        decoded = _rgb(images.decode_bytes(file))
        entry: dict = {"size": len(file) / len(anchor) - 1}
        for net, classifier in (("lite0", lite0), ("lite2", lite2)):
            p = _probabilities(classifier, decoded)
            top = row[net]["top"]
            entry[net] = {"top": int(p.argmax()), "p_original_top": float(p[top])}
        if kodak:
            c = roi.evaluate(image, heat, file, anchor, 50)
            entry.update(
                psnr_roi=c.psnr_roi[0], psnr_background=c.psnr_background[0], psnr=c.psnr[0]
            )
        row[name] = entry
    return row


def _imagenet_item(item):
    n, image = item
    return {"n": n, **measure(image)}


def _kodak_item(item):
    key, image = item
    return {"image": key, **measure(image, kodak=True)}


def _choose(row: dict, rungs: list[str], keep_probability: float | None = None) -> str:
    """encode_keeping_decision on stored rows: the first rung whose decode EfficientNet-Lite0 labels
    like the original (and, with keep_probability, leaves the original's class at least that share of
    uniform JPEG's probability), uniform JPEG last, else the file keeping the most probability."""
    candidates = rungs + ["uniform"]
    floor = (
        0.0
        if keep_probability is None
        else keep_probability * row["uniform"]["lite0"]["p_original_top"]
    )
    for name in candidates:
        entry = row[name]["lite0"]
        if entry["top"] == row["lite0"]["top"] and (
            name == "uniform" or entry["p_original_top"] >= floor
        ):
            return name
    return max(candidates, key=lambda name: row[name]["lite0"]["p_original_top"])


def summarize(rows: list[dict], ladder: list[str]) -> dict:
    """Agreement for both networks, open loop (each rung alone) and closed loop (the ladder)."""
    photos = [r for r in rows if "n" in r]
    kodak = [r for r in rows if "image" in r]
    coders = {"uniform": lambda r: "uniform", **{n: (lambda r, n=n: n) for n in RUNGS}}
    coders["keeping the decision (ladder)"] = lambda r: _choose(r, ladder)
    coders["the same, keep_probability 0.9"] = lambda r: _choose(r, ladder, 0.9)

    def agreement(subset, pick, net):
        return float(np.mean([r[pick(r)][net]["top"] == r[net]["top"] for r in subset]))

    def probability(subset, pick, net):
        return float(np.mean([r[pick(r)][net]["p_original_top"] for r in subset]))

    def wins_losses(subset, pick, net):
        mine = [r[pick(r)][net]["top"] == r[net]["top"] for r in subset]
        uniform = [r["uniform"][net]["top"] == r[net]["top"] for r in subset]
        return [
            int(sum(a and not b for a, b in zip(mine, uniform))),
            int(sum(b and not a for a, b in zip(mine, uniform))),
        ]

    parts = {
        "all": photos,
        "first 200": [r for r in photos if r["n"] < 200],
        "the rest": [r for r in photos if r["n"] >= 200],
    }
    imagenet = {}
    for part, subset in parts.items():
        if not subset:
            continue
        imagenet[part] = {"images": len(subset)}
        for net in ("lite0", "lite2"):
            imagenet[part][net] = {
                name: {
                    "top1_agreement": agreement(subset, pick, net),
                    "wins_losses_vs_uniform": wins_losses(subset, pick, net),
                    "mean_p_original_top1": probability(subset, pick, net),
                }
                for name, pick in coders.items()
            }
    chosen = [_choose(r, ladder) for r in photos]
    kodak_summary = {}
    for name, pick in coders.items():
        if name == "uniform":
            continue

        def gain(field, pick=pick):
            return float(np.mean([r[pick(r)][field] - r["uniform"][field] for r in kodak]))

        kodak_summary[name] = {
            "psnr_roi_gain": gain("psnr_roi"),
            "psnr_background_change": gain("psnr_background"),
            "psnr_change": gain("psnr"),
            "size_error": float(max(abs(r[pick(r)]["size"]) for r in kodak)),
            "images_with_roi_gain": int(
                sum(r[pick(r)]["psnr_roi"] > r["uniform"]["psnr_roi"] for r in kodak)
            ),
        }
    return {
        "ladder": ladder,
        "imagenet": imagenet,
        "rung_chosen_on_imagenet": {n: chosen.count(n) for n in ladder + ["uniform"]},
        "rung_chosen_on_kodak": {
            n: [_choose(r, ladder) for r in kodak].count(n) for n in ladder + ["uniform"]
        },
        "equal_size_kodak": kodak_summary,
        "fallback_examples": [
            {
                "n": r["n"],
                "chosen": c,
                "original_top": r["lite0"]["top"],
                "strongest_top": r[ladder[0]]["lite0"]["top"],
            }
            for r, c in zip(photos, chosen)
            if c != ladder[0]
        ][:20],
        "kodak_images": len(kodak),
        "largest_size_error_imagenet": float(max(abs(r[n]["size"]) for r in photos for n in RUNGS)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imagenet", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--rows", default="roi_decision_rows.jsonl", help="per-image rows (appended)"
    )
    parser.add_argument("--summarize", action="store_true", help="only summarize the rows to --out")
    parser.add_argument("--out", default="helpers/reference/roi_decision_study.json")
    args = parser.parse_args()
    if args.summarize:
        rows = [json.loads(line) for line in Path(args.rows).open()]
        result = summarize(rows, list(RUNGS))
        result["command"] = "python scripts/roi_decision_study.py --imagenet N, then --summarize"
        result["rungs"] = RUNGS
        result["roi_map"] = (
            "Grad-CAM top-3 of EfficientNet-Lite0, softmax fusion; anchor Pillow JPEG q50"
        )
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result["imagenet"]["all"], indent=1))
        print(json.dumps(result["equal_size_kodak"], indent=1))
        return
    started = time.time()
    done = set()
    rows_path = Path(args.rows)
    if rows_path.exists():
        done = {
            json.loads(line).get("n", json.loads(line).get("image")) for line in rows_path.open()
        }
    kodak = [(k, im) for k, im in data.kodak().items() if k not in done]
    photos = [
        (n, im)
        for n, (im, _i, _c) in enumerate(data.imagenet_samples(limit=args.imagenet))
        if n not in done
    ]
    with Pool(args.workers) as pool, rows_path.open("a") as handle:
        for row in pool.imap(_kodak_item, kodak):
            handle.write(json.dumps(row) + "\n")
            handle.flush()
        for row in pool.imap(_imagenet_item, photos):
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            if row["n"] % 50 == 0:
                print("imagenet", row["n"], round(time.time() - started), "s", flush=True)
    print("done in", round(time.time() - started), "s")


if __name__ == "__main__":
    main()
