"""Chapter 10's study: the hybrid codec against x264/x265, and each deep tool against the codec without
it, on the test frames (Foreman 50-79, Bus 0-37, Highway 0-39); writes helpers/reference/video_study.json.

    WORKBENCH_DATA=../shared/data python scripts/video_study.py [--frames N] [--out PATH]

Every hybrid file is decoded and compared with the encoder's reconstruction (bit-exact) before its rate
counts. Rates are file bytes (ours: the whole container; x264/x265: the elementary stream); quality is
hybrid.psnr's protocol (mean over frames of per-frame PSNR, YUV = (6 Y + U + V) / 8). BD-rates use
metrics.bd_rate (cubic, VCEG-M33) on PSNR-YUV, and on PSNR-Y beside it.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from helpers import data, metrics
from helpers.video import hybrid, reference_codecs

SEQUENCES = {"foreman": (50, 30), "bus": (0, 38), "highway": (0, 40)}
QUALITIES = (12, 25, 45, 70)
LOW_QUALITIES = (3, 6)
CRFS = (28, 32, 36, 40)
OUT = Path(__file__).resolve().parents[1] / "helpers" / "reference" / "video_study.json"


def run_hybrid(frames, tools, qualities):
    points = []
    for quality in qualities:
        result = hybrid.analyze(frames, quality, tools)
        started = time.perf_counter()
        decoded = hybrid.decode(result.data)
        decode_seconds = time.perf_counter() - started
        if not all(np.array_equal(decoded[k], result.decoded[k]) for k in "yuv"):
            raise AssertionError(f"decoding is not bit-exact for {tools} q{quality}")
        quality_figures = hybrid.psnr(frames, decoded)
        points.append(
            {
                "quality": quality,
                "bytes": len(result.data),
                **{f"psnr_{k}": v for k, v in quality_figures.items()},
                "encode_s": result.encode_seconds,
                "search_s": result.search_seconds,
                "decode_s": decode_seconds,
                "half_resolution_frames": int(sum(result.half_resolution)),
                "intra_macroblocks": int(sum((t == 2).sum() for t in result.types[1:])),
                "skip_macroblocks": int(sum((t == 0).sum() for t in result.types[1:])),
            }
        )
        print(
            f"  q{quality}: {len(result.data)} B, PSNR-YUV {quality_figures['yuv']:.2f}, "
            f"{result.encode_seconds:.1f} s (search {result.search_seconds:.1f}), decode {decode_seconds:.1f} s",
            flush=True,
        )
    return points


def bd(anchor, test, key="psnr_yuv"):
    return float(
        metrics.bd_rate(
            [p["bytes"] for p in anchor],
            [p[key] for p in anchor],
            [p["bytes"] for p in test],
            [p[key] for p in test],
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--frames", type=int, default=None, help="at most this many frames per sequence"
    )
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--tools", nargs="*", default=list(hybrid.TOOL_NAMES))
    parser.add_argument(
        "--all-intra",
        action="store_true",
        help="add the intra tools' BD-rate with every frame coded intra (every 4th test frame)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="re-measure only --tools (and keep the rest of --out): e.g. a retrained tool",
    )
    args = parser.parse_args()
    if args.all_intra:
        return all_intra(args)
    if args.merge:
        return merge(args)
    torch.set_num_threads(1)
    out = {
        "command": "python scripts/video_study.py",
        "machine": platform.processor() or platform.machine(),
        "protocol": __doc__.split("\n\n")[1].strip(),
        "qualities": QUALITIES,
        "crfs": CRFS,
        "reference_codecs": reference_codecs.SETTINGS,
        "ffmpeg": reference_codecs.version(),
        "sequences": {},
    }
    for name, (start, count) in SEQUENCES.items():
        count = min(count, args.frames or count)
        frames = data.video_sequence(name, count, start)
        entry = {
            "frames": [start, start + count - 1],
            "fps": data.VIDEO_SEQUENCES[name]["fps"],
            "curves": {},
        }
        fps = data.VIDEO_SEQUENCES[name]["fps"]
        for codec in reference_codecs.CODECS:
            for low_delay in (False, True):
                label = f"{codec} medium" + (" -bf 0" if low_delay else "")
                points = []
                for crf in CRFS:
                    result = reference_codecs.code(frames, codec, crf, fps=fps, low_delay=low_delay)
                    figures = hybrid.psnr(frames, result["decoded"])
                    points.append(
                        {
                            "crf": crf,
                            "bytes": result["bytes"],
                            **{f"psnr_{k}": v for k, v in figures.items()},
                        }
                    )
                entry["curves"][label] = points
                print(
                    name, label, [(p["bytes"], round(p["psnr_yuv"], 2)) for p in points], flush=True
                )
        for tool in args.tools:
            print(name, tool, flush=True)
            entry["curves"][tool] = run_hybrid(frames, hybrid.TOOL_NAMES[tool], QUALITIES)
        print(name, "half resolution at low rate", flush=True)
        entry["low_rate"] = {
            tool: run_hybrid(frames, hybrid.TOOL_NAMES[tool], LOW_QUALITIES + QUALITIES[:2])
            for tool in ("classic", "half resolution")
        }
        curves = entry["curves"]
        entry["bd_rate_vs_classic"] = {
            tool: {
                "psnr_yuv": bd(curves["classic"], curves[tool]),
                "psnr_y": bd(curves["classic"], curves[tool], "psnr_y"),
            }
            for tool in args.tools
            if tool != "classic"
        }
        entry["bd_rate_classic_vs"] = {
            label: {
                "psnr_yuv": bd(curves[label], curves["classic"]),
                "psnr_y": bd(curves[label], curves["classic"], "psnr_y"),
            }
            for label in curves
            if label.startswith("x26")
        }
        entry["bd_rate_half_resolution_low_rate"] = bd(
            entry["low_rate"]["classic"], entry["low_rate"]["half resolution"]
        )
        print(
            json.dumps(
                {k: entry[k] for k in ("bd_rate_vs_classic", "bd_rate_classic_vs")}, indent=1
            ),
            flush=True,
        )
        out["sequences"][name] = entry
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


INTRA_TOOLS = (
    "classic",
    "learned intra",
    "linear chroma (CCLM)",
    "learned chroma",
    "learned loop filter",
)


def all_intra(args) -> None:
    """Every 4th test frame coded alone (an I-frame each), as Li et al. measure intra prediction."""
    out = json.loads(Path(args.out).read_text())
    for name, entry in out["sequences"].items():
        start, end = entry["frames"]
        frames = data.video_sequence(name, end - start + 1, start)
        picked = range(0, end - start + 1, 4)
        # --tools narrows the run (the others are kept from --out): e.g. after a change to one tool
        wanted = (
            INTRA_TOOLS
            if set(args.tools) >= set(INTRA_TOOLS)
            else [t for t in args.tools if t in INTRA_TOOLS]
        )
        curves = dict(entry.get("all_intra", {}).get("curves", {}))
        for tool in wanted:
            points = []
            for quality in QUALITIES:
                size, psnr_sum = 0, {"y": 0.0, "u": 0.0, "v": 0.0, "yuv": 0.0}
                for n in picked:
                    one = {k: v[n : n + 1] for k, v in frames.items()}
                    result = hybrid.analyze(one, quality, hybrid.TOOL_NAMES[tool])
                    size += len(result.data)
                    for key, value in hybrid.psnr(one, hybrid.decode(result.data)).items():
                        psnr_sum[key] += value / len(picked)
                points.append(
                    {
                        "quality": quality,
                        "bytes": size,
                        **{f"psnr_{k}": v for k, v in psnr_sum.items()},
                    }
                )
            curves[tool] = points
            print(
                name,
                "all intra",
                tool,
                [(p["bytes"], round(p["psnr_yuv"], 2)) for p in points],
                flush=True,
            )
        entry["all_intra"] = {
            "frames": [start + n for n in picked],
            "curves": curves,
            "bd_rate_vs_classic": {
                tool: {
                    "psnr_yuv": bd(curves["classic"], curves[tool]),
                    "psnr_y": bd(curves["classic"], curves[tool], "psnr_y"),
                }
                for tool in INTRA_TOOLS[1:]
            },
        }
        print(name, entry["all_intra"]["bd_rate_vs_classic"], flush=True)
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


def merge(args) -> None:
    out = json.loads(Path(args.out).read_text())
    for name, entry in out["sequences"].items():
        start, end = entry["frames"]
        frames = data.video_sequence(name, end - start + 1, start)
        for tool in args.tools:
            print(name, tool, flush=True)
            entry["curves"][tool] = run_hybrid(frames, hybrid.TOOL_NAMES[tool], QUALITIES)
            if tool != "classic":
                curves = entry["curves"]
                entry["bd_rate_vs_classic"][tool] = {
                    "psnr_yuv": bd(curves["classic"], curves[tool]),
                    "psnr_y": bd(curves["classic"], curves[tool], "psnr_y"),
                }
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({n: e["bd_rate_vs_classic"] for n, e in out["sequences"].items()}, indent=1))


if __name__ == "__main__":
    main()
