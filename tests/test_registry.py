"""helpers.registry: MANIFEST.json describes every shipped checkpoint; loads check sha256."""

import hashlib
import inspect
import json
from pathlib import Path

import pytest
import torch

from helpers import (
    autoencoder,
    compressed_domain,
    filters,
    machine_coding,
    multiscale,
    pixelcnn,
    registry,
)

WEIGHTS = Path(__file__).resolve().parents[1] / "helpers" / "weights"
REQUIRED = {
    "file",
    "family",
    "name",
    "quality",
    "build",
    "status",
    "data",
    "steps",
    "command",
    "sha256",
    "bytes",
}


def test_manifest_matches_the_files():
    models = json.loads((WEIGHTS / "MANIFEST.json").read_text())["models"]
    assert sorted(e["file"] for e in models.values()) == sorted(
        p.name for p in WEIGHTS.glob("*.pt")
    )
    for key, entry in models.items():
        assert REQUIRED <= set(entry), f"{key}: missing {REQUIRED - set(entry)}"
        assert key == registry.key(entry["family"], entry["name"], entry["quality"])
        payload = (WEIGHTS / entry["file"]).read_bytes()
        assert hashlib.sha256(payload).hexdigest() == entry["sha256"], key
        assert len(payload) == entry["bytes"] and len(payload) < 20_000_000
        state = torch.load(WEIGHTS / entry["file"], map_location="cpu", weights_only=True)
        assert "model" in state  # tensors and plain data only


def test_every_chapter_loads_with_one_signature():
    for module in (autoencoder, pixelcnn, multiscale, filters, compressed_domain, machine_coding):
        parameters = inspect.signature(module.load_pretrained).parameters
        assert list(parameters) == ["name", "quality"], module.__name__
        assert parameters["name"].default is inspect.Parameter.empty
        assert parameters["quality"].default is None
    assert registry.shipped("pixelcnn") == ["pixelcnn/gated"]
    assert "autoencoder/bmshj2018-hyperprior/q3" in registry.shipped()
    assert isinstance(pixelcnn.load_pretrained("gated"), pixelcnn.GatedPixelCNN)
    assert not filters.load_pretrained("conditioned").training
    with pytest.raises(registry.WeightsError, match="shipped"):
        registry.entry("pixelcnn", "resnet")
    with pytest.raises(ValueError, match="quality"):
        pixelcnn.load_pretrained("gated", 3)


def test_a_damaged_checkpoint_is_refused(tmp_path, monkeypatch):
    entry = registry.entry("filters", "conditioned")
    damaged = bytearray((WEIGHTS / entry["file"]).read_bytes())
    damaged[1000] ^= 1
    (tmp_path / entry["file"]).write_bytes(bytes(damaged))
    (tmp_path / "MANIFEST.json").write_text((WEIGHTS / "MANIFEST.json").read_text())
    monkeypatch.setattr(registry, "_weights_dir", lambda: tmp_path)
    registry.manifest.cache_clear()
    try:
        with pytest.raises(registry.WeightsError, match="damaged"):
            filters.load_pretrained("conditioned")
    finally:
        registry.manifest.cache_clear()


def test_ship_writes_the_file_and_its_checked_entry(tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "weights"
    folder.mkdir()
    shutil.copy(registry._weights_dir() / "MANIFEST.json", folder / "MANIFEST.json")
    monkeypatch.setattr(registry, "_weights_dir", lambda: folder)
    registry.manifest.cache_clear()
    try:
        found = registry.ship(
            {"model": {"w": torch.ones(2)}},
            "toy.pt",
            "toy",
            "one",
            build={},
            data="none",
            steps=1,
            command="test",
        )
        assert found["status"] == "shipped" and found["bytes"] == (folder / "toy.pt").stat().st_size
        assert registry.shipped("toy") == ["toy/one"]
        assert torch.equal(
            torch.load(registry.weights_path("toy", "one"))["model"]["w"], torch.ones(2)
        )
    finally:
        registry.manifest.cache_clear()


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The installed package's view: a weights folder with MANIFEST.json only, an empty cache."""
    folder = tmp_path / "package-weights"
    folder.mkdir()
    (folder / "MANIFEST.json").write_text((WEIGHTS / "MANIFEST.json").read_text())
    monkeypatch.setattr(registry, "_weights_dir", lambda: folder)
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    registry.manifest.cache_clear()
    yield tmp_path
    registry.manifest.cache_clear()


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP mirror of a folder (tmp_path / "mirror"), as a class server would be."""
    import functools
    import http.server
    import threading

    folder = tmp_path / "mirror"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_an_installed_package_downloads_its_weights_once(installed, mirror, monkeypatch):
    folder, url = mirror
    entry = registry.entry("filters", "conditioned")
    (folder / entry["file"]).write_bytes((WEIGHTS / entry["file"]).read_bytes())
    monkeypatch.setenv("WORKBENCH_WEIGHTS_URL", url)
    path = registry.weights_path("filters", "conditioned")
    assert path == installed / "cache" / "weights" / entry["file"]
    assert not filters.load_pretrained("conditioned").training
    (folder / entry["file"]).unlink()  # the second load reads the cache, not the mirror
    assert registry.weights_path("filters", "conditioned") == path


def test_a_wrong_download_is_refused_and_not_kept(installed, mirror, monkeypatch):
    folder, url = mirror
    entry = registry.entry("filters", "conditioned")
    (folder / entry["file"]).write_bytes(b"not the weights")
    monkeypatch.setenv("WORKBENCH_WEIGHTS_URL", url)
    with pytest.raises(registry.WeightsError, match="does not match MANIFEST.json"):
        registry.weights_path("filters", "conditioned")
    assert not (installed / "cache" / "weights" / entry["file"]).exists()


def test_offline_without_the_weights_the_error_names_the_fix(installed, monkeypatch):
    import socket

    with socket.socket() as handle:
        handle.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{handle.getsockname()[1]}/"
    monkeypatch.setenv("WORKBENCH_WEIGHTS_URL", dead)
    with pytest.raises(registry.WeightsError) as caught:
        pixelcnn.load_pretrained("gated")
    message = str(caught.value)
    assert "could not be downloaded" in message and "WORKBENCH_WEIGHTS_URL" in message
    assert "pip install -e ." in message


def test_the_default_source_is_the_course_repository(monkeypatch):
    import sys

    sys.path.insert(0, str(WEIGHTS.parents[1] / "scripts"))
    import sync_course

    monkeypatch.delenv("WORKBENCH_WEIGHTS_URL", raising=False)
    assert registry.weights_url() == sync_course.weights_source()
