"""Commit an unfinished training run as a resumable snapshot (weights only, MANIFEST status "training").

    python scripts/snapshot_training.py RUN.pt --name mbt2018-mean --quality 3 --command "..." --note "..."

A long run outlives a session: its weights go to helpers/weights/<name>_q<q>_training.pt with a MANIFEST
entry that ``registry.shipped`` does not list (status "training"); the next session resumes with
``--init-from`` that file. The optimizer state is dropped (it would triple the file), so the resumed run
restarts Adam's moments: record that in the note.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import autoencoder, registry  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run")
    parser.add_argument("--name", required=True)
    parser.add_argument("--quality", type=int, required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    state = torch.load(args.run, map_location="cpu", weights_only=False)
    extra = state.get("extra", {})
    model = autoencoder.build_model(args.name, extra.get("N"), extra.get("M"))
    model.load_state_dict(state["model"])  # refuse a snapshot the code cannot load
    history = state.get("history") or []
    last = history[-1] if history else {}
    filename = f"{args.name}_q{args.quality}_training.pt"
    target = ROOT / "helpers" / "weights" / filename
    torch.save({"model": state["model"], "step": state["step"], "extra": extra}, target)
    payload = target.read_bytes()
    path = ROOT / "helpers" / "weights" / "MANIFEST.json"
    manifest = json.loads(path.read_text())
    manifest["models"][registry.key("autoencoder", args.name + "-training", args.quality)] = {
        "file": filename,
        "family": "autoencoder",
        "name": args.name + "-training",
        "quality": args.quality,
        "build": {"name": args.name, "N": extra.get("N"), "M": extra.get("M")},
        "status": "training",
        "data": extra.get("data"),
        "steps": state["step"],
        "lmbda": extra.get("lmbda"),
        "lr": extra.get("lr"),
        "lr_drop_at": extra.get("lr_drop_at"),
        "init_from": extra.get("init_from"),
        "last_logged": last,
        "command": args.command,
        "note": args.note,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "bytes": len(payload),
    }
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(filename, state["step"], "steps", len(payload), "bytes", last)


if __name__ == "__main__":
    main()
