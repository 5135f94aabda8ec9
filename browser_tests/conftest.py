"""Browser tests: the built book and every chapter widget in JupyterLab, in a real headless Chromium.

Chromium is the system browser (Debian's ``chromium`` package: ``apt-get install chromium``); the
playwright package drives it (its own browser downloads are not used). Without either, every test here is
skipped with that reason. ``make test`` builds the book first (``make book``); screenshots of the widgets
go to a temporary folder whose path the JupyterLab test prints (BROWSER_ARTIFACTS overrides it).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the instructors' book holds every page of the students' book and the lessons: the browser visits it; the
# students' book is checked for what it must not hold (test_book.py)
BOOK = Path(os.environ.get("BOOK_DIR", ROOT / "build" / "book-instructor"))
STUDENT_BOOK = Path(os.environ.get("STUDENT_BOOK_DIR", ROOT / "build" / "book"))
INSTALL = (
    "install it with: apt-get install chromium (Debian/Ubuntu), or set CHROMIUM=/path/to/chrome"
)


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        shutil.which("chromium"),
        shutil.which("google-chrome"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.skip(f"no Chromium found: {INSTALL}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e .[dev]")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def book_url():
    """The built book served over HTTP on 127.0.0.1 (as any static host would)."""
    if not (BOOK / "index.html").is_file():
        pytest.fail(f"no book at {BOOK}: run `make book AUDIENCE=instructor` first")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(BOOK))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(
        os.environ.get("BROWSER_ARTIFACTS") or tempfile.mkdtemp(prefix="workbench-browser-")
    )
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser test screenshots: {folder}")
    return folder


def pytest_collection_modifyitems(config, items):
    """A chapter whose data set is neither here nor downloadable is skipped with the notebook tests'
    reason (``data.notebook_missing_data``), before any browser or JupyterLab starts."""
    from helpers import data

    reasons: dict[Path, str | None] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        notebook = callspec.params.get("notebook") if callspec is not None else None
        if notebook is None:
            continue
        if notebook not in reasons:
            reasons[notebook] = data.notebook_missing_data(notebook)
        if reasons[notebook]:
            item.add_marker(pytest.mark.skip(reason=reasons[notebook]))
