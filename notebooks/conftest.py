"""nbval glue: stored notebooks are scrubbed of execution counts (clean diffs), but nbval treats a
cell with outputs and no execution count as "unrun" and fails it. Number the code cells as they
are read, for nbval only; the files on disk stay scrubbed."""

from __future__ import annotations

import os
import types
from pathlib import Path

import nbformat
import nbval.plugin

os.environ.setdefault("FAST", "1")
# as in tests/conftest.py: CI reads the course's shared data folder when it is there (no downloads)
SHARED_DATA = (Path(__file__).resolve().parents[2] / "shared" / "data").resolve()
if SHARED_DATA.is_dir() and not os.environ.get("WORKBENCH_DATA"):
    os.environ["WORKBENCH_DATA"] = str(SHARED_DATA)


class _NumberedNbformat(types.ModuleType):
    """nbformat, except that ``read`` numbers the code cells that have outputs."""

    def __getattr__(self, name):
        return getattr(nbformat, name)

    @staticmethod
    def read(*args, **kwargs):
        notebook = nbformat.read(*args, **kwargs)
        code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        for number, cell in enumerate(code_cells, start=1):
            if cell.get("execution_count") is None and cell.get("outputs"):
                cell.execution_count = number
        return notebook


nbval.plugin.nbformat = _NumberedNbformat("nbformat")


# A notebook that needs a data set which is neither here nor downloadable is skipped with the reason
# (data.notebook_missing_data, which the browser tests use too); chapters 0-2 fall back to scikit-image's
# photos.


def pytest_collection_modifyitems(config, items):
    import pytest

    reasons: dict[Path, str | None] = {}
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix != ".ipynb":
            continue
        if path not in reasons:
            from helpers import data

            reasons[path] = data.notebook_missing_data(path)
        if reasons[path]:
            item.add_marker(pytest.mark.skip(reason=reasons[path]))
