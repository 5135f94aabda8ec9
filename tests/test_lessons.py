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


@pytest.mark.parametrize("lesson", LESSONS, ids=[path.stem for path in LESSONS])
def test_lesson_solutions_run(lesson: Path):
    blocks = python_blocks(lesson.read_text())
    assert blocks, f"{lesson.name} has no ```python solution blocks"
    namespace: dict = {"__name__": f"lesson_{lesson.stem}"}
    for index, block in enumerate(blocks):
        try:
            exec(compile(block, f"{lesson.name}[block {index}]", "exec"), namespace)
        except Exception as error:  # re-raise with the block's location
            raise AssertionError(
                f"{lesson.name}, solution block {index} failed: {error!r}"
            ) from error
