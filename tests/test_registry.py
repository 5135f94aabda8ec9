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
REQUIRED = {"file", "family", "name", "quality", "build", "status", "data", "steps", "command",
            "sha256", "bytes"}  # fmt: skip


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
        found = registry.ship({"model": {"w": torch.ones(2)}}, "toy.pt", "toy", "one", build={},
                              data="none", steps=1, command="test")  # fmt: skip
        assert found["status"] == "shipped" and found["bytes"] == (folder / "toy.pt").stat().st_size
        assert registry.shipped("toy") == ["toy/one"]
        assert torch.equal(
            torch.load(registry.weights_path("toy", "one"))["model"]["w"], torch.ones(2)
        )
    finally:
        registry.manifest.cache_clear()
