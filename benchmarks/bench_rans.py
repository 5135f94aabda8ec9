"""Chapter 3 benchmark: the course's rANS coder (helpers.rans, pure Python) against constriction's
coders (Rust: its stack coder AnsCoder and its RangeEncoder) and the information bound, on chapter 3's
real streams: the multiscale codec's subpixels with their integer tables (one per subpixel) on Kodak
crops, and the PixelCNN's on a small crop. Goal (issue 35): every rANS file decodes exactly and is within
0.1 % of constriction's size. FAST=1 runs two 64 x 64 crops; the full run four 128 x 128 crops."""

from __future__ import annotations

import os
import time

import constriction
import numpy as np

from helpers import config, data, entropy, multiscale, pixelcnn, rans


def _row(stream: str, symbols: np.ndarray, tables: np.ndarray, total: int) -> dict:
    start = time.perf_counter()
    ours = rans.encode(symbols, tables)
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    exact = bool(np.array_equal(rans.decode(ours, symbols.size, tables), symbols))
    decode_s = time.perf_counter() - start
    probabilities = tables / total
    ans = constriction.stream.stack.AnsCoder()
    family = constriction.stream.model.Categorical(perfect=False)
    ans.encode_reverse(symbols.astype(np.int32), family, probabilities)
    return {
        "stream": stream,
        "symbols": int(symbols.size),
        "bound": entropy.ideal_code_length(symbols, tables) / 8,
        "rans": len(ours),
        "ans": int(ans.get_compressed().nbytes),
        "range": len(entropy.fast_encode(symbols, probabilities)),
        "exact": exact,
        "us_per_symbol": 1e6 * (encode_s + decode_s) / 2 / max(symbols.size, 1),
    }


def main() -> None:
    config.set_num_threads()
    fast = os.environ.get("FAST", "0") == "1"
    size = 64 if fast else 128
    names = ["kodim05", "kodim23"] if fast else ["kodim05", "kodim13", "kodim19", "kodim23"]
    kodak = data.kodak(names=names)
    scales = multiscale.load_pretrained("multiscale")
    rows = []
    for name, image in kodak.items():
        symbols, tables = multiscale.coding_stream(scales, image[:size, :size])
        rows.append(_row(f"multiscale {name} {size}²", symbols, tables, multiscale.FREQUENCY_TOTAL))
    crop = kodak["kodim23"][100:132, 300:332]
    symbols, tables = pixelcnn.coding_stream(pixelcnn.load_pretrained("gated"), crop)
    rows.append(_row("PixelCNN kodim23 32²", symbols, tables, pixelcnn.FREQUENCY_TOTAL))
    print("\n## rANS (helpers.rans) against constriction on chapter 3's streams (bytes)")
    print(
        f"{'stream':26s} {'symbols':>8s} {'bound':>9s} {'rANS':>8s} {'AnsCoder':>9s} "
        f"{'Range':>8s} {'vs Ans':>7s} exact {'µs/sym':>7s}"
    )
    for r in rows:
        print(
            f"{r['stream']:26s} {r['symbols']:8d} {r['bound']:9.1f} {r['rans']:8d} {r['ans']:9d} "
            f"{r['range']:8d} {100 * (r['rans'] / r['ans'] - 1):+6.2f}% {r['exact']!s:5s} "
            f"{r['us_per_symbol']:7.1f}"
        )
    ours, theirs = sum(r["rans"] for r in rows), sum(r["ans"] for r in rows)
    print(f"all streams: rANS {ours} bytes, AnsCoder {theirs} ({100 * (ours / theirs - 1):+.3f} %)")
    assert all(r["exact"] for r in rows), "an rANS stream did not decode exactly"


if __name__ == "__main__":
    main()
