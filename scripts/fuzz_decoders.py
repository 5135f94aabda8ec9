"""Fuzz every decoder of the course with damaged files; print one JSON summary per decoder.

    python scripts/fuzz_decoders.py [--count 300] [--seed 0] [DECODER ...]

Each decoder gets one real file (a small image coded by the shipped model, or a seeded tiny model when
none is shipped), then ``count`` damaged copies spread over helpers.container.DAMAGE_KINDS. Every
decode must raise the decoder's documented error (or return exactly the original decode, for damage
that changes nothing the decoder reads); anything else is a failure. JPEG is the exception that
teaches the rule: the format carries no checksum, so a flipped bit in its entropy-coded data decodes
to a (locally wrong) picture, counted but not failed; the course's own formats carry CRC-32s. The tests and
benchmarks/bench_fuzz.py run this script in a child process, so a crash (a segmentation fault in
native code) is reported as a failure instead of killing the run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

import numpy as np


def _coders() -> dict:
    """name -> (encode() -> bytes, decode(bytes) -> array, documented error type)."""
    import torch

    from helpers import autoencoder, config, jpeg, multiscale, pixelcnn, rans, roi, video

    config.seed_everything(0)
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    photo[:, :20] = 120  # a flat half, so the files are not pure noise

    def shipped_or_tiny(load, build):
        try:
            return load()
        except FileNotFoundError:
            torch.manual_seed(0)
            return build()

    hyper = shipped_or_tiny(
        lambda: autoencoder.load_pretrained("bmshj2018-hyperprior", 1),
        lambda: autoencoder.build_model("bmshj2018-hyperprior", 8, 12).eval().update(force=True),
    )
    factorized = shipped_or_tiny(
        lambda: autoencoder.load_pretrained("bmshj2018-factorized", 1),
        lambda: autoencoder.build_model("bmshj2018-factorized", 8, 12).eval().update(force=True),
    )
    integer = autoencoder.load_integer("bmshj2018-hyperprior", 1)
    mean_integer = autoencoder.load_integer("mbt2018-mean", 1)
    torch.manual_seed(0)
    tiny_pixelcnn = pixelcnn.build_model("gated", hidden=6, num_layers=2).eval()
    scales = shipped_or_tiny(
        lambda: multiscale.load_pretrained("multiscale"),
        lambda: multiscale.build_model(hidden=8, blocks=1, mixtures=2).eval(),
    )
    roi_map = np.zeros(photo.shape[:2], np.float32)
    roi_map[10:30, 10:30] = 1
    frames = rng.integers(0, 256, (3, 16, 32), dtype=np.uint8)
    from helpers.video import hybrid

    yuv = {"y": frames, "u": frames[:, ::2, ::2], "v": frames[:, 1::2, 1::2]}
    every_tool = hybrid.Tools(True, True, True, True, False, "deblock")
    from helpers.video import pframe

    pframe_model = pframe.load_pretrained("pframe", 1)
    moving = rng.integers(0, 256, (2, 32, 48), dtype=np.uint8)
    moving[1] = np.roll(moving[0], 2, axis=1)
    pframe_frames = {"y": moving, "u": moving[:, ::2, ::2], "v": moving[:, 1::2, 1::2]}
    # chapter 3's reference rANS coder: a Laplacian-like table and 2,000 symbols drawn from it
    laplace = np.exp(-np.abs(np.arange(-16, 17)) / 3.0)
    table = rans.frequencies_from_probabilities(laplace / laplace.sum(), 14)
    symbols = rng.choice(table.size, size=2000, p=table / table.sum())
    return {
        "jpeg": (lambda: jpeg.encode(photo, 50), jpeg.decode, jpeg.JPEGError),
        "rans": (
            lambda: rans.compress(table, symbols),
            lambda data: rans.decompress(table, data),
            rans.RansStreamError,
        ),
        "pixelcnn": (
            lambda: pixelcnn.compress(tiny_pixelcnn, photo[:4, :5]),
            lambda data: pixelcnn.decompress(tiny_pixelcnn, data),
            pixelcnn.PixelCNNStreamError,
        ),
        "multiscale": (
            lambda: multiscale.compress(scales, photo),
            lambda data: multiscale.decompress(scales, data),
            multiscale.MultiscaleStreamError,
        ),
        "autoencoder-hyperprior": (
            lambda: autoencoder.compress(hyper, photo),
            lambda data: autoencoder.decompress(hyper, data),
            autoencoder.AutoencoderStreamError,
        ),
        "autoencoder-factorized": (
            lambda: autoencoder.compress(factorized, photo),
            lambda data: autoencoder.decompress(factorized, data),
            autoencoder.AutoencoderStreamError,
        ),
        "roi-learned": (
            lambda: roi.learned.compress(hyper, photo, roi_map),
            lambda data: roi.learned.decompress(hyper, data),
            roi.learned.LearnedROIStreamError,
        ),
        "video": (
            lambda: video.encode(frames, 30, "deblock"),
            video.decode,
            video.VideoStreamError,
        ),
        "video-hybrid": (
            lambda: hybrid.encode(yuv, 30, every_tool),
            hybrid.decode,
            hybrid.HybridStreamError,
        ),
        "video-pframe": (
            lambda: pframe.compress(pframe_model, pframe_frames),
            lambda data: pframe.decompress(pframe_model, data),
            pframe.PFrameStreamError,
        ),
        # the integer decoders of chapter 4, section 10 (the shipped models only)
        "autoencoder-integer": (
            lambda: autoencoder.compress(integer, photo),
            lambda data: autoencoder.decompress(integer, data),
            autoencoder.AutoencoderStreamError,
        ),
        "autoencoder-mean-integer": (
            lambda: autoencoder.compress(mean_integer, photo),
            lambda data: autoencoder.decompress(mean_integer, data),
            autoencoder.AutoencoderStreamError,
        ),
        "roi-learned-integer": (
            lambda: roi.learned.compress(integer, photo, roi_map),
            lambda data: roi.learned.decompress(integer, data),
            roi.learned.LearnedROIStreamError,
        ),
        "video-integer": (
            lambda: video.encode(frames, 30, "conditioned-int"),
            video.decode,
            video.VideoStreamError,
        ),
    }


def _same_picture(a, b) -> bool:
    """Equal decoded pictures: arrays, or dicts of planes (chapter 10's hybrid codec)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same_picture(a[k], b[k]) for k in a)
        )
    return np.shape(a) == np.shape(b) and np.array_equal(a, b)


