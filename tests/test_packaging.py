"""pyproject.toml and environment.yml must list the same dependencies with the same bounds."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _normalise(requirement: str) -> tuple[str, str]:
    requirement = requirement.split("#")[0].strip()
    match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    name, spec = match.group(1), match.group(2).replace(" ", "")
    spec = ",".join(sorted(spec.split(","))) if spec else ""
    return name.lower().replace("_", "-"), spec


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(_normalise(r) for r in requirements)


def _environment() -> dict[str, str]:
    found = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        item = re.match(r"^\s*-\s+(.+)$", line)
        if not item:
            continue
        entry = item.group(1).strip()
        if (
            entry in ("pip", "pip:", "conda-forge")
            or entry.startswith("-e ")
            or entry.startswith("python")
        ):
            continue
        name, spec = _normalise(entry)
        found[name] = spec
    return found


def test_environment_yml_matches_pyproject():
    assert _environment() == _pyproject()


def test_dependencies_are_lower_bounds_only():
    for name, spec in _pyproject().items():
        assert "==" not in spec, f"{name} is pinned exactly ({spec}); use a lower bound"
        if name != "numpy":
            assert spec.startswith(">="), f"{name} needs a lower bound, got {spec!r}"


def test_ci_runs_make_test_only():
    script = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in script.splitlines() if line.strip() and not line.startswith("#")]
    assert "make test" in commands
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme


def test_the_wheel_carries_every_module_and_reference_but_no_weights(tmp_path):
    """An installed package, not the source tree, must hold everything the notebooks import or read:
    every module and every data file under helpers/ (reference figures, data checksums, the weights'
    MANIFEST.json), except the weight files, which helpers.registry downloads on first use: the wheel
    stays under 5 MB, and campaigns/ (training snapshots) is not in it."""
    import subprocess
    import zipfile

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "helpers").rglob("*.py")}
    data = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "helpers").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc", ".pt")
    }
    missing = sorted((sources | data) - names)
    assert not missing, f"the wheel lacks {missing[:10]}"
    assert "helpers/weights/MANIFEST.json" in names
    assert not [n for n in names if n.endswith(".pt") or n.startswith("campaigns/")]
    assert wheel.stat().st_size <= 5_000_000, f"{wheel.stat().st_size / 1e6:.1f} MB"
