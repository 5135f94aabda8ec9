"""One interface over the standard image codecs that run here through Pillow and its plugins:
JPEG (libjpeg-turbo), WebP, JPEG 2000 (OpenJPEG, with and without its colour transform), AVIF,
HEIF/HEVC-intra (the codec inside BPG, through pillow-heif), JPEG XL (pillow-jxl-plugin), and the
workbench's own JPEG from chapter 1.

``get(name).encode(image, quality) -> bytes`` and ``.decode(data) -> uint8 image``; ``available()``
says which codecs work on this machine and why not; ``rd_sweep`` measures R-D points, cached on disk
by content hash so re-running a notebook is instant.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, features

from . import config, data, images, jpeg, metrics

__all__ = [
    "Codec",
    "CODECS",
    "get",
    "available",
    "rd_sweep",
    "DEFAULT_QUALITIES",
    "published_kodak",
    "LOSSLESS",
    "lossless_bits",
]


@dataclass
class Codec:
    """A codec: ``quality`` runs over ``quality_range`` (higher is better); ``quality_meaning`` says what it is."""

    name: str
    pillow_format: str
    description: str
    quality_range: tuple[float, float] = (1, 100)
    quality_meaning: str = "the codec's quality setting (higher is better)"
    options: dict = field(default_factory=dict)
    requires: str | None = None  #: module or Pillow feature needed

    def _check_quality(self, quality: float) -> None:
        low, high = self.quality_range
        if isinstance(quality, bool) or not isinstance(
            quality, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"{self.name}: quality must be a number, got {quality!r}")
        if not low <= quality <= high:
            raise ValueError(
                f"{self.name}: quality must lie in {low}..{high} ({self.quality_meaning}), got {quality}"
            )

    def _save_options(self, quality: float) -> dict:
        return {"quality": int(round(quality)), **self.options}

    def encode(self, image, quality: float) -> bytes:
        """Encode a uint8 RGB image (H, W, 3) at this quality; return the file's bytes."""
        self._check_quality(quality)
        array = images.as_uint8(image)
        if array.ndim != 3:
            array = np.repeat(array[:, :, None], 3, axis=2)
        _ensure(self)
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, self.pillow_format, **self._save_options(quality))
        return buffer.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        """Decode bytes written by ``encode`` to uint8 RGB (H, W, 3)."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"{self.name}: data must be bytes, got {type(data).__name__}")
        _ensure(self)
        try:
            with Image.open(io.BytesIO(data)) as picture:
                return np.asarray(picture.convert("RGB")).copy()
        except Exception as error:  # Pillow raises several types for damaged data
            raise ValueError(f"{self.name}: cannot decode these bytes ({error})") from error


class _JPEG2000(Codec):
    def _save_options(self, quality: float) -> dict:
        # quality_mode 'dB': each layer is a target PSNR; irreversible = the 9/7 wavelet of lossy coding
        return {
            "quality_mode": "dB",
            "quality_layers": [float(quality)],
            "irreversible": True,
            **self.options,
        }


class _WorkbenchJPEG(Codec):
    def encode(self, image, quality: float) -> bytes:

        self._check_quality(quality)
        return jpeg.encode(image, int(round(quality)), **self.options)

    def decode(self, data: bytes) -> np.ndarray:

        decoded = jpeg.decode(data)
        return decoded if decoded.ndim == 3 else np.repeat(decoded[:, :, None], 3, axis=2)


CODECS: dict[str, Codec] = {
    codec.name: codec
    for codec in [
        Codec(
            "jpeg", "JPEG", "JPEG through libjpeg-turbo (Pillow), 4:2:0", options={"subsampling": 2}
        ),
        Codec(
            "jpeg-444",
            "JPEG",
            "JPEG through libjpeg-turbo (Pillow), 4:4:4",
            options={"subsampling": 0},
        ),
        _WorkbenchJPEG(
            "workbench-jpeg",
            "JPEG",
            "chapter 1's from-scratch JPEG, 4:2:0",
            options={"subsampling": "4:2:0"},
        ),
        Codec(
            "webp",
            "WEBP",
            "WebP (VP8 intra), libwebp",
            options={"method": 6},
            requires="feature:webp",
        ),
        _JPEG2000(
            "jpeg2000",
            "JPEG2000",
            "JPEG 2000 (OpenJPEG), 9/7 wavelet, with the colour transform (mct)",
            quality_range=(15, 70),
            quality_meaning="target PSNR of the layer in dB",
            options={"mct": 1},
            requires="feature:jpg_2000",
        ),
        _JPEG2000(
            "jpeg2000-nomct",
            "JPEG2000",
            "JPEG 2000 (OpenJPEG) coding R, G, B separately (no mct)",
            quality_range=(15, 70),
            quality_meaning="target PSNR of the layer in dB",
            options={"mct": 0},
            requires="feature:jpg_2000",
        ),
        Codec(
            "avif",
            "AVIF",
            "AVIF (AV1 intra, libavif through Pillow)",
            quality_range=(0, 100),
            options={"speed": 6},
            requires="feature:avif",
        ),
        Codec(
            "heif",
            "HEIF",
            "HEIF / HEVC intra (x265 through pillow-heif): the codec inside BPG",
            quality_range=(0, 100),
            requires="module:pillow_heif",
        ),
        Codec(
            "jpegxl",
            "JXL",
            "JPEG XL (libjxl through pillow-jxl-plugin)",
            quality_range=(1, 100),
            requires="module:pillow_jxl",
        ),
    ]
}

#: qualities for an R-D sweep of each codec (6 points from low to high rate).
DEFAULT_QUALITIES = {
    "jpeg": [5, 10, 20, 35, 50, 75, 90],
    "jpeg-444": [5, 10, 20, 35, 50, 75, 90],
    "workbench-jpeg": [5, 10, 20, 35, 50, 75, 90],
    "webp": [5, 15, 30, 50, 75, 90],
    "jpeg2000": [24, 27, 30, 33, 36, 40],
    "jpeg2000-nomct": [24, 27, 30, 33, 36, 40],
    "avif": [10, 25, 40, 55, 70, 85],
    "heif": [10, 25, 40, 55, 70, 85],
    "jpegxl": [10, 25, 40, 55, 70, 85],
}


def _requirement_problem(codec: Codec) -> str | None:
    """None if the codec can run here, else why not."""
    if codec.requires is None:
        return None
    kind, name = codec.requires.split(":", 1)
    if kind == "feature":
        return None if features.check(name) else f"this Pillow build has no {name} support"
    try:
        module = __import__(name)
    except ImportError:
        package = {"pillow_heif": "pillow-heif", "pillow_jxl": "pillow-jxl-plugin"}.get(name, name)
        return f"the plugin is not installed (pip install {package})"
    if name == "pillow_heif":
        module.register_heif_opener()
    return None


def _ensure(codec: Codec) -> None:
    problem = _requirement_problem(codec)
    if problem:
        raise RuntimeError(f"codec {codec.name!r} is not available: {problem}")


def get(name: str) -> Codec:
    """The codec called ``name`` (see CODECS); raises a clear error for unknown or unavailable ones."""
    if name not in CODECS:
        raise ValueError(f"unknown codec {name!r}; choose from {sorted(CODECS)}")
    codec = CODECS[name]
    _ensure(codec)
    return codec


def available() -> dict[str, str]:
    """{codec name: 'ok' or the reason it cannot run here}."""
    return {name: _requirement_problem(codec) or "ok" for name, codec in CODECS.items()}


def _cache_key(codec: Codec, array: np.ndarray, quality: float) -> str:
    digest = hashlib.sha256()
    digest.update(
        json.dumps([codec.name, codec.options, float(quality), list(array.shape)]).encode()
    )
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def rd_sweep(
    codec: str | Codec,
    pictures: Mapping[str, np.ndarray],
    qualities: Iterable[float] | None = None,
    cache: bool = True,
    measure_ms_ssim: bool = True,
) -> list[dict]:
    """Encode every picture at every quality and measure it; returns one record per (image, quality):
    codec, image, quality, bytes, bpp, psnr, ms_ssim (None below 161 pixels), encode and decode seconds.

    Records are cached in <cache_dir>/rd_cache by a hash of the codec, its options, the quality and the
    pixels, so a second sweep of the same inputs is instant (timings are those of the first run).
    measure_ms_ssim=False skips MS-SSIM (the slowest part); such records are cached separately.
    """
    codec = get(codec) if isinstance(codec, str) else codec
    qualities = list(
        DEFAULT_QUALITIES.get(codec.name, [25, 50, 75]) if qualities is None else qualities
    )
    if not qualities:
        raise ValueError("rd_sweep needs at least one quality")
    if not pictures:
        raise ValueError("rd_sweep needs at least one picture")
    folder = config.cache_dir() / "rd_cache"
    records = []
    for image_name, picture in pictures.items():
        array = images.as_uint8(picture)
        for quality in qualities:
            key = _cache_key(codec, array, quality) + ("" if measure_ms_ssim else "-psnr")
            path = folder / f"{key}.json"
            if cache and path.is_file():
                record = json.loads(path.read_text())
                record["image"] = image_name
                records.append(record)
                continue
            start = time.perf_counter()
            payload = codec.encode(array, quality)
            encode_seconds = time.perf_counter() - start
            start = time.perf_counter()
            decoded = codec.decode(payload)
            decode_seconds = time.perf_counter() - start
            record = {
                "codec": codec.name,
                "image": image_name,
                "quality": quality,
                "bytes": len(payload),
                "bpp": metrics.bpp(len(payload), *array.shape[:2]),
                "psnr": metrics.psnr(array, decoded),
                "ms_ssim": metrics.ms_ssim(array, decoded)
                if measure_ms_ssim and min(array.shape[:2]) > 160
                else None,
                "encode_seconds": encode_seconds,
                "decode_seconds": decode_seconds,
            }
            if cache:
                folder.mkdir(parents=True, exist_ok=True)
                temporary = path.with_suffix(".tmp")
                temporary.write_text(json.dumps(record))
                os.replace(temporary, path)
            records.append(record)
    return records


def published_kodak() -> dict[str, dict]:
    """CompressAI's published Kodak R-D points: {codec: {'bpp', 'psnr', 'ms_ssim', 'file', 'commit', ...}}.

    Covers JPEG, WebP, BPG (4:4:4, x265), VTM and CompressAI's MSE-trained bmshj2018-factorized,
    bmshj2018-hyperprior and mbt2018; see helpers/reference/README.md for the protocol.
    """

    return data.reference("compressai_kodak")["curves"]


#: lossless settings: name -> (Pillow format, save options); every one is checked by decoding
LOSSLESS = {
    "PNG": ("PNG", {"optimize": True}),
    "WebP lossless": ("WEBP", {"lossless": True, "quality": 100, "method": 6}),
    "JPEG 2000 lossless (RCT)": ("JPEG2000", {"irreversible": False, "mct": 1}),
    "JPEG 2000 lossless (no RCT)": ("JPEG2000", {"irreversible": False, "mct": 0}),
    # libjxl's default effort (7): about a second per Kodak image; effort 9 saves under 1 % at 5 x the time
    "JPEG XL lossless": ("JXL", {"lossless": True, "effort": 7}),
}


def lossless_bits(image, names: Iterable[str] | None = None) -> dict[str, float]:
    """Bits per subpixel of ``image`` (uint8 RGB) under each lossless codec, each round trip verified.

    RCT is JPEG 2000's reversible colour transform (an integer approximation of YCbCr).
    """
    array = images.as_uint8(image)
    chosen = list(LOSSLESS) if names is None else list(names)
    result = {}
    for name in chosen:
        if name not in LOSSLESS:
            raise ValueError(f"unknown lossless codec {name!r}; choose from {list(LOSSLESS)}")
        fmt, options = LOSSLESS[name]
        if fmt == "JXL":
            _ensure(CODECS["jpegxl"])  # registers the plugin, or says how to install it
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, fmt, **options)
        decoded = np.asarray(
            Image.open(io.BytesIO(buffer.getvalue())).convert("RGB" if array.ndim == 3 else "L")
        )
        if not np.array_equal(decoded, array):
            raise RuntimeError(f"{name} did not round-trip losslessly on this machine")
        result[name] = 8 * len(buffer.getvalue()) / array.size
    return result
