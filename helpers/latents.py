"""Looking inside a learned codec (chapter 4): where the bits go, what the latents are, and what a
single latent "means" once decoded, beside JPEG's DCT basis.

Works with the CompressAI-style models of helpers.autoencoder (FactorizedPrior, ScaleHyperprior):
anything with g_a, g_s and a forward pass returning {"x_hat", "likelihoods"}.
"""

from __future__ import annotations

import numpy as np
import torch

from helpers import autoencoder, fixedpoint, images

__all__ = [
    "analyse",
    "latent_bits",
    "rate_split",
    "learned_basis",
    "channel_order",
    "PERTURBATIONS",
    "scale_indexes",
    "index_flips",
    "decode_with_perturbation",
    "desync_report",
    "INTEGER_PERTURBATIONS",
    "integer_decode_check",
]


def _input(model: torch.nn.Module, image) -> tuple[torch.Tensor, tuple[int, int]]:
    array = images.as_uint8(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got {array.shape}")
    device = next(model.parameters()).device
    x, _ = images.pad_to_multiple(images.to_tensor(array, device=device), 64)
    return x, array.shape[:2]


@torch.no_grad()
def analyse(model: torch.nn.Module, image) -> dict:
    """One quantized forward pass: y, y_hat, the likelihoods (y and, for a hyperprior, z), x_hat.

    In eval mode CompressAI rounds (around the medians for the factorized prior), so the
    likelihoods are those the entropy coder uses and -log2 of them is the ideal size.
    """
    x, (height, width) = _input(model, image)
    model.eval()
    y = model.g_a(x)
    out = model(x)
    return {
        "y": y,
        "y_hat": torch.round(y),
        "likelihoods": out["likelihoods"],
        "x_hat": out["x_hat"][..., :height, :width].clamp(0, 1),
        "pixels": height * width,
    }


def latent_bits(model: torch.nn.Module, image) -> np.ndarray:
    """Ideal bits of y at each latent position (summed over channels): (ceil(H/16), ceil(W/16)).

    The image is padded to a multiple of 64 for coding; the latents of the padding are cropped off
    here (the file does pay for them: see rate_split).
    """
    height, width = images.as_uint8(image).shape[:2]
    likelihoods = analyse(model, image)["likelihoods"]["y"]
    bits = -torch.log2(likelihoods)[0].sum(dim=0)
    return bits[: images.ceil_div(height, 16), : images.ceil_div(width, 16)].cpu().numpy()


def rate_split(model: torch.nn.Module, image) -> dict[str, float]:
    """Bits per pixel of y and of z (the side information) from the likelihoods, and the real file's
    bpp from ``autoencoder.compress``."""
    result = analyse(model, image)
    split = {
        name: float(-torch.log2(likelihood).sum()) / result["pixels"]
        for name, likelihood in result["likelihoods"].items()
    }
    split["estimate"] = sum(split.values())
    split["file"] = 8 * len(autoencoder.compress(model, image)) / result["pixels"]
    return split


def channel_order(model: torch.nn.Module, image) -> np.ndarray:
    """Latent channels sorted by the bits they cost on ``image`` (most expensive first)."""
    likelihoods = analyse(model, image)["likelihoods"]["y"]
    bits = -torch.log2(likelihoods)[0].sum(dim=(1, 2))
    return torch.argsort(bits, descending=True).cpu().numpy()


@torch.no_grad()
def learned_basis(
    model: torch.nn.Module, channels, amplitude: float = 8.0, size: int = 4
) -> np.ndarray:
    """Decode one-hot latents: channel k set to ``amplitude`` at the centre of a size x size latent
    grid, everything else 0. Returns (len(channels), 16*size, 16*size, 3) float images, with the
    decoding of the all-zero latent subtracted (so 0 is mid-grey after display scaling).
    """
    channels = list(channels)
    num_channels = model.g_s[0].in_channels if hasattr(model.g_s[0], "in_channels") else None
    if num_channels is not None and any(not 0 <= c < num_channels for c in channels):
        raise ValueError(f"channels must lie in 0..{num_channels - 1}, got {channels}")
    device = next(model.parameters()).device
    depth = num_channels or max(channels) + 1
    zero = torch.zeros(1, depth, size, size, device=device)
    background = model.g_s(zero)
    basis = []
    for channel in channels:
        y_hat = zero.clone()
        y_hat[0, channel, size // 2, size // 2] = amplitude
        basis.append((model.g_s(y_hat) - background)[0].permute(1, 2, 0).cpu().numpy())
    return np.stack(basis)


#: how another machine perturbs the hyper-synthesis: another thread count, float64 arithmetic, or a
#: relative 1e-6 nudge of every scale (the size of a different summation order's rounding)
PERTURBATIONS = ("one thread", "float64", "nudge 1e-6")


@torch.no_grad()
def scale_indexes(model: torch.nn.Module, z_hat: torch.Tensor, perturbation: str | None = None):
    """The Gaussian-scale table indexes a hyperprior's entropy coder uses for ``z_hat``, computed as
    this machine does (None) or as another would (one of PERTURBATIONS)."""
    if not hasattr(model, "gaussian_conditional"):
        raise ValueError("scale indexes exist only for hyperprior models")
    if perturbation is None:
        scales = model.h_s(z_hat)
    elif perturbation == "one thread":
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            scales = model.h_s(z_hat)
        finally:
            torch.set_num_threads(threads)
    elif perturbation == "float64":
        scales = model.h_s.double()(z_hat.double()).float()
        model.h_s.float()
    elif perturbation == "nudge 1e-6":
        scales = model.h_s(z_hat) * (1 + 1e-6)
    else:
        raise ValueError(
            f"perturbation must be None or one of {PERTURBATIONS}, got {perturbation!r}"
        )
    return model.gaussian_conditional.build_indexes(scales)


@torch.no_grad()
def index_flips(model: torch.nn.Module, image, perturbation: str) -> tuple[int, int]:
    """(indexes that differ, all indexes) between this machine's scale indexes and a perturbed decoder's,
    for one image coded by a hyperprior."""
    x, _ = _input(model, image)
    z = model.h_a(torch.abs(model.g_a(x)))
    z_hat = model.entropy_bottleneck.decompress(model.entropy_bottleneck.compress(z), z.shape[-2:])
    here, there = scale_indexes(model, z_hat), scale_indexes(model, z_hat, perturbation)
    return int((here != there).sum()), int(here.numel())


@torch.no_grad()
def decode_with_perturbation(model: torch.nn.Module, image, perturbation: str) -> np.ndarray:
    """What a decoder whose hyper-synthesis is perturbed reconstructs from this machine's file (the
    check that ``autoencoder.decompress`` makes is skipped on purpose: this shows what it prevents)."""
    x, (height, width) = _input(model, image)
    y = model.g_a(x)
    z = model.h_a(torch.abs(y))
    z_strings = model.entropy_bottleneck.compress(z)
    z_hat = model.entropy_bottleneck.decompress(z_strings, z.shape[-2:])
    y_strings = model.gaussian_conditional.compress(y, scale_indexes(model, z_hat))
    indexes = scale_indexes(model, z_hat, perturbation)
    y_hat = model.gaussian_conditional.decompress(y_strings, indexes, z_hat.dtype)
    # a desynchronized decoder reads garbage symbols, which g_s may turn into inf or NaN: shown as black
    x_hat = torch.nan_to_num(model.g_s(y_hat), nan=0.0, posinf=1.0, neginf=0.0)
    return images.to_uint8(x_hat.clamp(0, 1)[..., :height, :width])


@torch.no_grad()
def desync_report(model: torch.nn.Module, image, perturbation: str) -> dict:
    """Where a perturbed decoder goes wrong, in the order the y symbols are coded (channel by channel,
    rows, columns): the first flipped scale index, the first wrongly decoded symbol, and the share of the
    symbols after it that are wrong. None where nothing flipped."""
    x, _ = _input(model, image)
    y = model.g_a(x)
    z = model.h_a(torch.abs(y))
    z_hat = model.entropy_bottleneck.decompress(model.entropy_bottleneck.compress(z), z.shape[-2:])
    here = scale_indexes(model, z_hat)
    there = scale_indexes(model, z_hat, perturbation)
    y_strings = model.gaussian_conditional.compress(y, here)
    clean = model.gaussian_conditional.decompress(y_strings, here, z_hat.dtype).flatten()
    wrong = model.gaussian_conditional.decompress(y_strings, there, z_hat.dtype).flatten()
    flipped = torch.nonzero(here.flatten() != there.flatten())
    differs = torch.nonzero(clean != wrong)
    report = {
        "symbols": int(clean.numel()),
        "flipped_indexes": int(flipped.numel()),
        "first_flip": None,
        "first_wrong_symbol": None,
        "wrong_after_first": 0.0,
    }
    if flipped.numel():
        report["first_flip"] = _position(int(flipped[0]), here.shape)
    if differs.numel():
        first = int(differs[0])
        report["first_wrong_symbol"] = _position(first, here.shape)
        report["wrong_after_first"] = float((clean[first:] != wrong[first:]).float().mean())
    return report


def _position(flat: int, shape) -> dict:
    channels, rows, cols = shape[1:]
    channel, rest = divmod(flat, rows * cols)
    row, col = divmod(rest, cols)
    return {"order": flat, "channel": channel, "row": row, "column": col}


#: what can still differ between machines for an integer decoder: the thread count, the implementation
#: (numpy int64 reference against torch float64), the device; there is no float left to nudge
INTEGER_PERTURBATIONS = ("one thread", "numpy reference")


@torch.no_grad()
def integer_decode_check(model, image, pixels: bool = True) -> dict:
    """Encode ``image`` with an ``autoencoder.IntegerHyperprior`` on this machine, then decode it as
    another machine would (one thread; the numpy int64 reference): for each, the scale indexes that
    differ from this machine's and (``pixels``) the decoded pixels that differ. The numpy reference
    decodes the entropy part only unless the image is small (its integer g_s is slow)."""
    if not isinstance(model, autoencoder.IntegerHyperprior):
        raise TypeError("integer_decode_check needs an autoencoder.IntegerHyperprior")
    x, (height, width) = _input(model.model, image)
    out = model.compress(x)
    (y_string,), (z_string,) = out["strings"]
    y_hat, indexes = model.decode_y(y_string, z_string, out["shape"])
    here = model.pixels(y_hat)[:height, :width] if pixels else None
    result = {"indexes": int(indexes.size)}
    threads = torch.get_num_threads()
    for perturbation in INTEGER_PERTURBATIONS:
        if perturbation == "one thread":
            torch.set_num_threads(1)
        path = "torch" if perturbation == "one thread" else "numpy"
        try:
            with fixedpoint.integer_path(path):
                other_y, other_indexes = model.decode_y(y_string, z_string, out["shape"])
                row = {
                    "index_flips": int((other_indexes != indexes).sum()),
                    "latents_equal": bool(torch.equal(other_y, y_hat)),
                }
                if pixels and (perturbation == "one thread" or height * width <= 128 * 128):
                    there = model.pixels(other_y)[:height, :width]
                    row["pixel_differences"] = int((there != here).sum())
        finally:
            torch.set_num_threads(threads)
        result[perturbation] = row
    return result
