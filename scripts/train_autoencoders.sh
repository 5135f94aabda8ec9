#!/bin/bash
# Chapter 4's shipped checkpoints: one mid-rate model (lambda 0.0067, CompressAI's quality 3) trained
# longest, then fine-tuned to the other lambdas. Not run in CI: about 2-3 hours per architecture on one
# CPU core. Usage: bash scripts/train_autoencoders.sh hyperprior|factorized [out_dir]
# Then: python scripts/evaluate_autoencoders.py <out_dir>/*.pt and python scripts/ship_checkpoints.py.
set -euo pipefail
which="${1:?hyperprior or factorized}"
out="${2:-runs}"
mkdir -p "$out"
PY="python -m helpers.autoencoder --threads 1"
if [ "$which" = hyperprior ]; then
  name=bmshj2018-hyperprior; main_steps=16000; drop=14000; tune=2000; tune_drop=1600
elif [ "$which" = factorized ]; then
  name=bmshj2018-factorized; main_steps=7000; drop=6000; tune=1500; tune_drop=1200
else
  echo "unknown: $which (hyperprior or factorized)" >&2; exit 2
fi
$PY --name $name --lmbda 0.0067 --steps $main_steps --lr 3e-4 --lr-drop-at $drop --out "$out/${which}_0067.pt"
$PY --name $name --lmbda 0.013 --steps $tune --lr 1e-4 --lr-drop-at $tune_drop --init-from "$out/${which}_0067.pt" --out "$out/${which}_013.pt"
$PY --name $name --lmbda 0.0035 --steps $tune --lr 1e-4 --lr-drop-at $tune_drop --init-from "$out/${which}_0067.pt" --out "$out/${which}_0035.pt"
$PY --name $name --lmbda 0.0018 --steps $tune --lr 1e-4 --lr-drop-at $tune_drop --init-from "$out/${which}_0035.pt" --out "$out/${which}_0018.pt"
