"""Chapter 3's lossless comparison on Kodak and the real-file round trips of the shipped PixelCNN.

Writes helpers/reference/lossless_kodak.json: per image, the model's ideal bits per subpixel (one
forward pass), MED, PNG (optimize), WebP lossless and JPEG 2000 lossless with and without its colour
transform; then compress/decompress round trips on Kodak crops with file size, ideal size and times.

    WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/lossless_study.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from helpers import config, data, pixelcnn, standard_codecs

OUT = Path(__file__).resolve().parents[1] / "helpers" / "reference" / "lossless_kodak.json"
CROPS = [("kodim23", 32, (200, 300)), ("kodim05", 32, (200, 300)), ("kodim15", 48, (100, 200)),
         ("kodim20", 64, (300, 400)), ("kodim03", 64, (250, 350))]  # fmt: skip


def main() -> None:
    config.set_num_threads(1)
    model = pixelcnn.load_pretrained("gated")
    kodak = data.kodak()
    per_image = {}
    for name, image in kodak.items():
        with torch.no_grad():
            row = {"model": pixelcnn.bits_per_subpixel(model, image)}
        row["MED"] = pixelcnn.med_bits_per_subpixel(image)
        row.update(standard_codecs.lossless_bits(image))
        per_image[name] = {k: round(v, 4) for k, v in row.items()}
        print(name, per_image[name], flush=True)
    columns = list(next(iter(per_image.values())))
    mean = {c: round(float(np.mean([r[c] for r in per_image.values()])), 4) for c in columns}
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
        trips.append({"image": name, "size": size, "top": top, "left": left,
                      "file_bits": 8 * len(stream), "ideal_bits": round(ideal, 1),
                      "overhead": round(8 * len(stream) / ideal - 1, 5),
                      "bit_exact": bool(np.array_equal(decoded, crop)),
                      "encode_seconds": round(encode_seconds, 2),
                      "decode_seconds": round(decode_seconds, 2)})  # fmt: skip
        print(trips[-1], flush=True)
    OUT.write_text(json.dumps({
        "command": "WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/lossless_study.py",
        "note": "bits per subpixel on all 24 Kodak images (768x512 RGB); 'model' is the shipped gated "
                "PixelCNN's ideal code length (one forward pass); round trips are real files from "
                "pixelcnn.compress, timed on one CPU thread of this machine",
        "mean": mean, "per_image": per_image, "round_trips": trips,
    }, indent=1) + "\n")  # fmt: skip
    print("mean", mean)


if __name__ == "__main__":
    main()
