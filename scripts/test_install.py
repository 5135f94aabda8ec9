"""make test-install: the installed package, not the source tree, runs every chapter notebook.

Usage: python scripts/test_install.py [--data ../shared/data] [--keep] [--notebooks 00 03 ...]

1. Build the wheel of this repository.
2. Create a fresh virtual environment in a temporary folder outside the repository, with nothing in it.
3. The hosted-service path: run a chapter notebook's setup cell there as it would run on a service where
   nothing is installed; it pip-installs the course package (``WORKBENCH_PACKAGE`` = the wheel; its
   dependencies come from the package index) and prints its one line.
4. Copy the chapter notebooks (and nothing else) into an empty folder, serve the data folder over a local
   HTTP server as the data mirror (``WORKBENCH_DATA_URL``; an empty cache, no ``WORKBENCH_DATA``) and the
   clone's helpers/weights as the weights mirror (``WORKBENCH_WEIGHTS_URL``: the wheel carries no weights,
   only MANIFEST.json, and must stay under 5 MB) and run
   every notebook in FAST mode with that environment's kernel: their setup cells now say "the installed
   package".
5. With no data and no network (the mirror is a closed port), chapter 3 must stop at its first data cell
   with the message that says how to get the data, not a traceback from inside the package.
Prints ``N passed, N failed`` and exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_course  # noqa: E402

#: what runs inside the fresh environment: execute notebooks with nbclient and report per notebook
RUNNER = r"""
import json, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

