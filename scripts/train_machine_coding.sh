#!/usr/bin/env bash
# Chapter 9's models, as trained for helpers/weights on the 2-core course machine: two queues side by
# side, one CPU core each (about 75 minutes, while the study ran beside them). Queue 1: the NPP in
# front of JPEG through the differentiable JPEG, the learned proxies of JPEG and HEIF, the NPP in front
# of HEIF trained through its learned proxy. Queue 2: the same JPEG NPP with lambda 0.5 (an ablation),
# two per-quality JPEG NPPs, and the JPEG NPP trained through the learned JPEG proxy.
# Needs chapter 8's distillation set (built, about 15 minutes, on first use). Checkpoints resume.
set -euo pipefail
out=${1:-runs/ch9}
mkdir -p "$out"
run() { python -m helpers.recipes "$@" --threads 1; }
(
  run npp --name jpeg --proxy diffjpeg --lr 1e-3 --steps 1000 --lr-drop-at 800 --out "$out/npp_jpeg.pt"
  run proxy --name jpeg --steps 800 --out "$out/proxy_jpeg.pt"
  run proxy --name heif --steps 600 --out "$out/proxy_heif.pt"
  run npp --name heif --proxy learned --proxy-path "$out/proxy_heif.pt" --lr 1e-3 --steps 300 --lr-drop-at 240 --out "$out/npp_heif.pt"
) &
(
  run npp --name jpeg --proxy diffjpeg --lmbda 0.5 --lr 1e-3 --steps 800 --lr-drop-at 650 --out "$out/npp_jpeg_l05.pt"
  for q in 20 50; do
    run npp --name jpeg --proxy diffjpeg --quality $q --lr 1e-3 --steps 400 --lr-drop-at 320 --out "$out/npp_jpeg_q$q.pt"
  done
  while [ ! -f "$out/proxy_jpeg.pt" ] || pgrep -f "recipes proxy --name jpeg" > /dev/null; do sleep 10; done
  run npp --name jpeg --proxy learned --proxy-path "$out/proxy_jpeg.pt" --lr 1e-3 --steps 300 --lr-drop-at 240 --out "$out/npp_jpeg_learned.pt"
) &
wait
