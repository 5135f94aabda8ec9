"""Chapter 2 benchmark: SSIM and MS-SSIM speed of helpers.metrics against scikit-image and
pytorch-msssim, in the same process on the same inputs (ratios printed, not asserted).

Issue 19's goal: SSIM on a Kodak image (RGB and luma) and on a batch of 512 x 512 crops at >= 3x
scikit-image's speed and >= 1.5x pytorch-msssim's. scikit-image (float64, one thread, scipy.ndimage) is
called the way the course's oracle test calls it (Gaussian weights, sigma 1.5, population covariance)."""

from __future__ import annotations

import io

import numpy as np
import pytorch_msssim
import skimage.metrics
import torch
from common import best_of
from PIL import Image

from helpers import config, data, images, metrics


def _jpeg(picture: np.ndarray, quality: int = 30) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer))


def _luma(picture: np.ndarray) -> np.ndarray:
    return (
        np.round(picture.astype(np.float64) @ [0.299, 0.587, 0.114]).clip(0, 255).astype(np.uint8)
    )


def _skimage(a: np.ndarray, b: np.ndarray) -> float:
    return skimage.metrics.structural_similarity(
        a,
        b,
        channel_axis=-1 if a.ndim == 3 else None,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )


def _tensor(pictures: list[np.ndarray]) -> torch.Tensor:
    return torch.cat([images.to_tensor(p, "cpu") for p in pictures])


def main() -> None:
    kodak = data.kodak(names=["kodim23"])["kodim23"]
    kodak_jpeg = _jpeg(kodak)
    crops = [images.center_crop(p, 512) for p in data.sample_images(8).values()]
    crops_jpeg = [_jpeg(c) for c in crops]
    cases = [  # (task, reference arrays, distorted arrays)
        ("Kodak 768x512 RGB", [kodak], [kodak_jpeg]),
        ("Kodak 768x512 luma", [_luma(kodak)], [_luma(kodak_jpeg)]),
        ("8 crops 512x512 RGB", crops, crops_jpeg),
    ]
    threads = config.set_num_threads()
    print(f"\n## SSIM speed, {threads} threads, float32, best of 3 (images per second)")
    print(
        f"{'task':22s} {'ours':>7s} {'skimage':>8s} {'pt-msssim':>10s} {'vs skimage':>11s} {'vs pt-msssim':>13s}"
    )
    worst = {"skimage": np.inf, "pytorch-msssim": np.inf}
    for task, references, distorted in cases:
        x, y = _tensor(references), _tensor(distorted)
        count = len(references)
        pairs = list(zip(references, distorted, strict=True))
        if count == 1:  # one image: arrays in, a float out (what a student calls)
            ours = best_of(lambda a=references[0], b=distorted[0]: metrics.ssim(a, b))
        else:
            ours = best_of(lambda x=x, y=y: metrics.ssim(x, y))
        sk = best_of(lambda pairs=pairs: [_skimage(a, b) for a, b in pairs])
        pt = best_of(lambda x=x, y=y: pytorch_msssim.ssim(x, y, data_range=1.0, size_average=False))
        worst["skimage"] = min(worst["skimage"], sk / ours)
        worst["pytorch-msssim"] = min(worst["pytorch-msssim"], pt / ours)
        print(
            f"{task:22s} {count / ours:7.1f} {count / sk:8.1f} {count / pt:10.1f} {sk / ours:10.1f}x "
            f"{pt / ours:12.1f}x"
        )
        ours_values = metrics.ssim(x.double(), y.double()).tolist()
        theirs = [_skimage(a, b) for a, b in zip(references, distorted, strict=True)]
        gap = max(abs(a - b) for a, b in zip(ours_values, theirs, strict=True))
        assert gap < 1e-6, f"{task}: ours and scikit-image differ by {gap}"
    x, y = _tensor(crops), _tensor(crops_jpeg)
    ours = best_of(lambda: metrics.ms_ssim(x, y))
    pt = best_of(lambda: pytorch_msssim.ms_ssim(x, y, data_range=1.0, size_average=False))
    print(
        f"{'ms_ssim 8 crops RGB':22s} {8 / ours:7.1f} {'-':>8s} {8 / pt:10.1f} {'-':>11s} {pt / ours:12.1f}x"
    )
    print(
        f"slowest ratio over the SSIM tasks: {worst['skimage']:.1f}x scikit-image (goal 3x), "
        f"{worst['pytorch-msssim']:.1f}x pytorch-msssim (goal 1.5x); ours agrees with scikit-image "
        f"to 1e-6 in float64"
    )


if __name__ == "__main__":
    main()
