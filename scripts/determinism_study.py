"""How often a perturbed hyper-synthesis changes the hyperprior's scale indexes (chapter 4, section 9),
and the same experiment on the integer decoders (section 10).

    WORKBENCH_DATA=../shared/data python scripts/determinism_study.py [--integer-only]

For every Kodak image and every shipped hyperprior quality: the scale indexes the encoder used against
those a decoder computes with one thread, in float64, or with every scale nudged by a relative 1e-6; and
whether the file then decodes (the content CRC) or not. Writes helpers/reference/determinism_study.json,
with the GPU measurement of scripts/gpu_checks.py beside it when benchmarks/results/ holds one.

The "integer" part codes every Kodak image with ``autoencoder.load_integer`` at every quality, decodes
it again with one thread and with the numpy int64 reference (the entropy part; the pixels with one
thread), and records the bytes, PSNR and decode time of the integer and the float codec (for the
BD-rate the conversion costs). ``--integer-only`` keeps the float rows already in the file.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import autoencoder, config, data, latents, metrics  # noqa: E402

OUT = ROOT / "helpers" / "reference" / "determinism_study.json"


def _timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def integer_study(kodak) -> dict:
    rows = []
    for quality in (1, 2, 3, 4):
        integer = autoencoder.load_integer("bmshj2018-hyperprior", quality)
        floating = integer.model
        for name, image in kodak.items():
            check = latents.integer_decode_check(integer, image)
            row = {"quality": quality, "image": name, **check}
            for label, model in (("integer", integer), ("float", floating)):
                stream = autoencoder.compress(model, image)
                decoded, seconds = _timed(lambda m=model, s=stream: autoencoder.decompress(m, s))
                row[label] = {
                    "bytes": len(stream),
                    "psnr": metrics.psnr(image, decoded),
                    "decode_seconds": seconds,
                }
            rows.append(row)
            print(json.dumps(row), flush=True)
    summary = {
        perturbation: {
            "index_flips": sum(r[perturbation]["index_flips"] for r in rows),
            "files_with_other_latents": sum(not r[perturbation]["latents_equal"] for r in rows),
            "pixel_differences": sum(r[perturbation].get("pixel_differences", 0) for r in rows),
            "files": len(rows),
        }
        for perturbation in latents.INTEGER_PERTURBATIONS
    }
    summary["indexes"] = sum(r["indexes"] for r in rows)
    return {
        "model": "autoencoder.load_integer('bmshj2018-hyperprior', q), q = 1..4, all 24 Kodak",
        "summary": summary,
        "rows": rows,
    }


def main() -> None:
    config.set_num_threads(2)
    kodak = data.kodak()
    if "--integer-only" in sys.argv:
        result = json.loads(OUT.read_text())
        result["integer"] = integer_study(kodak)
        OUT.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result["integer"]["summary"], indent=1))
        return
    rows = []
    for quality in (1, 2, 3, 4):
        model = autoencoder.load_pretrained("bmshj2018-hyperprior", quality)
        for name, image in kodak.items():
            row = {"quality": quality, "image": name}
            for perturbation in latents.PERTURBATIONS:
                flips, total = latents.index_flips(model, image, perturbation)
                row[perturbation] = flips
            row["indexes"] = total
            rows.append(row)
            print(json.dumps(row), flush=True)
    summary = {}
    for perturbation in latents.PERTURBATIONS:
        flipped = [r for r in rows if r[perturbation] > 0]
        summary[perturbation] = {
            "files_with_a_flip": len(flipped),
            "files": len(rows),
            "flips": sum(r[perturbation] for r in rows),
            "indexes": sum(r["indexes"] for r in rows),
        }
    result = {
        "command": "WORKBENCH_DATA=../shared/data python scripts/determinism_study.py",
        "machine": config.machine(),
        "model": "shipped bmshj2018-hyperprior, qualities 1-4, all 24 Kodak images",
        "summary": summary,
        "rows": rows,
    }
    gpu = ROOT / "benchmarks" / "results" / "gpu_checks_h200.json"
    if gpu.is_file():
        checks = json.loads(gpu.read_text())
        hyper = [r for r in checks["autoencoder"] if r["model"] == "bmshj2018-hyperprior"]
        result["gpu"] = {
            "device": checks["device"],
            "images": "three 256-pixel scikit-image photos (astronaut, coffee, chelsea) per quality",
            "flips": sum(r["index_flips"] for r in hyper),
            "indexes": sum(r["indexes"] for r in hyper),
            "files_with_a_flip": sum(r["index_flips"] > 0 for r in hyper),
            "files": len(hyper),
            "cpu_to_gpu_decoded": sum(r["cpu->gpu"].startswith("decoded") for r in hyper),
        }
    result["integer"] = integer_study(kodak)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["summary"], indent=1))


if __name__ == "__main__":
    main()
