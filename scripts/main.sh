#!/usr/bin/env bash
# The main job: install dependencies, build, train a small S²-DM on Fashion-MNIST (Debian's
# dataset-fashion-mnist) and write a grid of samples to out/fmnist/samples.png.
# With a usable NVIDIA GPU (nvidia-smi works and the build has the CUDA backend) it trains the
# fmnist preset (ch 64) on cuda for 6000 steps of batch 128; otherwise the fmnist-small preset on
# the CPU for 1000 steps of batch 32. Then it samples the same noises with 10 and 100 DDIM steps
# (samples.png: the two grids side by side) and prints the Fréchet distance of each set in the
# Fashion-MNIST feature space (docs/evaluation.md).
# Extra arguments go to s2dm-train (e.g. --steps 5000, --device cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
out=out/fmnist
if nvidia-smi -L >/dev/null 2>&1 && grep -q '^S2DM_CUDA_BUILT:INTERNAL=ON' build/CMakeCache.txt; then
  train=(--preset fmnist --device cuda --steps 6000 --batch 128 --lr 2e-4 --ema-decay 0.999)
  sample=(--device cuda --count 1000 --batch 250)
else
  # The s2dm arm of experiments/cpu.json (seed 0), so docs/results.md reads on this model.
  train=(--preset fmnist-small --steps 1000 --batch 32 --lr 1e-3 --ema-decay 0.995)
  sample=(--count 250 --batch 125)
fi
# --overwrite: running the job again starts it over in the same folder.
./build/tools/s2dm-train "${train[@]}" --sample-every 0 --out "$out" --overwrite "$@"
# What S²-DM is for: few-step sampling. The same starting noises at 10 and at 100 DDIM steps,
# side by side in samples.png (first 36 images), and the Fréchet distance of each set.
./build/tools/s2dm-sample "$out/checkpoint.safetensors" --sampler ddim --steps 10,100 "${sample[@]}" \
  --grid "$out/samples.png" --grid-count 36 --npz "$out/ddim{steps}.npz"
for s in 10 100; do
  fd=$(./build/tools/s2dm-fid "$out/ddim$s.npz" fmnist:test --features fmnist --no-kid --quiet)
  echo "DDIM $s steps: ${fd} (vs the 10,000 test images)"
done
