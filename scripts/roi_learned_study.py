"""Chapter 6, coder (c): ROI with a learned codec's latent step on all 24 Kodak images.

For each image: the shipped hyperprior at one quality (uniform: the model's own file); ROI files with a
spatial step from the Grad-CAM map at several strengths, each matched to the uniform file's size, made by
the same model and by the next finer one (like the ROI JPEG's base quality above the anchor's: the object
gets a step the model was trained for, the background a coarser one); Pillow JPEG of that size for scale. Map-weighted PSNR inside and outside the ROI, as in roi_study.py.
Writes helpers/reference/roi_learned_study.json.

    WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/roi_learned_study.py --quality 3
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from helpers import autoencoder, cam, config, data, images, metrics, roi

OUT = Path(__file__).resolve().parents[1] / "helpers" / "reference" / "roi_learned_study.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quality", type=int, default=3)
    parser.add_argument("--strengths", type=float, nargs="*", default=[1.0, 2.0, 3.0])
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    config.set_num_threads(1)
    started = time.time()
    classifier = cam.load_classifier()
    model = autoencoder.load_pretrained("bmshj2018-hyperprior", args.quality)
    models = {
        q: autoencoder.load_pretrained("bmshj2018-hyperprior", q)
        for q in (args.quality, args.quality + 1)
        if q in autoencoder.QUALITY_LAMBDAS
    }
    rows = []
    for key, image in data.kodak().items():
        heat = cam.cam_map(classifier, image, "gradcam", top_k=3)
        plain = autoencoder.compress(model, image)
        files = {"learned, uniform": (plain, autoencoder.decompress(model, plain))}
        for q, roi_model in models.items():
            for s in args.strengths:
                file = roi.learned.compress_for_size(roi_model, image, heat, len(plain), strength=s)
                files[f"learned, ROI with quality {q}, strength {s}"] = (
                    file,
                    roi.learned.decompress(roi_model, file),
                )
        jpeg = roi.uniform_for_size(image, len(plain))
        files["Pillow JPEG, uniform"] = (jpeg, images.decode_bytes(jpeg))
        row = {"image": key, "bytes": len(plain)}
        for name, (file, decoded) in files.items():
            row[name] = dict(
                size=len(file) / len(plain) - 1,
                psnr_roi=metrics.weighted_psnr(image, decoded, heat),
                psnr_background=metrics.weighted_psnr(image, decoded, 1 - heat),
                psnr=metrics.psnr(image, decoded),
            )
        rows.append(row)
        print(
            key,
            {
                n: round(v["psnr_roi"] - row["learned, uniform"]["psnr_roi"], 2)
                for n, v in row.items()
                if isinstance(v, dict)
            },
            flush=True,
        )
    names = [n for n in rows[0] if isinstance(rows[0][n], dict)]
    summary = {}
    for name in names:

        def change(field, name=name):
            return float(np.mean([r[name][field] - r["learned, uniform"][field] for r in rows]))

        summary[name] = {
            "psnr_roi_change": change("psnr_roi"),
            "psnr_background_change": change("psnr_background"),
            "psnr_change": change("psnr"),
            "largest_size_error": float(max(abs(r[name]["size"]) for r in rows)),
            "mean_bpp": float(np.mean([r["bytes"] * 8 / 512 / 768 for r in rows])),
        }
    Path(args.out).write_text(
        json.dumps(
            {
                "command": f"python scripts/roi_learned_study.py --quality {args.quality} --strengths "
                + " ".join(map(str, args.strengths)),
                "model": f"bmshj2018-hyperprior quality {args.quality} (shipped, N64 M96)",
                "roi_map": "Grad-CAM top-3 of EfficientNet-Lite0 (as scripts/roi_study.py)",
                "reference": "changes are against the learned codec's own uniform file (step 1 everywhere)",
                "summary": summary,
                "per_image": rows,
                "seconds": round(time.time() - started),
            },
            indent=1,
        )
        + "\n"
    )
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
