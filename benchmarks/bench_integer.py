"""Integer decoders (chapter 4, section 10): decode time of each learned coder's float and integer forms
on this machine, on the same inputs (printed, not asserted). The issue's goal: no more than 1.5x slower.
``scripts/integer_study.py timing`` stores the same measurement in helpers/reference/integer_study.json."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of  # noqa: E402

from helpers import autoencoder, config, data, pixelcnn, video  # noqa: E402


def measure() -> dict[str, dict[str, float]]:
    """{coder: {"float": seconds, "integer": seconds}}, best of a few decodes each."""
    photo = data.kodak(names=["kodim23"])["kodim23"]
    rows = {}
    integer = autoencoder.load_integer("bmshj2018-hyperprior", 3)
    for label, decode in (
        ("hyperprior q3, kodim23 (768x512)", autoencoder.decompress),
        ("  entropy decoding only (h_s, no g_s)", autoencoder.decode_latents),
    ):
        times = {}
        for kind, model in (("float", integer.model), ("integer", integer)):
            stream = autoencoder.compress(model, photo)
            times[kind] = best_of(lambda m=model, s=stream, d=decode: d(m, s), 3)
        rows[label] = times
    lossless = pixelcnn.load_integer("gated")
    crop = photo[200:206, 300:306]
    times = {}
    for kind, model in (("float", lossless.model), ("integer", lossless)):
        stream = pixelcnn.compress(model, crop)
        times[kind] = best_of(lambda m=model, s=stream: pixelcnn.decompress(m, s), 2)
    rows["PixelCNN, 6x6 crop (108 passes)"] = times
    frames = data.foreman_qcif(10)["y"]
    times = {}
    for kind, name in (("float", "conditioned"), ("integer", "conditioned-int")):
        stream = video.encode(frames, 20, name, "in-loop")
        times[kind] = best_of(lambda s=stream: video.decode(s), 2)
    rows["toy video codec, Foreman 10 frames, q20"] = times
    return rows


def main() -> None:
    print(f"torch threads: {torch.get_num_threads()}, device: {config.device()}")
    print(f"\n{'coder':44s} {'float s':>8s} {'integer s':>10s} {'ratio':>6s}")
    for label, times in measure().items():
        ratio = times["integer"] / times["float"]
        print(f"{label:44s} {times['float']:8.2f} {times['integer']:10.2f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
