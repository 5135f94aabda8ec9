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


# ---- every number in the prose is true (issue 34) ----------------------------------------------------

#: a number with a unit in a markdown cell: %, dB, bpp, ×, bits, bytes, seconds, fps ("176 × 144" is a size)
PROSE_NUMBER = re.compile(
    r"(?<![\w.$^_{])([+\-−–]?(?:\d{1,3}(?:[,  ]\d{3})+|\d+)(?:\.\d+)?)\s?"
    r"(%|dB|bpp|×(?!\s?\d)|bits?\b|bytes\b|ms\b|s\b|fps\b)"
)
ANY_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?")
CITED = Path(__file__).resolve().parents[1] / "book" / "cited_figures.md"


def _value(text: str) -> tuple[float, int] | None:
    """'−33.5' -> (33.5, 1 decimal); '20 000' -> (20000, 0)."""
    raw = re.sub(r"[,  ]", "", text).replace("−", "-").replace("–", "-").lstrip("+-").rstrip(".")
    try:
        return float(raw), len(raw.partition(".")[2])
    except ValueError:
        return None


def cited_figures(chapter: int) -> list[str]:
    """The papers' figures a chapter quotes: the 'figure' column of book/cited_figures.md."""
    rows = []
    for line in CITED.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit() and int(cells[0]) == chapter:
            rows.append(cells[1])
    return rows


def known_numbers(notebook: dict, chapter: int) -> list[float]:
    """What a number in the prose may be: a number printed by the notebook (outputs, or its code: the
    settings), in a study JSON the notebook names, or a cited figure of the chapter; fractions also as %."""
    texts = [*cited_figures(chapter)]
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            texts.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            texts += _texts(output)
    source = "\n".join("".join(c["source"]) for c in notebook["cells"])
    reference = Path(__file__).resolve().parents[1] / "helpers" / "reference"
    for name in sorted(
        set(re.findall(r"(\w+_study)\b", source))
    ):  # data.reference("x_study"), x_study.json
        if (reference / f"{name}.json").is_file():
            texts.append((reference / f"{name}.json").read_text())
    values = set()
    joined = re.sub(r"(?<=\d)_(?=\d)", "", "\n".join(texts)).replace("−", "-")  # 20_000 in code
    for match in ANY_NUMBER.finditer(joined):
        value = abs(float(match.group(0)))
        values.add(value)
        if value <= 1.5:
            values.add(100 * value)
    return sorted(values)


def unexplained_numbers(notebook: dict, chapter: int) -> list[tuple[int, str]]:
    """(cell, text) of every number with a unit in a markdown cell that no output, study or cited figure
    holds, to the precision the prose writes it (33.5 % matches 33.46 but not 33.6)."""
    import bisect

    known = known_numbers(notebook, chapter)
    found = []
    for index, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] != "markdown" or source.startswith("## Exercises"):
            continue  # an exercise's numbers are its settings, not results
        text = re.sub(r"`[^`]*`", "", source)  # code spans are code
        for match in PROSE_NUMBER.finditer(text):
            parsed = _value(match.group(1))
            if parsed is None:
                continue
            value, decimals = parsed
            half = 0.5 * 10**-decimals + 1e-9
            at = bisect.bisect_left(known, value - half)
            if not (at < len(known) and known[at] <= value + half):
                found.append((index, match.group(0).strip()))
    return found


def test_the_number_check_finds_a_changed_number():
    notebook = json.loads(NOTEBOOKS[10].read_text())
    assert unexplained_numbers(notebook, 10) == []
    summary = next(c for c in notebook["cells"] if "".join(c["source"]).startswith("## Summary"))
    text = "".join(summary["source"])
    # a signed number, not a range ("4.1-9.6 %")
    number = re.search(r"(?<![\w.])[−-](\d+\.\d) %", text)
    changed = "-71.9 %"  # a BD-rate the chapter never measured
    summary["source"] = [text.replace(number.group(0), changed, 1)]
    assert (notebook["cells"].index(summary), changed) in unexplained_numbers(notebook, 10)
    assert _value("20 000") == (20000.0, 0) and _value("−33.5") == (33.5, 1)
    assert PROSE_NUMBER.search("QCIF, 176 × 144 pixels") is None
    assert [m.group(1) for m in PROSE_NUMBER.finditer("(quality 20, 82.6 %) in 20 000 bytes")] == [
        "82.6",
        "20 000",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_number_in_the_prose_is_printed_or_cited(path: Path):
    notebook = json.loads(path.read_text())
    found = unexplained_numbers(notebook, int(path.stem[:2]))
    assert not found, (
        f"{path.name}: numbers in the text that no output, study JSON or cited figure "
        f"(book/cited_figures.md) holds: {found}"
    )
