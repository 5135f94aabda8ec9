"""The graded exercises: otter-grader masters written from the lessons (scripts/make_assignments.py).
CI grades every chapter (`make test-assignments`); here: the masters are in sync, every question has
public and hidden tests, the cutting rules, and one otter round trip on a small lesson."""

from __future__ import annotations

import ast
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
        written = [q for q in questions if "manual: true" in q]
        assert len(questions) == 2 * len(stars) and len(stars) >= 3, lesson.name
        assert len(written) == len(stars), (
            f"{lesson.name}: a graded exercise without a written question"
        )
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
    given, solution, public, hidden, _, _ = ma.split_block(code, "t")
    assert given == "import numpy as np\n"
    assert solution == "x = np.arange(3)\ny = x.sum()\n"
    assert public == ["assert y == 3"] and hidden == ["assert x.shape == (3,)"]
    marked = "a = 1\n# BEGIN SOLUTION\nb = a + 1\n# END SOLUTION\n# TESTS\nassert b == 2\n# HIDDEN TESTS\nassert b > a\n"
    assert ma.split_block(marked, "t") == (
        "a = 1\n",
        "b = a + 1\n",
        ["assert b == 2"],
        ["assert b > a"],
        "",
        "",
    )
    body = (
        'def f(x):\n    """Twice x."""\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n'
        "\n\ny = f(3)\n# TESTS\nassert y == 6\n# HIDDEN TESTS\nassert f(5) == 10\n"
    )
    block = ma.split_block(body, "t")
    assert block.given == 'def f(x):\n    """Twice x."""\n' and block.indent == "    "
    assert block.solution == "    return 2 * x\n" and block.after == "y = f(3)\n"
    item = ma.Exercise(2, "Twice", "", *block)
    assert ma.read_names(item) == ["f", "y"]  # the completed function and what the given code made
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
Five: addition is exact on integers.

#### Written (1 point)
Why is the sum exact?

- **Full (1)**: integers add without rounding.
- **Partial (½)**: says it is small.
- **Zero**: anything else.

### ★★ An array
```python
import numpy as np

values = np.arange(4) ** 2
assert values.sum() == 14
```
0 + 1 + 4 + 9.

#### Written (2 points)
Why 14?
It is a sum of squares.

- **Full (2)**: names the four squares
  and adds them.
- **Partial (1)**: one square wrong.
- **Zero**: no squares.

### ★ A weak question
```python
positive = 3
assert positive > 0
assert positive < 100
```
Three is positive.

#### Written (1 point)
Why is three positive?

- **Full (1)**: it is above zero.
- **Partial (½)**: it is a number.
- **Zero**: it is negative.

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
    assert [e.title for e in ma.exercises(lessons / "42_tiny.md")] == [
        "Add",
        "An array",
        "A weak question",
    ]
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
    # the written questions: the student gets the prompt and a cell to answer in; the model answer and
    # the rubric stay in the instructor's solutions notebook
    assert "**q2_written** (2 points, graded by hand) · Why 14?\nIt is a sum of squares." in text
    assert (
        "Rubric" not in text
        and "0 + 1 + 4 + 9" not in text
        and "names the four squares" not in text
    )
    solutions = nbformat.read(out / "42_tiny" / "autograder" / "42_tiny.ipynb", as_version=4)
    answers = "\n".join(c.source for c in solutions.cells)
    assert "**Model answer.** 0 + 1 + 4 + 9." in answers
    assert "- **Full (2)**: names the four squares\n  and adds them." in answers
    archive = out / "42_tiny" / "autograder" / "42_tiny-autograder.zip"
    full = ma.scores(archive, out / "42_tiny" / "autograder" / "42_tiny.ipynb")
    assert full == {"q1": (1.0, 1.0), "q2": (2.0, 2.0), "q3": (1.0, 1.0)}
    blank = ma.scores(archive, out / "42_tiny" / "student" / "42_tiny.ipynb")
    assert blank == {"q1": (0.0, 1.0), "q2": (0.0, 2.0), "q3": (0.0, 1.0)}
    rows = ma.grade_wrong(out / "42_tiny", lessons / "42_tiny.md")
    given = {(q, kind): score for q, kind, changed, score, _ in rows if changed not in ("", "?")}
    assert given[("q1", "perturbed")] == 0 and given[("q2", "zeros")] == 0
    # the planted weak question: its checks accept any positive number, so wrong answers score
    assert given[("q3", "ones")] == 1 and given[("q3", "perturbed")] == 1


def _questions():
    for lesson in ma.lessons():
        for number, item in enumerate(ma.exercises(lesson), start=1):
            yield f"{lesson.stem} q{number}", item


#: calls that return None, so a test may make them without assigning the result
NONE_RETURNING = {"append", "backward", "print", "simplefilter", "filterwarnings"}