results = {}
for path in sys.argv[2:]:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:  # the stored outputs of the repository must not count
        if cell.cell_type == "code":
            cell.outputs = []
    started = time.perf_counter()
    client = NotebookClient(notebook, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": sys.argv[1]}})
    status, detail, failed_at = "passed", "", None
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                status, detail, failed_at = "failed", str(error)[-3000:], index
                break
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    first = "".join(o.get("text", "") for o in cells[0].get("outputs", []) if o.get("output_type") == "stream")
    failed = None
    if failed_at is not None:
        cell = notebook.cells[failed_at]
        failed = {"index": failed_at, "source": cell.source,
                  "text": "".join(o.get("text", "") for o in cell.outputs),
                  "tracebacks": sum(len(o.get("traceback", [])) for o in cell.outputs)}
    results[path] = {"status": status, "seconds": round(time.perf_counter() - started, 1),
                     "setup_line": first.strip(), "detail": detail, "failed": failed}
print("RESULTS " + json.dumps(results))
"""


def free_port() -> int:
    with socket.socket() as handle:
        handle.bind(("127.0.0.1", 0))
        return handle.getsockname()[1]


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$", " ".join(str(c) for c in command), flush=True)
    return subprocess.run(command, check=True, **kwargs)


def run_notebooks(python: Path, folder: Path, notebooks: list[Path], env: dict) -> dict:
    runner = folder.parent / "runner.py"
    runner.write_text(RUNNER)
    done = subprocess.run(
        [str(python), str(runner), str(folder), *map(str, notebooks)],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULTS ")]
    if not lines:
        raise RuntimeError(
            f"the notebook runner failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    return json.loads(lines[-1][len("RESULTS ") :])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=str(ROOT.parent / "shared" / "data"),
        help="the data folder to serve as the mirror",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--notebooks", nargs="*", help="chapter numbers to run (default: all)")
    args = parser.parse_args(argv)
    data = Path(args.data).resolve()
    if not (data / "kodak").is_dir():
        print(f"test-install needs the data folder to serve as a mirror; {data} has no kodak/")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="workbench-install-"))
    failures, passed = [], 0
    server = weights_server = None
    try:
        started = time.perf_counter()
        wheels = workdir / "wheel"
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "-q",
                "-w",
                str(wheels),
                str(ROOT),
            ]
        )
        (wheel,) = wheels.glob("*.whl")
        size = wheel.stat().st_size
        with zipfile.ZipFile(wheel) as archive:
            weights = [n for n in archive.namelist() if n.endswith(".pt")]
        ok = size <= 5_000_000 and not weights
        print(
            f"[{'ok' if ok else 'FAILED'}] the wheel is {size / 1e6:.2f} MB with {len(weights)} weight files",
            flush=True,
        )
        if not ok:
            failures.append(f"wheel {size} bytes, weight files inside: {weights[:5]}")
        else:
            passed += 1
        base = getattr(sys, "_base_executable", sys.executable)
        run([base, "-m", "venv", str(workdir / "venv")])
        python = workdir / "venv" / "bin" / "python"
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "VIRTUAL_ENV"))
        }
        env.update(
            FAST="1",
            WORKBENCH_CACHE=str(workdir / "cache"),
            PYTHONNOUSERSITE="1",
            MPLBACKEND="Agg",
            PATH=f"{python.parent}:{env.get('PATH', '')}",
        )
        # 3. the hosted-service path: nothing installed; the setup cell installs the package
        course = workdir / "course"
        course.mkdir()
        hosted = subprocess.run(
            [str(python), "-c", sync_course.setup_source()],
            cwd=course,
            env={**env, "WORKBENCH_PACKAGE": str(wheel)},
            capture_output=True,
            text=True,
        )
        print(f"[hosted service, nothing installed] {hosted.stdout.strip()}", flush=True)
        if hosted.returncode != 0 or "from a fresh install" not in hosted.stdout:
            failures.append(f"setup cell on a bare environment: {hosted.stderr[-2000:]}")
            return 1
        passed += 1
        print(f"   installed in {time.perf_counter() - started:.0f} s", flush=True)
        # 4. every chapter notebook, copied alone, data from a local mirror
        chosen = sync_course.chapter_notebooks()
        if args.notebooks:
            chosen = [p for p in chosen if p.stem[:2] in args.notebooks]
        copies = []
        for path in chosen:
            shutil.copy(path, course / path.name)
            copies.append(course / path.name)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(data),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
        weights_port = free_port()
        weights_server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(weights_port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(ROOT / "helpers" / "weights"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
        mirror_env = {
            **env,
            "WORKBENCH_DATA_URL": f"http://127.0.0.1:{port}/",
            "WORKBENCH_WEIGHTS_URL": f"http://127.0.0.1:{weights_port}/",
        }
        results = run_notebooks(python, course, copies, mirror_env)
        for path, result in results.items():
            name = Path(path).name
            ok = (
                result["status"] == "passed"
                and "from the installed package" in result["setup_line"]
            )
            print(
                f"[{'ok' if ok else 'FAILED'}] {name} in {result['seconds']:.0f} s: {result['setup_line']}",
                flush=True,
            )
            if ok:
                passed += 1
            else:
                failures.append(f"{name}: {result['detail'][-1500:]}")
        # 5. no data, no network: the first data cell stops with the message
        offline = {
            **mirror_env,
            "WORKBENCH_DATA_URL": f"http://127.0.0.1:{free_port()}/",
            "WORKBENCH_CACHE": str(workdir / "empty-cache"),
        }
        target = course / "03_pixel_models.ipynb"
        if not target.exists():
            shutil.copy(ROOT / "notebooks" / target.name, target)
        result = run_notebooks(python, course, [target], offline)[str(target)]
        failed = result["failed"] or {}
        cells = json.loads(target.read_text())["cells"]
        first_data = next(
            i
            for i, c in enumerate(cells)  # the first cell that calls helpers.data
            if c["cell_type"] == "code" and re.search(r"\bdata\.\w+\(", "".join(c["source"]))
        )
        ok = (
            result["status"] == "failed"
            and failed.get("index") == first_data
            and "DataUnavailableError" in failed.get("text", "")
            and "WORKBENCH_DATA" in failed.get("text", "")
            and failed.get("tracebacks") == 0
        )
        print(
            f"[{'ok' if ok else 'FAILED'}] offline, no data: {target.name} stops at cell {failed.get('index')} "
            f"(its first data cell: {first_data}) with:",
            flush=True,
        )
        for line in failed.get("text", "").strip().splitlines()[:8]:
            print(f"      {line}")
        if ok:
            passed += 1
        else:
            failures.append(f"offline notebook: {result['status']}, {failed}")
        print(f"test-install took {time.perf_counter() - started:.0f} s")
        return 1 if failures else 0
    finally:
        for each in (server, weights_server):
            if each is not None:
                each.terminate()
        for failure in failures:
            print("FAILED:", failure)
        print(f"{passed} passed, {len(failures)} failed")
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
