"""Chapter 10: encoder and decoder time of the hybrid codec with each deep tool on, and the fast mode
decision's saving in the encoder's mode search (printed, not asserted; the issue's goal: half the mode
search time for at most 1 % BD-rate, whose BD-rate side scripts/video_study.py measures).
Foreman frames 50-59, quality 25, one thread."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import config, data  # noqa: E402
from helpers.video import hybrid, reference_codecs  # noqa: E402


def measure(frames_count: int = 10, quality: int = 25) -> dict[str, dict[str, float]]:
    frames = data.video_sequence("foreman", frames_count, 50)
    rows = {}
    for name, tools in hybrid.TOOL_NAMES.items():
        hybrid.analyze(
            {k: v[:2] for k, v in frames.items()}, quality, tools
        )  # load the networks first
        result = hybrid.analyze(frames, quality, tools)
        started = time.perf_counter()
        hybrid.decode(result.data)
        decode = time.perf_counter() - started
        rows[name] = {
            "encode_s": result.encode_seconds,
            "search_s": result.search_seconds,
            "decode_s": decode,
            "bytes": len(result.data),
        }
    if reference_codecs.available():
        for codec in reference_codecs.CODECS:
            started = time.perf_counter()
            coded = reference_codecs.code(frames, codec, 32)
            rows[f"{codec} medium (ffmpeg, encode + decode)"] = {
                "encode_s": time.perf_counter() - started,
                "search_s": float("nan"),
                "decode_s": float("nan"),
                "bytes": coded["bytes"],
            }
    return rows


def main() -> None:
    torch.set_num_threads(1)
    config.seed_everything(0)
    rows = measure()
    print(f"{'tool':40s}{'encode s':>10s}{'mode search s':>15s}{'decode s':>10s}{'bytes':>8s}")
    for name, row in rows.items():
        print(
            f"{name:40s}{row['encode_s']:10.2f}{row['search_s']:15.2f}{row['decode_s']:10.2f}{row['bytes']:8d}"
        )
    base, fast = rows["classic"], rows["fast mode decision"]
    print(
        f"\nfast mode decision: mode search {fast['search_s']:.2f} s against {base['search_s']:.2f} s "
        f"({fast['search_s'] / base['search_s']:.2f}x), file {100 * (fast['bytes'] / base['bytes'] - 1):+.1f} %"
    )


if __name__ == "__main__":
    main()
