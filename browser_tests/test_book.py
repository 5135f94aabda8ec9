"""The built book in Chromium: every page loads, every image decodes, every equation is typeset, no
internal link is broken, and the search page finds a chapter-4 term."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import BOOK, STUDENT_BOOK

PAGES = sorted(
    p.relative_to(BOOK).as_posix()
    for p in BOOK.rglob("*.html")
    if not p.relative_to(BOOK).as_posix().startswith(("_static/", "_sources/"))
)

#: text that means an equation was left as TeX (outside code, where it is legitimately shown)
RAW_TEX = re.compile(r"\$\$|\\frac|\\sum|\\log|\\lambda|\\hat|\\mathrm|\\left|\\tfrac")

VISIBLE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea').forEach(e => e.remove());
  return copy.innerText;
}"""

IMAGES = """() => Array.from(document.images).map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0}))"""


def _decodes(src: str) -> bool:
    """The browser reports a width from a PNG's header alone: decode every byte with Pillow too."""
    import base64
    import io

    from PIL import Image

    if src.startswith("data:"):
        header, _, payload = src.partition(",")
        raw = (
            base64.b64decode(payload)
            if ";base64" in header
            else urllib.parse.unquote(payload).encode()
        )
        if "svg" in header:
            return b"<svg" in raw
    else:
        with urllib.request.urlopen(src, timeout=10) as answer:
            raw = answer.read()
        if src.split("?")[0].endswith(".svg"):
            return b"<svg" in raw
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
    except Exception:  # noqa: BLE001 - any decoding error means a broken image
        return False
    return True


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def test_the_book_has_its_parts():
    names = set(PAGES)
    assert "index.html" in names and "search.html" in names and "glossary.html" in names
    assert "data.html" in names and "lessons/notation.html" in names and "instructor.html" in names
    chapters = [n for n in names if re.match(r"notebooks/\d\d_\w+\.html$", n)]
    lessons = [n for n in names if re.match(r"lessons/\d\d_\w+\.html$", n)]
    assert len(chapters) >= 10 and len(lessons) == len(chapters)


def test_the_students_book_holds_no_answer_key():
    """The students' book (`make book`): the chapters and reference pages, no lesson (solutions, model
    answers, rubrics), no instructor page, and no page that links to or names a file of the answer key."""
    if not (STUDENT_BOOK / "index.html").is_file():
        pytest.fail(f"no students' book at {STUDENT_BOOK}: run `make book` first")
    pages = {p.relative_to(STUDENT_BOOK).as_posix() for p in STUDENT_BOOK.rglob("*.html")}
    shown = {p for p in pages if not p.startswith(("_static/", "_sources/"))}
    chapters = {p for p in shown if re.match(r"notebooks/\d\d_\w+\.html$", p)}
    assert len(chapters) >= 10 and "lessons/notation.html" in shown and "glossary.html" in shown
    assert not {p for p in pages if re.search(r"lessons/(\d\d_\w+|README)\.|instructor\.", p)}
    key = re.compile(
        r"lessons/(\d\d_\w+|README)|exercises/\d\d_|instructor\.html|BEGIN SOLUTION|Rubric"
    )
    for name in sorted(shown):
        found = key.search((STUDENT_BOOK / name).read_text(errors="replace"))
        assert found is None, f"{name} names the answer key: {found[0] if found else ''}"


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_with_images_equations_and_links(page, book_url, name):
    errors, missing = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    # generous timeouts: a CI machine may be loaded (these pages load in 2-15 s alone and took over 120 s
    # while the assignments were graded beside them)
    response = page.goto(book_url + name, wait_until="load", timeout=180_000)
    assert response is not None and response.ok, (
        f"{name}: HTTP {response.status if response else '-'}"
    )
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:  # images and fonts: on a loaded machine the network may stay busy; the checks below decide
        page.wait_for_load_state("networkidle", timeout=180_000)
    except PlaywrightTimeout:
        pass
    # MathJax typesets every .math element of the page (served from the book: no network needed)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.math')).every(e => e.querySelector('mjx-container'))",
        timeout=180_000,
    )
    assert not [url for url in missing if not url.endswith("favicon.ico")], f"{name}: {missing}"
    shown = page.evaluate(IMAGES)
    broken = [
        image["src"][:120] for image in shown if not image["ok"] or not _decodes(image["src"])
    ]
    assert not broken, f"{name}: images that did not decode: {broken}"
    left = RAW_TEX.findall(page.evaluate(VISIBLE_TEXT))
    assert not left, f"{name}: TeX left unrendered: {left[:5]}"
    assert not errors, f"{name}: JavaScript errors: {errors[:3]}"
    # every link inside the book leads to a page that exists, and to its anchor
    base = urllib.parse.urlsplit(book_url)
    links = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    for link in sorted(set(links)):
        parts = urllib.parse.urlsplit(link)
        if parts.netloc != base.netloc or parts.path.startswith("/_static/"):
            continue
        target = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        try:
            with urllib.request.urlopen(target, timeout=10) as answer:
                body = answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            pytest.fail(f"{name}: broken link {link} (HTTP {error.code})")
        if parts.fragment and target.endswith(".html"):
            anchor = urllib.parse.unquote(parts.fragment)
            assert f'id="{anchor}"' in body, f"{name}: link {link} names a missing anchor"


def test_chapter_four_has_typeset_equations_and_figures(page, book_url):
    page.goto(book_url + "notebooks/04_autoencoder_codecs.html", wait_until="networkidle")
    page.wait_for_function(
        "() => document.querySelectorAll('mjx-container').length > 10", timeout=30_000
    )
    figures = [i for i in page.evaluate(IMAGES) if i["src"].endswith(".png")]
    assert len(figures) >= 5 and all(i["ok"] for i in figures)


def test_search_finds_a_chapter_four_term(page, book_url):
    page.goto(book_url + "search.html?q=hyperprior", wait_until="networkidle")
    page.wait_for_selector("#search-results li a", timeout=30_000)
    hits = page.evaluate(
        "() => Array.from(document.querySelectorAll('#search-results li a')).map(a => a.href)"
    )
    assert any("04_autoencoder_codecs" in hit for hit in hits), hits[:10]
