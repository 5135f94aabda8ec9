"""Ship the integer decoders of chapter 4's hyperpriors (issue: files that decode on another machine).

    WORKBENCH_DATA=../shared/data python scripts/ship_integer.py [--name bmshj2018-hyperprior]

For every quality of a shipped (mean-)scale hyperprior: the entropy coder's tables as this machine
computes them (``autoencoder.integer_tables``) and the fraction bits of every tensor of h_s and g_s
(``fixedpoint.fraction_plan`` on eight BSDS500 training photos, 4 bits of headroom, at most 16 bits),
saved as helpers/weights/<name>-int_qN.pt with a MANIFEST entry ``autoencoder/<name>-int/qN``. The
integer weights are not stored: ``fixedpoint.convert`` derives them exactly from the float checkpoint
on every machine. No training: the conversion alone costs under 0.1 % of rate (benchmarks/bench_integer.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import autoencoder, data, fixedpoint, images, registry  # noqa: E402

WEIGHT_FRACTION = 14


def plan(model, pictures) -> tuple[list[int], list[int]]:
    """The smallest fraction bits over the calibration photos, per tensor of h_s and of g_s."""
    h_plans, g_plans = [], []
    for picture in pictures:
        x, _ = images.pad_to_multiple(images.to_tensor(picture), 64)
        with torch.no_grad():
            y = model.g_a(x)
            kind = autoencoder.model_kind(model)
            z = model.h_a(torch.abs(y) if kind == "hyperprior" else y)
            z_hat = model.entropy_bottleneck.decompress(
                model.entropy_bottleneck.compress(z), z.shape[-2:]
            )
        h_plans.append(fixedpoint.fraction_plan(model.h_s, z_hat, weight_fraction=WEIGHT_FRACTION))
        g_plans.append(
            fixedpoint.fraction_plan(model.g_s, torch.round(y), weight_fraction=WEIGHT_FRACTION)
        )
    return [int(v) for v in np.min(h_plans, 0)], [int(v) for v in np.min(g_plans, 0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", default="bmshj2018-hyperprior")
    args = parser.parse_args()
    pictures = [images.load_image(p) for p in data.bsds500("train")[:8]]
    for quality in (1, 2, 3, 4):
        model = autoencoder.load_pretrained(args.name, quality)
        h_fractions, g_fractions = plan(model, pictures)
        tables = autoencoder.integer_tables(model)
        base = registry.entry("autoencoder", args.name, quality)
        found = registry.ship(
            {"model": {}, "tables": tables},
            f"{args.name}-int_q{quality}.pt",
            "autoencoder",
            f"{args.name}-int",
            quality,
            build=base["build"],
            base=registry.key("autoencoder", args.name, quality),
            h_s_fractions=h_fractions,
            g_s_fractions=g_fractions,
            weight_fraction=WEIGHT_FRACTION,
            data="none (a conversion of the float model; fraction bits from 8 BSDS500 training photos)",
            steps=0,
            command=f"python scripts/ship_integer.py --name {args.name}",
            note=(
                "integer decoder of the float checkpoint named in 'base': the entropy-coder tables "
                "(quantized CDFs, lengths, offsets of z and y) as computed once here, and the "
                "fraction bits of h_s and g_s; the integer weights are derived exactly from the "
                "float weights at load (helpers.fixedpoint.convert, round(w * 2**14))"
            ),
        )
        print(quality, h_fractions, g_fractions, found["bytes"], "bytes")


if __name__ == "__main__":
    main()
