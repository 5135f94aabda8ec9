"""Rate-distortion theory, measured (chapter 4, section 1): the Gaussian R(D), reverse water-filling over
transform coefficients, and entropy-coded scalar quantizers (uniform and dead-zone) with their gap to R(D).

For a Gaussian source of variance σ², the fewest bits per sample at mean-square distortion D are
R(D) = max(0, ½ log2(σ² / D)). For independent Gaussian components of variances σ_i² (transform
coefficients), the best split of a distortion budget is **reverse water-filling**: every component gets the
same distortion θ (the water level) unless its variance is below θ, in which case it is not coded at all
(distortion σ_i², rate 0). Among all sources with the same variances the Gaussian is the hardest, so this is
an upper bound on the true R(D) of the coefficients; a real codec can come in under it when they are not
Gaussian (chapter 4 measures JPEG against it).

A uniform scalar quantizer followed by an ideal entropy coder pays, at high rate, ½ log2(πe/6) ≈ 0.254 bits
per sample over R(D) (1.53 dB at equal rate): the space-filling loss of a cube against a sphere. A dead-zone
quantizer (rounding offset below ½, as in H.264's encoders) sends more values to 0 and does better at low
rate, worse at high rate with midpoint reconstruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import entropy

__all__ = [
    "HIGH_RATE_GAP_BITS",
    "HIGH_RATE_GAP_DB",
    "gaussian_rd",
    "WaterFilling",
    "reverse_water_filling",
    "scalar_quantize",
    "quantizer_point",
    "block_dct_variances",
]

#: ½ log2(πe/6): the bits an entropy-coded uniform scalar quantizer pays over R(D) at high rate
HIGH_RATE_GAP_BITS = 0.5 * float(np.log2(np.pi * np.e / 6))
#: the same gap as a distortion ratio at equal rate, in dB (10 log10(πe/6))
HIGH_RATE_GAP_DB = 10 * float(np.log10(np.pi * np.e / 6))


def gaussian_rd(variance, distortion):
    """R(D) of a Gaussian source in bits per sample: max(0, ½ log2(variance / distortion))."""
    variance = np.asarray(variance, dtype=np.float64)
    distortion = np.asarray(distortion, dtype=np.float64)
    if (variance < 0).any() or (distortion <= 0).any():
        raise ValueError("gaussian_rd: variances must be >= 0 and distortions > 0")
    rate = np.maximum(0.0, 0.5 * np.log2(np.maximum(variance, 1e-300) / distortion))
    return float(rate) if rate.ndim == 0 else rate


@dataclass(frozen=True)
class WaterFilling:
    """Reverse water-filling at one distortion: the water level θ, each component's distortion min(θ, σ²)
    and rate, and the means over components (bits and squared error per component)."""

    level: float
    distortions: np.ndarray
    rates: np.ndarray
    rate: float
    distortion: float

    @property
    def coded(self) -> int:
        """How many components get a rate above 0 (variance above the water level)."""
        return int((self.rates > 0).sum())


def reverse_water_filling(variances, distortion: float) -> WaterFilling:
    """The Gaussian R(D) of independent components with these variances at a mean distortion per component
    (bisection on the water level θ, to float precision)."""
    variances = np.asarray(variances, dtype=np.float64).ravel()
    if variances.size == 0 or (variances < 0).any() or not np.isfinite(variances).all():
        raise ValueError("reverse_water_filling: variances must be finite, >= 0 and not empty")
    if not 0 < distortion:
        raise ValueError("reverse_water_filling: the distortion must be > 0")
    if distortion >= variances.mean():  # nothing needs coding
        level = float(variances.max())
    else:
        low, high = 0.0, float(variances.max())
        for _ in range(200):
            level = 0.5 * (low + high)
            if np.minimum(level, variances).mean() > distortion:
                high = level
            else:
                low = level
    distortions = np.minimum(level, variances)
    rates = gaussian_rd(variances, np.maximum(distortions, 1e-300))
    return WaterFilling(level, distortions, rates, float(rates.mean()), float(distortions.mean()))


def scalar_quantize(samples, step: float, offset: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(indices, reconstruction) of sign(x) floor(|x| / step + offset), reconstructed at index × step.

    offset ½ is uniform rounding; below ½ is a dead-zone quantizer (H.264's reference encoders use 1/3 for
    intra and 1/6 for inter blocks), which sends more small values to 0."""
    if not step > 0 or not 0 <= offset <= 0.5:
        raise ValueError("scalar_quantize: step must be > 0 and the offset in [0, 0.5]")
    x = np.asarray(samples, dtype=np.float64)
    indices = np.sign(x) * np.floor(np.abs(x) / step + offset)
    return indices.astype(np.int64), indices * step


def quantizer_point(samples, step: float, offset: float = 0.5) -> dict:
    """One operating point of an entropy-coded scalar quantizer on these samples: rate (the indices'
    empirical entropy, bits per sample: what an ideal order-0 coder spends) and distortion (MSE)."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    indices, reconstruction = scalar_quantize(x, step, offset)
    return {
        "step": float(step),
        "offset": float(offset),
        "rate": entropy.empirical_entropy(indices),
        "distortion": float(np.mean((x - reconstruction) ** 2)),
    }


def block_dct_variances(planes, block: int = 8) -> np.ndarray:
    """The variance of each of the block × block orthonormal DCT coefficients over all blocks of the given
    planes (2-D arrays, e.g. the luma of several photos; edges that do not fill a block are dropped)."""
    from scipy.fft import dctn

    coefficients = []
    for plane in planes:
        plane = np.asarray(plane, dtype=np.float64)
        if plane.ndim != 2:
            raise ValueError("block_dct_variances: planes must be 2-D")
        h, w = (plane.shape[0] // block) * block, (plane.shape[1] // block) * block
        if not h or not w:
            raise ValueError(f"block_dct_variances: a plane is smaller than {block} x {block}")
        tiles = plane[:h, :w].reshape(h // block, block, w // block, block).transpose(0, 2, 1, 3)
        coefficients.append(dctn(tiles.reshape(-1, block, block), axes=(1, 2), norm="ortho"))
    return np.concatenate(coefficients).var(axis=0)
