"""Chapter 1 benchmark: our JPEG against Pillow (libjpeg-turbo) on Kodak.

Prints (not asserts): encode and decode megapixels per second, the widget's update time on a
512x512 crop, the conformance sweep of issue 3 (sizes, PSNR, byte identity) and the decoder's
worst time on damaged files.
"""

from __future__ import annotations

import io
import time

import numpy as np
from common import best_of
from PIL import Image

from helpers import config, data, images, jpeg, metrics, widgets

SUBSAMPLING = {"4:2:0": 2, "4:4:4": 0}


def pillow_encode(picture, quality, subsampling, optimize=False) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(
        buffer, "JPEG", quality=quality, subsampling=SUBSAMPLING[subsampling], optimize=optimize
    )
    return buffer.getvalue()


def pillow_decode(payload: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(payload)).convert("RGB"))


def speed(pictures: dict[str, np.ndarray]) -> None:
    megapixels = sum(p.shape[0] * p.shape[1] for p in pictures.values()) / 1e6
    files = {n: jpeg.encode(p, 75) for n, p in pictures.items()}
    rows = [
        (
            "encode q75 4:2:0",
            best_of(lambda: [jpeg.encode(p, 75) for p in pictures.values()]),
            best_of(lambda: [pillow_encode(p, 75, "4:2:0") for p in pictures.values()]),
        ),
        (
            "encode q75 optimize",
            best_of(lambda: [jpeg.encode(p, 75, optimize=True) for p in pictures.values()]),
            best_of(lambda: [pillow_encode(p, 75, "4:2:0", True) for p in pictures.values()]),
        ),
        (
            "decode q75 4:2:0",
            best_of(lambda: [jpeg.decode(f) for f in files.values()]),
            best_of(lambda: [pillow_decode(f) for f in files.values()]),
        ),
    ]
    print(
        f"\n## Speed on {len(pictures)} images ({megapixels:.2f} MP), best of 3, {config.set_num_threads()} threads"
    )
    print(f"{'task':24s} {'ours MP/s':>10s} {'Pillow MP/s':>12s} {'Pillow/ours':>12s}")
    for task, ours, theirs in rows:
        print(
            f"{task:24s} {megapixels / ours:10.2f} {megapixels / theirs:12.1f} {ours / theirs:12.0f}x"
        )


def widget_update(picture: np.ndarray) -> None:
    crop = images.center_crop(picture, 512)
    box = widgets.jpeg_explorer(crop)
    timings = {}
    for view in ("decoded", "bits per block", "error x10"):
        box.controls["view"].value = view
        samples = []
        for quality in (20, 50, 80):
            start = time.perf_counter()
            box.controls["quality"].value = quality
            samples.append(time.perf_counter() - start)
        timings[view] = np.median(samples)
    encode_only = best_of(lambda: jpeg.analyze(crop, 50))
    print("\n## Widget update on a 512x512 crop (re-encode, decode, draw to PNG), median of 3")
    for view, seconds in timings.items():
        print(f"{view:16s} {1000 * seconds:6.0f} ms   (goal <= 300 ms)")
    print(f"{'analyze only':16s} {1000 * encode_only:6.0f} ms")


def conformance(pictures: dict[str, np.ndarray]) -> None:
    worst_size = worst_psnr = worst_optimized = 0.0
    identical = total = 0
    for picture in pictures.values():
        for subsampling in SUBSAMPLING:
            for quality in (10, 30, 50, 75, 90):
                ours = jpeg.encode(picture, quality, subsampling)
                theirs = pillow_encode(picture, quality, subsampling)
                worst_size = max(worst_size, abs(len(ours) / len(theirs) - 1))
                difference = metrics.psnr(picture, pillow_decode(ours)) - metrics.psnr(
                    picture, pillow_decode(theirs)
                )
                worst_psnr = max(worst_psnr, abs(difference))
                optimized = jpeg.encode(picture, quality, subsampling, optimize=True)
                worst_optimized = max(
                    worst_optimized,
                    len(optimized) / len(pillow_encode(picture, quality, subsampling, True)) - 1,
                )
                identical += (ours == theirs) + (
                    optimized == pillow_encode(picture, quality, subsampling, True)
                )
                total += 2
    print(f"\n## Conformance on {len(pictures)} images x 5 qualities x 2 subsamplings")
    print(f"byte-identical to Pillow: {identical} of {total} files")
    print(
        f"worst size difference {worst_size:.3%} (goal <= 2 %); worst PSNR difference {worst_psnr:.4f} dB "
        f"(goal <= 0.1); optimize=True worst excess {worst_optimized:.3%} (goal <= 2 %)"
    )


def damaged_files(picture: np.ndarray, cases: int = 500) -> None:
    rng = np.random.default_rng(0)
    source = jpeg.encode(images.center_crop(picture, 128), 50)
    worst = 0.0
    for case in range(cases):
        payload = bytearray(source)
        if case % 2:
            payload = payload[: rng.integers(0, len(payload))]
        else:
            payload[rng.integers(0, len(payload))] ^= 1 << rng.integers(0, 8)
        start = time.perf_counter()
        try:
            jpeg.decode(bytes(payload))
        except jpeg.JPEGError:
            pass
        worst = max(worst, time.perf_counter() - start)
    print(
        f"\n## {cases} damaged 128x128 files: slowest decode {1000 * worst:.0f} ms (goal <= 2000 ms)"
    )


def main() -> None:
    pictures = data.sample_images(4 if config.FAST else 24)
    speed(dict(list(pictures.items())[:4]))
    widget_update(next(iter(pictures.values())))
    conformance(pictures)
    damaged_files(next(iter(pictures.values())))


if __name__ == "__main__":
    main()
