#!/bin/bash
# Chapter 4's shipped checkpoints: one mid-rate model (lambda 0.0067, CompressAI's quality 3) trained
# longest, then fine-tuned to the other lambdas. Not run in CI: about 1.5-3 hours per architecture on one
# CPU core. Usage: bash scripts/train_autoencoders.sh hyperprior|factorized|mean [out_dir]
#   hyperprior, factorized: Balle et al. 2018 on BSDS500 (300 photos)
#   mean: the mean-scale hyperprior (Minnen et al. 2018 without context) on BSDS500 + the 1,000 ImageNet
#         sample photos, warm-started from the shipped scale hyperprior q3 (issue 19)
# Then: python scripts/evaluate_autoencoders.py <out_dir>/*.pt and python scripts/ship_checkpoints.py.
set -euo pipefail
which="${1:?hyperprior, factorized or mean}"
out="${2:-runs}"
mkdir -p "$out"
PY="python -m helpers.recipes autoencoder --threads 1"
data=()
init=()
if [ "$which" = hyperprior ]; then
  name=bmshj2018-hyperprior; main_steps=16000; drop=14000; tune=2000; tune_drop=1600
elif [ "$which" = factorized ]; then
  name=bmshj2018-factorized; main_steps=7000; drop=6000; tune=1500; tune_drop=1200
elif [ "$which" = mean ]; then
  name=mbt2018-mean; main_steps=12000; drop=10000; tune=2000; tune_drop=1600
  data=(--training-data bsds500+imagenet)
  init=(--init-from helpers/weights/bmshj2018-hyperprior_q3_N64_M96.pt)
else
  echo "unknown: $which (hyperprior, factorized or mean)" >&2; exit 2
fi
$PY --name $name --lmbda 0.0067 --steps $main_steps --lr 3e-4 --lr-drop-at $drop "${data[@]}" "${init[@]}" --out "$out/${which}_0067.pt"
$PY --name $name --lmbda 0.013 --steps $tune --lr 1e-4 --lr-drop-at $tune_drop "${data[@]}" --init-from "$out/${which}_0067.pt" --out "$out/${which}_013.pt"
$PY --name $name --lmbda 0.0035 --steps $tune --lr 1e-4 --lr-drop-at $tune_drop "${data[@]}" --init-from "$out/${which}_0067.pt" --out "$out/${which}_0035.pt"
$PY --name $name --lmbda 0.0018 --steps $tune --lr 1e-4 --lr-drop-at $tune_drop "${data[@]}" --init-from "$out/${which}_0035.pt" --out "$out/${which}_0018.pt"
