#!/usr/bin/env bash
# The main job: install dependencies, build, train a small S²-DM on Fashion-MNIST (Debian's
# dataset-fashion-mnist) and write a grid of samples to out/fmnist/samples.png.
# With a usable NVIDIA GPU (nvidia-smi works and the build has the CUDA backend) it trains the
# fmnist preset (ch 64) on cuda for 6000 steps of batch 128; otherwise the fmnist-small preset on
# the CPU for 1500 steps of batch 32 (about 6 minutes on 2 Zen 5 cores, 11 on 2 Xeon cores).
# Extra arguments go to s2dm-train (e.g. --steps 5000, --device cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
out=out/fmnist
if nvidia-smi -L >/dev/null 2>&1 && grep -q '^S2DM_CUDA_BUILT:INTERNAL=ON' build/CMakeCache.txt; then
  train=(--preset fmnist --device cuda --steps 6000 --batch 128 --lr 2e-4 --ema-decay 0.999)
  sample=(--device cuda)
else
  train=(--preset fmnist-small --steps 1500 --batch 32 --lr 1e-3 --ema-decay 0.995)
  sample=()
fi
# --overwrite: running the job again starts it over in the same folder.
./build/tools/s2dm-train "${train[@]}" --sample-every 500 --sample-count 36 --out "$out" --overwrite "$@"
./build/tools/s2dm-sample "$out/checkpoint.safetensors" --sampler ddpm --steps 100 --count 64 \
  "${sample[@]}" --grid "$out/samples.png"
