"""Damaged files against every decoder of the course: 2,000 per decoder (scripts/fuzz_decoders.py in a
child process, so a crash is reported, not suffered). Prints what came back and the slowest case."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(count: int = 2000) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fuzz_decoders.py"), "--count", str(count)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    print(
        f"{'decoder':24s}{'cases':>7s}{'rejected':>10s}{'unchanged':>10s}{'returned':>10s}"
        f"{'escaped':>9s}{'slowest s':>11s}{'forged s':>10s}"
    )
    for line in result.stdout.splitlines():
        s = json.loads(line)
        o = s["outcomes"]
        escaped = sum(v for k, v in o.items() if k.startswith("escaped"))
        print(
            f"{s['decoder']:24s}{s['cases']:7d}{o.get('rejected', 0):10d}{o.get('unchanged', 0):10d}"
            f"{o.get('returned garbage', 0):10d}{escaped:9d}{s['slowest_s']:11.3f}"
            f"{s['slowest_forged_header_s']:10.3f}"
        )
    if result.returncode:
        print(f"the harness crashed (exit {result.returncode}): {result.stderr[-1000:]}")
    print(
        "'returned' for jpeg: JPEG has no checksum, so damaged entropy-coded data decodes to a picture"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
