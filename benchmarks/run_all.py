"""Run every benchmark of the workbench and print its tables (make bench)."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARKS = [
    "bench_jpeg",
    "bench_metrics",
    "bench_models",
    "bench_roi",
    "bench_compressed_domain",
    "bench_machine_coding",
    "bench_integer",
    "bench_lossless",
    "bench_rans",
    "bench_video",
    "bench_fuzz",
]


def main() -> int:
    for name in BENCHMARKS:
        print(f"# {name}")
        started = time.perf_counter()
        importlib.import_module(name).main()
        print(f"\n({name}: {time.perf_counter() - started:.0f} s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
