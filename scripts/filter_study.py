"""Chapter 5's measurements: loop filters on Kodak and the toy video codec on Foreman.

Writes helpers/reference/filter_study.json:
- kodak: chapter 1's JPEG (4:2:0) at qualities 10/20/30/40 on all 24 Kodak images, before and after the
  classical deblocking filter and the shipped learned filter: PSNR on Y and on RGB, SSIM on Y, PSNR-B;
- foreman: the toy hybrid codec on the 10 Foreman QCIF frames for no filter, post-loop and in-loop
  filtering (classical and learned) over a range of qualities: bits and PSNR per frame, BD-rate.

    WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/filter_study.py [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from helpers import config, data, filters, images, jpeg, metrics, video

OUT = Path(__file__).resolve().parents[1] / "helpers" / "reference" / "filter_study.json"
QUALITIES = (10, 20, 30, 40)
VIDEO_QUALITIES = (10, 15, 20, 30, 40, 50)


def luma(array: np.ndarray) -> np.ndarray:
    return images.rgb_to_ycbcr(array.astype(np.float64))[..., 0]


def scores(original: np.ndarray, test: np.ndarray) -> dict:
    y_ref = np.clip(np.round(luma(original)), 0, 255).astype(np.uint8)
    y_test = np.clip(np.round(luma(test)), 0, 255).astype(np.uint8)
    return {
        "psnr_y": metrics.psnr(original, test, on="y"),
        "psnr_rgb": metrics.psnr(original, test),
        "ssim_y": metrics.ssim(y_ref, y_test),
        "ssim_rgb": metrics.ssim(original, test),
        "psnr_b": filters.psnr_b(original, test),
    }


def kodak_table(model) -> dict:
    rows = {}
    for quality in QUALITIES:
        per = {"jpeg": [], "deblock": [], "learned": []}
        bits = []
        for image in data.kodak().values():
            decoded, size = jpeg.round_trip(image, quality)
            bits.append(8 * size / (image.shape[0] * image.shape[1]))
            per["jpeg"].append(scores(image, decoded))
            per["deblock"].append(scores(image, filters.deblock(decoded, quality)))
            per["learned"].append(scores(image, filters.apply(model, decoded, quality)))
        rows[str(quality)] = {
            "bpp": float(np.mean(bits)),
            **{
                name: {k: round(float(np.mean([r[k] for r in v])), 4) for k in v[0]}
                for name, v in per.items()
            },
            "learned_gain_y_per_image": [
                round(a["psnr_y"] - b["psnr_y"], 3) for a, b in zip(per["learned"], per["jpeg"])
            ],
        }
        print(
            quality, {k: rows[str(quality)][k] for k in ("jpeg", "deblock", "learned")}, flush=True
        )
    return rows


def foreman_sweep(model) -> dict:
    luma_frames = data.foreman_qcif(10)["y"]
    runs = {}
    for label, loop_filter, mode in [
        ("none", None, "none"),
        ("deblock post", "deblock", "post"),
        ("deblock in-loop", "deblock", "in-loop"),
        ("learned post", model, "post"),
        ("learned in-loop", model, "in-loop"),
    ]:
        points = []
        for quality in VIDEO_QUALITIES:
            encoded = video.encode(luma_frames, quality, loop_filter, mode)
            decoded = video.decode(encoded.data)
            points.append(
                {
                    "quality": quality,
                    "bytes": len(encoded.data),
                    "bits_per_frame": encoded.bits_per_frame,
                    "psnr": video.luma_psnr(luma_frames, encoded.displayed),
                    "psnr_per_frame": [
                        video.luma_psnr(f, d) for f, d in zip(luma_frames, encoded.displayed)
                    ],
                    "decoder_bit_exact": bool(np.array_equal(decoded, encoded.displayed)),
                }
            )
        runs[label] = points
        print(label, [(p["bytes"], round(p["psnr"], 2)) for p in points], flush=True)
    bd = {}
    for kind in ("deblock", "learned"):
        post, loop = runs[f"{kind} post"], runs[f"{kind} in-loop"]
        bd[f"{kind}: in-loop vs post"] = {
            "bd_rate_percent": metrics.bd_rate(
                [p["bytes"] for p in post],
                [p["psnr"] for p in post],
                [p["bytes"] for p in loop],
                [p["psnr"] for p in loop],
            ),
            "bd_psnr_db": metrics.bd_psnr(
                [p["bytes"] for p in post],
                [p["psnr"] for p in post],
                [p["bytes"] for p in loop],
                [p["psnr"] for p in loop],
            ),
        }
    print(bd)
    return {"runs": runs, "bd": bd}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", default=None, help="a filter checkpoint (default: shipped)")
    args = parser.parse_args()
    config.set_num_threads(1)
    if args.checkpoint:
        state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        model = filters.build_model(state["extra"]["name"], **state["extra"].get("sizes", {}))
        model.load_state_dict(state["model"])
        model.eval()
        source = {"checkpoint": str(args.checkpoint), "step": state["step"]}
    else:
        model = filters.load_pretrained("conditioned")
        source = {"checkpoint": "shipped (filters.load_pretrained('conditioned'))"}
    result = {
        "command": "WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/filter_study.py",
        "model": source,
        "note": "chapter 1's JPEG encoder/decoder, 4:2:0; PSNR-Y on BT.601 full-range luma (float); "
        "SSIM on rounded luma and on RGB; PSNR-B (Yim & Bovik 2011) on luma; video: luma only, 10 frames",
        "kodak": kodak_table(model),
        "foreman": foreman_sweep(model),
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
