"""The one course setting and the setup cell of every notebook (scripts/sync_course.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_course  # noqa: E402


def test_everything_that_names_the_setting_is_in_sync():
    """Setup cells and README badges are written from pyproject.toml's [tool.workbench]."""
    assert sync_course.main(["--check"]) == 0, "run: python scripts/sync_course.py"


def test_every_chapter_notebook_starts_with_the_setup_cell():
    source = sync_course.setup_source()
    notebooks = sync_course.chapter_notebooks()
    assert len(notebooks) >= 10
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        first = next(c for c in notebook.cells if c.cell_type == "code")
        assert "setup" in first.metadata.get("tags", []), path.name
        assert first.source == source, path.name
        assert sum(c.source == source for c in notebook.cells) == 1, path.name


def test_the_setting_makes_the_package_spec_and_the_badges():
    config = sync_course.settings()
    assert config["package"].startswith("neural-compression-workbench @ git+https://")
    assert config["package"] in sync_course.setup_source(config)
    readme = (ROOT / "README.md").read_text()
    for path in sync_course.chapter_notebooks():
        url = sync_course.launch_url(f"notebooks/{path.name}", config)
        assert url.startswith(f"https://colab.research.google.com/github/{config['owner']}/")
        assert url in readme, path.name
    with pytest.raises(ValueError, match="markers"):
        sync_course.sync_readme("no markers here", config)


def _run_setup(cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", sync_course.setup_source()],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # one line, whatever the place
    return lines[0]


def test_setup_cell_in_a_clone_and_with_the_installed_package(tmp_path):
    """Two of the three places: the repository's notebooks/ folder, and a folder elsewhere with the
    package installed (this environment's). The third, a bare environment, is `make test-install`."""
    in_clone = _run_setup(ROOT / "notebooks")
    assert in_clone.startswith("helpers ") and "from the repository" in in_clone
    assert str(ROOT) not in in_clone  # notebook outputs never hold a path
    elsewhere = _run_setup(tmp_path)
    assert "from the installed package" in elsewhere
    env = {**os.environ, "WORKBENCH_DATA_URL": "http://127.0.0.1:9/"}
    env.pop("WORKBENCH_DATA", None)
    assert "WORKBENCH_DATA_URL mirror" in _run_setup(tmp_path, env)


def test_a_missing_data_set_shows_its_message_not_a_traceback(capsys):
    """Inside IPython, the setup cell makes DataUnavailableError print how to get the data; the cell
    still fails (so "Run all" stops there)."""
    from IPython.core.interactiveshell import InteractiveShell

    from helpers import course

    shell = InteractiveShell.instance()
    try:
        course.notebook_setup("the repository")
        capsys.readouterr()
        result = shell.run_cell(
            "from helpers import data\n"
            "raise data.DataUnavailableError('Kodak is not here. Fix: set WORKBENCH_DATA')"
        )
        shown = capsys.readouterr().out
        assert not result.success
        assert "DataUnavailableError: Kodak is not here. Fix: set WORKBENCH_DATA" in shown
        assert "Traceback" not in shown and "File " not in shown
        other = shell.run_cell("raise KeyError('still a traceback')")
        assert not other.success and "Traceback" in capsys.readouterr().out
    finally:
        shell.set_custom_exc((), None)
        InteractiveShell.clear_instance()


def test_the_course_map_and_the_learning_path_list_every_chapter():
    import json
    import re

    chapters = sorted(int(p.name[:2]) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    welcome = json.loads((ROOT / "notebooks" / "00_welcome.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in welcome["cells"] if c["cell_type"] == "markdown")
    mapped = sorted(int(n) for n in re.findall(r"^\| (\d+) \|", text, re.M))
    assert mapped == chapters, f"chapter 0's course map lists {mapped}, notebooks/ has {chapters}"
    path = (
        (ROOT / "book" / "index.md").read_text().split("## Learning path", 1)[1].split("##", 1)[0]
    )
    named = {int(n) for n in re.findall(r"\b(\d+)\b", path)}
    assert set(chapters) - {0, 1, 2} <= named, (
        f"the book's learning path leaves out {set(chapters) - named}"
    )


def test_fingerprint_sees_a_changed_input_and_nothing_else():
    import numpy as np
    import torch

    from helpers import course

    photo = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    model = torch.nn.Linear(3, 2)
    settings = {"quality": 50, "names": ["kodim01", "kodim23"]}
    before = course.fingerprint(photo, model, settings)
    model(torch.rand(4, 3))  # using an input does not change it, nor does a lossless cast
    assert course.fingerprint(photo, model.double(), settings) == before
    model.float()
    assert course.fingerprint(photo.copy(), model, dict(settings)) == before
    changed = photo.copy()
    changed[0, 0, 0] += 1
    assert course.fingerprint(changed, model, settings) != before
    with torch.no_grad():
        model.bias[0] = 7.0
    assert course.fingerprint(photo, model, settings) != before
    assert course.fingerprint(photo, torch.nn.Linear(3, 2), {**settings, "quality": 51}) != before
    assert course.fingerprint(np.zeros(2, np.uint8)) != course.fingerprint(np.zeros(2, np.int64))
