"""The notebooks' plumbing: the last line of every setup cell (``course.notebook_setup(origin)``), and
``fingerprint``, with which a graded question checks that its given inputs were not changed.

Its own module because it reads both ``config`` and ``data`` (``config`` imports nothing of the
package, so nothing imports in a circle).
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import torch

from . import config, data

__all__ = ["notebook_setup", "fingerprint"]


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


def fingerprint(*values) -> str:
    """A SHA-256 of values by content: arrays and tensors by dtype, shape and bytes, a torch module by its
    state dict, dicts, lists and tuples item by item, other objects by their attributes (or ``repr``).
    The graded exercises store it after the given code and compare it in their hidden tests, so a changed
    input (a photo, a model's weights, a setting) is caught rather than graded against.

    >>> fingerprint(np.zeros(3)) == fingerprint(np.zeros(3)) != fingerprint(np.ones(3))
    True
    """
    digest = hashlib.sha256()
    seen: set[int] = set()

    def feed(value) -> None:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        if isinstance(value, np.ndarray):
            digest.update(f"array {value.dtype} {value.shape};".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(
            value, torch.nn.Module
        ):  # by value: .double() or .to(device) change nothing
            digest.update(f"module {type(value).__name__};".encode())
            feed(
                {
                    k: v.double() if v.is_floating_point() else v
                    for k, v in value.state_dict().items()
                }
            )
        elif isinstance(value, dict):
            digest.update(f"dict {len(value)};".encode())
            for key in sorted(value, key=repr):
                feed(key)
                feed(value[key])
        elif isinstance(value, (list, tuple)):
            digest.update(f"{type(value).__name__} {len(value)};".encode())
            for item in value:
                feed(item)
        elif isinstance(value, (str, bytes, int, float, complex, bool, type(None), np.generic)):
            digest.update(f"{type(value).__name__} {value!r};".encode())
        elif id(value) in seen or callable(value) or not hasattr(value, "__dict__"):
            digest.update(f"{type(value).__name__};".encode())  # functions, cycles, opaque objects
        else:
            seen.add(id(value))
            digest.update(f"object {type(value).__name__};".encode())
            feed({k: v for k, v in vars(value).items() if not k.startswith("_")})

    for value in values:
        feed(value)
    return digest.hexdigest()
