"""Measure every code cell's FAST-mode run time: what a class waits for when the notebook is run live.

Usage: python scripts/measure_timings.py [notebooks/NN_x.ipynb ...]   (all chapters by default)

Runs each notebook top to bottom with FAST=1 in a fresh kernel (the notebook file is not changed) and
writes the seconds of each code cell, with a hash of its source, into notebooks/fast_timings.json
(other notebooks' entries are kept). tests/test_lessons.py reads it: per session part, the reading time
of the sections the timing table names (markdown words at 200 a minute) plus their measured run time
must fit the minutes the table gives them, and a notebook whose code changed since it was measured
fails until it is measured again. Measure with no training campaign beside it (the times are stored).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TIMINGS = ROOT / "notebooks" / "fast_timings.json"


def source_hash(source: str) -> str:
    """A short hash of a code cell's source: what ties a measured time to the code it ran."""
    return hashlib.sha1(source.encode()).hexdigest()[:12]


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return round((parse(end) - parse(start)).total_seconds(), 2)


def measure(path: Path, timeout: int = 1800) -> dict:
    """{"cells": [{"index", "hash", "seconds"}, ...], "total_seconds"} of one FAST run."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    os.environ["FAST"] = "1"
    started = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    total = time.perf_counter() - started
    cells = [
        {"index": i, "hash": source_hash(cell.source), "seconds": _seconds(cell)}
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
    ]
    return {"cells": cells, "total_seconds": round(total, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.is_file() else {"notebooks": {}}
    for path in paths:
        print(f"measuring {path.name} (FAST=1) ...", flush=True)
        entry = measure(path.resolve())
        entry["measured"] = time.strftime("%Y-%m-%d")
        entry["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs"
        timings["notebooks"][path.name] = entry
        print(f"  {entry['total_seconds']:.0f} s", flush=True)
    timings["notebooks"] = dict(sorted(timings["notebooks"].items()))
    TIMINGS.write_text(json.dumps(timings, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
