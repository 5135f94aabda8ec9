"""Copy a trained loop-filter checkpoint into helpers/weights (weights only) with a MANIFEST entry.

    python scripts/ship_filter.py runs/filter-conditioned.pt --study helpers/reference/filter_study.json \
        --command "python -m helpers.filters ..." --note "..."

The entry records the architecture, sizes, data, steps, command, sha256, size and the Kodak gains
measured by scripts/filter_study.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import torch

from helpers import filters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint")
    parser.add_argument("--study", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    extra = state["extra"]
    model = filters.build_model(extra["name"], **extra.get("sizes", {}))
    model.load_state_dict(state["model"])  # refuse to ship a checkpoint the code cannot load
    name = f"filter-{extra['name']}.pt"
    target = filters.WEIGHTS / name
    torch.save({"model": state["model"], "step": state["step"], "extra": extra}, target)
    payload = target.read_bytes()
    study = json.loads(Path(args.study).read_text())
    kodak = {
        quality: {
            "bpp": round(row["bpp"], 4),
            **{
                f"{kind}_{metric}": round(row[kind][metric], 3)
                for kind in ("jpeg", "deblock", "learned")
                for metric in ("psnr_y", "psnr_b")
            },
            "learned_gain_y_db": round(row["learned"]["psnr_y"] - row["jpeg"]["psnr_y"], 3),
        }
        for quality, row in study["kodak"].items()
    }
    manifest_path = filters.WEIGHTS / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["checkpoints"][name] = {
        "status": "shipped",
        "architecture": f"filter-{extra['name']}",
        "parameters": sum(p.numel() for p in model.parameters()),
        "sizes": extra.get("sizes") or filters.ARCHITECTURES[extra["name"]][1],
        "data": extra["data"],
        "qualities": extra["qualities"],
        "crop_size": extra["crop_size"],
        "batch_size": extra["batch_size"],
        "lr": extra["lr"],
        "lr_drop_at": extra.get("lr_drop_at"),
        "steps": int(state["step"]),
        "command": args.command,
        "note": args.note,
        "kodak_chapter1_jpeg_420": kodak,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "bytes": len(payload),
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(name, len(payload), json.dumps(kodak, indent=1))


if __name__ == "__main__":
    main()
