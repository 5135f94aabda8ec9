"""Chapters 3-5 benchmark: how fast the learned codecs and filters run on this machine (printed, not
asserted): PixelCNN encode/decode against image size, autoencoder compress/decompress on a Kodak image,
filters on a Kodak image, and the toy video codec on Foreman."""

from __future__ import annotations

import torch
from common import best_of

from helpers import autoencoder, config, data, filters, jpeg, pixelcnn, video


def main() -> None:
    print(f"torch threads: {torch.get_num_threads()}, device: {config.device()}")
    photo = data.kodak(names=["kodim23"])["kodim23"]

    print(
        "\nPixelCNN (shipped gated model): one pass per row to encode, one per subpixel to decode"
    )
    print(f"{'crop':>6s} {'encode s':>9s} {'decode s':>9s} {'ms/pixel':>9s}")
    model = pixelcnn.load_pretrained("gated")
    for side in (8, 16, 24):
        crop = photo[200 : 200 + side, 300 : 300 + side]
        stream = pixelcnn.compress(model, crop)
        encode = best_of(lambda crop=crop: pixelcnn.compress(model, crop), 2)
        decode = best_of(lambda s=stream, c=crop: pixelcnn.decompress(model, s), 1)
        print(f"{side:>4d}^2 {encode:9.2f} {decode:9.2f} {1000 * decode / side**2:9.1f}")

    print("\nAutoencoders on kodim23 (768x512), quality 3: real bytes")
    for name in ("bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean"):
        net = autoencoder.load_pretrained(name, 3)
        stream = autoencoder.compress(net, photo)
        encode = best_of(lambda net=net: autoencoder.compress(net, photo), 2)
        decode = best_of(lambda net=net, s=stream: autoencoder.decompress(net, s), 2)
        print(
            f"{name:22s} compress {encode:5.2f} s  decompress {decode:5.2f} s  "
            f"({8 * len(stream) / (768 * 512):.3f} bpp)"
        )

    print("\nFilters on kodim23 (768x512) coded at quality 10")
    decoded, _ = jpeg.round_trip(photo, 10)
    candidates = {
        "deblock (numpy)": "deblock",
        "ARCNN (untrained)": filters.build_model("arcnn"),
        "DnCNN (untrained)": filters.build_model("dncnn"),
    }
    try:
        candidates["conditioned (shipped)"] = filters.load_pretrained("conditioned")
    except FileNotFoundError:
        candidates["conditioned (untrained)"] = filters.build_model("conditioned")
    for label, net in candidates.items():
        run = (
            (lambda: filters.deblock(decoded, 10))
            if net == "deblock"
            else (lambda net=net: filters.apply(net, decoded, 10))
        )
        seconds = best_of(run, 2)
        print(f"{label:24s} {seconds:6.2f} s  ({0.393 / seconds:5.2f} megapixels/s)")

    print("\nToy video codec, Foreman QCIF luma, 10 frames, quality 20")
    frames = data.foreman_qcif(10)["y"]
    for label, loop_filter, mode in [
        ("no filter", None, "none"),
        ("deblock in-loop", "deblock", "in-loop"),
        ("learned in-loop", "conditioned", "in-loop"),
    ]:
        encoded = video.encode(frames, 20, loop_filter, mode)
        encode = best_of(lambda f=loop_filter, m=mode: video.encode(frames, 20, f, m), 1)
        decode = best_of(lambda e=encoded: video.decode(e), 1)
        print(f"{label:18s} encode {10 / encode:6.1f} frames/s  decode {10 / decode:6.1f} frames/s")


if __name__ == "__main__":
    main()
