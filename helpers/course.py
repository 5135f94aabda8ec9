"""The notebooks' plumbing: the last line of every setup cell (``course.notebook_setup(origin)``).

Its own module because it reads both ``config`` and ``data`` (``config`` imports nothing of the
package, so nothing imports in a circle).
"""

from __future__ import annotations

import os

import torch

from . import config, data

__all__ = ["notebook_setup"]


def _data_source() -> str:
    """Where data sets come from, in words (no paths: notebook outputs never hold one)."""
    if os.environ.get("WORKBENCH_DATA", "").strip():
        return "data from WORKBENCH_DATA"
    if os.environ.get("WORKBENCH_DATA_URL", "").strip():
        return "data downloaded from the WORKBENCH_DATA_URL mirror into the cache"
    return "data downloaded on first use into the cache (checksummed)"


def notebook_setup(origin: str) -> None:
    """The end of every notebook's setup cell: print one line saying where ``helpers`` came from
    (``origin``), its version, torch, the device, FAST mode and where data comes from; and, inside
    IPython, show a missing data set as its message (how to get the data) instead of a traceback
    from deep inside the package. The cell still fails, so "Run all" stops there."""
    import platform

    from . import __version__

    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:

        def _show_data_error(shell, kind, error, traceback, tb_offset=None):
            print(f"{kind.__name__}: {error}")
            return None

        shell.set_custom_exc((data.DataUnavailableError,), _show_data_error)
    print(
        f"helpers {__version__} from {origin} · Python {platform.python_version()} · torch {torch.__version__} on {config.device().type} · "
        f"FAST {'on' if config.FAST else 'off'} · {_data_source()}"
    )
