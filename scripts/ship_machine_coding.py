"""Copy chapter 9's trained checkpoints into helpers/weights with MANIFEST entries.

    python scripts/ship_machine_coding.py --runs runs/ch9 [--study helpers/reference/machine_coding_study.json]

NPPs ship whole (about 0.5 MB); the learned proxies ship in float16 without their entropy coder's
tables (rebuilt on load); "diffjpeg" is the rate model fitted by the NPP's recipe. Each entry records
the command, data, steps and the last training metrics.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from helpers import machine_coding as mc
from helpers import registry

COMMAND = "bash scripts/train_machine_coding.sh runs/ch9"
DATA = (
    "chapter 8's distillation set: 4,800 224 x 224 crops of BSDS500 train+val and the "
    "even-numbered ImageNet sample photos, with EfficientNet-Lite0's logits"
)
FILES = {
    "npp-jpeg": "npp_jpeg.pt",
    "npp-jpeg-learned": "npp_jpeg_learned.pt",
    "npp-jpeg-q20": "npp_jpeg_q20.pt",
    "npp-jpeg-q50": "npp_jpeg_q50.pt",
    "npp-heif": "npp_heif.pt",
    "proxy-jpeg": "proxy_jpeg.pt",
    "proxy-heif": "proxy_heif.pt",
}


def _summary(records: list[dict], last: int = 20) -> dict:
    tail = records[-last:]
    keys = sorted({k for r in tail for k in r} - {"step", "seconds"})
    out = {"last_steps": [tail[0]["step"], tail[-1]["step"]], "seconds": round(tail[-1]["seconds"])}
    for k in keys:
        values = [r[k] for r in tail if k in r]
        out[k] = round(sum(values) / len(values), 5)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", required=True)
    parser.add_argument("--only", nargs="*", help="ship only these names")
    args = parser.parse_args()
    runs = Path(args.runs)
    for name, file in FILES.items():
        if args.only and name not in args.only:
            continue
        state = torch.load(runs / file, map_location="cpu", weights_only=True)
        extra = state["extra"]
        if name.startswith("npp"):
            npp = mc.load_npp(runs / file)  # refuse a checkpoint the code cannot load
            build = {
                "codec": npp.codec,
                "width": npp.width,
                "adaptive": npp.adaptive,
                "quality": npp.quality,
            }
            payload = {"model": state["model"], "step": state["step"], "extra": extra}
        else:
            mc.load_proxy(runs / file)
            tables = ("_offset", "_quantized_cdf", "_cdf_length", "scale_table")
            weights = {
                k: (v.half() if v.is_floating_point() else v)
                for k, v in state["model"].items()
                if not k.endswith(tables)
            }
            build = {"codec": extra["codec"], "qualities": extra["qualities"]}
            payload = {"model": weights, "step": state["step"], "extra": extra}
        entry = {
            "build": build,
            "data": DATA,
            "extra": {k: v for k, v in extra.items() if k not in ("rate_model",)},
            "training": _summary(state["history"]),
        }
        targets = [(name, payload, entry, state["step"])]
        if name == "npp-jpeg":  # the rate model the differentiable JPEG was fitted with
            rate = {"model": extra["rate_model"], "fit": extra["rate_fit"]}
            targets.append(
                (
                    "diffjpeg",
                    rate,
                    {
                        "build": {},
                        "fit": extra["rate_fit"],
                        "data": "96 of the crops above, Pillow JPEG 4:2:0 at 7 qualities",
                    },
                    0,
                )
            )
        for target_name, content, info, steps in targets:
            # a per-quality NPP ships under its family name with the quality in the key
            # (machine_coding/npp-jpeg/q20); its file keeps the old name
            base, _, quality = target_name.partition("-q")
            per_quality = quality.isdigit()
            found = registry.ship(
                content,
                f"machine-coding-{target_name}.pt",
                "machine_coding",
                base if per_quality else target_name,
                int(quality) if per_quality else None,
                **info,
                steps=int(steps),
                command=COMMAND,
            )
            print(target_name, found["bytes"], "bytes")


if __name__ == "__main__":
    main()
