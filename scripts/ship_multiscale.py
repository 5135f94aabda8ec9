"""Copy a trained multi-scale lossless checkpoint into helpers/weights (weights only) with its MANIFEST
entry (key ``lossless/multiscale``).

    python scripts/ship_multiscale.py runs/multiscale.pt --command "python -m helpers.recipes multiscale ..." \
        [--study helpers/reference/lossless_kodak.json] [--note "..."]

The entry records the architecture, data, steps, the command, sha256, size and, with --study, the Kodak
figures measured by scripts/lossless_study.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from helpers import multiscale, registry


def _training_seconds(history: list[dict]) -> float:
    """Wall time of a run resumed in segments: each resume restarts the logged clock at zero."""
    total, previous = 0.0, 0.0
    for row in history:
        if row["seconds"] < previous:
            total += previous
        previous = row["seconds"]
    return total + previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint")
    parser.add_argument("--command", required=True)
    parser.add_argument("--study")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    extra = state["extra"]
    build = {
        "name": extra["name"],
        "hidden": extra["hidden"],
        "blocks": extra["blocks"],
        "mixtures": extra["mixtures"],
    }
    model = multiscale.build_model(**build)
    model.load_state_dict(state["model"])  # refuse to ship a checkpoint the code cannot load
    history = state.get("history") or []
    figures = {}
    if args.study:
        study = json.loads(Path(args.study).read_text())
        figures = {
            "kodak_bits_per_subpixel": study["mean"].get("multiscale"),
            "kodak_round_trips": study.get("multiscale_round_trips_summary"),
        }
    found = registry.ship(
        {"model": state["model"], "step": state["step"], "extra": extra},
        "lossless-multiscale.pt",
        "lossless",
        extra["name"],
        None,
        build=build,
        parameters=sum(p.numel() for p in model.parameters()),
        data=extra["data"],
        crop_size=extra["crop_size"],
        batch_size=extra["batch_size"],
        lr=extra["lr"],
        lr_drop_at=extra.get("lr_drop_at"),
        steps=int(state["step"]),
        hours=round(_training_seconds(history) / 3600, 2) if history else None,
        last_training_bits=round(sum(h["loss"] for h in history[-20:]) / len(history[-20:]), 4)
        if history
        else None,
        command=args.command,
        note=args.note,
        **figures,
    )
    print(found["file"], found["bytes"], found["sha256"][:12])


if __name__ == "__main__":
    main()
