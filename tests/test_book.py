"""scripts/build_book.py's staging (the Sphinx build itself and the browser checks are in browser_tests/)."""

from __future__ import annotations

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
    assert table.count("](notebooks/") == len(notebooks)
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
    """The staging of `make book` (links checked) on the real lessons and notebooks: a broken link fails here,
    in the unit tests, not only in the Sphinx build."""
    stage = build_book.stage(tmp_path / "stage")
    lessons = sorted((stage / "lessons").glob("*.md"))
    chapters = {p.stem for p in sync_course.chapter_notebooks()}
    assert chapters <= {p.stem for p in lessons} and (stage / "index.md").exists()
