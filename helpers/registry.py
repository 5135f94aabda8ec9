"""The one reader of the shipped models: ``weights/MANIFEST.json`` -> sha256 check -> built model.

Where a weight file comes from: a clone of the repository has every file in ``helpers/weights``; the
installed package (the wheel) carries only MANIFEST.json, and a file is downloaded once, on first use,
into ``<cache>/weights`` (``config.cache_dir()``), checked against the manifest's sha256. The source is
``WORKBENCH_WEIGHTS_URL`` when set (a class server or ``python -m http.server`` in a clone's
helpers/weights), else the course repository's raw files (MANIFEST.json's ``source``, written by
scripts/sync_course.py from pyproject.toml's ``[tool.workbench]``).

Every entry of the manifest is keyed ``family/name`` or ``family/name/qN`` (for example
``autoencoder/bmshj2018-hyperprior/q3``, ``pixelcnn/gated``, ``filters/conditioned``) and records its
file, sha256, the architecture's keyword arguments (``build``), the data, the command and the figures it
reached. Each chapter's ``load_pretrained(name, quality=None)`` calls ``load`` with its own builder.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path

import torch

from . import config

__all__ = [
    "LOADERS",
    "WeightsError",
    "key",
    "manifest",
    "shipped",
    "entry",
    "weights_url",
    "weights_path",
    "load",
    "ship",
]


#: each MANIFEST family and the module whose ``load_pretrained(name, quality=None)`` loads it
LOADERS = {
    "autoencoder": "helpers.autoencoder",
    "pixelcnn": "helpers.pixelcnn",
    "lossless": "helpers.multiscale",
    "filters": "helpers.filters",
    "compressed_domain": "helpers.compressed_domain",
    "machine_coding": "helpers.machine_coding",
    "video": "helpers.video",
}


class WeightsError(FileNotFoundError):
    """A model that is not shipped, or a shipped file that is missing or damaged."""


def key(family: str, name: str, quality: int | None = None) -> str:
    """The manifest key of a model: ``family/name`` or ``family/name/qN``."""
    return f"{family}/{name}" if quality is None else f"{family}/{name}/q{int(quality)}"


def _weights_dir() -> Path:
    return Path(str(resources.files("helpers") / "weights"))


@cache
def manifest() -> dict:
    """The parsed MANIFEST.json (cached; it ships with the package)."""
    return json.loads((_weights_dir() / "MANIFEST.json").read_text())


def shipped(family: str | None = None) -> list[str]:
    """The keys of every shipped model (of one family), sorted: what ``load_pretrained`` can load."""
    models = manifest()["models"]
    return sorted(
        k
        for k, e in models.items()
        if e.get("status") == "shipped" and (family is None or e["family"] == family)
    )


def entry(family: str, name: str, quality: int | None = None) -> dict:
    """The manifest entry of a shipped model; WeightsError lists what is shipped otherwise."""
    wanted = key(family, name, quality)
    found = manifest()["models"].get(wanted)
    if found is None or found.get("status") != "shipped":
        raise WeightsError(
            f"no shipped model {wanted!r}; shipped {family} models: {shipped(family)}"
        )
    return found


def weights_url() -> str:
    """Where missing weight files are downloaded from (ends with "/"): WORKBENCH_WEIGHTS_URL, else the
    course repository's raw ``helpers/weights`` (MANIFEST.json's ``source``)."""
    mirror = os.environ.get("WORKBENCH_WEIGHTS_URL", "").strip()
    return (mirror or manifest()["source"]).rstrip("/") + "/"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def weights_path(family: str, name: str, quality: int | None = None) -> Path:
    """The checkpoint file of a shipped model, after checking its sha256 against the manifest: the
    clone's own file, else the cached download (fetched now when missing)."""
    from . import data

    found = entry(family, name, quality)
    local = _weights_dir() / found["file"]
    if local.is_file():
        digest = _sha256(local)
        if digest != found["sha256"]:
            raise WeightsError(
                f"{local.name} is damaged: sha256 {digest[:12]}... differs from the manifest's "
                f"{found['sha256'][:12]}... (restore it: git checkout {local.name})"
            )
        return local
    cached = config.cache_dir() / "weights" / found["file"]
    url = weights_url() + found["file"]
    try:
        return data.fetch(url, cached, found["sha256"], timeout=60.0)
    except data.ChecksumError as error:
        raise WeightsError(
            f"{found['file']} ({key(family, name, quality)}) does not match MANIFEST.json: {error}. "
            f"Delete {cached} to download it again; a mirror must serve this package version's files."
        ) from error
    except data.DataUnavailableError as error:
        raise WeightsError(
            f"{found['file']} ({key(family, name, quality)}, {found.get('bytes', 0) / 1e6:.1f} MB) is not "
            f"in this installation and could not be downloaded from {url}. The package ships without "
            "its weights; fix: connect to the network once (the file is cached in "
            f"{cached.parent}), or set WORKBENCH_WEIGHTS_URL to a mirror of a clone's helpers/weights "
            "(e.g. `python -m http.server` there), or work in a clone of the repository "
            f"(pip install -e .). ({str(error).splitlines()[0][:200]})"
        ) from error


def load(
    family: str, name: str, quality: int | None, build: Callable[..., torch.nn.Module]
) -> torch.nn.Module:
    """Build ``build(**entry['build'])``, load the checked weights, return it in eval mode on
    ``config.device()``. The file holds tensors and plain data only (``weights_only=True``)."""
    path = weights_path(family, name, quality)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = build(**entry(family, name, quality)["build"])
    model.load_state_dict(state["model"])
    return model.eval().to(config.device())


def ship(
    payload: dict, filename: str, family: str, name: str, quality: int | None = None, **info
) -> dict:
    """Save ``payload`` (tensors and plain data, the state under "model") as helpers/weights/
    ``filename`` and write its MANIFEST.json entry: ``info`` (build, data, steps, command, figures...)
    plus the file, key fields, status, sha256 and size. The ship_* scripts' one writer."""
    target = _weights_dir() / filename
    torch.save(payload, target)
    data = target.read_bytes()
    path = _weights_dir() / "MANIFEST.json"
    current = json.loads(path.read_text())
    found = {
        "file": filename,
        "family": family,
        "name": name,
        "quality": quality,
        **info,
        "status": "shipped",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    current["models"][key(family, name, quality)] = found
    path.write_text(json.dumps(current, indent=1) + "\n")
    manifest.cache_clear()
    return found
