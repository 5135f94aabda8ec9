"""Quality and rate metrics: MSE, PSNR (RGB, Y, per channel), SSIM and MS-SSIM (batched torch,
differentiable, with maps), bits per pixel, Bjøntegaard deltas, data-set R-D averaging and bootstrap
intervals for results measured on a sample of photos.

Tensor inputs are float (B, C, H, W) in [0, 1] and give tensors back (one value per image);
uint8 arrays / PIL images give Python floats. SSIM is computed on [0, 1] with data_range 1, which
is the same number as on 0..255 with data_range 255.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import images

__all__ = [
    "mse",
    "psnr",
    "psnr_from_mse",
    "weighted_psnr",
    "weighted_ssim",
    "bpp",
    "bpp_from_likelihoods",
    "gaussian_window",
    "ssim",
    "ssim_map",
    "ms_ssim",
    "MS_SSIM_WEIGHTS",
    "bd_rate",
    "bd_psnr",
    "average_rd",
    "vifp",
    "psnr_hvs_m",
    "Interval",
    "bootstrap_interval",
]

#: Wang, Simoncelli, Bovik (2003): weights of the five scales of MS-SSIM.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _pair(reference, distorted) -> tuple[np.ndarray, np.ndarray]:
    a = (
        images.to_uint8(reference)
        if isinstance(reference, torch.Tensor)
        else images.as_uint8(reference, "reference")
    )
    b = (
        images.to_uint8(distorted)
        if isinstance(distorted, torch.Tensor)
        else images.as_uint8(distorted, "distorted")
    )
    if a.shape != b.shape:
        raise ValueError(
            f"reference {a.shape} and distorted {b.shape} images must have the same shape"
        )
    return a.astype(np.float64), b.astype(np.float64)


def mse(reference, distorted) -> float:
    """Mean squared error over all pixels and channels, on the 0..255 scale (uint8 images or [0, 1] tensors)."""
    a, b = _pair(reference, distorted)
    return float(np.mean((a - b) ** 2))


def psnr(reference, distorted, data_range: float = 255.0, on: str = "rgb") -> float | list[float]:
    """PSNR in dB = 10 log10(data_range^2 / MSE) on the 0..255 scale; inf for identical images.

    on: 'rgb' (all channels, CompressAI's protocol), 'y' (JFIF luma, unrounded) or 'channels'
    (a list, one PSNR per channel).
    """
    if not data_range > 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    if on not in ("rgb", "y", "channels"):
        raise ValueError(f"on must be 'rgb', 'y' or 'channels', got {on!r}")
    a, b = _pair(reference, distorted)

    def from_error(error: float) -> float:
        return psnr_from_mse(error, data_range)

    if on == "rgb":
        return from_error(float(np.mean((a - b) ** 2)))
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    if on == "channels":
        return [from_error(float(np.mean((a[..., c] - b[..., c]) ** 2))) for c in range(a.shape[2])]
    if a.shape[2] != 3:
        raise ValueError("on='y' needs RGB images")
    luma_a = images.rgb_to_ycbcr(a)[..., 0]
    luma_b = images.rgb_to_ycbcr(b)[..., 0]
    return from_error(float(np.mean((luma_a - luma_b) ** 2)))


def psnr_from_mse(mse: float, data_range: float = 255.0) -> float:
    """10 log10(data_range^2 / mse) in dB; inf for a zero error (identical images)."""
    if mse < 0 or not math.isfinite(mse):
        raise ValueError(f"mse must be finite and >= 0, got {mse}")
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


def weighted_psnr(reference, distorted, weights) -> float:
    """PSNR of the weight-averaged squared error over pixels (channels averaged), in dB.

    weights: (H, W), >= 0, not all zero; e.g. a ROI map (inside) or 1 - map (outside), or a 0/1 mask.
    """
    a, b = _pair(reference, distorted)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != a.shape[:2]:
        raise ValueError(f"weights {w.shape} must match the image {a.shape[:2]}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be finite, >= 0 and not all zero")
    error = (a - b) ** 2
    error = error.mean(axis=2) if error.ndim == 3 else error
    return psnr_from_mse(float((w * error).sum() / w.sum()))


def weighted_ssim(reference, distorted, weights) -> float:
    """The SSIM map averaged with weights (H, W); the map is 10 pixels smaller, the weights are cropped."""
    local = ssim_map(reference, distorted)
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] < local.shape[0] or w.shape[1] < local.shape[1]:
        raise ValueError(f"weights must be the image's (H, W), got {w.shape}")
    border = (w.shape[0] - local.shape[0]) // 2
    w = w[border : border + local.shape[0], border : border + local.shape[1]]
    if w.sum() <= 0:
        raise ValueError("weights sum to zero")
    return float((w * local).sum() / w.sum())


def bpp(num_bytes: int | bytes, height: int, width: int) -> float:
    """Bits per pixel of a file of num_bytes (or the bytes themselves) for an image of height x width."""
    size = len(num_bytes) if isinstance(num_bytes, (bytes, bytearray)) else num_bytes
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"num_bytes must be a non-negative int or bytes, got {num_bytes!r}")
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be positive, got {height} x {width}")
    return 8.0 * size / (height * width)


def bpp_from_likelihoods(
    likelihoods: Mapping[str, torch.Tensor] | Iterable[torch.Tensor], height: int, width: int
) -> torch.Tensor:
    """Estimated bits per pixel, sum(-log2 p) / (H W), of a codec's likelihoods (per image in the batch).

    Shapes: each likelihood tensor is (B, ...); returns (B,).
    """
    tensors = list(likelihoods.values()) if isinstance(likelihoods, Mapping) else list(likelihoods)
    if not tensors:
        raise ValueError("bpp_from_likelihoods needs at least one likelihood tensor")
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be positive, got {height} x {width}")
    total = sum(-torch.log2(t).reshape(t.shape[0], -1).sum(dim=1) for t in tensors)
    return total / (height * width)


# ----------------------------------------------------------------------------- SSIM family


def gaussian_window(
    size: int = 11, sigma: float = 1.5, device=None, dtype=torch.float32
) -> torch.Tensor:
    """The normalised 1-D Gaussian window of SSIM (the 2-D window is its outer product)."""
    if not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd int, got {size!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    positions = torch.arange(size, dtype=dtype, device=device) - size // 2
    window = torch.exp(-(positions**2) / (2 * sigma**2))
    return window / window.sum()


def _as_batch(image) -> tuple[torch.Tensor, bool]:
    if isinstance(image, torch.Tensor):
        if image.ndim != 4:
            raise ValueError(f"tensors must be (B, C, H, W), got shape {tuple(image.shape)}")
        if not image.is_floating_point():
            raise TypeError(f"tensors must be float in [0, 1], got {image.dtype}")
        return image, True
    # float32 is 4x faster than float64 on a CPU and agrees with it to ~1e-7 here
    return images.to_tensor(image, device="cpu"), False


def _filter(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filtering of every channel, 'valid' (no padding): a 1 x 11 then an 11 x 1
    depthwise convolution (22 multiplies per value instead of 121 for the 2-D window).

    The maps are laid out channels-last (N, H, W, C in memory): a depthwise convolution then reads
    every channel of a pixel in one vector, 2-4x faster on this course's CPU than the default layout
    (which filters one plane at a time, and is limited by moving data, so there the separable form
    gains nothing over the 2-D one); the values are the same to the last bit.
    """
    channels = x.shape[1]
    w = window.to(dtype=x.dtype, device=x.device)
    x = x.contiguous(memory_format=torch.channels_last)
    x = F.conv2d(x, w.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, w.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def _ssim_and_cs(
    x: torch.Tensor,
    y: torch.Tensor,
    window: torch.Tensor,
    data_range: float,
    k: tuple[float, float],
) -> tuple[torch.Tensor, torch.Tensor]:
    """SSIM map and contrast-structure map (B, C, H', W') of Wang et al. (2004).

    SSIM needs five local moments (means of x, y, x², y², xy), but only in four combinations: the
    means, σx² + σy² and σxy. With s = x + y and d = x − y, four filtered maps give them all:
    2 μx μy = (μs² − μd²) / 2, μx² + μy² = (μs² + μd²) / 2, and the same for the second moments of
    s and d. Four maps instead of five, and the terms below are rewritten with them (the factor 2 is
    folded into the constants). Without gradients the arithmetic runs in place (no new buffers).
    """
    c1, c2 = 2 * (k[0] * data_range) ** 2, 2 * (k[1] * data_range) ** 2
    s, d = x + y, x - y
    n, channels = x.shape[:2]
    # channels-last from the start: the stacked maps are written once, in the layout the filter reads
    maps = torch.empty(
        (n, 4 * channels, *x.shape[2:]),
        dtype=x.dtype,
        device=x.device,
        memory_format=torch.channels_last,
    )
    maps[:, :channels], maps[:, channels : 2 * channels] = s, d
    maps[:, 2 * channels : 3 * channels], maps[:, 3 * channels :] = s * s, d * d
    moments = _filter(maps, window).contiguous()  # back to planes: the terms below read each map
    mu_s, mu_d, e_ss, e_dd = moments.chunk(4, dim=1)
    mu_ss, mu_dd = mu_s * mu_s, mu_d * mu_d
    if torch.is_grad_enabled() and (x.requires_grad or y.requires_grad):
        cs = (e_ss - e_dd - mu_ss + mu_dd + c2) / (e_ss + e_dd - mu_ss - mu_dd + c2)
        luminance = (mu_ss - mu_dd + c1) / (mu_ss + mu_dd + c1)
        return luminance * cs, cs
    cs = e_ss.sub(e_dd).sub_(mu_ss).add_(mu_dd).add_(c2)
    cs.div_(e_ss.add_(e_dd).sub_(mu_ss).sub_(mu_dd).add_(c2))
    luminance = mu_ss.sub(mu_dd).add_(c1).div_(mu_ss.add_(mu_dd).add_(c1))
    return luminance.mul_(cs), cs


def _check_pair(x: torch.Tensor, y: torch.Tensor, win_size: int) -> None:
    if x.shape != y.shape:
        raise ValueError(
            f"images must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if min(x.shape[-2:]) < win_size:
        raise ValueError(f"images must be at least {win_size} pixels on a side for SSIM")


def _local_ssim(
    reference, distorted, data_range, win_size, win_sigma, k
) -> tuple[torch.Tensor, bool]:
    """The SSIM map (B, C, H', W') of two images, and whether the inputs were tensors."""
    x, was_tensor = _as_batch(reference)
    y, _ = _as_batch(distorted)
    _check_pair(x, y, win_size)
    window = gaussian_window(win_size, win_sigma, x.device, x.dtype)
    local, _ = _ssim_and_cs(x, y.to(x), window, data_range, k)
    return local, was_tensor


def ssim_map(
    reference,
    distorted,
    data_range: float = 1.0,
    win_size: int = 11,
    win_sigma: float = 1.5,
    k: tuple[float, float] = (0.01, 0.03),
) -> torch.Tensor | np.ndarray:
    """The local SSIM map: (B, C, H - win_size + 1, W - win_size + 1) for tensors, (H', W') averaged
    over channels for arrays."""
    local, was_tensor = _local_ssim(reference, distorted, data_range, win_size, win_sigma, k)
    return local if was_tensor else local[0].mean(dim=0).numpy()


def ssim(
    reference,
    distorted,
    data_range: float = 1.0,
    win_size: int = 11,
    win_sigma: float = 1.5,
    k: tuple[float, float] = (0.01, 0.03),
) -> torch.Tensor | float:
    """Mean SSIM (Gaussian window 11, sigma 1.5, K = 0.01, 0.03), averaged over channels.

    Tensors (B, C, H, W) in [0, 1] -> (B,) tensor (differentiable); uint8 images -> float.
    """
    x, was_tensor = _as_batch(reference)
    y, _ = _as_batch(distorted)
    _check_pair(x, y, win_size)
    window = gaussian_window(win_size, win_sigma, x.device, x.dtype)
    y = y.to(x)
    per_image = torch.cat(
        [
            _ssim_and_cs(a, b, window, data_range, k)[0].flatten(2).mean(dim=2).mean(dim=1)
            for a, b in _image_by_image(x, y)
        ]
    )
    return per_image if was_tensor else float(per_image[0])


def _image_by_image(x: torch.Tensor, y: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A batch in pieces of one image on a CPU without gradients, else whole.

    SSIM's maps of a batch of eight 512 x 512 RGB images take about 100 MB each: fresh pages from the
    operating system on every call, which costs more than the arithmetic. One image's maps (about 13 MB)
    are small enough for the allocator to reuse the same memory call after call: about 2x faster on this
    course's CPU, the same numbers. On a GPU (a caching allocator) or with gradients the batch stays whole.
    """
    if x.device.type != "cpu" or (torch.is_grad_enabled() and (x.requires_grad or y.requires_grad)):
        return [(x, y)]
    return [(x[i : i + 1], y[i : i + 1]) for i in range(x.shape[0])]


def ms_ssim(
    reference,
    distorted,
    data_range: float = 1.0,
    win_size: int = 11,
    win_sigma: float = 1.5,
    weights: Sequence[float] = MS_SSIM_WEIGHTS,
    k: tuple[float, float] = (0.01, 0.03),
) -> torch.Tensor | float:
    """Multi-scale SSIM (Wang, Simoncelli, Bovik 2003): contrast-structure at the first scales, full
    SSIM at the coarsest, combined with ``weights``; halving by 2x2 average pooling between scales.

    Needs images larger than (win_size - 1) * 2^(scales - 1) pixels on a side (161 for the defaults).
    Tensors -> (B,) tensor; uint8 images -> float. Follows pytorch-msssim (ReLU on the terms).
    """
    x, was_tensor = _as_batch(reference)
    y, _ = _as_batch(distorted)
    y = y.to(x)
    scales = len(weights)
    minimum = (win_size - 1) * 2 ** (scales - 1)
    if x.shape != y.shape:
        raise ValueError(
            f"images must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if min(x.shape[-2:]) <= minimum:
        raise ValueError(
            f"MS-SSIM with {scales} scales needs images larger than {minimum} pixels on a side"
        )
    window = gaussian_window(win_size, win_sigma, x.device, x.dtype)
    pieces = _image_by_image(x, y)
    if len(pieces) > 1:
        return torch.cat(
            [ms_ssim(a, b, data_range, win_size, win_sigma, weights, k) for a, b in pieces]
        )
    factors = []
    for scale in range(scales):
        local, cs = _ssim_and_cs(x, y, window, data_range, k)
        if scale < scales - 1:
            factors.append(torch.relu(cs.flatten(2).mean(dim=2)))
            padding = [s % 2 for s in x.shape[2:]]
            x = F.avg_pool2d(x, kernel_size=2, padding=padding)
            y = F.avg_pool2d(y, kernel_size=2, padding=padding)
        else:
            factors.append(torch.relu(local.flatten(2).mean(dim=2)))
    stacked = torch.stack(factors, dim=0)  # (scales, B, C)
    w = torch.tensor(list(weights), dtype=x.dtype, device=x.device).view(-1, 1, 1)
    per_image = torch.prod(stacked**w, dim=0).mean(dim=1)
    return per_image if was_tensor else float(per_image[0])


# ----------------------------------------------------------------------------- Bjøntegaard deltas


def _bd_inputs(rate_anchor, quality_anchor, rate_test, quality_test):
    arrays = [
        np.asarray(v, dtype=np.float64)
        for v in (rate_anchor, quality_anchor, rate_test, quality_test)
    ]
    for name, values in zip(
        ("rate_anchor", "quality_anchor", "rate_test", "quality_test"), arrays, strict=True
    ):
        if values.ndim != 1 or not np.isfinite(values).all():
            raise ValueError(f"{name} must be a 1-D list of finite numbers")
    if len(arrays[0]) != len(arrays[1]) or len(arrays[2]) != len(arrays[3]):
        raise ValueError("each curve needs as many rates as qualities")
    if (arrays[0] <= 0).any() or (arrays[2] <= 0).any():
        raise ValueError("rates must be positive")
    for rates in (arrays[0], arrays[2]):
        if len(rates) < 2:
            raise ValueError("each curve needs at least two points")
        if len(rates) < 4:
            warnings.warn(
                "fewer than four R-D points per curve: the Bjøntegaard fit is unreliable",
                stacklevel=3,
            )
    return arrays


def _bd_average(x_a, y_a, x_t, y_t, method: str) -> float:
    """Average vertical gap between two curves y(x) over the overlap of their x ranges."""
    from scipy.interpolate import PchipInterpolator

    low, high = max(x_a.min(), x_t.min()), min(x_a.max(), x_t.max())
    total = max(x_a.max(), x_t.max()) - min(x_a.min(), x_t.min())
    if high <= low:
        warnings.warn("the curves do not overlap: the Bjøntegaard delta is undefined", stacklevel=3)
        return math.nan
    if (high - low) / total < 0.75:
        warnings.warn(
            f"the curves overlap on only {(high - low) / total:.0%} of their range", stacklevel=3
        )

    def integral(x, y):
        order = np.argsort(x)
        x, y = x[order], y[order]
        if method == "cubic":
            antiderivative = np.polyint(np.polyfit(x, y, 3))
            return np.polyval(antiderivative, high) - np.polyval(antiderivative, low)
        return float(PchipInterpolator(x, y).integrate(low, high))

    return (integral(x_t, y_t) - integral(x_a, y_a)) / (high - low)


def bd_rate(rate_anchor, quality_anchor, rate_test, quality_test, method: str = "cubic") -> float:
    """Bjøntegaard delta rate in percent: the average rate change of test against anchor at equal quality.

    method 'cubic' fits log10(rate) as a cubic in quality (VCEG-M33); 'pchip' interpolates piecewise
    cubically (the current common test conditions). Negative means the test codec saves bits.
    Warns with fewer than four points per curve or little overlap.
    """
    if method not in ("cubic", "pchip"):
        raise ValueError(f"method must be 'cubic' or 'pchip', got {method!r}")
    ra, qa, rt, qt = _bd_inputs(rate_anchor, quality_anchor, rate_test, quality_test)
    average = _bd_average(qa, np.log10(ra), qt, np.log10(rt), method)
    return (10**average - 1) * 100


def bd_psnr(rate_anchor, quality_anchor, rate_test, quality_test, method: str = "cubic") -> float:
    """Bjøntegaard delta quality (dB for PSNR): the average quality gain of test over anchor at equal rate."""
    if method not in ("cubic", "pchip"):
        raise ValueError(f"method must be 'cubic' or 'pchip', got {method!r}")
    ra, qa, rt, qt = _bd_inputs(rate_anchor, quality_anchor, rate_test, quality_test)
    return _bd_average(np.log10(ra), qa, np.log10(rt), qt, method)


def average_rd(
    records: Iterable[Mapping], group_by: str = "quality", fields: Sequence[str] = ("bpp", "psnr")
) -> dict[object, dict[str, float]]:
    """Average R-D records over a data set as CompressAI does: for each quality setting, the mean bpp
    and the mean of the per-image PSNR (not the PSNR of the mean MSE).

    records: dicts with ``group_by`` and the ``fields``; returns {setting: {field: mean, 'count': n}}.
    """
    groups: dict[object, list[Mapping]] = {}
    for record in records:
        if group_by not in record:
            raise ValueError(f"a record has no {group_by!r} entry")
        groups.setdefault(record[group_by], []).append(record)
    if not groups:
        raise ValueError("average_rd needs at least one record")
    result = {}
    for key, members in sorted(groups.items(), key=lambda item: item[0]):
        result[key] = {name: float(np.mean([m[name] for m in members])) for name in fields}
        result[key]["count"] = len(members)
    return result


# ----------------------------------------------------------------------------- VIFp and PSNR-HVS-M


def vifp(reference, distorted) -> torch.Tensor | float:
    """Visual information fidelity in the pixel domain (Sheikh and Bovik 2006), through piq.

    1 for identical images, lower for distorted ones (it can exceed 1 for contrast enhancement).
    Colour images are compared on their luminance, as piq does. Tensors -> (B,) tensor; arrays -> float.
    """
    import piq

    x, was_tensor = _as_batch(reference)
    y, _ = _as_batch(distorted)
    if x.shape != y.shape:
        raise ValueError(
            f"images must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if min(x.shape[-2:]) < 41:
        raise ValueError("VIFp needs images of at least 41 pixels on a side (its coarsest scale)")
    values = piq.vif_p(x.float(), y.to(x).float(), data_range=1.0, reduction="none")
    return values if was_tensor else float(values[0])


#: Ponomarenko et al. (2006-2007): contrast sensitivity of each DCT basis function, and the masking
#: factors of PSNR-HVS-M, as in the reference psnrhvsm.m.
CSF_COEFFICIENTS = np.array(
    [
        [1.608443, 2.339554, 2.573509, 1.608443, 1.072295, 0.643377, 0.504610, 0.421887],
        [2.144591, 2.144591, 1.838221, 1.354478, 0.989811, 0.443708, 0.428918, 0.467911],
        [1.838221, 1.979622, 1.608443, 1.072295, 0.643377, 0.451493, 0.372972, 0.459555],
        [1.838221, 1.513829, 1.169777, 0.887417, 0.504610, 0.295806, 0.321689, 0.415082],
        [1.429727, 1.169777, 0.695543, 0.459555, 0.378457, 0.236102, 0.249855, 0.334222],
        [1.072295, 0.735288, 0.467911, 0.402111, 0.317717, 0.247453, 0.227744, 0.279729],
        [0.525206, 0.402111, 0.329937, 0.295806, 0.249855, 0.212687, 0.214459, 0.254803],
        [0.357432, 0.279729, 0.270896, 0.262603, 0.229778, 0.257351, 0.249855, 0.259950],
    ]
)
MASK_COEFFICIENTS = np.array(
    [
        [0.390625, 0.826446, 1.000000, 0.390625, 0.173611, 0.062500, 0.038447, 0.026874],
        [0.694444, 0.694444, 0.510204, 0.277008, 0.147929, 0.029727, 0.027778, 0.033058],
        [0.510204, 0.591716, 0.390625, 0.173611, 0.062500, 0.030779, 0.021004, 0.031888],
        [0.510204, 0.346021, 0.206612, 0.118906, 0.038447, 0.013212, 0.015625, 0.026015],
        [0.308642, 0.206612, 0.073046, 0.031888, 0.021626, 0.008417, 0.009426, 0.016866],
        [0.173611, 0.081633, 0.033058, 0.024414, 0.015242, 0.009246, 0.007831, 0.011815],
        [0.041649, 0.024414, 0.016437, 0.013212, 0.009426, 0.006830, 0.006944, 0.009803],
        [0.019290, 0.011815, 0.011080, 0.010412, 0.007972, 0.010000, 0.009426, 0.010203],
    ]
)


def _masking(blocks: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """The masking threshold of each 8x8 block (maskeff in psnrhvsm.m)."""
    energy = coefficients**2 * MASK_COEFFICIENTS
    energy = energy.sum(axis=(1, 2)) - energy[:, 0, 0]

    def variance_times_n(z):
        flat = z.reshape(len(z), -1)
        return flat.var(axis=1, ddof=1) * flat.shape[1]

    whole = variance_times_n(blocks)
    quarters = sum(
        variance_times_n(blocks[:, r : r + 4, c : c + 4]) for r in (0, 4) for c in (0, 4)
    )
    ratio = np.divide(quarters, whole, out=np.zeros_like(whole), where=whole != 0)
    return np.sqrt(energy * ratio) / 32


def psnr_hvs_m(reference, distorted, with_masking: bool = True) -> float:
    """PSNR-HVS-M (Ponomarenko et al. 2007): PSNR of 8x8 DCT differences weighted by the eye's contrast
    sensitivity, with between-coefficient contrast masking; ``with_masking=False`` gives PSNR-HVS.

    Follows the reference psnrhvsm.m (non-overlapping 8x8 blocks; colour images on JFIF luma).
    Returns inf for indistinguishable images.
    """
    import scipy.fft

    a, b = _pair(reference, distorted)
    if a.ndim == 3:
        a, b = images.rgb_to_ycbcr(a)[..., 0], images.rgb_to_ycbcr(b)[..., 0]
    rows, cols = a.shape[0] // 8, a.shape[1] // 8
    if rows == 0 or cols == 0:
        raise ValueError("PSNR-HVS-M needs images of at least 8x8 pixels")

    def blocks_of(plane):
        return (
            plane[: rows * 8, : cols * 8]
            .reshape(rows, 8, cols, 8)
            .transpose(0, 2, 1, 3)
            .reshape(-1, 8, 8)
        )

    blocks_a, blocks_b = blocks_of(a), blocks_of(b)
    dct_a = scipy.fft.dctn(blocks_a, axes=(1, 2), norm="ortho")
    dct_b = scipy.fft.dctn(blocks_b, axes=(1, 2), norm="ortho")
    difference = np.abs(dct_a - dct_b)
    if with_masking:
        mask = np.maximum(_masking(blocks_a, dct_a), _masking(blocks_b, dct_b))
        thresholds = mask[:, None, None] / MASK_COEFFICIENTS[None]
        masked = np.maximum(difference - thresholds, 0)
        masked[:, 0, 0] = difference[:, 0, 0]  # the DC term is not masked
        difference = masked
    error = np.mean((difference * CSF_COEFFICIENTS) ** 2)
    return math.inf if error == 0 else 10 * math.log10(255**2 / error)


@dataclass(frozen=True)
class Interval:
    """A result measured on a sample with its bootstrap interval: ``value`` on the whole sample,
    [``low``, ``high``] the central ``confidence`` share of the resampled values."""

    value: float
    low: float
    high: float
    confidence: float = 0.95
    resamples: int = 0

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    @property
    def is_tie(self) -> bool:
        """A difference whose interval holds 0: the sample cannot tell the two apart."""
        return self.contains(0.0)

    def format(self, digits: int = 1, unit: str = "") -> str:
        """``"+4.6 % [-1.2, +9.8]"``-style text: the value, then the interval."""
        return f"{self.value:.{digits}f}{unit} [{self.low:.{digits}f}, {self.high:.{digits}f}]"

    def __str__(self) -> str:
        return self.format()


def bootstrap_interval(
    statistic: Callable[..., float],
    *samples,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of ``statistic(*samples)`` over the sample's units (photos,
    sequences): each resample draws len(samples[0]) units with replacement and takes the same rows of
    every array (paired: a per-photo agreement of two coders stays paired), then the statistic.

    ``statistic`` gets arrays with the first axis resampled, e.g. ``np.mean`` on per-photo 0/1 agreement,
    ``lambda a, b: a.mean() - b.mean()`` for a paired difference, or a BD-rate computed from per-photo
    rates. A resample whose statistic is not finite (a BD-rate without overlap) is dropped; if more than
    a tenth are, the interval would mislead and ValueError says so.

    >>> hits = np.array([1, 1, 0, 1, 0, 1, 1, 1, 0, 1])
    >>> bootstrap_interval(np.mean, hits).value
    0.7
    """
    arrays = [np.asarray(sample) for sample in samples]
    if not arrays:
        raise ValueError("bootstrap_interval needs at least one sample array")
    n = len(arrays[0])
    if any(a.ndim == 0 or len(a) != n for a in arrays):
        raise ValueError(
            f"every sample needs the same number of units (first axis): {[a.shape for a in arrays]}"
        )
    if n < 2:
        raise ValueError(f"a bootstrap needs at least 2 units (photos), got {n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a share between 0 and 1, got {confidence}")
    if resamples < 100:
        raise ValueError(f"use at least 100 resamples (2000 is the default), got {resamples}")
    value = float(statistic(*arrays))
    rng = np.random.default_rng(seed)
    values = np.empty(resamples)
    for index in range(resamples):
        rows = rng.integers(0, n, n)
        values[index] = statistic(*(a[rows] for a in arrays))
    finite = values[np.isfinite(values)]
    if len(finite) < 0.9 * resamples:
        raise ValueError(
            f"the statistic was not finite on {resamples - len(finite)} of {resamples} resamples: "
            "the sample is too small or too uneven for an interval"
        )
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Interval(value, float(low), float(high), confidence, resamples)
