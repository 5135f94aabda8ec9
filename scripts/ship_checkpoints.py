"""Copy trained autoencoder checkpoints into helpers/weights (model weights only) with MANIFEST entries.

    python scripts/ship_checkpoints.py --evaluation helpers/reference/workbench_kodak.json \
        --command "bash scripts/train_autoencoders.sh mean" --note "..." runs/mean_0018.pt ...

Each entry (written by helpers.registry.ship) records the architecture, quality, λ, data, steps, the
training command, sha256, size and the Kodak figures measured by scripts/evaluate_autoencoders.py (real
bytes).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from helpers import autoencoder, registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--evaluation", required=True)
    parser.add_argument(
        "--command", required=True, help="the training command that reproduces them"
    )
    parser.add_argument("--note", default="", help="how the run really went (resumes, changes)")
    args = parser.parse_args()
    evaluation = {
        e["checkpoint"]: e for e in json.loads(Path(args.evaluation).read_text())["checkpoints"]
    }
    lambdas = {v: k for k, v in autoencoder.QUALITY_LAMBDAS.items()}
    for path in map(Path, args.checkpoints):
        state = torch.load(path, map_location="cpu", weights_only=False)
        extra = state["extra"]
        quality = lambdas[extra["lmbda"]]
        filename = f"{extra['name']}_q{quality}_N{extra['N']}_M{extra['M']}.pt"
        measured = evaluation[path.name]
        found = registry.ship(
            {"model": state["model"], "step": state["step"], "extra": extra},
            filename,
            "autoencoder",
            extra["name"],
            quality,
            build={"name": extra["name"], "N": extra["N"], "M": extra["M"]},
            lmbda=extra["lmbda"],
            N=extra["N"],
            M=extra["M"],
            data=extra["data"],
            crop_size=extra["crop_size"],
            batch_size=extra["batch_size"],
            lr=extra["lr"],
            lr_drop_at=extra.get("lr_drop_at"),
            init_from=extra.get("init_from"),
            steps=int(state["step"]),
            command=args.command,
            note=args.note,
            kodak_real_bytes=measured["mean"],
            kodak_max_rate_gap_vs_estimate=measured["max_rate_gap"],
            kodak_max_abs_decoded_vs_forward=measured["max_abs_vs_forward"],
        )
        print(filename, found["bytes"], measured["mean"])


if __name__ == "__main__":
    main()
