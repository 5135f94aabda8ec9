"""Run-time configuration: FAST mode, the torch device, seeds, data and cache directories."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "machine",
    "FAST",
    "is_fast",
    "device",
    "seed_everything",
    "data_dir",
    "cache_dir",
    "set_num_threads",
]

_TRUE = {"1", "true", "yes", "on"}


def is_fast(environ: dict | None = None) -> bool:
    """Return True when FAST=1 (or true/yes/on) or CI is set to a non-empty, non-false value."""
    env = os.environ if environ is None else environ
    if env.get("FAST", "").strip().lower() in _TRUE:
        return True
    if env.get("FAST", "").strip().lower() in {"0", "false", "no", "off"}:
        return False
    ci = env.get("CI", "").strip().lower()
    return ci not in {"", "0", "false", "no", "off"}


#: Read once at import; notebooks read ``config.FAST`` so every costly knob goes through one flag.
FAST: bool = is_fast()


def device(name: str | None = None) -> torch.device:
    """Return the torch device to use: WORKBENCH_DEVICE if set, else cuda, then mps, then cpu."""
    requested = name if name is not None else os.environ.get("WORKBENCH_DEVICE", "").strip()
    if requested:
        try:
            dev = torch.device(requested)
        except (RuntimeError, ValueError) as error:
            raise ValueError(
                f"device: {requested!r} is not a torch device name (try 'cpu', 'cuda', 'cuda:0', 'mps')"
            ) from error
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device: {requested!r} was requested but CUDA is not available here")
        if dev.type == "mps" and not _mps_available():
            raise ValueError(f"device: {requested!r} was requested but MPS is not available here")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and torch (all devices) so a notebook or test is repeatable; return the seed."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed_everything: seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed


def set_num_threads(num_threads: int | None = None) -> int:
    """Set torch's intra-op threads (default: OMP_NUM_THREADS, else the CPU count); return it.

    An oversubscribed torch step on a shared 2-core machine was measured 25x slower, so the
    Makefile exports OMP_NUM_THREADS and training scripts call this explicitly.
    """
    if num_threads is None:
        num_threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or (os.cpu_count() or 1)
    if not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(
            f"set_num_threads: num_threads must be a positive int, got {num_threads!r}"
        )
    torch.set_num_threads(num_threads)
    return num_threads


def cache_dir() -> Path:
    """Return the workbench cache directory (WORKBENCH_CACHE, else ~/.cache/neural-compression-workbench)."""
    root = os.environ.get("WORKBENCH_CACHE", "").strip()
    path = (
        Path(root).expanduser() if root else Path.home() / ".cache" / "neural-compression-workbench"
    )
    return path


def data_dir() -> Path:
    """Return where data sets live: WORKBENCH_DATA if set, else <cache_dir()>/data."""
    root = os.environ.get("WORKBENCH_DATA", "").strip()
    return Path(root).expanduser() if root else cache_dir() / "data"


def machine() -> str:
    """The processor and thread count timings ran with, for printing beside them ("on ...")."""
    import platform

    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    device_name = device()
    if device_name.type == "cuda":
        name += f", {torch.cuda.get_device_name(device_name)}"
    return f"{name}, {torch.get_num_threads()} thread(s)"
