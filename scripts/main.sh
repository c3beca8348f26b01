#!/usr/bin/env bash
# The main job: install dependencies, build, train a small S²-DM on Fashion-MNIST (Debian's
# dataset-fashion-mnist) and write a grid of samples to out/fmnist/samples.png.
# On the CPU this trains the fmnist-small preset for 1500 steps (about 7 minutes on 2 cores).
# Extra arguments go to s2dm-train (e.g. --steps 5000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
out=out/fmnist
./build/tools/s2dm-train --preset fmnist-small --steps 1500 --batch 32 --lr 1e-3 --ema-decay 0.995 \
  --sample-every 500 --sample-count 36 --out "$out" "$@"
./build/tools/s2dm-sample "$out/checkpoint.safetensors" --sampler ddpm --steps 100 --count 64 \
  --grid "$out/samples.png"
