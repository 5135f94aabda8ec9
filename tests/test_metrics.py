import math

import numpy as np
import pytest
import skimage.metrics
import torch

from helpers import metrics


def test_mse_and_psnr_match_scikit_image():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-9, 10, a.shape), 0, 255).astype(np.uint8)
    assert metrics.mse(a, b) == pytest.approx(skimage.metrics.mean_squared_error(a, b))
    assert metrics.psnr(a, b) == pytest.approx(
        skimage.metrics.peak_signal_noise_ratio(a, b, data_range=255)
    )
    assert metrics.psnr(a, a) == math.inf
    tensor_a = torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255
    assert metrics.psnr(tensor_a, b) == pytest.approx(metrics.psnr(a, b))


def test_metrics_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        metrics.mse(np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError):
        metrics.psnr(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8), data_range=0)
    with pytest.raises(ValueError):
        metrics.bpp(-1, 4, 4)
    with pytest.raises(ValueError):
        metrics.bpp(10, 0, 4)


def test_bpp():
    assert metrics.bpp(1000, 100, 80) == 1.0
    assert metrics.bpp(b"\x00" * 1000, 100, 80) == 1.0