def test_no_hidden_test_repeats_a_public_one_and_no_test_prints():
    """A hidden test that repeats the public one grades nothing more; a bare expression in a test
    (``torch.manual_seed(0)``) prints its value under otter's doctest runner and fails the case."""
    for where, item in _questions():
        assert item.hidden and all(h.strip() not in item.public for h in item.hidden), where
        for case in item.public + item.hidden:
            for node in ast.walk(ast.parse(case)):
                if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
                    call = node.value
                    name = getattr(getattr(call, "func", None), "attr", None) or getattr(
                        getattr(call, "func", None), "id", None
                    )
                    assert name in NONE_RETURNING, f"{where}: a bare expression ({name}) in a test"


def _wrong_answer_functions():
    namespace = {}
    exec(ma.WRONG_ANSWER_SOURCE, namespace)
    return namespace["_wrong_answer"], namespace["_same_answer"]


def test_wrong_submissions_keep_the_type_and_shape_and_change_the_value():
    import numpy as np
    import torch

    wrong, same = _wrong_answer_functions()
    answer = {10: 0.8, 60: 0.47}
    assert wrong(answer, "zeros", None) == {10: 0.0, 60: 0.0}
    assert wrong(answer, "ones", None) == {10: 1.0, 60: 1.0}
    assert wrong(answer, "public bound", 0.5) == {10: 0.5, 60: 0.5}
    assert not same(wrong(answer, "perturbed", None), answer)
    counts = np.array([3, 0, 255], dtype=np.uint8)
    assert wrong(counts, "perturbed", None).dtype == np.uint8
    assert not same(wrong(counts, "perturbed", None), counts)
    assert wrong(7, "perturbed", None) == 8 and wrong(True, "perturbed", None) is False
    tensor = wrong(torch.ones(2, 3), "zeros", None)
    assert isinstance(tensor, torch.Tensor) and tensor.shape == (2, 3) and float(tensor.sum()) == 0
    assert same(wrong("text", "zeros", None), "text")  # nothing to change: reported as n/a
    assert ma.public_numbers(["assert -95 < saving < -15 and x == 2.5"]) == [-95, -15, 2.5]
    assert ma.wrong_number("inside the public bounds", [-95, -15]) == -55
    assert ma.wrong_number("public bound", []) is None


def test_given_inputs_the_hidden_tests_read_are_pinned():
    item = ma.Exercise(
        1,
        "Sum",
        "",
        given="import numpy as np\n\nphoto = np.ones(3)\n",
        solution="total = float(photo.sum())\n",
        public=["assert total > 0"],
        hidden=["assert total == float(photo.sum())"],
    )
    assert ma.pinned_inputs(item) == ["photo"]
    # a comprehension's variables are its own: pinning them would fail the given cell (NameError)
    listed = ma.Exercise(
        1,
        "Labels",
        "",
        given="pairs = [(1, 'a')]\nphotos = [p for p, _ in pairs]\nf = lambda q: q\n",
        solution="n = len(photos)\n",
        public=["assert n"],
        hidden=["assert n == len([p for p, label in pairs]) == len(photos) and f(1) and q"],
    )
    assert ma.pinned_inputs(listed) == ["f", "pairs", "photos"]
    exec(ma.pin(listed, "q1").given, {})
    pinned = ma.pin(item, "q1")
    assert "q1_inputs = course.fingerprint(photo)" in pinned.given
    assert pinned.hidden[0].startswith("assert course.fingerprint(photo) == q1_inputs")
    graded = {}
    exec(pinned.given + pinned.solution, graded)
    exec(pinned.hidden[0], graded)  # as given: passes
    graded["photo"][0] = 3.0  # the student edits an input to match a wrong answer
    graded["total"] = float(graded["photo"].sum())
    with pytest.raises(AssertionError, match="a given input"):
        exec(pinned.hidden[0], graded)
    # an implement-the-body question: the fingerprint goes before the function to complete
    body = ma.split_block(
        "import numpy as np\n\nsizes = [1, 3]\n\n\ndef f(n):\n    # BEGIN SOLUTION\n    return n\n"
        "    # END SOLUTION\n\n\ny = f(2)\n# TESTS\nassert y == 2\n# HIDDEN TESTS\n"
        "assert [f(n) for n in sizes] == sizes\n",
        "t",
    )
    pinned = ma.pin(ma.Exercise(2, "Identity", "", *body), "q2")
    assert pinned.given.index("q2_inputs = course.fingerprint(sizes)") < pinned.given.index(
        "def f(n):"
    )
    # every master stores and checks the fingerprint of what its hidden tests read
    masters = "\n".join(p.read_text() for p in sorted((ROOT / "exercises").glob("*.ipynb")))
    assert masters.count("course.fingerprint(classifier, image) == q") == 3  # chapter 6, q1, q2, q4
