"""Graded exercises: otter-grader master notebooks from the lessons, student versions, autograders.

Usage:
    python scripts/make_assignments.py masters [--check]   # lessons/NN_slug.md -> exercises/NN_slug.ipynb
    python scripts/make_assignments.py assign [--out build/assignments]
    python scripts/make_assignments.py grade  [--out build/assignments] [--only 00 03]

Each ★ and ★★ exercise of a lesson becomes one question of the chapter's assignment, in otter-grader's
master format (raw ``# BEGIN QUESTION`` / ``# BEGIN SOLUTION`` / ``# BEGIN TESTS`` cells). The lesson's
solution block is the single source: it keeps running in tests/test_lessons.py as the instructor's
answer key, and the master notebook is written from it, so the two never disagree. A block is cut in
three:
- what the student is given: the leading imports (or, with explicit markers, the lines before
  ``# BEGIN SOLUTION``);
- what the student writes: the rest up to the final asserts (or the lines between ``# BEGIN SOLUTION``
  and ``# END SOLUTION``); otter replaces it with ``...`` in the student version;
- the tests: the block's final ``assert`` statements (or the lines after ``# TESTS``). The first is
  public (``grader.check`` runs it for the student); the others are hidden (grading only). Lines after
  ``# HIDDEN TESTS`` are hidden too.
``assign`` runs ``otter assign`` on every master: ``<out>/NN_slug/student/`` (no solutions, no hidden
tests) and ``<out>/NN_slug/autograder/`` (the solutions notebook and the autograder zip for Gradescope or
``otter run``). ``grade`` runs ``otter run`` with each autograder zip on the solutions notebook (full marks
expected) and on the blank student version (zero on every question expected, so the tests can fail), and
prints ``N passed, N failed``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_course  # noqa: E402

LESSONS = ROOT / "lessons"
EXERCISES = ROOT / "exercises"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
HEADING = re.compile(r"^### (★+)\s*(.*)$", re.MULTILINE)
POINTS = {1: 1, 2: 2}


@dataclass
class Exercise:
    stars: int
    title: str
    lead: str
    given: str
    solution: str
    public: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)

    @property
    def points(self) -> int:
        return POINTS[self.stars]


def _segment(lines: list[str], node: ast.stmt) -> str:
    return "\n".join(lines[node.lineno - 1 : node.end_lineno])


def split_block(code: str, where: str) -> tuple[str, str, list[str], list[str]]:
    """(given, solution, public tests, hidden tests) of one solution block."""
    if "# BEGIN SOLUTION" in code:
        head, rest = code.split("# BEGIN SOLUTION\n", 1)
        solution, rest = rest.split("# END SOLUTION\n", 1)
        if "# TESTS\n" not in rest:
            raise ValueError(f"{where}: a block with # BEGIN SOLUTION needs a # TESTS line")
        _, tests = rest.split("# TESTS\n", 1)
        public, _, hidden = tests.partition("# HIDDEN TESTS\n")
        hidden_cases = [hidden.strip()] if hidden.strip() else []
        return head.rstrip() + "\n", solution.rstrip() + "\n", [public.strip()], hidden_cases
    tree = ast.parse(code)
    lines = code.splitlines()
    body = tree.body
    first = 0
    while first < len(body) and isinstance(body[first], (ast.Import, ast.ImportFrom)):
        first += 1
    last = len(body)
    while last > first and isinstance(body[last - 1], ast.Assert):
        last -= 1
    asserts = body[last:]
    if not asserts or last == first:
        raise ValueError(
            f"{where}: no final assert statements after the code to write; mark the block with "
            "# BEGIN SOLUTION / # END SOLUTION / # TESTS"
        )
    given = "\n".join(lines[: body[first].lineno - 1]).rstrip() + "\n" if first else ""
    solution = "\n".join(lines[body[first].lineno - 1 : body[last - 1].end_lineno]).rstrip() + "\n"
    tests = [_segment(lines, node) for node in asserts]
    public, hidden = tests[:1], tests[1:] or tests[:1]
    return given, solution, public, ["\n".join(hidden)]


def exercises(lesson: Path) -> list[Exercise]:
    """The ★ and ★★ exercises of a lesson, in order."""
    text = lesson.read_text()
    section = text.split("## Exercises with solutions", 1)
    if len(section) < 2:
        raise ValueError(f"{lesson.name} has no '## Exercises with solutions' section")
    body = re.split(r"^## ", section[1], maxsplit=1, flags=re.MULTILINE)[0]
    found = []
    matches = list(HEADING.finditer(body))
    for index, match in enumerate(matches):
        stars = len(match.group(1))
        if stars not in POINTS:
            continue
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        chunk = body[match.end() : end]
        blocks = BLOCK.findall(chunk)
        if not blocks:
            raise ValueError(f"{lesson.name}: exercise {match.group(2)!r} has no ```python block")
        lead = chunk.split("```python", 1)[0].strip()
        title = re.sub(r"^\d+\.\s*", "", match.group(2).strip())
        given, solution, public, hidden = split_block("\n".join(blocks), f"{lesson.name}: {title}")
        found.append(Exercise(stars, title, lead, given, solution, public, hidden))
    return found


def _names(code: str, context) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, context):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and context is ast.Store:
            names.add(node.name)
    return names


def chapter_title(lesson: Path) -> str:
    first = lesson.read_text().splitlines()[0]
    return re.sub(r"^#\s*Lesson\s*\d+\s*·\s*", "", first).strip()


def master(lesson: Path) -> nbformat.NotebookNode:
    """The otter-grader master notebook of one lesson."""
    slug = lesson.stem
    chapter = int(slug[:2])
    config = {
        "name": slug,
        "init_cell": False,
        "check_all_cell": True,
        "export_cell": False,
        "run_tests": False,
        "requirements": [sync_course.settings()["package"]],
    }
    raw = nbformat.v4.new_raw_cell
    markdown = nbformat.v4.new_markdown_cell
    code = nbformat.v4.new_code_cell
    items = exercises(lesson)
    total = sum(e.points for e in items)
    cells = [
        raw(
            "# ASSIGNMENT CONFIG\n" + "\n".join(f"{k}: {json.dumps(v)}" for k, v in config.items())
        ),
        markdown(
            f"# Assignment {chapter} · {chapter_title(lesson)}\n"
            f"*The ★ and ★★ exercises of [lesson {chapter}](../lessons/{slug}.md), to fill in and check "
            f"({len(items)} questions, {total} points). Chapter notebook: "
            f"[{slug}.ipynb](../notebooks/{slug}.ipynb).*\n\n"
            "Run the two cells below first. In each question, write your code where the cell says `...` "
            'and run `grader.check("qN")` underneath: it runs the public checks. Your instructor grades '
            "with more (hidden) checks, so a passing public check is necessary, not sufficient. FAST mode "
            "(`FAST=1`) keeps every question to seconds."
        ),
        code(sync_course.setup_source(), metadata={"tags": list(sync_course.SETUP_TAGS)}),
        code(f'import otter\n\ngrader = otter.Notebook("{slug}.ipynb")'),
    ]
    for number, item in enumerate(items, start=1):
        name = f"q{number}"
        read = sorted(
            _names("\n".join(item.public + item.hidden), ast.Load)
            & _names(item.solution, ast.Store)
        )
        reads = ", ".join(f"`{n}`" for n in read) if read else "what your code prints"
        prompt = f"## {name} · {'★' * item.stars} {item.title} ({item.points} point{'s' * (item.points > 1)})"
        if item.lead:
            prompt += f"\n\n{item.lead}"
        prompt += f"\n\nThe checks read {reads}."
        cells += [
            raw(f"# BEGIN QUESTION\nname: {name}\npoints: {item.points}"),
            markdown(prompt),
            raw("# BEGIN SOLUTION"),
            code(f"{item.given}# BEGIN SOLUTION\n{item.solution}# END SOLUTION"),
            raw("# END SOLUTION"),
            raw("# BEGIN TESTS"),
            *[code(case) for case in item.public],
            *[code(f"# HIDDEN\n{case}") for case in item.hidden],
            raw("# END TESTS"),
            raw("# END QUESTION"),
        ]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index:03d}"
    notebook.metadata = nbformat.NotebookNode(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
    )
    return notebook


def lessons() -> list[Path]:
    return sorted(LESSONS.glob("[0-9][0-9]_*.md"))


def write_masters(check: bool) -> int:
    EXERCISES.mkdir(exist_ok=True)
    stale = []
    for lesson in lessons():
        target = EXERCISES / f"{lesson.stem}.ipynb"
        text = nbformat.writes(master(lesson)) + "\n"
        if not target.exists() or target.read_text() != text:
            stale.append(target)
            if not check:
                target.write_text(text)
    for path in stale:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{'stale' if check else 'wrote'}: {shown}")
    return 1 if check and stale else 0


def otter(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("otter")), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True)


def assign(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for lesson in lessons():
        target = out / lesson.stem
        shutil.rmtree(target, ignore_errors=True)
        done = otter("assign", str(EXERCISES / f"{lesson.stem}.ipynb"), str(target))
        zips = list((target / "autograder").glob("*.zip"))
        student = target / "student" / f"{lesson.stem}.ipynb"
        if done.returncode != 0 or len(zips) != 1 or not student.is_file():
            failed += 1
            print(
                f"[FAILED] otter assign {lesson.stem}:\n{done.stdout[-1500:]}{done.stderr[-3000:]}"
            )
            continue
        zips[0].rename(target / "autograder" / f"{lesson.stem}-autograder.zip")
        print(
            f"[ok] {lesson.stem}: student/{student.name}, autograder/{lesson.stem}-autograder.zip"
        )
    return failed


def scores(archive: Path, notebook: Path) -> dict[str, tuple[float, float]]:
    """{question: (score, max)} of one notebook graded by ``otter run`` with an autograder zip."""
    with tempfile.TemporaryDirectory(prefix="otter-run-") as folder:
        done = otter("run", "-a", str(archive), "-o", folder, str(notebook))
        result = Path(folder) / "results.json"
        if not result.is_file():
            raise RuntimeError(
                f"otter run {notebook.name} wrote no results:\n{done.stderr[-3000:]}"
            )
        tests = json.loads(result.read_text())["tests"]
    return {
        t["name"]: (float(t["score"]), float(t["max_score"])) for t in tests if "max_score" in t
    }


def grade(out: Path, only: list[str] | None) -> int:
    passed = failed = 0
    for lesson in lessons():
        if only and lesson.stem[:2] not in only:
            continue
        folder = out / lesson.stem
        archive = folder / "autograder" / f"{lesson.stem}-autograder.zip"
        if not archive.is_file():
            print(f"[FAILED] {lesson.stem}: no autograder archive (run `make assignments` first)")
            failed += 1
            continue
        for label, notebook, want_full in (
            ("solutions", folder / "autograder" / f"{lesson.stem}.ipynb", True),
            ("blank student version", folder / "student" / f"{lesson.stem}.ipynb", False),
        ):
            got = scores(archive, notebook)
            wrong = {q: s for q, s in got.items() if (s[0] != s[1] if want_full else s[0] != 0)}
            total = sum(s[0] for s in got.values()), sum(s[1] for s in got.values())
            ok = bool(got) and not wrong
            passed, failed = passed + ok, failed + (not ok)
            print(
                f"[{'ok' if ok else 'FAILED'}] {lesson.stem} {label}: {total[0]:g} / {total[1]:g}"
                + (f"  unexpected: {wrong}" if wrong else ""),
                flush=True,
            )
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["masters", "assign", "grade"])
    parser.add_argument(
        "--check", action="store_true", help="masters: change nothing, exit 1 if stale"
    )
    parser.add_argument("--out", default=str(ROOT / "build" / "assignments"))
    parser.add_argument("--only", nargs="*", help="grade: chapter numbers (default: all)")
    args = parser.parse_args(argv)
    os.environ.setdefault("FAST", "1")
    if args.action == "masters":
        return write_masters(args.check)
    if args.action == "assign":
        return 1 if assign(Path(args.out)) else 0
    return grade(Path(args.out), args.only)


if __name__ == "__main__":
    sys.exit(main())
