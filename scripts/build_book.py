"""make book: the course as a static HTML site, built offline from the committed notebooks and markdown.

Usage: python scripts/build_book.py [--audience student|instructor] [--out build/book]

Two books: the students' (the default, build/book) and the instructors' (build/book-instructor). The answer key
(the lessons: solution blocks, model answers, rubrics, instructor notes; the instructor page) is only in the
instructors' book; the students' book has the chapters, the notation page, the glossary and the data page, and
no page of it links or names a file of the answer key (tests/test_book.py holds it).

Stages the sources in build/book-src (book/ pages, notebooks/NN_*.ipynb with their stored outputs, lessons/),
then runs Sphinx (myst-nb, sphinx-book-theme, MathJax served from the site itself) with warnings as errors:
- notebooks are not executed: the stored outputs of `make execute` are what readers see;
- links between pages stay internal and Sphinx checks them; a relative link to a repository file that is not a
  page of the book (README.md, exercises/, helpers/...) becomes a link to that file in the repository named by
  pyproject.toml's [tool.workbench], and a link to a file that does not exist fails the build;
- the home page's syllabus is written from the lessons' timing tables (one table per 90-minute session).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_course  # noqa: E402

LINK = re.compile(r"(\]\()([^)\s]+)(\))")
# Code is not prose: a fenced block or an inline span (`f[0](x)`) holds no links.
CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$|`[^`\n]+`", re.MULTILINE | re.DOTALL)


class BrokenLink(ValueError):
    pass


def rewrite_links(text: str, source: Path, staged: Path, stage: Path, config: dict) -> str:
    """Keep links to staged pages; send links to other repository files to the repository."""

    def fix(match: re.Match) -> str:
        target = match.group(2)
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            return match.group(0)
        path, _, anchor = target.partition("#")
        in_repo = (source.parent / path).resolve()
        if not in_repo.exists():
            raise BrokenLink(f"{source.relative_to(ROOT)}: link to {target} (no such file)")
        in_stage = (staged.parent / path).resolve()
        if in_stage.exists() and in_stage.is_relative_to(stage.resolve()):
            return match.group(0)
        relative = in_repo.relative_to(ROOT).as_posix()
        kind = "tree" if in_repo.is_dir() else "blob"
        url = f"{config['repository']}/{kind}/{config['branch']}/{relative}"
        return f"{match.group(1)}{url}{'#' + anchor if anchor else ''}{match.group(3)}"

    pieces, start = [], 0
    for code in CODE.finditer(text):
        pieces += [LINK.sub(fix, text[start : code.start()]), code.group(0)]
        start = code.end()
    return "".join(pieces + [LINK.sub(fix, text[start:])])


def sessions(lesson: Path) -> int:
    return len(re.findall(r"^\| *minutes *\|", lesson.read_text(), flags=re.MULTILINE))


#: the learning path's tracks (book/index.md): the ground, then the codec track and the machine track
TRACKS = {0: "ground", 1: "ground", 2: "ground", 3: "codec", 4: "codec", 5: "codec", 10: "codec"}


def session_titles(lesson: Path) -> dict[int, str]:
    """{session number: title} from a lesson's "Session 2, *coders*: ..." lines (two-session lessons)."""
    found = re.findall(r"Session (\d+), \*([^*]+)\*", lesson.read_text())
    return {int(number): " ".join(title.split()) for number, title in found}


def syllabus(notebooks: list[Path]) -> str:
    """One row per 90-minute session: its number, the chapter, the part of a two-session chapter, the track
    and (on a chapter's first session) the prerequisites the notebook's first cell gives."""
    rows = [
        "| session | chapter | part | track | prerequisites |",
        "|---|---|---|---|---|",
    ]
    number = 0
    for path in notebooks:
        notebook = json.loads(path.read_text())
        head = "".join(notebook["cells"][0]["source"])
        title = head.splitlines()[0].lstrip("# ").strip()
        # the paragraph after "**Prerequisites.**", up to the notation sentence every chapter adds
        needs = re.search(
            r"\*\*Prerequisites\.\*\*\s*(.+?)\s*(?:Symbols follow|\n\n|$)", head, re.DOTALL
        )
        lesson = ROOT / "lessons" / f"{path.stem}.md"
        count, titles = sessions(lesson), session_titles(lesson)
        # the notebook's links are relative to notebooks/; the home page sits one folder up
        prerequisites = " ".join(needs.group(1).split()) if needs else "—"
        prerequisites = re.sub(r"\]\(\.\./", "](", prerequisites)
        track = TRACKS.get(int(path.stem[:2]), "machine")
        for part in range(1, count + 1):
            number += 1
            label = f"{part} of {count}: {titles.get(part, '')}".rstrip(": ") if count > 1 else "—"
            rows.append(
                f"| {number} | [{title}](notebooks/{path.name}) | {label} | {track} | "
                f"{prerequisites if part == 1 else '(as above)'} |"
            )
    rows.append(f"\n{number} sessions in all, about {1.5 * number:.0f} hours in class.")
    return "\n".join(rows)


