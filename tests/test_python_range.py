"""The supported Pythons: one range (pyproject.toml's requires-python) read by pip, conda's
environment.yml, the README, `make` (scripts/pick_python.sh) and the notebooks' setup cell."""

import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_course  # noqa: E402

LOW, HIGH = sync_course.python_range()


def _fake_python(folder: Path, version: str) -> Path:
    """A stand-in interpreter that answers pick_python.sh's two questions as Python ``version`` would."""
    major, minor = (int(v) for v in version.split(".")[:2])
    path = folder / "python3"
    path.write_text(
        "#!/bin/sh\n"
        'case "$2" in\n'
        f'  *python_version*) echo "{version}" ;;\n'
        f"  *version_info*) [ {minor} -ge {LOW} ] && [ {minor} -le {HIGH} ] && [ {major} -eq 3 ] ;;\n"
        f'  *) echo "Python {version}" ;;\n'
        "esac\n"
    )
    path.chmod(0o755)
    return path


def _tools(folder: Path) -> None:
    """The shell tools make and the script need, and nothing else (no other Python on this PATH)."""
    for tool in ("sh", "bash", "sed", "dirname", "cat", "echo", "make"):
        found = shutil.which(tool)
        if found and not (folder / tool).exists():
            (folder / tool).symlink_to(found)


def test_the_range_is_what_the_wheels_allow():
    assert (LOW, HIGH) == (10, 12)  # numpy 1.26 / CompressAI 1.2.8 wheels; widen both together
    env = (ROOT / "environment.yml").read_text()
    pinned = re.search(r"^\s*-\s*python=3\.(\d+)\s*$", env, re.M)
    assert pinned and LOW <= int(pinned.group(1)) <= HIGH, (
        "environment.yml must pin a supported Python"
    )
    assert "Python 3.10, 3.11\nor 3.12" in (ROOT / "README.md").read_text()


def test_an_unsupported_python_is_refused_at_once(tmp_path):
    fake = _fake_python(tmp_path, "3.13.1")
    result = subprocess.run(
        ["sh", "scripts/pick_python.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": str(fake)},
        timeout=30,
    )
    assert result.returncode == 1
    assert f"The course needs Python 3.{LOW} to 3.{HIGH}" in result.stderr
    assert (
        "is Python 3.13.1" in result.stderr
        and "pyenv" in result.stderr
        and "conda" in result.stderr
    )


def test_a_supported_python_is_picked(tmp_path):
    fake = _fake_python(tmp_path, "3.11.9")
    result = subprocess.run(
        ["sh", "scripts/pick_python.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": str(fake)},
        timeout=30,
    )
    assert result.returncode == 0 and result.stdout.strip() == str(fake)


def test_make_stops_before_creating_a_venv(tmp_path):
    # a fresh clone on a machine whose only python3 is 3.13: `make install` stops within seconds
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, clone / name)
    (clone / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "pick_python.sh", clone / "scripts")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_python(bin_dir, "3.13.1")
    _tools(bin_dir)
    if not (bin_dir / "make").exists():
        pytest.skip("make is not installed")
    result = subprocess.run(
        ["make", "install"],
        cwd=clone,
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode != 0
    assert "python3 here is Python 3.13.1" in result.stderr, result.stderr
    assert not (clone / ".venv").exists()


def test_the_setup_cell_refuses_an_unsupported_kernel(tmp_path):
    source = sync_course.setup_source()
    assert f"(3, {LOW}) <= sys.version_info[:2] <= (3, {HIGH})" in source
    newer = sorted(glob.glob(str(Path.home() / f".pyenv/versions/3.{HIGH + 1}.*/bin/python3")))
    if not newer:
        pytest.skip(f"no Python 3.{HIGH + 1} here to run the setup cell with")
    # nothing installed and not a clone: the hosted path, which must stop before pip install
    result = subprocess.run(
        [newer[-1], "-c", source],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "WORKBENCH_PACKAGE": "/nonexistent.whl"},
        timeout=60,
    )
    assert result.returncode != 0
    assert (
        f"the course needs Python 3.{LOW}-3.{HIGH}; this kernel runs 3.{HIGH + 1}" in result.stderr
    )
    assert "RuntimeError" in result.stderr and "subprocess" not in result.stderr  # pip never ran
