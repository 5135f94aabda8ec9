"""helpers/weights/MANIFEST.json must describe every checkpoint there, with the right sha256."""

import hashlib
import json
from pathlib import Path

WEIGHTS = Path(__file__).resolve().parents[1] / "helpers" / "weights"
REQUIRED = {"status", "architecture", "data", "steps", "command", "sha256", "bytes"}


def test_manifest_matches_the_files():
    files = sorted(p.name for p in WEIGHTS.glob("*.pt"))
    manifest_path = WEIGHTS / "MANIFEST.json"
    if not files:
        assert (
            not manifest_path.exists() or not json.loads(manifest_path.read_text())["checkpoints"]
        )
        return
    manifest = json.loads(manifest_path.read_text())["checkpoints"]
    assert sorted(manifest) == files
    for name, entry in manifest.items():
        assert REQUIRED <= set(entry), f"{name}: missing {REQUIRED - set(entry)}"
        payload = (WEIGHTS / name).read_bytes()
        assert hashlib.sha256(payload).hexdigest() == entry["sha256"], name
        assert len(payload) == entry["bytes"]
        assert len(payload) < 20_000_000, f"{name} is too large for the repository"
