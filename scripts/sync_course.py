"""Write the one course setting (pyproject.toml's [tool.workbench]) into everything that names it.

Usage: python scripts/sync_course.py [--check]

The setting is where the course package is published (``repository``, ``branch``). From it come:
- the setup cell of every chapter notebook and every assignment notebook (the first code cell, tagged
  ``setup``): it imports the repository's own ``helpers`` in a clone, the installed package elsewhere,
  and on a hosted service with nothing installed it pip-installs the course package from the
  repository (or from ``WORKBENCH_PACKAGE``, e.g. a wheel) and says which in one line;
- the launch badges of the README's chapter table (between ``<!-- launch:begin -->`` and
  ``<!-- launch:end -->``);
- ``source`` in helpers/weights/MANIFEST.json: where an installed package downloads its weight files
  (the repository's raw ``helpers/weights`` on that branch; helpers.registry).
``--check`` changes nothing and exits 1 if any of them is out of date (tests/test_course.py runs it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SETUP_TAG = "setup"
#: the setup cell's tags: "hide-input" folds it away in the book (myst-nb)
SETUP_TAGS = [SETUP_TAG, "hide-input"]

SETUP_TEMPLATE = """\
# Setup: the course package, wherever this notebook runs (written by scripts/sync_course.py)
import importlib
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = "{package}"
if (Path.cwd().parent / "helpers" / "__init__.py").is_file():  # a clone of the repository
    sys.path.insert(0, str(Path.cwd().parent))
    origin = "the repository"
else:
    try:  # pip-installed: a JupyterHub image, a virtual environment
        importlib.metadata.version("neural-compression-workbench")
        origin = "the installed package"
    except importlib.metadata.PackageNotFoundError:  # a hosted service with nothing installed
        if not (3, {low}) <= sys.version_info[:2] <= (3, {high}):  # no wheels there: pip would compile
            raise RuntimeError(f"the course needs Python 3.{low}-3.{high}; this kernel runs "
                               f"{{sys.version.split()[0]}}: pick a 3.{low}-3.{high} runtime or kernel") from None
        source = os.environ.get("WORKBENCH_PACKAGE", PACKAGE)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
        importlib.invalidate_caches()
        origin = "a fresh install"
from helpers import course

course.notebook_setup(origin)"""


def settings() -> dict:
    """The [tool.workbench] table of pyproject.toml, with the derived package spec."""
    table = dict(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["workbench"])
    repository = table["repository"].rstrip("/")
    match = re.match(r"^https://github\.com/([^/]+)/([^/]+)$", repository)
    if not match:
        raise ValueError(
            f"[tool.workbench] repository must be https://github.com/OWNER/NAME, got {repository!r}"
        )
    table["owner"], table["name"] = match.groups()
    table["package"] = f"neural-compression-workbench @ git+{repository}@{table['branch']}"
    return table


def setup_source(config: dict | None = None) -> str:
    """The setup cell's code."""
    low, high = python_range()
    return SETUP_TEMPLATE.format(package=(config or settings())["package"], low=low, high=high)


def python_range() -> tuple[int, int]:
    """(lowest, highest) supported minor version of Python 3, from pyproject.toml's requires-python."""
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low = int(re.search(r">=\s*3\.(\d+)", spec).group(1))
    below = int(re.search(r"<\s*3\.(\d+)", spec).group(1))
    return low, below - 1


def launch_url(notebook: str, config: dict | None = None) -> str:
    """A hosted-notebook (Colab) link that opens ``notebook`` (a path inside the repository)."""
    config = config or settings()
    return (
        f"https://colab.research.google.com/github/{config['owner']}/{config['name']}/blob/"
        f"{config['branch']}/{notebook}"
    )


def weights_source(config: dict | None = None) -> str:
    """The raw-file URL of the repository's helpers/weights folder on the course branch."""
    config = config or settings()
    return (
        f"https://raw.githubusercontent.com/{config['owner']}/{config['name']}/"
        f"{config['branch']}/helpers/weights/"
    )


BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def with_setup_cell(notebook: nbformat.NotebookNode, source: str) -> bool:
    """Put the setup cell first among the code cells (replacing an old one); True if it changed."""
    cells = notebook.cells
    current = [i for i, c in enumerate(cells) if SETUP_TAG in c.get("metadata", {}).get("tags", [])]
    if current:
        cell = cells[current[0]]
        if cell.source == source and cell.metadata.get("tags") == SETUP_TAGS:
            return False
        if cell.source != source:
            cell.source = source
            cell.outputs = []
        cell.metadata["tags"] = list(SETUP_TAGS)
        return True
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(SETUP_TAGS)})
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    cells.insert(first_code, cell)
    for index, each in enumerate(cells):
        each["id"] = f"cell-{index:03d}"
    return True


def badge_table(config: dict | None = None) -> str:
    config = config or settings()
    rows = ["| # | open on a hosted service |", "|---|---|"]
    for path in chapter_notebooks():
        relative = path.relative_to(ROOT).as_posix()
        rows.append(
            f"| {path.stem[:2].lstrip('0') or '0'} | [![Open In Colab]({BADGE})]"
            f"({launch_url(relative, config)}) `{path.name}` |"
        )
    return "\n".join(rows)


def sync_readme(text: str, config: dict | None = None) -> str:
    begin, end = "<!-- launch:begin -->", "<!-- launch:end -->"
    if begin not in text or end not in text:
        raise ValueError("README.md lacks the <!-- launch:begin --> / <!-- launch:end --> markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{badge_table(config)}\n{end}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    config = settings()
    source = setup_source(config)
    stale = []
    for path in chapter_notebooks():
        notebook = nbformat.read(path, as_version=4)
        if with_setup_cell(notebook, source):
            stale.append(path)
            if not args.check:
                nbformat.write(notebook, path)
    manifest_path = ROOT / "helpers" / "weights" / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("source") != weights_source(config):
        stale.append(manifest_path)
        if not args.check:
            manifest["source"] = weights_source(config)
            manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    readme = ROOT / "README.md"
    text = readme.read_text()
    synced = sync_readme(text, config)
    if synced != text:
        stale.append(readme)
        if not args.check:
            readme.write_text(synced)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
