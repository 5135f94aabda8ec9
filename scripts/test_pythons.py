"""make test-pythons: the package installs from wheels alone and works on the oldest and the newest
supported Python found on this machine, and an unsupported one gets the clear message.

Usage: python scripts/test_pythons.py [--versions 3.10 3.12]

For each supported version at the ends of pyproject.toml's requires-python (say 3.10 and 3.12): find its
interpreter (python3.X on PATH, else pyenv's), build a fresh virtual environment outside the repository,
install this repository's wheel with no C/C++ compiler (CC, CXX and their friends point at ``false``: a
dependency without a wheel for that Python that needs compiling fails here, as it would on a student's laptop;
pure-Python source packages such as grad-cam still install), import the package and run a
few fast unit tests with it. A version with no interpreter here is reported as skipped. Then
scripts/pick_python.sh is shown an unsupported Python (the next minor version, when installed) and must
refuse it at once, naming the supported range. Prints ``N passed, N failed`` and exits non-zero on a failure.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: fast tests that touch numpy, torch, CompressAI, constriction and Pillow (no data needed)
TESTS = ["tests/test_entropy.py", "tests/test_container.py", "tests/test_jpeg.py"]


#: a machine without a compiler: every build of a C extension fails at once
NO_COMPILER = {
    "CC": "false",
    "CXX": "false",
    "LDSHARED": "false",
    "CMAKE_C_COMPILER": "false",
    "CMAKE_CXX_COMPILER": "false",
}


def supported_range() -> tuple[int, int]:
    """(lowest, highest) supported minor version of Python 3, from pyproject.toml's requires-python."""
    text = (ROOT / "pyproject.toml").read_text()
    spec = re.search(r'^requires-python\s*=\s*"([^"]*)"', text, re.M).group(1)
    low = int(re.search(r">=\s*3\.(\d+)", spec).group(1))
    below = int(re.search(r"<\s*3\.(\d+)", spec).group(1))
    return low, below - 1


def interpreter(minor: int) -> str | None:
    """An interpreter of Python 3.minor on this machine: python3.X on PATH, else pyenv's."""
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python3.{minor}")]  # may be a pyenv shim that refuses to run
    candidates += sorted(
        glob.glob(f"{root}/versions/3.{minor}.*/bin/python3.{minor}"), reverse=True
    )
    for candidate in candidates:
        if candidate and run([candidate, "-c", "pass"]).returncode == 0:
            return candidate
    return None


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def check_version(minor: int, wheel: Path, work: Path) -> tuple[str, str]:
    python = interpreter(minor)
    if python is None:
        return "skipped", f"no Python 3.{minor} on this machine"
    venv = work / f"venv3{minor}"
    started = time.perf_counter()
    steps = [
        [python, "-m", "venv", str(venv)],
        [
            str(venv / "bin/python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--prefer-binary",
            f"{wheel}[dev]",
        ],
        [
            str(venv / "bin/python"),
            "-c",
            "import helpers, numpy, torch, compressai; from helpers import jpeg, entropy; "
            "print(helpers.__version__, numpy.__version__, torch.__version__)",
        ],
        [str(venv / "bin/python"), "-m", "pytest", "-q", "-p", "no:randomly", "-x", *TESTS],
    ]
    for step in steps:
        result = run(step, cwd=ROOT, env={**os.environ, **NO_COMPILER, "FAST": "1"})
        if result.returncode != 0:
            return "failed", f"{' '.join(step[:4])} ...: {(result.stdout + result.stderr)[-2000:]}"
    shutil.rmtree(venv, ignore_errors=True)
    return "passed", f"installed from wheels and tested in {time.perf_counter() - started:.0f} s"


def check_refusal(minor: int) -> tuple[str, str]:
    python = interpreter(minor)
    if python is None:
        return "skipped", f"no Python 3.{minor} on this machine"
    started = time.perf_counter()
    result = run(["sh", "scripts/pick_python.sh"], cwd=ROOT, env={**os.environ, "PYTHON": python})
    low, high = supported_range()
    message = result.stderr
    ok = (
        result.returncode == 1
        and f"3.{low} to 3.{high}" in message
        and f"3.{minor}." in message
        and time.perf_counter() - started < 10
    )
    return ("passed" if ok else "failed"), message.splitlines()[0] if message else result.stdout


def main() -> None:
    low, high = supported_range()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", nargs="*", default=[f"3.{low}", f"3.{high}"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="workbench-pythons-") as folder:
        work = Path(folder)
        built = run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(ROOT)]
        )
        if built.returncode != 0:
            sys.exit(f"pip wheel failed: {built.stderr[-2000:]}")
        wheel = next(work.glob("*.whl"))
        results = {}
        for version in args.versions:
            minor = int(version.split(".")[1])
            results[f"Python {version}"] = check_version(minor, wheel, work)
            print(f"Python {version}: {results[f'Python {version}']}", flush=True)
        results[f"refuses Python 3.{high + 1}"] = check_refusal(high + 1)
        print(f"refuses Python 3.{high + 1}: {results[f'refuses Python 3.{high + 1}']}")
    passed = sum(status == "passed" for status, _ in results.values())
    failed = sum(status == "failed" for status, _ in results.values())
    skipped = sum(status == "skipped" for status, _ in results.values())
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
