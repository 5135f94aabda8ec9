"""Chapter 3 benchmark: the parallel (multi-scale) lossless codec on whole Kodak images, beside the
PixelCNN (its anchor) and PNG / WebP lossless: bits per subpixel of real files, encode and decode
seconds, bit-exactness. Goals (issue 19): a whole Kodak image in <= 60 s each way on this CPU, a mean
<= 3.7 bits per subpixel (stretch: below WebP lossless). FAST=1 runs 2 images; the full run all 24.

The PixelCNN decodes one subpixel per network pass: its whole-image decode time is one pass on the
full-width window of rows it needs (timed here) times the number of subpixels, since a real decode takes
about a day."""

from __future__ import annotations

import os

import numpy as np
import torch
from common import best_of

from helpers import config, data, multiscale, pixelcnn, standard_codecs


def main() -> None:
    threads = config.set_num_threads()
    fast = os.environ.get("FAST", "0") == "1"
    names = ["kodim05", "kodim23"] if fast else None
    kodak = data.kodak(names=names)
    model = multiscale.load_pretrained("multiscale")
    rows = []
    for name, image in kodak.items():
        trip = multiscale.round_trip(model, image)
        standard = standard_codecs.lossless_bits(image, ["PNG", "WebP lossless"])
        rows.append(
            {
                "image": name,
                "bpsp": trip["bits_per_subpixel"],
                "encode_s": trip["encode_seconds"],
                "decode_s": trip["decode_seconds"],
                "exact": trip["bit_exact"],
                **standard,
            }
        )
    print(
        f"\n## Parallel lossless codec on {len(rows)} whole Kodak images (768 x 512), {threads} threads"
    )
    print(
        f"{'image':9s} {'bpsp':>6s} {'PNG':>6s} {'WebP':>6s} {'encode s':>9s} {'decode s':>9s} exact"
    )
    for r in rows:
        print(
            f"{r['image']:9s} {r['bpsp']:6.3f} {r['PNG']:6.3f} {r['WebP lossless']:6.3f} "
            f"{r['encode_s']:9.1f} {r['decode_s']:9.1f} {r['exact']}"
        )
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("bpsp", "PNG", "WebP lossless")}
    print(
        f"{'mean':9s} {mean['bpsp']:6.3f} {mean['PNG']:6.3f} {mean['WebP lossless']:6.3f} "
        f"{max(r['encode_s'] for r in rows):9.1f} {max(r['decode_s'] for r in rows):9.1f} (max times)"
    )
    anchor = pixelcnn.load_pretrained("gated")
    with torch.no_grad():
        bits = float(np.mean([pixelcnn.bits_per_subpixel(anchor, i) for i in kodak.values()]))
        # its decoder runs one pass per subpixel on the full-width rows its receptive field needs
        window = torch.rand(1, 3, pixelcnn.receptive_field(anchor)[0] + 1, 768)
        anchor(window)  # warm-up
        pass_seconds = best_of(lambda: anchor(window), 5)
    hours = pass_seconds * 768 * 512 * 3 / 3600
    print(
        f"anchor: PixelCNN {bits:.3f} bits per subpixel (ideal) on the same images; one decoder pass "
        f"{1000 * pass_seconds:.0f} ms x 1,179,648 passes: about {hours:.0f} hours for a whole Kodak image"
    )


if __name__ == "__main__":
    main()
