"""Chapter 6 benchmark: how long CAM maps and ROI coding take on this machine (printed, not asserted):
each CAM method on a Kodak image, each ROI coder hitting the size of Pillow JPEG q50, the classifier in
the encoder's loop, and the learned codec's latent-step ROI."""

from __future__ import annotations

import torch
from common import best_of

from helpers import autoencoder, cam, config, data, roi


def main() -> None:
    print(f"torch threads: {torch.get_num_threads()}, device: {config.device()}")
    photo = data.kodak(names=["kodim23"])["kodim23"]
    classifier = cam.load_classifier("efficientnet-lite0")

    print("\nCAM methods on kodim23 (768x512; the classifier sees 336x224), top-1 class")
    for method in cam.METHODS:
        repeats = 1 if method == "scorecam" else 3
        seconds = best_of(lambda m=method: cam.cam_map(classifier, photo, m), repeats)
        print(f"{method:10s} {seconds:6.2f} s")

    heat = cam.cam_map(classifier, photo, "gradcam", top_k=3)
    budget = len(roi.uniform_jpeg(photo, 50))
    print(
        f"\nROI coders on kodim23 at the size of Pillow JPEG q50 ({budget} bytes), size search included"
    )
    coders = {
        "uniform JPEG, fractional quality": lambda: roi.uniform_for_size(photo, budget),
        "single (quality map 20..80)": lambda: roi.encode(
            photo, heat, mode="single", target_bytes=budget, q_start=20, q_end=80
        ),
        "rdo (base 75, floor 0.2)": lambda: roi.encode(
            photo, heat, mode="rdo", target_bytes=budget, base_quality=75, weight_floor=0.2
        ),
        "composite (MSROI)": lambda: roi.encode(
            photo, heat, mode="composite", target_bytes=budget, q_start=20, q_end=80
        ),
        "classifier in the loop": lambda: roi.encode_keeping_decision(
            photo, heat, classifier, budget
        ),
    }
    for label, run in coders.items():
        print(f"{label:34s} {best_of(run, 1):6.2f} s")

    model = autoencoder.load_pretrained("bmshj2018-hyperprior", 4)
    plain = autoencoder.compress(autoencoder.load_pretrained("bmshj2018-hyperprior", 3), photo)
    print(
        f"\nLearned ROI (hyperprior quality 4, strength 2) at the size of quality 3's file ({len(plain)} B)"
    )
    once = best_of(lambda: roi.learned.compress(model, photo, heat, 2.0), 2)
    sized = best_of(lambda: roi.learned.compress_for_size(model, photo, heat, len(plain), 2.0), 1)
    stream = roi.learned.compress_for_size(model, photo, heat, len(plain), 2.0)
    decode = best_of(lambda: roi.learned.decompress(model, stream), 2)
    print(
        f"one compress {once:5.2f} s, with the size search {sized:5.2f} s, decompress {decode:5.2f} s"
    )


if __name__ == "__main__":
    main()
