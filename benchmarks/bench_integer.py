"""Integer decoders (chapter 4, section 10): decode time of each learned coder's float and integer forms
on this machine, on the same inputs (printed, not asserted). The issue's goal: no more than 1.5x slower."""

from __future__ import annotations

import torch
from common import best_of

from helpers import autoencoder, config, data, pixelcnn, video


def main() -> None:
    print(f"torch threads: {torch.get_num_threads()}, device: {config.device()}")
    photo = data.kodak(names=["kodim23"])["kodim23"]
    print(f"\n{'coder':44s} {'float s':>8s} {'integer s':>10s} {'ratio':>6s}")

    integer = autoencoder.load_integer("bmshj2018-hyperprior", 3)
    times = []
    for model in (integer.model, integer):
        stream = autoencoder.compress(model, photo)
        times.append(best_of(lambda m=model, s=stream: autoencoder.decompress(m, s), 3))
    print(
        f"{'hyperprior q3, kodim23 (768x512)':44s} {times[0]:8.2f} {times[1]:10.2f} {times[1] / times[0]:6.2f}"
    )

    integer_h_s_only = []  # what the rate determinism alone costs: the entropy part, g_s left out
    for model in (integer.model, integer):
        stream = autoencoder.compress(model, photo)
        integer_h_s_only.append(
            best_of(lambda m=model, s=stream: autoencoder.decode_latents(m, s), 3)
        )
    a, b = integer_h_s_only
    print(f"{'  entropy decoding only (h_s, no g_s)':44s} {a:8.2f} {b:10.2f} {b / a:6.2f}")

    lossless = pixelcnn.load_integer("gated")
    crop = photo[200:206, 300:306]
    times = []
    for model in (lossless.model, lossless):
        stream = pixelcnn.compress(model, crop)
        times.append(best_of(lambda m=model, s=stream: pixelcnn.decompress(m, s), 1))
    print(
        f"{'PixelCNN, 6x6 crop (108 passes)':44s} {times[0]:8.2f} {times[1]:10.2f} {times[1] / times[0]:6.2f}"
    )

    frames = data.foreman_qcif(10)["y"]
    times = []
    for name in ("conditioned", "conditioned-int"):
        stream = video.encode(frames, 20, name, "in-loop")
        times.append(best_of(lambda s=stream: video.decode(s), 2))
    print(
        f"{'toy video codec, Foreman 10 frames, q20':44s} {times[0]:8.2f} {times[1]:10.2f} {times[1] / times[0]:6.2f}"
    )


if __name__ == "__main__":
    main()
