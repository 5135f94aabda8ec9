"""The graded exercises: otter-grader masters written from the lessons (scripts/make_assignments.py).
CI grades every chapter (`make test-assignments`); here: the masters are in sync, every question has
public and hidden tests, the cutting rules, and one otter round trip on a small lesson."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_assignments as ma  # noqa: E402


def test_masters_are_written_from_the_lessons():
    assert ma.write_masters(check=True) == 0, "run: python scripts/make_assignments.py masters"


def test_every_chapter_has_an_assignment_with_its_star_exercises():
    for lesson in ma.lessons():
        text = lesson.read_text()
        stars = [line for line in text.splitlines() if line.startswith(("### ★ ", "### ★★ "))]
        notebook = nbformat.read(ROOT / "exercises" / f"{lesson.stem}.ipynb", as_version=4)
        raws = [c.source for c in notebook.cells if c.cell_type == "raw"]
        questions = [r for r in raws if r.startswith("# BEGIN QUESTION")]
        assert len(questions) == len(stars) >= 3, lesson.name
        assert raws.count("# BEGIN TESTS") == len(stars)
        hidden = [
            c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("# HIDDEN")
        ]
        assert len(hidden) >= len(stars), f"{lesson.name}: a question without hidden tests"
        assert f"exercises/{lesson.stem}.ipynb" in text, (
            f"{lesson.name} does not link its assignment"
        )


def test_cutting_a_block_by_its_imports_and_final_asserts():
    code = (
        "import numpy as np\nx = np.arange(3)\ny = x.sum()\nassert y == 3\nassert x.shape == (3,)\n"
    )
    given, solution, public, hidden = ma.split_block(code, "t")
    assert given == "import numpy as np\n"
    assert solution == "x = np.arange(3)\ny = x.sum()\n"
    assert public == ["assert y == 3"] and hidden == ["assert x.shape == (3,)"]
    marked = "a = 1\n# BEGIN SOLUTION\nb = a + 1\n# END SOLUTION\n# TESTS\nassert b == 2\n# HIDDEN TESTS\nassert b > a\n"
    assert ma.split_block(marked, "t") == (
        "a = 1\n",
        "b = a + 1\n",
        ["assert b == 2"],
        ["assert b > a"],
    )
    with pytest.raises(ValueError, match="no final assert"):
        ma.split_block("import numpy\nfor i in range(3):\n    assert i < 3\n", "t")
    with pytest.raises(ValueError, match="# TESTS"):
        ma.split_block("# BEGIN SOLUTION\nb = 1\n# END SOLUTION\nassert b\n", "t")


LESSON = """# Lesson 42 · A tiny lesson

## Exercises with solutions

### ★ Add
Store 2 + 3 in `total`.

```python
import numpy as np

total = int(np.add(2, 3))
assert total == 5
assert isinstance(total, int)
```

### ★★ An array
```python
import numpy as np

values = np.arange(4) ** 2
assert values.sum() == 14
```

### ★★★ Not graded
```python
print("free")
```

## Instructor notes
"""


def test_an_otter_round_trip_grades_the_solution_full_and_the_blank_zero(tmp_path, monkeypatch):
    """The tool chain of `make test-assignments` on a two-question lesson: master -> otter assign ->
    otter run on the solutions (3 / 3) and on the blank student version (0 on both questions)."""
    if shutil.which("otter", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("otter-grader is a dependency of the course: pip install -e .[dev]")
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "42_tiny.md").write_text(LESSON)
    monkeypatch.setattr(ma, "LESSONS", lessons)
    monkeypatch.setattr(ma, "EXERCISES", tmp_path / "exercises")
    assert [e.title for e in ma.exercises(lessons / "42_tiny.md")] == ["Add", "An array"]
    assert ma.write_masters(check=False) == 0
    assert ma.write_masters(check=True) == 0
    out = tmp_path / "build"
    assert ma.assign(out) == 0
    student = nbformat.read(out / "42_tiny" / "student" / "42_tiny.ipynb", as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert (
        "int(np.add(2, 3))" not in text and "isinstance(total, int)" not in text
    )  # no solution, no hidden test
    assert 'grader.check("q1")' in text
    archive = out / "42_tiny" / "autograder" / "42_tiny-autograder.zip"
    full = ma.scores(archive, out / "42_tiny" / "autograder" / "42_tiny.ipynb")
    assert full == {"q1": (1.0, 1.0), "q2": (2.0, 2.0)}
    blank = ma.scores(archive, out / "42_tiny" / "student" / "42_tiny.ipynb")
    assert blank == {"q1": (0.0, 1.0), "q2": (0.0, 2.0)}
