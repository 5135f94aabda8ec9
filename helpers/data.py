"""Data sets: Kodak (download + sha256 + cache), image folders and random crops, BSDS500,
labelled ImageNet samples, the Foreman QCIF clip, and ``sample_images`` that works anywhere.

Where files live: ``WORKBENCH_DATA=<dir>`` makes every data set read ``<dir>/<data set>`` (the
layout of the course's shared data folder); otherwise a per-user cache
(``~/.cache/neural-compression-workbench/data``). A missing file is downloaded from the data set's
public source (or, when ``WORKBENCH_DATA_URL=<url>`` names a mirror with the shared folder's layout,
e.g. a class server or ``python -m http.server`` in that folder, from ``<url>/<data set>/<file>``), checked against the sha256 shipped in ``helpers/checksums`` (Kodak's are embedded
below) and written through a temporary file and a rename, so an interrupted or corrupted download
never leaves a bad file behind.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from . import config, images

__all__ = [
    "DataUnavailableError",
    "reference",
    "study_json",
    "ChecksumError",
    "KODAK_URL",
    "KODAK_SHA256",
    "available",
    "kodak",
    "kodak_paths",
    "fetch",
    "sha256_of",
    "image_folder",
    "RandomCrops",
    "bsds500",
    "imagenet_samples",
    "imagenet_labels",
    "foreman_qcif",
    "foreman_qcif_rgb",
    "VIDEO_SEQUENCES",
    "video_sequence",
    "read_yuv",
    "sample_images",
    "NOTEBOOK_NEEDS",
    "RUN_WITHOUT_DATA",
    "notebook_missing_data",
]

#: The standard Kodak host (Rich Franzen's PNG set); WORKBENCH_KODAK_URL or ``base_url`` overrides it.
KODAK_URL = "http://r0k.us/graphics/kodak/kodak/"
BSDS500_URL = (
    "https://raw.githubusercontent.com/BIDS/BSDS500/a04b7c6c3a9f0ace74bf205c72a43d32e1c72722/"
    "BSDS500/data/images/"
)
IMAGENET_SAMPLES_URL = (
    "https://raw.githubusercontent.com/EliSchwartz/imagenet-sample-images/"
    "bc69043e2862758a1906c6a24a792bb28c6bb2ff/"
)
FOREMAN_URL = (
    "https://raw.githubusercontent.com/tadewossomano/GeoDTN/"
    "ff9fd9c2eabe2807cb4fa45d6887640831300718/foreman.yuv"
)
FOREMAN_FILE = "foreman_qcif_176x144_i420_10f.yuv"

#: chapter 10's QCIF sequences (raw I420, 176x144): file, frames, frames per second, public source
#: (a raw .yuv, or a .y4m whose frame payloads are the raw file), and the source's own sha256
VIDEO_SEQUENCES = {
    "foreman": {
        "file": "foreman_qcif_176x144_i420_100f.yuv",
        "frames": 100,
        "fps": 30.0,
        "url": "https://raw.githubusercontent.com/intel/compute-samples/"
        "d8bd5f392bfe3d835a5f8743ebf333508d8356d4/mediadata/internal/yuv/foreman_176x144.yuv",
        "source_sha256": None,
    },
    "bus": {
        "file": "bus_qcif_176x144_i420_38f.yuv",
        "frames": 38,
        "fps": 7.5,
        "url": "https://media.xiph.org/video/derf/y4m/bus_qcif_7.5fps.y4m",
        "source_sha256": "1f5bfcce0c881567ea31c1eb9ecb1da9f9583fdb7d6bb1c80a8c9acfc6b66f6b",
    },
    "highway": {
        "file": "highway_qcif_176x144_i420_40f.yuv",
        "frames": 40,
        "fps": 30.0,
        "url": "https://raw.githubusercontent.com/tdelizy/dycton/"
        "e7e834a804f857a06246052d72a39bb77460019c/src/platform_tlm/software/h263/datasets/"
        "input_6_i420_176x144.yuv",
        "source_sha256": None,
    },
}
QCIF = (144, 176)

KODAK_SHA256 = {
    "kodim01": "a56e27cbf5f843c048b6af1d6e090760e9c92fadba88b7dee0205918a37523bd",
    "kodim02": "4f4b74a79237e311d72cad958237b5f7088d8bce1c82305ebefe1a70e3022dfd",
    "kodim03": "e25ca1ff2f0c0cb5fdfd5f9b0a0bb21ac4c3de3c84a67f35b09a85d3306249db",
    "kodim04": "e3b946107c5d3441c022f678d0c3caf1e224d81b1604ba840a4f88e562de61aa",
    "kodim05": "10349e963c5c813d327852f82c1795fa4148d69fedffc4c589bee458e3ac3d53",
    "kodim06": "363510303b715d4cbc384e1ce227e466b613a09e1b71ae985882bf8e7fbd9b18",
    "kodim07": "b77d3f006f42414bb242222e0482e750c0fb9e5ee8d4bed2f6f11c5605fe54a4",
    "kodim08": "ba23983c76b4832ee0e8af0592664756841a16779acd69f792e268fb6d13d6e7",
    "kodim09": "6a4361c2fc194feb4edaa9f9a4a0620fb9943e460ac7fdf037fb0f6dd6607a7d",
    "kodim10": "9dfb70f5867c29ff9ed6313683f19b3d867849e40fbc0c4c54a4a89df341cf23",
    "kodim11": "7936814b58b5387fce2e4e2488b4ec830dadd95fa9520f358ddb30990b50f2b6",
    "kodim12": "d78c37c2f04f23761ed2367dd77e2db584ddd4c3950833fecf89f199a8126980",
    "kodim13": "bc34a3ce58dea09dce1704c997171602de90cb34d0c8503a988b77f473d39b08",
    "kodim14": "55a94550ff18f3246c4074fd32b77b0c74447c26b6ad274d564d999c0450ba6e",
    "kodim15": "7538cbb80cb9103606c48b806eae57d56c885c7f90b9b3be70a41160f9cbb683",
    "kodim16": "a89c7268ccd4718ba424a99fc4643c572cf692ca6eae887185ceb4e9f11d2e54",
    "kodim17": "37afcc89fbdcb76d9518e04b2fc011027e2f4cd14b3b2f83cefd721641a47c5b",
    "kodim18": "1a9258c365988961d87a0598725b609139c303ad48a5aad6c503c3b1a87849aa",
    "kodim19": "b7450b264b1b0a411390d8931b112c27905a992520fc90569dc4b920aa32bbdc",
    "kodim20": "3b46c71e3b92a563820ba32936be8330c586c41f938efd94be938386aae4328a",
    "kodim21": "ac958597c82073f6bb65129c68f72b651db5b9efd82e11547d07350214bc268b",
    "kodim22": "1cee58eb1f2d9c7ebb254d208a03c783ce6cf2c4d8c2cf45e235dd23b4ce1b29",
    "kodim23": "e3111a2fd4da24af15d6459ef9eacfe54106b38e27b4a21821b75c3f5d2d5baf",
    "kodim24": "1071c68372cc5a01435c2c225a5cf7d4bb803846ec08bb6b3d6721b156d7cb96",
}

# shipped inside the package (never read from the repository): sha256 sums and ImageNet labels
_CHECKSUMS = Path(str(resources.files("helpers") / "checksums"))
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
_verified: set[tuple[str, str]] = set()


class DataUnavailableError(RuntimeError):
    """A data set is neither on disk nor downloadable (offline); the message says how to fix it."""


class ChecksumError(ValueError):
    """A downloaded or local file does not have the expected sha256."""


def sha256_of(path: str | os.PathLike) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_sums(name: str) -> dict[str, str]:
    """Read a shipped sha256sum file into {relative path: sha256}."""
    sums = {}
    for line in (_CHECKSUMS / name).read_text().splitlines():
        if line.strip():
            digest, relative = line.split(maxsplit=1)
            sums[relative.strip().lstrip("*")] = digest
    return sums


def _offline_message(what: str, folder: Path, url: str, error: Exception) -> str:
    return (
        f"{what} is not in {folder} and could not be downloaded from {url} ({error}).\n"
        f"Fix: connect to the internet and retry, or copy the data set to a folder and set "
        f"WORKBENCH_DATA to it (it must contain {folder.name}/...), e.g.\n"
        f"    export WORKBENCH_DATA=/path/to/shared/data\n"
        f"or point WORKBENCH_DATA_URL at a mirror of that folder (a class server)."
    )


def _source(relative: str, default: str) -> str:
    """The URL of a data file: ``WORKBENCH_DATA_URL/<relative>`` when a mirror is set (its layout is
    the shared data folder's: kodak/, train/bsds500_train/, imagenet-samples/, video/), else the
    data set's public source ``default``."""
    mirror = os.environ.get("WORKBENCH_DATA_URL", "").strip()
    return mirror.rstrip("/") + "/" + relative if mirror else default


def fetch(url: str, destination: str | os.PathLike, sha256: str, timeout: float = 30.0) -> Path:
    """Download url to destination unless it already exists with the right sha256.

    The bytes go to a temporary file in the same folder and are renamed into place only after the
    checksum matches: a failure leaves nothing behind. Raises ChecksumError or DataUnavailableError.
    """
    destination = Path(destination)
    key = (str(destination), sha256)
    if destination.is_file():
        if key in _verified or sha256_of(destination) == sha256:
            _verified.add(key)
            return destination
        raise ChecksumError(
            f"{destination} exists but its sha256 is not the expected {sha256[:12]}...: "
            f"delete it to download it again, or restore the original file"
        )
    created = [] if destination.parent.exists() else [destination.parent]
    while created and not created[-1].parent.exists():
        created.append(created[-1].parent)  # the folders this call makes, innermost first
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=destination.name + ".", suffix=".part", dir=destination.parent
    )
    try:
        digest = hashlib.sha256()
        with (
            os.fdopen(handle, "wb") as out,
            urllib.request.urlopen(url, timeout=timeout) as response,
        ):
            for chunk in iter(lambda: response.read(1 << 16), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ChecksumError(
                f"checksum mismatch for {url}: expected sha256 {sha256[:12]}..., got "
                f"{digest.hexdigest()[:12]}... (the download was discarded)"
            )
        os.replace(temporary, destination)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise DataUnavailableError(
            _offline_message(destination.name, destination.parent, url, error)
        ) from error
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
        if not destination.is_file():  # nothing behind: not even the empty folders it made
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
    _verified.add(key)
    return destination


def kodak_paths(base_url: str | None = None, names: list[str] | None = None) -> dict[str, Path]:
    """Return {name: path} of the Kodak PNGs, downloading missing ones (sha256-checked)."""
    names = sorted(KODAK_SHA256) if names is None else list(names)
    unknown = [name for name in names if name not in KODAK_SHA256]
    if unknown:
        raise ValueError(f"unknown Kodak image names {unknown}; expected kodim01 ... kodim24")
    url = base_url or os.environ.get("WORKBENCH_KODAK_URL", "")
    url = url if not url or url.endswith("/") else url + "/"
    folder = config.data_dir() / "kodak"
    return {
        name: fetch(
            url + name + ".png" if url else _source(f"kodak/{name}.png", KODAK_URL + name + ".png"),
            folder / f"{name}.png",
            KODAK_SHA256[name],
        )
        for name in names
    }


def kodak(base_url: str | None = None, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Return the Kodak images as uint8 (H, W, 3) arrays keyed kodim01 ... kodim24 (all 24 by default)."""
    return {name: images.load_image(path) for name, path in kodak_paths(base_url, names).items()}


def available() -> dict[str, bool]:
    """Which data sets are already on disk (no download is attempted)."""
    root = config.data_dir()
    return {
        "kodak": all((root / "kodak" / f"{name}.png").is_file() for name in KODAK_SHA256),
        "bsds500": (root / "train" / "bsds500_train").is_dir(),
        "imagenet_samples": (root / "imagenet-samples" / "labels.csv").is_file(),
        "foreman_qcif": (root / "video" / FOREMAN_FILE).is_file(),
        **{
            f"video/{name}": (root / "video" / entry["file"]).is_file()
            for name, entry in VIDEO_SEQUENCES.items()
        },
    }


def image_folder(path: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """Return the sorted image files (png, jpg, bmp, tif, webp, ppm) in a folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"image_folder: {folder} is not a folder")
    pattern = "**/*" if recursive else "*"
    files = sorted(
        p for p in folder.glob(pattern) if p.suffix.lower() in _IMAGE_SUFFIXES and p.is_file()
    )
    if not files:
        raise ValueError(f"image_folder: no image files in {folder}")
    return files


class RandomCrops(torch.utils.data.Dataset):
    """Random crops of a set of images, as float32 (3, crop_size, crop_size) tensors in [0, 1].

    Images are decoded once and kept in memory (uint8). ``batches(batch_size)`` is the infinite,
    seeded batch source that ``training.train`` consumes; indexing gives one crop per image for
    a DataLoader. Random horizontal flips are on by default.
    """

    def __init__(
        self,
        sources,
        crop_size: int = 64,
        seed: int = 0,
        flip: bool = True,
        max_images: int | None = None,
    ):
        if not isinstance(crop_size, int) or crop_size < 1:
            raise ValueError(f"crop_size must be a positive int, got {crop_size!r}")
        if isinstance(sources, (str, os.PathLike)):
            sources = image_folder(sources)
        sources = list(sources)[:max_images] if max_images else list(sources)
        if not sources:
            raise ValueError("RandomCrops needs at least one image")
        self.images = [
            images.load_image(s) if isinstance(s, (str, os.PathLike)) else images.as_uint8(s)
            for s in sources
        ]
        self.images = [
            np.repeat(i[:, :, None], 3, axis=2) if i.ndim == 2 else i for i in self.images
        ]
        small = [i.shape[:2] for i in self.images if min(i.shape[:2]) < crop_size]
        if small:
            raise ValueError(f"crop_size {crop_size} is larger than some images (e.g. {small[0]})")
        self.crop_size = crop_size
        self.flip = flip
        self.generator = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.images)

    def _crop(self, index: int, rng: np.random.Generator) -> np.ndarray:
        image = self.images[index]
        top = rng.integers(0, image.shape[0] - self.crop_size + 1)
        left = rng.integers(0, image.shape[1] - self.crop_size + 1)
        crop = image[top : top + self.crop_size, left : left + self.crop_size]
        if self.flip and rng.random() < 0.5:
            crop = crop[:, ::-1]
        return crop

    def __getitem__(self, index: int) -> torch.Tensor:
        crop = self._crop(index, self.generator)
        return torch.from_numpy(crop.transpose(2, 0, 1).copy()).float() / 255.0

    def batch(self, batch_size: int, rng: np.random.Generator | None = None) -> torch.Tensor:
        """One batch (batch_size, 3, crop, crop) of crops from randomly chosen images, on the CPU."""
        rng = self.generator if rng is None else rng
        picks = rng.integers(0, len(self.images), size=batch_size)
        stack = np.stack([self._crop(int(i), rng) for i in picks])
        return torch.from_numpy(stack.transpose(0, 3, 1, 2).copy()).float() / 255.0

    def batches(self, batch_size: int, seed: int | None = None) -> Iterator[torch.Tensor]:
        """Infinite iterator of batches; a seed makes the sequence repeatable."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        rng = self.generator if seed is None else np.random.default_rng(seed)
        while True:
            yield self.batch(batch_size, rng)


def bsds500(split: str = "train", download: bool = True) -> list[Path]:
    """Paths of the BSDS500 training photos (split 'train' 200, 'val' 100, or 'all' 300).

    Read from WORKBENCH_DATA/train/bsds500_<split>/. The official source is the Berkeley
    Segmentation Data Set (BSR_bsds500.tgz, Arbelaez et al., TPAMI 2011); missing files are
    downloaded from the BIDS/BSDS500 GitHub mirror and sha256-checked. Research/educational use.
    Note: the files are themselves JPEGs (about quality 92-95, 4:2:0).
    """
    if split not in ("train", "val", "all"):
        raise ValueError(f"split must be 'train', 'val' or 'all', got {split!r}")
    sums = _read_sums("bsds500.sha256")
    wanted = sorted(k for k in sums if split == "all" or k.startswith(f"bsds500_{split}/"))
    folder = config.data_dir() / "train"
    paths = []
    for relative in wanted:
        target = folder / relative
        if not target.is_file() and not download:
            raise DataUnavailableError(
                _offline_message("BSDS500", folder, BSDS500_URL, FileNotFoundError(target))
            )
        subset, name = relative.split("/")
        default = BSDS500_URL + subset.replace("bsds500_", "") + "/" + name
        paths.append(fetch(_source(f"train/{relative}", default), target, sums[relative]))
    return paths


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet-1k class names in the standard ILSVRC-2012 index order."""
    names = [""] * 1000
    with open(_CHECKSUMS / "imagenet-labels.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            names[int(row["class_index"])] = row["class_name"]
    return names


def imagenet_samples(
    limit: int | None = None, classes: list[int] | None = None
) -> Iterator[tuple[np.ndarray, int, str]]:
    """Yield (uint8 RGB image, class_index, class_name) for the ImageNet sample photos (one per class).

    ``classes`` keeps only those class indices; ``limit`` stops after that many images.
    """
    sums = _read_sums("imagenet-samples.sha256")
    folder = config.data_dir() / "imagenet-samples"
    count = 0
    with open(_CHECKSUMS / "imagenet-labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        index = int(row["class_index"])
        if classes is not None and index not in classes:
            continue
        if limit is not None and count >= limit:
            return
        url = _source(f"imagenet-samples/{row['file']}", IMAGENET_SAMPLES_URL + row["file"])
        path = fetch(url, folder / row["file"], sums[row["file"]])
        yield images.load_image(path), index, row["class_name"]
        count += 1


def foreman_qcif(num_frames: int = 10) -> dict[str, np.ndarray]:
    """The old 10-frame Foreman QCIF file (176x144, I420) as planes {'y': (N, 144, 176), 'u', 'v':
    (N, 72, 88)} uint8. Its frames are every second frame from frame 80 of the sequence (80, 82, ...,
    98: 1/15 s apart), not its first ten; ``video_sequence("foreman")`` has all 100 frames at 30 fps."""
    if not isinstance(num_frames, int) or not 1 <= num_frames <= 10:
        raise ValueError(f"num_frames must be an int in 1..10, got {num_frames!r}")
    sha = _read_sums("video.sha256")[FOREMAN_FILE]
    url = _source(f"video/{FOREMAN_FILE}", FOREMAN_URL)
    path = fetch(url, config.data_dir() / "video" / FOREMAN_FILE, sha)
    raw = np.fromfile(path, dtype=np.uint8)
    width, height = 176, 144
    frame_size = width * height * 3 // 2
    frames = raw[: frame_size * num_frames].reshape(num_frames, frame_size)
    luma = width * height
    return {
        "y": frames[:, :luma].reshape(num_frames, height, width),
        "u": frames[:, luma : luma + luma // 4].reshape(num_frames, height // 2, width // 2),
        "v": frames[:, luma + luma // 4 :].reshape(num_frames, height // 2, width // 2),
    }


def _y4m_to_raw(path: Path, shape: tuple[int, int]) -> bytes:
    """The frame payloads of a 4:2:0 .y4m file, concatenated (the raw I420 file)."""
    blob = path.read_bytes()
    header_end = blob.find(b"\n")
    header = blob[:header_end].split()
    if not blob.startswith(b"YUV4MPEG2 ") or header_end < 0:
        raise ValueError(f"{path} is not a YUV4MPEG2 file")
    tags = {field[:1]: field[1:] for field in header[1:]}
    if (int(tags.get(b"H", 0)), int(tags.get(b"W", 0))) != shape or tags.get(b"C", b"420")[
        :3
    ] != b"420":
        raise ValueError(f"{path}: expected 4:2:0 {shape[1]}x{shape[0]}, header says {header!r}")
    size, position, frames = shape[0] * shape[1] * 3 // 2, header_end + 1, []
    while position < len(blob):
        line_end = blob.find(b"\n", position)
        if line_end < 0 or not blob[position:line_end].startswith(b"FRAME"):
            raise ValueError(f"{path}: damaged frame header at byte {position}")
        frames.append(blob[line_end + 1 : line_end + 1 + size])
        position = line_end + 1 + size
    if not frames or len(frames[-1]) != size:
        raise ValueError(f"{path}: the last frame is truncated")
    return b"".join(frames)


def read_yuv(
    path, width: int, height: int, num_frames: int | None = None, start: int = 0
) -> dict[str, np.ndarray]:
    """Planes {'y': (N, H, W), 'u', 'v': (N, H/2, W/2)} uint8 of a raw 8-bit I420 (4:2:0) file.

    The file size must be a whole number of 4:2:0 frames of that size: a 4:2:2 or 4:4:4 file, or a
    wrong width or height, is refused with the sizes it would need.
    """
    if width % 2 or height % 2 or width < 2 or height < 2:
        raise ValueError(f"4:2:0 frames need an even width and height, got {width}x{height}")
    size = width * height * 3 // 2
    total = Path(path).stat().st_size
    if total == 0 or total % size:
        hints = ", ".join(
            f"{name} {total / (width * height * f):g}"
            for name, f in (("4:2:0", 1.5), ("4:2:2", 2), ("4:4:4", 3))
        )
        raise ValueError(
            f"{path} ({total} bytes) is not a whole number of 8-bit 4:2:0 {width}x{height} frames "
            f"of {size} bytes (frames it would hold as {hints}): check the size and the chroma format"
        )
    available_frames = total // size
    count = available_frames - start if num_frames is None else num_frames
    if not isinstance(start, int) or not 0 <= start < available_frames:
        raise ValueError(f"start must be in 0..{available_frames - 1}, got {start!r}")
    if not isinstance(count, int) or not 1 <= count <= available_frames - start:
        raise ValueError(
            f"num_frames must be in 1..{available_frames - start} from frame {start}, got {num_frames!r}"
        )
    raw = np.fromfile(path, dtype=np.uint8, count=size * count, offset=size * start)
    frames = raw.reshape(count, size)
    luma = width * height
    return {
        "y": frames[:, :luma].reshape(count, height, width),
        "u": frames[:, luma : luma + luma // 4].reshape(count, height // 2, width // 2),
        "v": frames[:, luma + luma // 4 :].reshape(count, height // 2, width // 2),
    }


def video_sequence(
    name: str, num_frames: int | None = None, start: int = 0
) -> dict[str, np.ndarray]:
    """A QCIF test sequence of chapter 10 as I420 planes {'y': (N, 144, 176), 'u', 'v': (N, 72, 88)}.

    ``name``: 'foreman' (100 frames, 30 fps), 'bus' (38 frames, 7.5 fps) or 'highway' (40 frames);
    ``start`` and ``num_frames`` pick consecutive frames. Downloaded on first use (sha256-checked),
    or read from ``WORKBENCH_DATA/video``.
    """
    if name not in VIDEO_SEQUENCES:
        raise ValueError(f"unknown sequence {name!r}; expected one of {sorted(VIDEO_SEQUENCES)}")
    entry = VIDEO_SEQUENCES[name]
    sha = _read_sums("video.sha256")[entry["file"]]
    destination = config.data_dir() / "video" / entry["file"]
    if (
        not destination.is_file()
        and entry["source_sha256"]
        and not os.environ.get("WORKBENCH_DATA_URL")
    ):
        # the public source is a .y4m: fetch it, keep its frame payloads, check the raw file
        y4m = fetch(entry["url"], destination.with_suffix(".y4m"), entry["source_sha256"])
        raw = _y4m_to_raw(y4m, QCIF)
        if hashlib.sha256(raw).hexdigest() != sha:
            raise ChecksumError(f"{y4m}: its frames do not give the expected {entry['file']}")
        destination.write_bytes(raw)
    path = fetch(_source(f"video/{entry['file']}", entry["url"]), destination, sha)
    return read_yuv(path, QCIF[1], QCIF[0], num_frames, start)


def foreman_qcif_rgb(num_frames: int = 10) -> np.ndarray:
    """Foreman as uint8 RGB frames (N, 144, 176, 3): BT.601 limited range, nearest chroma upsampling."""
    planes = foreman_qcif(num_frames)
    return images.yuv420_to_rgb(planes["y"], planes["u"], planes["v"])


#: colour photos bundled with scikit-image itself (no download needed)
_SKIMAGE_PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
)


def sample_images(
    n: int = 4, size: int | None = None, quiet: bool = False
) -> dict[str, np.ndarray]:
    """Return n photos {name: uint8 (H, W, 3)}: Kodak when it can be had, else scikit-image's photos.

    ``size`` takes a central square crop. The fallback warns visibly and has at most six photos,
    so every notebook runs anywhere, but its numbers are not the Kodak numbers.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    try:
        pictures = kodak(names=sorted(KODAK_SHA256)[: min(n, 24)])
    except DataUnavailableError:
        import skimage.data

        if not quiet:
            warnings.warn(
                "Kodak is not available (offline, no WORKBENCH_DATA): using scikit-image's sample "
                "photos instead. Figures will differ from the published ones.",
                stacklevel=2,
            )
        pictures = {}
        for name in _SKIMAGE_PHOTOS[:n]:
            picture = getattr(skimage.data, name)()
            pictures[name] = (
                picture[:, :, :3] if picture.ndim == 3 else np.repeat(picture[:, :, None], 3, 2)
            )
    if size is not None:
        pictures = {k: images.center_crop(v, min(size, *v.shape[:2])) for k, v in pictures.items()}
    return pictures


def reference(name: str) -> dict:
    """A stored study or published figure set, ``helpers/reference/<name>.json`` (shipped with the
    package; helpers/reference/README.md names the script that wrote each)."""
    import json

    folder = resources.files("helpers") / "reference"
    path = folder / f"{name}.json"
    if not path.is_file():
        known = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))
        raise ValueError(f"no stored reference {name!r}; stored: {known}")
    return json.loads(path.read_text())


def study_json(study: dict) -> str:
    """A study as the text of its ``helpers/reference`` file: indented JSON whose lists of numbers (per-photo
    rows, curves) stay on one line each, so that a file with 500 values per row stays readable in a diff."""
    import json
    import re

    text = json.dumps(study, indent=1)
    numbers = re.compile(r"\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]")
    return numbers.sub(lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]", text) + "\n"


#: what a chapter notebook's code calls -> (the data set it needs, a probe that loads one file of it)
NOTEBOOK_NEEDS = {
    "data.kodak(": ("Kodak", lambda: kodak_paths()),
    "data.bsds500(": ("BSDS500", lambda: bsds500("train")),
    "data.imagenet_samples(": (
        "the ImageNet sample photos",
        lambda: next(iter(imagenet_samples(classes=[1]))),
    ),
    "data.foreman_qcif": ("Foreman QCIF", lambda: foreman_qcif(1)),
    "data.video_sequence(": (
        "the QCIF video sequences",
        lambda: [video_sequence(name, 1) for name in sorted(VIDEO_SEQUENCES)],
    ),
    # chapters 8 and 9 read the held-out ImageNet sample photos through compressed_domain
    "held_out_photos(": (
        "the ImageNet sample photos",
        lambda: next(iter(imagenet_samples(classes=[1]))),
    ),
}

#: chapters that fall back to scikit-image's photos (``sample_images``) and so run with no data at all
RUN_WITHOUT_DATA = frozenset({"00_welcome", "01_jpeg_internals", "02_quality_metrics"})


def notebook_missing_data(path: str | os.PathLike) -> str | None:
    """Why the chapter notebook at ``path`` cannot run here, or None when it can: the first data set
    its code cells call for (``NOTEBOOK_NEEDS``) that is neither in WORKBENCH_DATA / the cache nor
    downloadable, named with the fix. The notebook tests (nbval) and the browser tests skip a chapter
    with this reason, so both decide alike."""
    import json

    path = Path(path)
    if path.stem in RUN_WITHOUT_DATA:
        return None
    notebook = json.loads(path.read_text(encoding="utf-8"))
    text = "\n".join(
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    )
    for call, (name, probe) in NOTEBOOK_NEEDS.items():
        if call in text:
            try:
                probe()
            except DataUnavailableError as error:
                cause = str(error).splitlines()[0][:160]
                return (
                    f"{path.name} needs {name}, which is neither in {config.data_dir()} nor "
                    "downloadable: set WORKBENCH_DATA to the course's data folder or "
                    f"WORKBENCH_DATA_URL to a mirror of it ({cause})"
                )
    return None
