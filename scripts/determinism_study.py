"""How often a perturbed hyper-synthesis changes the hyperprior's scale indexes (chapter 4, section 9).

    WORKBENCH_DATA=../shared/data python scripts/determinism_study.py

For every Kodak image and every shipped hyperprior quality: the scale indexes the encoder used against
those a decoder computes with one thread, in float64, or with every scale nudged by a relative 1e-6; and
whether the file then decodes (the content CRC) or not. Writes helpers/reference/determinism_study.json,
with the GPU measurement of scripts/gpu_checks.py beside it when benchmarks/results/ holds one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import autoencoder, config, data, latents  # noqa: E402


def main() -> None:
    config.set_num_threads(2)
    kodak = data.kodak()
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
    out = ROOT / "helpers" / "reference" / "determinism_study.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["summary"], indent=1))


if __name__ == "__main__":
    main()
