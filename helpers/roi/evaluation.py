"""Measuring a ROI file (chapter 7): quality inside and outside the ROI against uniform JPEG of the
same size. Weighted PSNR and SSIM (``metrics``) use the map itself as the weights (1 - map outside).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import images, metrics
from .maps import check_roi_map

__all__ = ["Comparison", "evaluate"]


@dataclass
class Comparison:
    """A ROI file against uniform JPEG of (about) the same size."""

    roi_bytes: int
    uniform_bytes: int
    uniform_quality: int
    psnr_roi: tuple[float, float]  #: (ROI file, uniform), map-weighted inside the ROI
    psnr_background: tuple[float, float]  #: weighted by 1 - map
    psnr: tuple[float, float]
    ssim_roi: tuple[float, float]
    ssim_background: tuple[float, float]
    ssim: tuple[float, float]

    def table(self) -> str:
        """A small text table (rows: measures; columns: ROI file, uniform JPEG, difference)."""
        lines = [f"{'':16s}{'ROI':>10s}{'uniform':>10s}{'diff':>9s}"]
        lines.append(f"{'bytes':16s}{self.roi_bytes:10d}{self.uniform_bytes:10d}{'':>9s}")
        for name in ("psnr_roi", "psnr_background", "psnr", "ssim_roi", "ssim_background", "ssim"):
            a, b = getattr(self, name)
            digits = 2 if name.startswith("psnr") else 4
            lines.append(f"{name:16s}{a:10.{digits}f}{b:10.{digits}f}{a - b:+9.{digits}f}")
        return "\n".join(lines)


def evaluate(
    image, roi_map, roi_data: bytes, uniform_data: bytes, uniform_quality: int
) -> Comparison:
    """Measure a ROI file and a uniform JPEG inside the ROI (map-weighted), outside it and overall."""
    array = images.as_uint8(image)
    roi = check_roi_map(roi_map)
    a, b = images.decode_bytes(roi_data), images.decode_bytes(uniform_data)
    inside, outside = roi, 1 - roi
    return Comparison(
        roi_bytes=len(roi_data),
        uniform_bytes=len(uniform_data),
        uniform_quality=uniform_quality,
        psnr_roi=(metrics.weighted_psnr(array, a, inside), metrics.weighted_psnr(array, b, inside)),
        psnr_background=(
            metrics.weighted_psnr(array, a, outside),
            metrics.weighted_psnr(array, b, outside),
        ),
        psnr=(metrics.psnr(array, a), metrics.psnr(array, b)),
        ssim_roi=(metrics.weighted_ssim(array, a, inside), metrics.weighted_ssim(array, b, inside)),
        ssim_background=(
            metrics.weighted_ssim(array, a, outside),
            metrics.weighted_ssim(array, b, outside),
        ),
        ssim=(metrics.ssim(array, a), metrics.ssim(array, b)),
    )