def fuzz(name: str, count: int, seed: int = 0) -> dict:
    """Decode ``count`` damaged copies of one real file; a summary of what came back."""
    from helpers import container

    encode, decode, error = _coders()[name]
    original = encode()
    start = time.perf_counter()
    reference = decode(original)
    decode_s = time.perf_counter() - start
    rng = np.random.default_rng(seed)
    outcomes, slowest, failures = Counter(), {}, []
    cases = [(container.DAMAGE_KINDS[i % len(container.DAMAGE_KINDS)], None) for i in range(count)]
    if name != "jpeg":  # every header byte forged in turn (CRC recomputed), then the random damage
        cases = [
            ("forged_field", forged) for _, forged in container.forged_headers(original)
        ] + cases
    for kind, given in cases:
        if name == "jpeg" and kind == "forged_header":
            kind = "header_flip"  # JPEG has no CRC to recompute
        damaged = given if given is not None else container.damage(original, kind, rng)
        start = time.perf_counter()
        try:
            decoded = decode(damaged)
        except error:
            outcome = "rejected"
        except Exception as other:  # noqa: BLE001 - every other escape is what we count
            outcome = f"escaped {type(other).__name__}"
            failures.append(f"{kind}: {type(other).__name__}: {str(other)[:120]}")
        else:
            same = damaged == original or _same_picture(decoded, reference)
            outcome = "unchanged" if same else "returned garbage"
            if not same and name != "jpeg":  # JPEG carries no checksum: see the module docstring
                failures.append(f"{kind}: returned a picture with no error")
        slowest[kind] = max(slowest.get(kind, 0.0), time.perf_counter() - start)
        outcomes[outcome] += 1
    # forged headers (a valid CRC over wrong fields) may make a decoder work before it refuses: their
    # time is reported apart from the damage a disk or a link does, which must be refused at once,
    # and set beside the time of decoding the real file (a slow decoder may take as long to refuse)
    forged = ("forged_header", "forged_field")
    damage_kinds = [kind for kind in slowest if kind not in forged]
    return {
        "decoder": name,
        "cases": len(cases),
        "outcomes": dict(outcomes),
        "decode_s": round(decode_s, 4),
        "slowest_s": round(max(slowest[k] for k in damage_kinds), 4),
        "slowest_forged_header_s": round(max(slowest.get(k, 0.0) for k in forged), 4),
        "failures": failures[:10],
    }


DECODERS = (
    "jpeg",
    "rans",
    "pixelcnn",
    "multiscale",
    "autoencoder-hyperprior",
    "autoencoder-factorized",
    "roi-learned",
    "video",
    "video-hybrid",
    "video-pframe",
    "autoencoder-integer",
    "roi-learned-integer",
    "video-integer",
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decoders", nargs="*", default=list(DECODERS), metavar="DECODER")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in args.decoders or DECODERS:
        print(json.dumps(fuzz(name, args.count, args.seed)), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    main()
