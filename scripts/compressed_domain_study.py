"""Chapter 8's measurements -> helpers/reference/compressed_domain_study.json.

    WORKBENCH_DATA=../shared/data python scripts/compressed_domain_study.py [--limit N] [--out PATH]

1. JPEG decoding as a linear map: chapter 1's reader + linear_decode against chapter 1's decoder and Pillow.
2. Exact conversion of the shipped digits ResNet: max |logit difference|, and accuracy / logit error /
   ReLU error against k for direct truncation and ASM (JPEG quality 50 and 90, the 540 test digits).
3. The 500 held-out ImageNet sample photos (odd-numbered; centre 224 x 224): top-1 agreement with
   EfficientNet-Lite0 on the original, top-1 accuracy, agreement with Lite2 on the original, against
   real bits per pixel, for decode-then-classify, the DCT adapter and the latent adapter.
4. Bytes-to-logits time of each path, one thread, best of 3 per image.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from helpers import autoencoder, cam, config, data, jpeg
from helpers import compressed_domain as cd

JPEG_QUALITIES = (10, 20, 30, 50, 75, 90)
HYPERPRIOR_QUALITIES = (1, 2, 3, 4)


def linear_map_check() -> dict:
    from helpers import data

    photo = cd.resize_center_crop(data.kodak(names=["kodim23"])["kodim23"])
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=75, subsampling=2)
    raw = buffer.getvalue()
    frame = jpeg.read_jpeg(raw)
    linear = cd.linear_decode(frame)
    course_float = jpeg.decode(raw, upsampling="nearest", idct="float").astype(np.float64)
    pillow = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"), dtype=np.float64)
    rounded = np.clip(np.round(linear), 0, 255)
    return {
        "image": "kodim23, centre 224 x 224, Pillow quality 75 4:2:0",
        "max_abs_vs_course_float_decoder": float(np.abs(rounded - course_float).max()),
        "mean_abs_vs_course_float_decoder": float(np.abs(rounded - course_float).mean()),
        "share_within_1_vs_course_float_decoder": float(
            (np.abs(rounded - course_float) <= 1).mean()
        ),
        "share_within_2_vs_pillow": float((np.abs(rounded - pillow) <= 2).mean()),
        "mean_abs_vs_pillow": float(np.abs(rounded - pillow).mean()),
        "max_abs_vs_pillow": float(np.abs(rounded - pillow).max()),
        "note": "Pillow uses the integer IDCT and fancy (triangular) chroma upsampling; the linear "
        "map uses the exact IDCT and repetition. Chapter 1's decoder rounds and clamps the Y, Cb, Cr "
        "planes to 0..255 before the colour transform (the rare large differences are that clamp).",
    }


def digits_study(model: cd.DigitsNet) -> dict:
    (_, _), (test_x, test_y) = cd.digits()
    model = model.double().eval()
    converted = cd.convert(model)
    result = {"test_digits": len(test_y)}
    originals = (torch.from_numpy(test_x).double()[:, None] - 128) / 128
    with torch.no_grad():
        result["accuracy_original"] = float((model(originals).argmax(1).numpy() == test_y).mean())
    for quality in (50, 90):
        files = cd.jpeg_digits(test_x, quality)
        coefficients, pixels = cd.digit_inputs(files)
        decoded = np.stack([jpeg.decode(f) for f in files])
        decoded = (torch.from_numpy(decoded).double()[:, None] - 128) / 128
        with torch.no_grad():
            reference = model(pixels)
            exact = converted(coefficients)
        result[f"q{quality}"] = {
            "bpp": float(np.mean([len(f) for f in files]) * 8 / test_x[0].size),
            "max_abs_logit_difference": float((exact - reference).abs().max()),
            "accuracy_pixels_float_idct": float((reference.argmax(1).numpy() == test_y).mean()),
            "accuracy_pixels_decoded_uint8": float(
                (model(decoded).argmax(1).numpy() == test_y).mean()
            ),
            "accuracy_converted_exact": float((exact.argmax(1).numpy() == test_y).mean()),
        }
        if quality != 50:
            continue
        # the k sweep in float32 (the float64 exactness is checked above)
        coefficients, reference = coefficients.float(), reference.float()
        rows = []
        with torch.no_grad():
            first = converted.stem(coefficients)  # the first ReLU's input: real activations
            exact_relu = cd.relu_exact(first)
            for k in range(1, cd.FREQUENCY_BANDS + 1):
                row = {"k": k}
                for method, relu in (("direct", cd.relu_direct), ("asm", cd.relu_asm)):
                    logits = converted(coefficients, method, k)
                    row[f"{method}_accuracy"] = float((logits.argmax(1).numpy() == test_y).mean())
                    row[f"{method}_logit_mae"] = float((logits - reference).abs().mean())
                    row[f"{method}_relu_rmse"] = float(
                        ((relu(first, k) - exact_relu) ** 2).mean().sqrt()
                    )
                rows.append(row)
                print("digits", row, flush=True)
        result[f"q{quality}"]["by_k"] = rows
    return result


def _jpeg_bytes(photo: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=quality, subsampling=2)
    return buffer.getvalue()


def _pixels_logits(classifier, batch: list[np.ndarray]) -> torch.Tensor:
    with torch.no_grad():
        return classifier.model(torch.cat([classifier.preprocess(p) for p in batch]))


def photo_study(
    limit: int | None,
    codecs: tuple[str, ...] = ("jpeg", "hyperprior"),
    previous: dict | None = None,
) -> dict:
    photos = cd.held_out_photos(limit)
    labels = np.array([label for _, label in photos])
    originals = [p for p, _ in photos]
    lite0 = cam.load_classifier("efficientnet-lite0")
    lite2 = cam.load_classifier("efficientnet-lite2")
    dct = cd.load_pretrained("dct-lite0") if "jpeg" in codecs else None
    latent = cd.load_pretrained("latent-lite0") if "hyperprior" in codecs else None
    pixels = 224 * 224

    def top1(function, items) -> np.ndarray:
        out = []
        for start in range(0, len(items), 25):
            out.append(function(items[start : start + 25]).argmax(1).cpu().numpy())
        return np.concatenate(out)

    reference = top1(lambda b: _pixels_logits(lite0, b), originals)
    reference2 = top1(lambda b: _pixels_logits(lite2, b), originals)

    def scores(predicted: np.ndarray) -> dict:
        return {
            "agreement": float((predicted == reference).mean()),
            "accuracy": float((predicted == labels).mean()),
            "agreement_lite2": float((predicted == reference2).mean()),
            # per photo, so that every figure gets its bootstrap interval (metrics.bootstrap_interval)
            "top1": predicted.astype(int).tolist(),
        }

    result = {
        "photos": len(photos),
        "original": {
            "accuracy_lite0": float((reference == labels).mean()),
            "accuracy_lite2": float((reference2 == labels).mean()),
            "lite0_lite2_agreement": float((reference == reference2).mean()),
            "labels": labels.astype(int).tolist(),
            "top1_lite0": reference.astype(int).tolist(),
            "top1_lite2": reference2.astype(int).tolist(),
        },
        "jpeg": [],
        "hyperprior": [],
    }
    for codec_name in ("jpeg", "hyperprior"):  # keep what this run does not redo
        if codec_name not in codecs and previous:
            result[codec_name] = previous.get(codec_name, [])
            for key in ("gate_top_channels_q75", "dct_gate_probabilities"):
                if codec_name == "jpeg" and key in previous:
                    result[key] = previous[key]
    for quality in JPEG_QUALITIES if "jpeg" in codecs else ():
        files = [_jpeg_bytes(p, quality) for p in originals]
        decoded = [np.asarray(Image.open(io.BytesIO(f)).convert("RGB")) for f in files]
        row = {"quality": quality, "bpp": float(np.mean([len(f) for f in files]) * 8 / pixels)}
        row["decode_then_classify"] = scores(top1(lambda b: _pixels_logits(lite0, b), decoded))

        def from_dct(batch):
            tensors = [cd.dct_tensors(cd.read_coefficients(f), size=224) for f in batch]
            with torch.no_grad():
                return dct(torch.cat([t[0] for t in tensors]), torch.cat([t[1] for t in tensors]))

        row["dct_domain"] = scores(top1(from_dct, files))
        if quality == 75:  # keep only the channels the learned gate ranks highest
            result["gate_top_channels_q75"] = []
            for count in (4, 8, 16, 24, 32, 48, 64, 96, 128, 192):
                dct.adapter.keep_top(count)
                kept = scores(top1(from_dct, files))
                kept_planes = (~dct.adapter.disabled).reshape(3, 64).sum(1).tolist()
                result["gate_top_channels_q75"].append(
                    {"channels": count, "y_cb_cr": kept_planes, **kept}
                )
                print("top", count, kept_planes, kept, flush=True)
            dct.adapter.disabled.fill_(False)
        result["jpeg"].append(row)
        print("jpeg", row, flush=True)
    for quality in HYPERPRIOR_QUALITIES if "hyperprior" in codecs else ():
        codec = autoencoder.load_pretrained("bmshj2018-hyperprior", quality)
        files = [autoencoder.compress(codec, p) for p in originals]
        row = {"quality": quality, "bpp": float(np.mean([len(f) for f in files]) * 8 / pixels)}
        decoded = [autoencoder.decompress(codec, f) for f in files]
        row["decode_then_classify"] = scores(top1(lambda b: _pixels_logits(lite0, b), decoded))

        def from_latents(batch, codec=codec):
            with torch.no_grad():
                return latent(torch.cat([cd.read_latents(codec, f) for f in batch]))

        row["latent_domain"] = scores(top1(from_latents, files))
        result["hyperprior"].append(row)
        print("hyperprior", row, flush=True)
    if dct is not None:
        result["dct_gate_probabilities"] = np.round(dct.adapter.gate_probabilities(), 4).tolist()
    return result


def timing_study(count: int = 20) -> dict:
    """Bytes -> logits, one image at a time, one thread; best of 3 per image, summed over images."""
    torch.set_num_threads(1)
    photos = [p for p, _ in cd.held_out_photos(count)]
    lite0 = cam.load_classifier("efficientnet-lite0")
    dct = cd.load_pretrained("dct-lite0")
    latent = cd.load_pretrained("latent-lite0")
    codec = autoencoder.load_pretrained("bmshj2018-hyperprior", 4)
    files = {
        "jpeg": [_jpeg_bytes(p, 75) for p in photos],
        "hyperprior": [autoencoder.compress(codec, p) for p in photos],
    }
    paths = {
        name: (function, files[kind])
        for name, (function, kind) in cd.bytes_to_logits_paths(lite0, dct, latent, codec).items()
    }
    result = {"images": count, "threads": 1, "machine": config.machine()}
    for name, (function, inputs) in paths.items():
        function(inputs[0])  # warm up
        seconds = sum(cd.timed(function, item) for item in inputs) / len(inputs)
        result[name + "_ms"] = 1000 * seconds
        print(name, f"{1000 * seconds:.1f} ms", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="held-out photos (default all 500)")
    parser.add_argument(
        "--out",
        default=str(
            Path(__file__).resolve().parents[1] / "helpers/reference/compressed_domain_study.json"
        ),
    )
    parser.add_argument("--parts", default="linear,blocks,digits,photos,timing")
    args = parser.parse_args()
    config.seed_everything(0)
    path = Path(args.out)
    result = json.loads(path.read_text()) if path.is_file() else {}
    parts = args.parts.split(",")
    started = time.time()
    if "linear" in parts:
        result["linear_map"] = linear_map_check()
    if "blocks" in parts:
        result["paper_blocks"] = {
            "blocks": 100_000,
            "how": "random 4 x 4 pixel blocks in [-1, 1], box-scaled to 8 x 8 (Ehrlich and Davis's test)",
            "by_k": cd.relu_errors(cd.paper_blocks(100_000)),
        }
    if "digits" in parts:
        result["digits"] = digits_study(cd.load_pretrained("digits-resnet"))
    codecs = tuple(c for c in ("jpeg", "hyperprior") if "photos" in parts or f"photos-{c}" in parts)
    if codecs:
        result["photos"] = photo_study(args.limit, codecs, result.get("photos"))
    if "timing" in parts:
        result["timing"] = timing_study()
    result["machine"] = config.machine()
    path.write_text(data.study_json(result))
    print(f"wrote {path} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
