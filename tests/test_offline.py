"""Offline with no data (issue: `make test` on a fresh clone, no data folder, empty cache, no network):
every chapter that needs data is skipped with its reason, by the notebook tests and the browser tests
alike, without waiting on downloads."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import data

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture
def dead_mirror(tmp_path, monkeypatch):
    """An empty data folder and cache, and a mirror on a local port nothing listens on."""
    with socket.socket() as handle:
        handle.bind(("127.0.0.1", 0))
        port = handle.getsockname()[1]
    env = {
        "WORKBENCH_DATA": str(tmp_path / "data"),
        "WORKBENCH_CACHE": str(tmp_path / "cache"),
        "WORKBENCH_DATA_URL": f"http://127.0.0.1:{port}",
        "WORKBENCH_KODAK_URL": f"http://127.0.0.1:{port}/kodak",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_every_chapter_that_needs_data_names_it(dead_mirror):
    for path in NOTEBOOKS:
        reason = data.notebook_missing_data(path)
        if path.stem in data.RUN_WITHOUT_DATA:
            assert reason is None, path.name
            continue
        assert reason is not None, f"{path.name} would run offline with no data"
        assert reason.startswith(path.name + " needs ") and "WORKBENCH_DATA" in reason, reason
    assert not any(Path(dead_mirror["WORKBENCH_DATA"]).rglob("*.part"))  # nothing half-written


def test_browser_tests_skip_those_chapters_before_starting_jupyterlab(dead_mirror):
    # the widget tests collected with the dead mirror: chapters 3 and 10 skip with the data reason
    # (no JupyterLab, no browser needed: the skip is decided at collection)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "browser_tests/test_widgets_lab.py",
            "-q",
            "-rs",
            "-p",
            "no:randomly",
            "-k",
            "03_pixel_models or 10_video_tools",
        ],
        cwd=ROOT,
        env={**os.environ, **dead_mirror},
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "2 skipped" in output, output[-3000:]
    assert "03_pixel_models.ipynb needs" in output and "10_video_tools.ipynb needs" in output, (
        output
    )
