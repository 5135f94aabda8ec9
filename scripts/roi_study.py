"""Chapter 6's measurements on real data: ROI JPEG against uniform JPEG of the same size on Kodak,
the thesis-style table (CAM methods x average quality), and the classifier's top-1 agreement on the
ImageNet sample photos. Writes helpers/reference/roi_study.json (read by notebook 06 and lesson 06).

    python scripts/roi_study.py [--imagenet 200] [--out helpers/reference/roi_study.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from helpers import cam, config, data, images, metrics, roi

SETTINGS = {
    "linear 20-80": dict(quality_mode="linear", q_start=20, q_end=80),
    "rdo (base 75, floor 0.05)": dict(mode="rdo", base_quality=75, weight_floor=0.05),
    "rdo, uniform weights (control: RDO without ROI)": dict(
        mode="rdo", base_quality=75, uniform=True
    ),
    "quantile": dict(quality_mode="quantile", levels=(20, 35, 50, 65, 80)),
    "entropy 20-80": dict(quality_mode="entropy", q_start=20, q_end=80, entropy_weight=0.3),
    "linear 20-80, scale quantizer": dict(
        quality_mode="linear", q_start=20, q_end=80, quantizer="scale"
    ),
    "linear 20-80, composite (MSROI)": dict(
        quality_mode="linear", q_start=20, q_end=80, mode="composite"
    ),
}
TABLE_METHODS = ["cam", "gradcam", "gradcam++", "xgradcam", "layercam", "eigencam"]


def roi_map(classifier, image, method="gradcam"):
    return cam.cam_map(classifier, image, method, top_k=3)


def equal_size(classifier, kodak) -> dict:
    rows = {name: [] for name in SETTINGS}
    for key, image in kodak.items():
        heat = roi_map(classifier, image)
        uniform = roi.uniform_jpeg(image, 50)
        for name, options in SETTINGS.items():
            options = dict(options)
            mode = options.pop("mode", "single")
            weights = np.ones_like(heat) if options.pop("uniform", False) else heat
            encoded = roi.encode(image, weights, mode=mode, target_bytes=len(uniform), **options)
            c = roi.evaluate(image, heat, encoded, uniform, 50)
            rows[name].append(
                dict(
                    image=key,
                    roi_bytes=c.roi_bytes,
                    uniform_bytes=c.uniform_bytes,
                    psnr_roi=c.psnr_roi,
                    psnr_background=c.psnr_background,
                    psnr=c.psnr,
                    ssim_roi=c.ssim_roi,
                    ssim_background=c.ssim_background,
                    ssim=c.ssim,
                )
            )
        print(
            key,
            {n: round(r[-1]["psnr_roi"][0] - r[-1]["psnr_roi"][1], 2) for n, r in rows.items()},
            flush=True,
        )
    summary = {}
    for name, items in rows.items():

        def gain(field, items=items):
            return float(np.mean([i[field][0] - i[field][1] for i in items]))

        summary[name] = dict(
            psnr_roi_gain=gain("psnr_roi"),
            psnr_background_change=gain("psnr_background"),
            psnr_change=gain("psnr"),
            ssim_roi_gain=gain("ssim_roi"),
            size_error=float(np.max([abs(i["roi_bytes"] / i["uniform_bytes"] - 1) for i in items])),
            images_with_roi_gain=int(sum(i["psnr_roi"][0] > i["psnr_roi"][1] for i in items)),
        )
    return {"per_image": rows, "summary": summary}


def thesis_table(classifier, kodak) -> dict:
    table = {}
    maps = {m: {k: roi_map(classifier, im, m) for k, im in kodak.items()} for m in TABLE_METHODS}
    for method in ["uniform"] + TABLE_METHODS:
        for average in (25, 50, 75):
            values = []
            for key, image in kodak.items():
                if method == "uniform":
                    encoded = roi.uniform_jpeg(image, average)
                else:
                    encoded = roi.encode(
                        image,
                        maps[method][key],
                        mode="single",
                        quality_mode="progressive",
                        q_start=average - 20,
                        q_end=average + 20,
                        target=average,
                    )
                decoded = images.decode_bytes(encoded)
                values.append(
                    [
                        image.nbytes / len(encoded),
                        metrics.mse(image, decoded),
                        metrics.psnr(image, decoded),
                        metrics.ssim(image, decoded),
                        metrics.ms_ssim(image, decoded),
                    ]
                )
            mean = np.mean(values, axis=0)
            table[f"{method} @ {average}"] = dict(
                zip(["ratio", "mse", "psnr", "ssim", "ms_ssim"], map(float, mean))
            )
            print(method, average, np.round(mean, 3), flush=True)
    return table


AGREEMENT_CODERS = {
    "rdo (base 75, floor 0.05)": dict(mode="rdo", base_quality=75, weight_floor=0.05),
    "rdo (base 75, floor 0.2)": dict(mode="rdo", base_quality=75, weight_floor=0.2),
    "linear 20-80 (dead zones)": dict(mode="single", q_start=20, q_end=80),
}


def imagenet_agreement(classifier, count: int, coders: dict | None = None) -> dict:
    """Top-1 agreement with the original's prediction, uniform JPEG q50 vs ROI files of the same size."""
    coders = AGREEMENT_CODERS if coders is None else coders
    agree = {"uniform": 0, **{name: 0 for name in coders}}
    confidence = {"original": [], **{name: [] for name in agree}}
    sizes = {name: [] for name in coders}
    for n, (image, _index, _name) in enumerate(data.imagenet_samples(limit=count)):
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        original = cam.predict(classifier, image, 1)[0]
        heat = roi_map(classifier, image)
        uniform = roi.uniform_jpeg(image, 50)
        files = {"uniform": uniform}
        for name, options in coders.items():
            options = dict(options)
            weights = np.ones_like(heat) if options.pop("uniform", False) else heat
            files[name] = roi.encode(
                image, weights, **{"mode": "single", **options}, target_bytes=len(uniform)
            )
            sizes[name].append(len(files[name]) / len(uniform) - 1)
        confidence["original"].append(original[2])
        for label, file in files.items():
            ranked = cam.predict(classifier, images.decode_bytes(file), 1000)
            agree[label] += ranked[0][0] == original[0]
            confidence[label].append(next(p for c, _, p in ranked if c == original[0]))
        if n % 25 == 0:
            print("imagenet", n, agree, flush=True)
    return {
        "images": count,
        "top1_agreement": {k: v / count for k, v in agree.items()},
        "mean_probability_of_the_original_top1": {
            k: float(np.mean(v)) for k, v in confidence.items()
        },
        "largest_size_error": {k: float(np.max(np.abs(v))) for k, v in sizes.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imagenet", type=int, default=200)
    parser.add_argument("--out", default="helpers/reference/roi_study.json")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    config.set_num_threads(args.threads)
    started = time.time()
    classifier = cam.load_classifier()
    kodak = data.kodak()
    result = {
        "classifier": "efficientnet-lite0",
        "roi_map": "Grad-CAM of the top-3 classes, fused with cam.fuse_softmax (alpha 0.2, beta 0.1)",
        "anchor": "Pillow JPEG quality 50, 4:2:0, optimized Huffman; ROI files also optimized",
        "command": f"python scripts/roi_study.py --imagenet {args.imagenet}",
        "equal_size_kodak": equal_size(classifier, kodak),
        "imagenet": imagenet_agreement(classifier, args.imagenet),
        "thesis_table_kodak": thesis_table(classifier, kodak),
    }
    result["seconds"] = time.time() - started
    Path(args.out).write_text(json.dumps(result, indent=1))
    print("wrote", args.out, "in", round(result["seconds"]), "s")


if __name__ == "__main__":
    main()
