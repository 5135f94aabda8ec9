"""What the integer forms cost (chapter 4, section 10; issue "files that decode on another machine").

    WORKBENCH_DATA=../shared/data python scripts/integer_study.py [pixelcnn] [filter] [hyperprior] [timing]

- pixelcnn: bits per subpixel on central 128 x 128 crops of all 24 Kodak images (and the whole of kodim01)
  of the shipped gated PixelCNN: the float model's
  ideal code length (-log2 p, what lossless_kodak.json reports), the length its real files pay (its
  integer frequency tables, computed from float probabilities), and the integer form's (exact).
- filter: the toy video codec on the 10 Foreman frames with the learned filter in the loop, float against
  integer form, at chapter 5's qualities: bytes, PSNR, BD-rate, decode time, bit-exact decoding.
- hyperprior: the BD-rate of the integer hyperprior against the float one on Kodak (real bytes) and the
  decode times, from the rows scripts/determinism_study.py wrote.
- timing: decode times of both forms measured alone (benchmarks/bench_integer.py's measurement).
Writes helpers/reference/integer_study.json (the parts run are replaced, the others kept).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import config, data, metrics, pixelcnn, video  # noqa: E402

OUT = ROOT / "helpers" / "reference" / "integer_study.json"
VIDEO_QUALITIES = (10, 15, 20, 30, 40, 50)  # chapter 5's (scripts/filter_study.py)


def float_table_bits(model, image, rows_per_pass: int = 16) -> float:
    """Bits per subpixel the float model's files pay: -log2 of its integer frequency tables."""
    x = pixelcnn._as_input(model, image)
    above = pixelcnn.receptive_field(model)[0]
    values = torch.round(x[0] * 255).long().cpu().numpy()
    height = x.shape[2]
    bits = 0.0
    with torch.no_grad():
        for start in range(0, height, rows_per_pass):
            stop, top = min(height, start + rows_per_pass), max(0, start - above)
            params = model(x[:, :, top:stop])[..., start - top :, :]
            log_probs = pixelcnn._params_to_log_probs(model, params)[0]  # (C, 256, rows, W)
            counts = pixelcnn._frequencies(log_probs.permute(0, 2, 3, 1))  # (C, rows, W, 256)
            chosen = np.take_along_axis(counts, values[:, start:stop, :, None], axis=-1)[..., 0]
            bits += float(-np.log2(chosen / pixelcnn.FREQUENCY_TOTAL).sum())
    return bits / values.size


#: the PixelCNN's integer pass over a whole Kodak image takes about 17 minutes on this 2-core machine
#: (255 bin edges x 5 components for each of 1.2 million subpixels), so the table uses central crops
CROP = 128
#: measured once on the whole of kodim01 with this script's functions (1,029 s, other jobs running)
FULL_KODIM01 = {
    "image": "kodim01 (whole, 768 x 512)",
    "float_ideal": 4.07311487197876,
    "float_tables": 4.078108550954181,
    "integer": 4.08131088325121,
}


def pixelcnn_study() -> dict:
    integer = pixelcnn.load_integer("gated")
    model = integer.model
    rows = []
    for name, whole in data.kodak().items():
        top, left = (whole.shape[0] - CROP) // 2, (whole.shape[1] - CROP) // 2
        image = whole[top : top + CROP, left : left + CROP]
        start = time.perf_counter()
        row = {
            "image": name,
            "float_ideal": pixelcnn.bits_per_subpixel(model, image),
            "float_tables": float_table_bits(model, image),
            "integer": pixelcnn.integer_bits_per_subpixel(integer, image),
        }
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print(json.dumps(row), flush=True)
    crop = data.kodak(names=["kodim23"])["kodim23"][200:206, 300:306]
    times = {}
    for label, coder in (("float", model), ("integer", integer)):
        stream = pixelcnn.compress(coder, crop)
        start = time.perf_counter()
        assert np.array_equal(pixelcnn.decompress(coder, stream), crop)
        times[label] = (time.perf_counter() - start) / crop.size
    mean = {
        key: float(np.mean([r[key] for r in rows]))
        for key in ("float_ideal", "float_tables", "integer")
    }
    return {
        "images": f"central {CROP} x {CROP} crops of the 24 Kodak images",
        "rows": rows,
        "mean_bpsp": mean,
        "whole_image": FULL_KODIM01,
        "integer_vs_float_tables_percent": 100 * (mean["integer"] / mean["float_tables"] - 1),
        "integer_vs_float_ideal_percent": 100 * (mean["integer"] / mean["float_ideal"] - 1),
        "decode_seconds_per_subpixel": times,
        "decode_crop": "kodim23[200:206, 300:306] (108 subpixels)",
    }


