"""Chapter 8 benchmark: the time from bytes to logits of each path, one 224 x 224 photo at a time
(printed, not asserted): JPEG decode then classify, the DCT adapter (entropy decoding only), the
hyperprior decoded then classified, and the latent adapter (no g_s); and the exact conversion of the
digits network."""

from __future__ import annotations

import io

import numpy as np
import torch
from common import best_of
from PIL import Image

from helpers import autoencoder, cam, config
from helpers import compressed_domain as cd


def main() -> None:
    print(
        f"torch threads: {torch.get_num_threads()}, device: {config.device()}, {config.machine()}"
    )
    photos = [p for p, _ in cd.held_out_photos(10)]
    lite0 = cam.load_classifier("efficientnet-lite0")
    dct = cd.load_pretrained("dct-lite0")
    latent = cd.load_pretrained("latent-lite0")
    codec = autoencoder.load_pretrained("bmshj2018-hyperprior", 4)
    files = {"jpeg": [], "hyperprior": [autoencoder.compress(codec, p) for p in photos]}
    for photo in photos:
        buffer = io.BytesIO()
        Image.fromarray(photo).save(buffer, "JPEG", quality=75, subsampling=2)
        files["jpeg"].append(buffer.getvalue())
    paths = cd.bytes_to_logits_paths(lite0, dct, latent, codec)
    print("\nbytes -> logits, mean over 10 held-out photos (best of 3 each)")
    for label, (function, kind) in paths.items():
        inputs = files[kind]
        function(inputs[0])
        seconds = np.mean([best_of(lambda x=x, f=function: f(x), 3) for x in inputs])
        print(f"{label:40s} {1000 * seconds:7.1f} ms")

    net = cd.load_pretrained("digits-resnet").to("cpu")
    seconds = best_of(lambda: cd.convert(net), 1)
    print(f"\nexact conversion of the digits ResNet into the DCT domain: {seconds:.1f} s")


if __name__ == "__main__":
    main()