AUDIENCES = ("student", "instructor")
#: the answer key: files a student-facing page must not link or name
ANSWER_KEY = re.compile(r"lessons/(?:\d\d_\w+|README)(?:\.md)?|exercises/\d\d_\w+|instructor\.md")
#: in book/index.md, what only the instructors' book shows
INSTRUCTOR_ONLY = re.compile(r"<!-- instructor -->.*?<!-- /instructor -->\n?", re.DOTALL)


def stage(stage_dir: Path, audience: str = "student") -> Path:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    instructor = audience == "instructor"
    config = sync_course.settings()
    shutil.rmtree(stage_dir, ignore_errors=True)
    stage_dir.mkdir(parents=True)
    for page in (ROOT / "book").iterdir():
        if page.suffix in (".md", ".py") and (instructor or page.name != "instructor.md"):
            shutil.copy(page, stage_dir / page.name)
    (stage_dir / "course_setting.py").write_text(
        f"REPOSITORY = {config['repository']!r}\nBRANCH = {config['branch']!r}\n"
    )
    notebooks = sync_course.chapter_notebooks()
    (stage_dir / "notebooks").mkdir()
    (stage_dir / "lessons").mkdir()
    for path in notebooks:
        shutil.copy(path, stage_dir / "notebooks" / path.name)
    for path in sorted((ROOT / "lessons").glob("*.md")):
        if instructor or path.name == "notation.md":
            shutil.copy(path, stage_dir / "lessons" / path.name)
    index = stage_dir / "index.md"
    home = index.read_text().replace("<!-- syllabus -->", syllabus(notebooks))
    if instructor:
        home = home.replace("<!-- instructor -->\n", "").replace("<!-- /instructor -->\n", "")
    else:
        home = INSTRUCTOR_ONLY.sub("", home)
    index.write_text(home)
    # links, once every page is in place
    for path in sorted((stage_dir / "lessons").glob("*.md")):
        source = ROOT / "lessons" / path.name
        path.write_text(rewrite_links(path.read_text(), source, path, stage_dir, config))
    for path in sorted((stage_dir / "notebooks").glob("*.ipynb")):
        source = ROOT / "notebooks" / path.name
        notebook = json.loads(path.read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                text = "".join(cell["source"])
                cell["source"] = rewrite_links(text, source, path, stage_dir, config)
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    if not instructor:
        for path in sorted(stage_dir.rglob("*")):
            if path.suffix in (".md", ".ipynb") and (found := ANSWER_KEY.search(path.read_text())):
                raise BrokenLink(
                    f"{path.relative_to(stage_dir)}: a student page names the answer key ({found[0]}); "
                    "solutions and rubrics are for the instructors' book only"
                )
    return stage_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audience", choices=AUDIENCES, default="student")
    parser.add_argument("--out", help="default: build/book (students), build/book-instructor")
    parser.add_argument("--source", default=str(ROOT / "build" / "book-src"))
    args = parser.parse_args(argv)
    if args.out is None:
        suffix = "" if args.audience == "student" else "-instructor"
        args.out = str(ROOT / "build" / f"book{suffix}")
    try:
        source = stage(Path(args.source), args.audience)
    except BrokenLink as error:
        print(f"book: broken link: {error}")
        return 1
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-d",
        str(source / "_doctrees"),
        str(source),
        str(out),
    ]
    done = subprocess.run(command)
    if done.returncode == 0:
        print(f"book: {out / 'index.html'}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
