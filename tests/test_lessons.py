"""Run the Python solution blocks of every lesson, so the solutions never rot."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

LESSONS = sorted((Path(__file__).resolve().parents[1] / "lessons").glob("[0-9][0-9]_*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[str]:
    """The ```python fenced blocks of a lesson, in order."""
    return BLOCK.findall(text)


def test_block_extraction():
    text = "intro\n```python\nx = 1\n```\n```text\nnot run\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y = x + 1\n"]


def test_every_chapter_has_a_lesson():
    notebooks = sorted(
        (Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb")
    )
    assert notebooks, "no chapter notebooks found"
    assert {n.stem for n in notebooks} <= {lesson.stem for lesson in LESSONS}


CASES = [
    (lesson, index, block)
    for lesson in LESSONS
    for index, block in enumerate(python_blocks(lesson.read_text()))
]


def test_every_lesson_has_solution_blocks():
    for lesson in LESSONS:
        assert python_blocks(lesson.read_text()), f"{lesson.name} has no ```python solution blocks"


@pytest.mark.parametrize(
    "lesson, index, block", CASES, ids=[f"{lesson.stem}[{index}]" for lesson, index, _ in CASES]
)
def test_lesson_solution_runs(lesson: Path, index: int, block: str):
    """Each solution block runs on its own (it imports what it needs) and ends with its asserts.
    A block that needs a data set that is not here is skipped with the reason."""
    from helpers import data

    # a graded question's hidden tests recompute its answer: `make test-assignments` runs them on
    # the solutions (full marks) and on wrong submissions; here the solution and its public tests run
    block = block.split("# HIDDEN TESTS\n", 1)[0]
    namespace: dict = {"__name__": f"lesson_{lesson.stem}_{index}"}
    try:
        exec(compile(block, f"{lesson.name}[block {index}]", "exec"), namespace)
    except data.DataUnavailableError as missing:
        pytest.skip(f"{lesson.name} block {index} needs data that is not available: {missing}")


TIMING_ROW = re.compile(r"^\|\s*(\d+)\s*-\s*(\d+)\s*\|", re.MULTILINE)


def timing_tables(text: str) -> list[list[tuple[int, int]]]:
    """Each ``| minutes | ... |`` table of a lesson: its (start, end) rows, one table per session."""
    return [[(start, end) for start, end, _ in rows] for rows in timing_rows(text)]


def test_timing_tables_are_read_as_written():
    text = "| minutes | session |\n|---|---|\n| 0-30 | a |\n| 30-90 | b |\n\nthen\n"
    assert timing_tables(text) == [[(0, 30), (30, 90)]]


@pytest.mark.parametrize("lesson", LESSONS, ids=[path.stem for path in LESSONS])
def test_every_session_plan_fills_90_minutes(lesson: Path):
    """The course is taught in 90-minute sessions: each timing table runs from 0 to 90 without gaps."""
    tables = timing_tables(lesson.read_text())
    assert tables, f"{lesson.name} has no timing table"
    for rows in tables:
        assert rows[0][0] == 0 and rows[-1][1] == 90, f"{lesson.name}: a session spans {rows}"
        for (_, end), (start, _) in zip(rows, rows[1:]):
            assert start == end, f"{lesson.name}: a gap or overlap at minute {end}"


def written_problems(text: str) -> list[str]:
    """The derivation problems of a lesson's '## Written problems' section, one text each."""
    section = re.split(r"^## Written problems.*$", text, maxsplit=1, flags=re.MULTILINE)
    if len(section) < 2:
        return []
    body = re.split(r"^## ", section[1], maxsplit=1, flags=re.MULTILINE)[0]
    return [p for p in re.split(r"^### (?=P\d+\.)", body, flags=re.MULTILINE)[1:]]


def problem_parts_missing(problem: str) -> list[str]:
    """What a written problem lacks: its points, a worked solution, the Full/Partial/Zero rubric."""
    wanted = {
        "points": r"^P\d+\. .*\(\d+ points?\)$",
        "worked solution": r"^\*Worked solution\.\*",
        "Full": r"^- \*\*Full \(\d+\)\*\*:",
        "Partial": r"^- \*\*Partial \([\d-]+\)\*\*:",
        "Zero": r"^- \*\*Zero\*\*:",
    }
    return [name for name, rule in wanted.items() if not re.search(rule, problem, re.MULTILINE)]


def test_the_written_problem_check_finds_a_missing_part():
    good = "## Written problems (x)\n### P1. A (3 points)\nQ\n\n*Worked solution.* S\n\n- **Full (3)**: a\n- **Partial (1-2)**: b\n- **Zero**: c\n"
    assert (
        len(written_problems(good)) == 1 and problem_parts_missing(written_problems(good)[0]) == []
    )
    assert problem_parts_missing(
        written_problems(good.replace("*Worked solution.* S", "S"))[0]
    ) == ["worked solution"]
    assert written_problems("## Exercises\n### P1. not a problem (1 point)\n") == []


@pytest.mark.parametrize("lesson", LESSONS, ids=[path.stem for path in LESSONS])
def test_every_lesson_has_two_written_problems_with_solutions_and_rubrics(lesson: Path):
    """Issue 35: at least two derivation (pen-and-paper) problems per chapter, each with a worked solution and
    a rubric, in the instructor's lesson."""
    problems = written_problems(lesson.read_text())
    assert len(problems) >= 2, f"{lesson.name}: {len(problems)} written problems (at least 2)"
    for problem in problems:
        missing = problem_parts_missing(problem)
        assert not missing, f"{lesson.name}: problem {problem.splitlines()[0]!r} lacks {missing}"


# ---- honest session timing (issue 35, part 5) ----------------------------------------------------
# Per session part, what the notebook asks of the class (its markdown read at 200 words a minute, plus
# its code cells' measured FAST run time, notebooks/fast_timings.json from scripts/measure_timings.py)
# must fit the minutes the lesson's timing table gives the sections that part names.

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
WORDS_PER_MINUTE = 200
SECTION_WORDS = re.compile(r"[Ss]ections?\s+(\d+(?:\s*(?:-|–|,|and)\s*\d+)*)")
SECTION_PARENS = re.compile(r"\((\d+(?:\s*(?:-|–|,|and)\s*\d+)*)\)")
HEADING = re.compile(r"^## (?:(\d+)\. )?", re.MULTILINE)


def timing_rows(text: str) -> list[list[tuple[int, int, str]]]:
    """Each timing table's rows as (start, end, what happens), one list per session."""
    tables = []
    for block in re.split(r"\n(?=\| *minutes *\|)", "\n" + text)[1:]:
        rows = []
        for line in block.splitlines()[2:]:
            match = TIMING_ROW.match(line)
            if not match:
                break
            rows.append((int(match.group(1)), int(match.group(2)), line[match.end() :]))
        tables.append(rows)
    return tables


def named_sections(row: str) -> set[int]:
    """The notebook sections a timing row names: "Section 6", "Sections 3-4", "(8-9)", "sections 2 and 3"."""
    found = set()
    for match in [*SECTION_WORDS.finditer(row), *SECTION_PARENS.finditer(row)]:
        for part in re.split(r"\s*(?:,|and)\s*", match.group(1)):
            ends = [int(n) for n in re.split(r"\s*[-–]\s*", part)]
            found.update(range(ends[0], ends[-1] + 1))
    return found


def section_load(notebook: dict, seconds: dict[int, float]) -> dict[int, float]:
    """Minutes each numbered section asks: markdown words / 200 + the measured seconds of its code cells
    / 60 (cells before the first heading count with section 1; unnumbered sections are not taught)."""
    load: dict[int, float] = {}
    section: int | None = 1
    for index, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            for match in HEADING.finditer(source):
                section = int(match.group(1)) if match.group(1) else None
        if section is None:
            continue
        if cell["cell_type"] == "markdown":
            load[section] = load.get(section, 0.0) + len(source.split()) / WORDS_PER_MINUTE
        else:
            load[section] = load.get(section, 0.0) + seconds.get(index, 0.0) / 60
    return load


def timing_overruns(lesson_text: str, load: dict[int, float]) -> list[str]:
    """The session parts whose sections ask more minutes than the table gives them, and the numbered
    sections no part names. Rows that name overlapping sections are judged together."""
    problems = []
    named = set()
    for number, rows in enumerate(timing_rows(lesson_text), 1):
        groups: list[tuple[set[int], int, list[str]]] = []
        for start, end, what in rows:
            sections = named_sections(what)
            if not sections:
                continue
            named |= sections
            merged = (sections, end - start, [f"{start}-{end}"])
            for group in [g for g in groups if g[0] & sections]:
                groups.remove(group)
                merged = (merged[0] | group[0], merged[1] + group[1], group[2] + merged[2])
            groups.append(merged)
        for sections, minutes, spans in groups:
            need = sum(load.get(s, 0.0) for s in sections)
            if need > minutes:
                problems.append(
                    f"session {number}, minutes {', '.join(spans)}: sections {sorted(sections)} ask "
                    f"{need:.1f} minutes (reading + FAST run), the table gives {minutes}"
                )
    missing = sorted(set(load) - named)
    if missing:
        problems.append(f"sections {missing} are in no session's timing table")
    return problems


def test_the_timing_check_reads_sections_and_finds_an_overrun():
    assert named_sections("Sections 3-4: a; Section 6 (continued); zigzag (8-9); (★★★ 9)") == {
        3,
        4,
        6,
        8,
        9,
    }
    assert named_sections("sections 2 and 3, 5") == {2, 3, 5}
    notebook = {
        "cells": [
            {"cell_type": "code", "source": ["import x"]},
            {"cell_type": "markdown", "source": ["## 1. A\n", "word " * 400]},
            {"cell_type": "code", "source": ["run()"]},
            {"cell_type": "markdown", "source": ["## 2. B\n", "word " * 200]},
            {"cell_type": "markdown", "source": ["## Exercises\n", "word " * 9000]},
        ]
    }
    load = section_load(notebook, {0: 60.0, 2: 120.0})
    assert load[1] == pytest.approx(1 + (400 + 3) / 200 + 2) and 9 not in load
    table = "| minutes | s |\n|---|---|\n| 0-6 | Section 1 |\n| 6-90 | Section 2 |\n"
    assert timing_overruns(table, load) == []
    tight = table.replace("0-6 | Section 1", "0-5 | Section 1").replace("6-90", "5-90")
    assert len(timing_overruns(tight, load)) == 1
    assert timing_overruns(table.replace("Section 2", "board"), load) == [
        "sections [2] are in no session's timing table"
    ]


def _measured() -> dict:
    import json

    path = NOTEBOOKS / "fast_timings.json"
    return json.loads(path.read_text())["notebooks"] if path.is_file() else {}


@pytest.mark.parametrize("lesson", LESSONS, ids=[path.stem for path in LESSONS])
def test_every_session_part_fits_its_minutes(lesson: Path):
    """Issue 35, part 5: reading (200 words a minute) + measured FAST run time of the sections each timing
    row names fits its minutes, and every numbered section is in some session. The measured times must
    be of the notebook's current code: re-measure with scripts/measure_timings.py after changing it."""
    import json
    import sys

    sys.path.insert(0, str(NOTEBOOKS.parent / "scripts"))
    from measure_timings import source_hash

    path = NOTEBOOKS / f"{lesson.stem}.ipynb"
    notebook = json.loads(path.read_text())
    measured = _measured().get(path.name)
    assert measured, (
        f"{path.name} has no measured FAST times: python scripts/measure_timings.py {path}"
    )
    now = [
        (i, source_hash("".join(c["source"])))
        for i, c in enumerate(notebook["cells"])
        if c["cell_type"] == "code"
    ]
    then = [(c["index"], c["hash"]) for c in measured["cells"]]
    assert now == then, (
        f"{path.name}'s code changed since its FAST times were measured: "
        f"python scripts/measure_timings.py notebooks/{path.name}"
    )
    seconds = {c["index"]: c["seconds"] for c in measured["cells"]}
    problems = timing_overruns(lesson.read_text(), section_load(notebook, seconds))
    assert not problems, f"{lesson.name}: " + "; ".join(problems)
