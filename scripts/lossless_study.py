"""Chapter 3's lossless comparison on Kodak and the real-file round trips of the shipped PixelCNN.

Writes helpers/reference/lossless_kodak.json: per image, the model's ideal bits per subpixel (one
forward pass), MED, PNG (optimize), WebP lossless and JPEG 2000 lossless with and without its colour
transform; then compress/decompress round trips on Kodak crops with file size, ideal size and times.
The parallel multi-scale codec (helpers.multiscale, issue 19) adds its ideal bits per image and a real
round trip of every whole Kodak image (file bits, encode and decode seconds, bit-exactness).

    WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/lossless_study.py [--multiscale-only]

--multiscale-only keeps the stored PixelCNN and standard-codec columns and (re)measures the multi-scale
codec alone; --codecs NAME [NAME ...] keeps everything stored and (re)measures only those standard lossless
codecs (standard_codecs.LOSSLESS), e.g. --codecs "JPEG XL lossless".
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from helpers import config, data, multiscale, pixelcnn, standard_codecs

OUT = Path(__file__).resolve().parents[1] / "helpers" / "reference" / "lossless_kodak.json"
CROPS = [
    ("kodim23", 32, (200, 300)),
    ("kodim05", 32, (200, 300)),
    ("kodim15", 48, (100, 200)),
    ("kodim20", 64, (300, 400)),
    ("kodim03", 64, (250, 350)),
]


def multiscale_columns(kodak: dict, threads: int = 2) -> tuple[dict, list[dict]]:
    """The multi-scale codec's ideal bits per image and a real whole-image round trip of each, timed
    with ``threads`` torch threads (both cores of the course's machine: the goal is a whole image in
    60 s on it)."""
    config.set_num_threads(threads)
    model = multiscale.load_pretrained("multiscale")
    bits, trips = {}, []
    for name, image in kodak.items():
        bits[name] = round(multiscale.bits_per_subpixel(model, image), 4)
        trip = multiscale.round_trip(model, image)
        trips.append(
            {
                "image": name,
                "file_bits_per_subpixel": round(trip["bits_per_subpixel"], 4),
                "ideal_bits_per_subpixel": bits[name],
                "bit_exact": trip["bit_exact"],
                "encode_seconds": round(trip["encode_seconds"], 2),
                "decode_seconds": round(trip["decode_seconds"], 2),
            }
        )
        print(trips[-1], flush=True)
    return bits, trips


def update_codecs(kodak: dict, codecs: list[str]) -> None:
    """Measure ``codecs`` on every image into the stored study (other columns kept), mean recomputed."""
    stored = json.loads(OUT.read_text())
    for name, image in kodak.items():
        row = standard_codecs.lossless_bits(image, codecs)
        stored["per_image"][name].update({k: round(v, 4) for k, v in row.items()})
        print(name, row, flush=True)
    columns = list(next(iter(stored["per_image"].values())))
    stored["mean"] = {
        c: round(float(np.mean([r[c] for r in stored["per_image"].values()])), 4) for c in columns
    }
    stored["codecs_command"] = (
        "WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/lossless_study.py --codecs "
        + " ".join(f'"{c}"' for c in codecs)
    )
    OUT.write_text(json.dumps(stored, indent=1) + "\n")
    print("mean", stored["mean"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--multiscale-only", action="store_true")
    parser.add_argument(
        "--codecs", nargs="+", help="(re)measure only these standard lossless codecs"
    )
    args = parser.parse_args()
    config.set_num_threads(1)
    kodak = data.kodak()
    if args.codecs:
        update_codecs(kodak, args.codecs)
        return
    if args.multiscale_only:
        stored = json.loads(OUT.read_text())
        per_image, trips = stored["per_image"], stored["round_trips"]
    else:
        model = pixelcnn.load_pretrained("gated")
        per_image = {}
        for name, image in kodak.items():
            with torch.no_grad():
                row = {"model": pixelcnn.bits_per_subpixel(model, image)}
            row["MED"] = pixelcnn.med_bits_per_subpixel(image)
            row.update(standard_codecs.lossless_bits(image))
            per_image[name] = {k: round(v, 4) for k, v in row.items()}
            print(name, per_image[name], flush=True)
        trips = []
        for name, size, (top, left) in CROPS:
            crop = kodak[name][top : top + size, left : left + size]
            started = time.perf_counter()
            stream = pixelcnn.compress(model, crop)
            encode_seconds = time.perf_counter() - started
            started = time.perf_counter()
            decoded = pixelcnn.decompress(model, stream)
            decode_seconds = time.perf_counter() - started
            ideal = pixelcnn.bits_per_subpixel(model, crop) * crop.size
            trips.append(
                {
                    "image": name,
                    "size": size,
                    "top": top,
                    "left": left,
                    "file_bits": 8 * len(stream),
                    "ideal_bits": round(ideal, 1),
                    "overhead": round(8 * len(stream) / ideal - 1, 5),
                    "bit_exact": bool(np.array_equal(decoded, crop)),
                    "encode_seconds": round(encode_seconds, 2),
                    "decode_seconds": round(decode_seconds, 2),
                }
            )
            print(trips[-1], flush=True)
    bits, whole = multiscale_columns(kodak)
    for name in per_image:
        per_image[name]["multiscale"] = bits[name]
    columns = list(next(iter(per_image.values())))
    mean = {c: round(float(np.mean([r[c] for r in per_image.values()])), 4) for c in columns}
    summary = {
        "mean_file_bits_per_subpixel": round(
            float(np.mean([t["file_bits_per_subpixel"] for t in whole])), 4
        ),
        "all_bit_exact": all(t["bit_exact"] for t in whole),
        "max_encode_seconds": max(t["encode_seconds"] for t in whole),
        "max_decode_seconds": max(t["decode_seconds"] for t in whole),
        "mean_decode_seconds": round(float(np.mean([t["decode_seconds"] for t in whole])), 2),
    }
    OUT.write_text(
        json.dumps(
            {
                "command": "WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/lossless_study.py",
                "note": "bits per subpixel on all 24 Kodak images (768x512 RGB); 'model' is the shipped gated "
                "PixelCNN's ideal code length (one forward pass), 'multiscale' the parallel codec's "
                "(helpers.multiscale); round trips are real files: PixelCNN on crops (its decoder "
                "makes one pass per subpixel), timed on one CPU thread; the multi-scale codec on every "
                "whole image, timed with two threads (the machine's two cores)",
                "mean": mean,
                "per_image": per_image,
                "round_trips": trips,
                "multiscale_round_trips": whole,
                "multiscale_round_trips_summary": summary,
            },
            indent=1,
        )
        + "\n"
    )
    print("mean", mean, summary)


if __name__ == "__main__":
    main()
