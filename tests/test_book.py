"""scripts/build_book.py's staging (the Sphinx build itself and the browser checks are in browser_tests/)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import build_book  # noqa: E402
import sync_course  # noqa: E402


def test_links_stay_inside_the_book_or_go_to_the_repository(tmp_path):
    config = sync_course.settings()
    stage = tmp_path / "stage"
    (stage / "lessons").mkdir(parents=True)
    (stage / "notebooks").mkdir()
    (stage / "notebooks" / "04_autoencoder_codecs.ipynb").write_text("{}")
    staged = stage / "lessons" / "04_autoencoder_codecs.md"
    source = ROOT / "lessons" / "04_autoencoder_codecs.md"
    text = (
        "[chapter](../notebooks/04_autoencoder_codecs.ipynb) [key](../exercises/04_autoencoder_codecs.ipynb) "
        "[web](https://example.org/x) [here](#top) [readme](../README.md#graded-exercises)"
    )
    out = build_book.rewrite_links(text, source, staged, stage, config)
    assert "[chapter](../notebooks/04_autoencoder_codecs.ipynb)" in out  # a page of the book
    blob = f"{config['repository']}/blob/{config['branch']}/"
    assert f"[key]({blob}exercises/04_autoencoder_codecs.ipynb)" in out  # a repository file
    assert f"[readme]({blob}README.md#graded-exercises)" in out
    assert "[web](https://example.org/x)" in out and "[here](#top)" in out
    with pytest.raises(build_book.BrokenLink, match="no_such.png"):
        build_book.rewrite_links("![x](figures/no_such.png)", source, staged, stage, config)


def test_the_syllabus_counts_one_session_per_timing_table():
    notebooks = sync_course.chapter_notebooks()
    table = build_book.syllabus(notebooks)
    total = sum(build_book.sessions(ROOT / "lessons" / f"{p.stem}.md") for p in notebooks)
    assert total >= len(notebooks)
    assert f"{total} sessions in all" in table
    assert table.count("](notebooks/") == total  # one row per session
    assert "| 2 of 2: coders |" in table  # chapter 3's second session, named by its lesson
    assert {"ground", "codec", "machine"} <= set(re.findall(r"\| (ground|codec|machine) \|", table))
    assert "](../" not in table  # the notebooks' relative links are rewritten for the home page


def test_code_holds_no_links(tmp_path):
    config = sync_course.settings()
    source = ROOT / "lessons" / "04_autoencoder_codecs.md"
    staged = tmp_path / "lessons" / "04_autoencoder_codecs.md"
    text = (
        "```python\nq2_pair[1](q2_pair[0](x))\n```\nand `f[0](y)` and [web](https://example.org)\n"
    )
    assert build_book.rewrite_links(text, source, staged, tmp_path, config) == text
    with pytest.raises(build_book.BrokenLink, match="gone.md"):
        build_book.rewrite_links(
            "`code` then [a](gone.md) and `more`", source, staged, tmp_path, config
        )


def test_every_page_of_the_book_stages(tmp_path):
    """The staging of `make book` (links checked) on the real lessons and notebooks, for both audiences:
    a broken link, or a student page that names the answer key, fails here, in the unit tests."""
    chapters = {p.stem for p in sync_course.chapter_notebooks()}
    teacher = build_book.stage(tmp_path / "instructor", "instructor")
    assert chapters <= {p.stem for p in (teacher / "lessons").glob("*.md")}
    assert (teacher / "instructor.md").exists() and "instructor\n```" in (
        teacher / "index.md"
    ).read_text()
    student = build_book.stage(tmp_path / "student", "student")
    assert [p.name for p in (student / "lessons").iterdir()] == ["notation.md"]
    assert not (student / "instructor.md").exists()
    home = (student / "index.md").read_text()
    assert "For instructors" not in home and "<!--" not in home
    assert {p.stem for p in (student / "notebooks").glob("*.ipynb")} == chapters


def test_the_answer_key_is_named_by_its_paths():
    key = build_book.ANSWER_KEY
    for text in (
        "see ../lessons/03_pixel_models.md",
        "lessons/README.md#graded",
        "exercises/04_autoencoder_codecs.ipynb",
    ):
        assert key.search(text), text
    for text in (
        "[notation](../lessons/notation.md)",
        "a lesson file in `lessons/`",
        "the exercises below",
    ):
        assert key.search(text) is None, text
    with pytest.raises(ValueError, match="audience"):
        build_book.stage(Path("/nonexistent"), "teacher")


def test_chapter_notebooks_and_student_prompts_do_not_name_the_answer_key():
    """What a student opens: the chapter notebooks (every cell) and, in each assignment master, the cells
    outside a solution (otter's student version keeps exactly those)."""
    import nbformat

    for path in sync_course.chapter_notebooks():
        found = build_book.ANSWER_KEY.search(path.read_text())
        assert found is None, f"{path.name} names the answer key: {found[0] if found else ''}"
    for path in sorted((ROOT / "exercises").glob("*.ipynb")):
        inside = False
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "raw" and cell.source.strip() in (
                "# BEGIN SOLUTION",
                "# END SOLUTION",
            ):
                inside = cell.source.strip() == "# BEGIN SOLUTION"
            elif not inside and not cell.source.startswith("# HIDDEN"):
                found = build_book.ANSWER_KEY.search(cell.source)
                assert found is None, (
                    f"{path.name}: a student cell names {found[0] if found else ''}"
                )
                assert "Rubric" not in cell.source and "Model answer" not in cell.source, path.name
