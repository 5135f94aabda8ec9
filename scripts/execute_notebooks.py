"""Execute notebooks in place (full mode unless FAST is set) and scrub them for committing.

Usage: python scripts/execute_notebooks.py notebooks/*.ipynb [--scrub-only]

Scrubbing keeps the outputs (so the web shows every figure) and removes the noise: execution
counts, widget state, per-cell metadata other than tags, and widget views (they render nowhere
outside a live kernel; their text fallback is kept).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def scrub(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove execution counts, widget state and metadata noise; keep outputs."""
    kernelspec = notebook.metadata.get(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    notebook.metadata = nbformat.NotebookNode(
        kernelspec=kernelspec, language_info=nbformat.NotebookNode(name="python")
    )
    for index, cell in enumerate(notebook.cells):
        tags = cell.get("metadata", {}).get("tags")
        cell.metadata = nbformat.NotebookNode(tags=tags) if tags else nbformat.NotebookNode()
        cell["id"] = f"cell-{index:03d}"  # stable ids: no random churn in diffs
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        kept = []
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = None
            output.pop("metadata", None) if output.get("output_type") == "stream" else None
            data = output.get("data")
            if data is not None and WIDGET_MIME in data:
                # a widget's output: without the live kernel only its text repr ("VBox(...)") would be
                # left, which the book and any viewer would print; the static figure before it stays
                continue
            if output.get("output_type") in ("display_data", "execute_result"):
                output["metadata"] = {}
            kept.append(output)
        cell.outputs = kept
    notebook.nbformat_minor = max(notebook.get("nbformat_minor", 5), 5)
    return notebook


def execute(path: Path, timeout: int = 3600) -> float:
    """Run a notebook top to bottom in its folder; return the seconds it took."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    seconds = time.perf_counter() - started
    notebook = scrub(notebook)
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--scrub-only", action="store_true", help="scrub without executing")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if args.scrub_only:
            notebook = scrub(nbformat.read(path, as_version=4))
            nbformat.write(notebook, path)
            print(f"scrubbed {path}")
        else:
            print(f"executing {path} ...", flush=True)
            print(f"  done in {execute(path):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
