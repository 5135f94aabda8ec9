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


WIDGET_REPR = re.compile(r"^(VBox|HBox|interactive|Output)\(")


def test_the_widget_repr_check_finds_one():
    assert WIDGET_REPR.match("VBox(children=(IntSlider(value=3),))")
    assert not WIDGET_REPR.match("4 samples of 16x16: 10.0 s")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_widget_repr_or_ci_marker_reaches_students(path: Path):
    """A widget's stored text repr ("VBox(...)") is what the book and a viewer without the kernel show;
    a CI marker comment is noise in what students read: the checked cells carry a tag instead."""
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    reprs = [
        i
        for i, c in enumerate(code)
        for o in c.get("outputs", [])
        for t in _texts(o)
        if WIDGET_REPR.match(t)
    ]
    markers = [i for i, c in enumerate(code) if "NBVAL_" in "".join(c["source"])]
    assert not reprs, f"{path.name}: code cells {reprs} store widget reprs"
    assert not markers, f"{path.name}: code cells {markers} carry NBVAL_ comments (tag the cell)"
    checked = [c for c in code if "nbval-check-output" in c.get("metadata", {}).get("tags", [])]
    assert checked, f"{path.name}: no cell tagged nbval-check-output (the checks cell)"
