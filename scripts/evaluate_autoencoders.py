"""Measure autoencoder checkpoints on all of Kodak with real bitstreams; BD-rate against Pillow JPEG.

    python scripts/evaluate_autoencoders.py runs/hyperprior_0018.pt runs/hyperprior_0035.pt ... \
        [--out helpers/reference/workbench_kodak.json] [--merge]

--merge keeps the other architectures already in --out (their checkpoints and summaries) and replaces
or adds only the architectures measured now (the mean-scale family was added this way, issue 19).

For each checkpoint and image: bytes from autoencoder.compress, the likelihood estimate of one forward
pass, PSNR on RGB of autoencoder.decompress, and the largest difference between the decoded image and
the forward pass. Then per architecture: the averaged R-D curve (CompressAI's protocol) and BD-rate
against Pillow JPEG's Kodak sweep and against CompressAI's published curve of the same architecture.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from helpers import autoencoder, config, data, images, metrics, standard_codecs


def evaluate(path: str, kodak: dict) -> dict:
    state = torch.load(path, map_location="cpu", weights_only=False)
    extra = state["extra"]
    model = autoencoder.build_model(extra["name"], extra["N"], extra["M"])
    model.load_state_dict(state["model"])
    model.eval().update(force=True)
    rows = []
    for name, image in kodak.items():
        pixels = image.shape[0] * image.shape[1]
        payload = autoencoder.compress(model, image)
        decoded = autoencoder.decompress(model, payload)
        decoded_float = autoencoder.decompress_tensor(model, payload)
        padded, _ = images.pad_to_multiple(images.to_tensor(image), 64)
        with torch.no_grad():
            out = model(padded)
        estimate = sum(torch.log2(v).sum() for v in out["likelihoods"].values()).item() / -pixels
        forward = out["x_hat"][..., : image.shape[0], : image.shape[1]].clamp(0, 1)
        gap = float((decoded_float - forward).abs().max())
        rows.append(
            dict(
                image=name,
                bpp=8 * len(payload) / pixels,
                bpp_estimate=estimate,
                psnr=metrics.psnr(image, decoded),
                max_abs_vs_forward=gap,
            )
        )
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("bpp", "bpp_estimate", "psnr")}
    return dict(
        checkpoint=Path(path).name,
        name=extra["name"],
        lmbda=extra["lmbda"],
        steps=int(state["step"]),
        N=extra["N"],
        M=extra["M"],
        mean=mean,
        max_rate_gap=float(max(abs(r["bpp"] / r["bpp_estimate"] - 1) for r in rows)),
        max_abs_vs_forward=float(max(r["max_abs_vs_forward"] for r in rows)),
        per_image=rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--out", default="helpers/reference/workbench_kodak.json")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--merge", action="store_true", help="keep the other architectures in --out"
    )
    args = parser.parse_args()
    config.set_num_threads(args.threads)
    started = time.time()
    kodak = data.kodak()
    results = [evaluate(p, kodak) for p in args.checkpoints]
    for r in results:
        print(r["checkpoint"], r["mean"], "rate gap %.2f%%" % (100 * r["max_rate_gap"]), flush=True)
    jpeg_records = standard_codecs.rd_sweep("jpeg", kodak, range(5, 96, 5), measure_ms_ssim=False)
    jpeg_curve = metrics.average_rd(jpeg_records)
    jpeg_bpp = [v["bpp"] for v in jpeg_curve.values()]
    jpeg_psnr = [v["psnr"] for v in jpeg_curve.values()]
    published = standard_codecs.published_kodak()
    summary = {}
    for name in sorted({r["name"] for r in results}):
        points = sorted((r["mean"]["bpp"], r["mean"]["psnr"]) for r in results if r["name"] == name)
        bpp, psnr = [p[0] for p in points], [p[1] for p in points]
        entry = dict(bpp=bpp, psnr=psnr)
        if len(points) >= 4:
            low, high = min(bpp), max(bpp)
            inside = [
                (b, p)
                for b, p in zip(jpeg_bpp, jpeg_psnr, strict=True)
                if low * 0.7 <= b <= high * 1.3
            ]
            entry["bd_rate_vs_pillow_jpeg"] = metrics.bd_rate(
                [b for b, _ in inside], [p for _, p in inside], bpp, psnr
            )
            ref = published[name]
            entry["bd_rate_of_compressai_vs_pillow_jpeg"] = metrics.bd_rate(
                [b for b, _ in inside], [p for _, p in inside], ref["bpp"][:5], ref["psnr"][:5]
            )
        summary[name] = entry
        print(name, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in entry.items()})
    output = dict(
        protocol="all 24 Kodak images, RGB PSNR, bpp from real bytes, averaged per rate "
        "point as CompressAI does",
        command="python scripts/evaluate_autoencoders.py " + " ".join(args.checkpoints),
        checkpoints=results,
        summary=summary,
        jpeg=dict(bpp=jpeg_bpp, psnr=jpeg_psnr),
        seconds=time.time() - started,
    )
    if args.merge and Path(args.out).is_file():
        stored = json.loads(Path(args.out).read_text())
        measured = set(summary)
        output["checkpoints"] = [
            c for c in stored["checkpoints"] if c["name"] not in measured
        ] + results
        output["summary"] = {
            **{k: v for k, v in stored["summary"].items() if k not in measured},
            **summary,
        }
        commands = stored.get("commands") or [stored["command"]]
        output["commands"] = commands + [output["command"]]
        output["command"] = commands[0]
    Path(args.out).write_text(
        json.dumps(
            output,
            indent=1,
            default=lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else v,
        )
    )
    print("wrote", args.out)


if __name__ == "__main__":
    main()
