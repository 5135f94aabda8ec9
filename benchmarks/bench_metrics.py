"""Chapter 2 benchmark: SSIM and MS-SSIM throughput of helpers.metrics against scikit-image and
pytorch-msssim on a batch of Kodak images (ratios printed, not asserted)."""

from __future__ import annotations

import io

import numpy as np
import pytorch_msssim
import skimage.metrics
import torch
from common import best_of
from PIL import Image

from helpers import config, data, images, metrics


def main() -> None:
    pictures = list(data.sample_images(8).values())
    pictures = [images.center_crop(p, 512) for p in pictures]
    distorted = []
    for picture in pictures:
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, "JPEG", quality=30)
        distorted.append(np.asarray(Image.open(buffer)))
    x = torch.cat([images.to_tensor(p, "cpu") for p in pictures])
    y = torch.cat([images.to_tensor(d, "cpu") for d in distorted])
    count = len(pictures)

    def sk_ssim():
        return [
            skimage.metrics.structural_similarity(
                a,
                b,
                channel_axis=-1,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=255,
            )
            for a, b in zip(pictures, distorted, strict=True)
        ]

    rows = [
        (
            "ssim, batch of 8 (float32)",
            best_of(lambda: metrics.ssim(x, y)),
            best_of(sk_ssim),
            best_of(lambda: pytorch_msssim.ssim(x, y, data_range=1.0, size_average=False)),
        ),
        (
            "ms_ssim, batch of 8 (float32)",
            best_of(lambda: metrics.ms_ssim(x, y)),
            None,
            best_of(lambda: pytorch_msssim.ms_ssim(x, y, data_range=1.0, size_average=False)),
        ),
    ]
    print(
        f"\n## SSIM throughput on {count} 512x512 images, {config.set_num_threads()} threads, best of 3"
    )
    print(
        f"{'task':32s} {'ours img/s':>11s} {'skimage img/s':>14s} {'pytorch-msssim':>15s} {'ours/skimage':>13s}"
    )
    for task, ours, skimage_seconds, pytorch_seconds in rows:
        ratio = f"{skimage_seconds / ours:12.1f}x" if skimage_seconds else f"{'-':>13s}"
        sk = f"{count / skimage_seconds:14.1f}" if skimage_seconds else f"{'-':>14s}"
        print(f"{task:32s} {count / ours:11.1f} {sk} {count / pytorch_seconds:15.1f} {ratio}")
    ours = [float(v) for v in metrics.ssim(x.double(), y.double())]
    theirs = sk_ssim()
    print(
        f"largest |ours - skimage| over the batch: {max(abs(a - b) for a, b in zip(ours, theirs, strict=True)):.2e}"
    )


if __name__ == "__main__":
    main()
