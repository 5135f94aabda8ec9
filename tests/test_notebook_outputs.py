"""The committed notebooks show what a student should see: no machine paths, no warnings, no tracebacks."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MACHINE_PATH = re.compile(r"(/work/|/root/|/home/|/tmp/|/Users/|[A-Z]:\\\\|site-packages|\.venv/)")
WARNING = re.compile(r"\b\w*Warning\b:")


def _texts(output: dict) -> list[str]:
    texts = []
    if "text" in output:
        texts.append("".join(output["text"]))
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/"):
            texts.append("".join(value) if isinstance(value, list) else str(value))
    return texts


def test_the_checks_find_what_they_look_for():
    assert MACHINE_PATH.search("data: /work/shared/data/kodak") and WARNING.search("UserWarning: x")
    assert not MACHINE_PATH.search("helpers/reference/roi_study.json")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_are_clean(path: Path):
    notebook = json.loads(path.read_text())
    problems = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {index}: a traceback ({output.get('ename')})")
            if output.get("name") == "stderr":
                problems.append(f"cell {index}: stderr output (a warning?)")
            for text in _texts(output):
                if MACHINE_PATH.search(text):
                    problems.append(
                        f"cell {index}: a machine path {MACHINE_PATH.search(text)[0]!r}"
                    )
                if WARNING.search(text):
                    problems.append(f"cell {index}: a warning {WARNING.search(text)[0]!r}")
    assert not problems, f"{path.name}: " + "; ".join(problems[:8])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_stay_small(path: Path):
    assert path.stat().st_size < 3_000_000, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB"
