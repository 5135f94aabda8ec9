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
    tables = []
    for block in re.split(r"\n(?=\| *minutes *\|)", "\n" + text)[1:]:
        rows = []
        for line in block.splitlines()[2:]:
            match = TIMING_ROW.match(line)
            if not match:
                break
            rows.append((int(match.group(1)), int(match.group(2))))
        tables.append(rows)
    return tables


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
