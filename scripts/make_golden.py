"""Write the golden bitstreams of the shipped integer coders (helpers/reference/golden/).

    python scripts/make_golden.py
    python scripts/make_golden.py --add-hybrid   # only add chapter 10's file (the others unchanged)

Each file codes a small crop of a photo that ships with scikit-image (so nothing needs the data sets),
and golden.json records the coder, the model, the crop and the SHA-256 of the decoded pixels (decoded
here with the numpy int64 reference). Run once per coder format; ``make test`` decodes them under
every configuration of this machine (tests/test_golden.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import skimage.color  # noqa: E402
import skimage.data  # noqa: E402

from helpers import autoencoder, fixedpoint, golden, images, pixelcnn, roi, video  # noqa: E402

CROPS = {
    "astronaut": (slice(40, 104), slice(160, 256)),
    "coffee": (slice(100, 164), slice(200, 328)),
}


def hybrid_records() -> list[tuple[str, bytes, dict]]:
    """Chapter 10's hybrid codec with every decoder-side tool on: three frames of a colour crop of
    scikit-image's astronaut panning right by three pixels per frame, 4:2:0 (BT.601 planes); once with
    each frame at the size the encoder chose (the learned intra mode and both chroma-from-luma modes are
    used), once with every frame at half size (the learned upsampler)."""
    from helpers.video import hybrid

    y, u, v = images.rgb_to_yuv420(skimage.data.astronaut())
    frames = {
        "y": np.stack([y[96:144, 160 + 3 * t : 224 + 3 * t] for t in range(3)]),
        "u": np.stack([u[48:72, 80 + t : 112 + t] for t in range(3)]),
        "v": np.stack([v[48:72, 80 + t : 112 + t] for t in range(3)]),
    }
    tools = hybrid.Tools(
        learned_intra=True,
        linear_chroma=True,
        learned_chroma=True,
        half_resolution=True,
        loop_filter="learned",
    )
    out = []
    for name, quality, resolution in (
        ("hybrid-all-tools-q50-pan.ncw", 50, "rd"),
        ("hybrid-half-resolution-q20-pan.ncw", 20, "half"),
    ):
        data = hybrid.analyze(frames, quality, tools, resolution=resolution).data
        with fixedpoint.integer_path("numpy"):
            pixels = golden.hybrid_pixels(data)
        record = {
            "coder": "video-hybrid",
            "model": "video/tools + video/loop-filter",
            "quality": quality,
            "source": "helpers.images.rgb_to_yuv420(skimage.data.astronaut()): Y[96:144, 160 + 3t : 224 + 3t], "
            f"U, V [48:72, 80 + t : 112 + t], t = 0, 1, 2; every decoder-side tool on, resolution={resolution!r}",
            "bytes": len(data),
            "shape": list(pixels.shape),
            "sha256": golden.pixel_digest(pixels),
        }
        out.append((name, data, record))
    return out


def add_hybrid() -> None:
    path = golden.GOLDEN_DIR / "golden.json"
    content = json.loads(path.read_text())
    for name, data, record in hybrid_records():
        (golden.GOLDEN_DIR / name).write_bytes(data)
        content["files"][name] = record
        print(name, len(data), "bytes")
    path.write_text(json.dumps(content, indent=1) + "\n")


def main() -> None:
    if "--add-hybrid" in sys.argv[1:]:
        return add_hybrid()
    records = {}
    photos = {"astronaut": skimage.data.astronaut(), "coffee": skimage.data.coffee()}
    for quality in (1, 2, 3, 4):
        model = autoencoder.load_integer("bmshj2018-hyperprior", quality)
        for photo, (rows, cols) in CROPS.items():
            crop = photos[photo][rows, cols]
            name = f"hyperprior-int-q{quality}-{photo}.ncw"
            data = autoencoder.compress(model, crop)
            with fixedpoint.integer_path("numpy"):
                pixels = autoencoder.decompress(model, data)
            (golden.GOLDEN_DIR / name).write_bytes(data)
            records[name] = {
                "coder": "autoencoder",
                "model": "bmshj2018-hyperprior",
                "quality": quality,
                "source": f"skimage.data.{photo}()[{rows.start}:{rows.stop}, {cols.start}:{cols.stop}]",
                "bytes": len(data),
                "shape": list(pixels.shape),
                "sha256": golden.pixel_digest(pixels),
            }
            print(name, len(data), "bytes")
    # the mean-scale hyperprior (issue 19): its integer h_s predicts means as well as scales
    for quality in (1, 4):
        model = autoencoder.load_integer("mbt2018-mean", quality)
        rows, cols = CROPS["coffee"]
        crop = photos["coffee"][rows, cols]
        name = f"mean-int-q{quality}-coffee.ncw"
        data = autoencoder.compress(model, crop)
        with fixedpoint.integer_path("numpy"):
            pixels = autoencoder.decompress(model, data)
        (golden.GOLDEN_DIR / name).write_bytes(data)
        records[name] = {
            "coder": "autoencoder",
            "model": "mbt2018-mean",
            "quality": quality,
            "source": f"skimage.data.coffee()[{rows.start}:{rows.stop}, {cols.start}:{cols.stop}]",
            "bytes": len(data),
            "shape": list(pixels.shape),
            "sha256": golden.pixel_digest(pixels),
        }
        print(name, len(data), "bytes")
    # chapter 7's learned ROI codec on the integer hyperprior: a finer step on the left half
    model = autoencoder.load_integer("bmshj2018-hyperprior", 2)
    rows, cols = CROPS["astronaut"]
    crop = photos["astronaut"][rows, cols]
    roi_map = np.zeros(crop.shape[:2], np.float32)
    roi_map[:, : crop.shape[1] // 2] = 1
    data = roi.learned.compress(model, crop, roi_map, strength=2.0)
    with fixedpoint.integer_path("numpy"):
        pixels = roi.learned.decompress(model, data)
    name = "roi-learned-int-q2-astronaut.ncw"
    (golden.GOLDEN_DIR / name).write_bytes(data)
    records[name] = {
        "coder": "roi-learned",
        "model": "bmshj2018-hyperprior",
        "quality": 2,
        "source": f"skimage.data.astronaut()[{rows.start}:{rows.stop}, {cols.start}:{cols.stop}], "
        "ROI map 1 on the left half, strength 2",
        "bytes": len(data),
        "shape": list(pixels.shape),
        "sha256": golden.pixel_digest(pixels),
    }
    print(name, len(data), "bytes")
    # the toy video codec of chapter 5 with the integer learned filter in the loop: three frames of a
    # grey crop panning right by two pixels per frame
    grey = np.round(skimage.color.rgb2gray(photos["astronaut"]) * 255).astype(np.uint8)
    frames = np.stack([grey[100:148, 150 + 2 * t : 214 + 2 * t] for t in range(3)])
    data = video.encode(frames, 20, "conditioned-int", "in-loop")
    with fixedpoint.integer_path("numpy"):
        pixels = video.decode(data)
    name = "video-conditioned-int-q20-pan.ncw"
    (golden.GOLDEN_DIR / name).write_bytes(data)
    records[name] = {
        "coder": "video",
        "model": "conditioned-int",
        "quality": 20,
        "source": "rgb2gray(skimage.data.astronaut()) * 255 rounded, frames t = 0, 1, 2: "
        "[100:148, 150 + 2t : 214 + 2t]; quality 20, loop filter in the loop",
        "bytes": len(data),
        "shape": list(pixels.shape),
        "sha256": golden.pixel_digest(pixels),
    }
    print(name, len(data), "bytes")
    # chapter 3's PixelCNN, integer form: a 5 x 5 crop (75 subpixels, one network pass each to decode)
    model = pixelcnn.load_integer("gated")
    crop = photos["astronaut"][200:205, 200:205]
    data = pixelcnn.compress(model, crop)
    with fixedpoint.integer_path("numpy"):
        pixels = pixelcnn.decompress(model, data)
    assert np.array_equal(pixels, crop)
    name = "pixelcnn-int-gated-astronaut.ncw"
    (golden.GOLDEN_DIR / name).write_bytes(data)
    records[name] = {
        "coder": "pixelcnn",
        "model": "gated",
        "quality": None,
        "source": "skimage.data.astronaut()[200:205, 200:205] (lossless)",
        "bytes": len(data),
        "shape": list(pixels.shape),
        "sha256": golden.pixel_digest(pixels),
    }
    print(name, len(data), "bytes")
    for name, data, record in hybrid_records():
        (golden.GOLDEN_DIR / name).write_bytes(data)
        records[name] = record
    (golden.GOLDEN_DIR / "golden.json").write_text(
        json.dumps(
            {
                "about": "golden bitstreams: decode each with its coder on any machine; the pixels must have "
                "this SHA-256 (helpers.golden.pixel_digest). Written by scripts/make_golden.py.",
                "files": records,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