def filter_study() -> dict:
    frames = data.foreman_qcif(10)["y"]
    runs = {}
    for label, loop_filter in (("float", "conditioned"), ("integer", "conditioned-int")):
        points = []
        for quality in VIDEO_QUALITIES:
            encoded = video.analyze(frames, quality, loop_filter, "in-loop")
            start = time.perf_counter()
            decoded = video.decode(encoded.data)
            seconds = time.perf_counter() - start
            points.append(
                {
                    "quality": quality,
                    "bytes": len(encoded.data),
                    "psnr": video.luma_psnr(frames, encoded.displayed),
                    "decode_seconds": seconds,
                    "decoder_bit_exact": bool(np.array_equal(decoded, encoded.displayed)),
                }
            )
        runs[label] = points
        print(label, [(p["bytes"], round(p["psnr"], 3)) for p in points], flush=True)
    f, i = runs["float"], runs["integer"]
    return {
        "runs": runs,
        "bd_rate_integer_vs_float_percent": metrics.bd_rate(
            [p["bytes"] for p in f],
            [p["psnr"] for p in f],
            [p["bytes"] for p in i],
            [p["psnr"] for p in i],
        ),
        "decode_seconds": {
            k: float(np.mean([p["decode_seconds"] for p in v])) for k, v in runs.items()
        },
        "protocol": "Foreman QCIF, 10 frames, luma, in-loop, qualities " + str(VIDEO_QUALITIES),
    }


def hyperprior_study() -> dict:
    study = json.loads((ROOT / "helpers" / "reference" / "determinism_study.json").read_text())
    rows = study["integer"]["rows"]
    curves = {}
    for label in ("float", "integer"):
        points = []
        for quality in (1, 2, 3, 4):
            chosen = [r[label] for r in rows if r["quality"] == quality]
            pixels = 768 * 512
            points.append(
                (
                    np.mean([8 * c["bytes"] / pixels for c in chosen]),
                    np.mean([c["psnr"] for c in chosen]),
                )
            )
        curves[label] = points
    f, i = curves["float"], curves["integer"]
    decode = {label: float(np.mean([r[label]["decode_seconds"] for r in rows])) for label in curves}
    return {
        "curves_bpp_psnr": {k: [[float(a), float(b)] for a, b in v] for k, v in curves.items()},
        "bd_rate_integer_vs_float_percent": metrics.bd_rate(
            [p[0] for p in f], [p[1] for p in f], [p[0] for p in i], [p[1] for p in i]
        ),
        "decode_seconds_mean": decode,
        "note": "decode times from scripts/determinism_study.py's run (2 threads, other jobs on the "
        "machine); benchmarks/bench_integer.py times them alone",
    }


def timing_study() -> dict:
    """Decode times of the float and integer forms, measured alone (benchmarks/bench_integer.py)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_integer

    rows = bench_integer.measure()
    return {
        "seconds": rows,
        "ratio": {k: v["integer"] / v["float"] for k, v in rows.items()},
        "note": "best of 2-3 decodes, 2 threads, nothing else running",
    }


def main() -> None:
    config.set_num_threads(2)
    parts = sys.argv[1:] or ["pixelcnn", "filter", "hyperprior", "timing"]
    result = json.loads(OUT.read_text()) if OUT.is_file() else {}
    result["command"] = "WORKBENCH_DATA=../shared/data python scripts/integer_study.py"
    result["machine"] = config.machine()
    studies = {
        "pixelcnn": pixelcnn_study,
        "filter": filter_study,
        "hyperprior": hyperprior_study,
        "timing": timing_study,
    }
    for part in parts:
        result[part] = studies[part]()
        OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("pixelcnn",)}, indent=1)[:3000])


if __name__ == "__main__":
    main()
