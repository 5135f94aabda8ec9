#!/usr/bin/env bash
# Chapter 8's shipped models, as trained for helpers/weights (about 15 minutes for the distillation set, 55 minutes for the two adapters side by side, 15 more for the DCT adapter's last 1,000 steps, on 2 CPU cores):
# the digits ResNet, then the distillation set (crops + the teacher's targets, cached), then the two
# adapters side by side, one thread each. Checkpoints are resumed if present.
set -euo pipefail
out=${1:-runs}
mkdir -p "$out"
python -m helpers.recipes digits --steps 1500 --out "$out/digits.pt" --threads 2
python -c "from helpers import config; from helpers.recipes import compressed_domain as cd; config.set_num_threads(2); cd.distillation_set(6, 0)"
python -m helpers.recipes adapter --name dct --steps 2500 --lr-drop-at 2000 --out "$out/dct.pt" --threads 1 &
python -m helpers.recipes adapter --name latent --steps 2500 --lr-drop-at 2000 --out "$out/latent.pt" --threads 1 &
wait
# the DCT adapter then went on alone, two threads, at the dropped rate (as shipped): steps 2,500-3,500
python -m helpers.recipes adapter --name dct --steps 3500 --lr-drop-at 2000 --out "$out/dct.pt" --threads 2
