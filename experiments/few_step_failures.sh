#!/usr/bin/env bash
# Where the few-step samplers fail, on the seed-0 models of a finished experiments/cpu.json grid:
# for each method, DDIM at 10 and 100 steps and DDPM (x0 clipped) at 100 steps from the same 250
# starting noises; the FD of each set (Fashion-MNIST features, against fmnist:test) and the share
# of blown-out and speckled images (tools/python/sample_failures.py). docs/results.md holds the
# output. About 4 minutes per method on 2 CPU cores.
#
#   bash experiments/few_step_failures.sh EXPERIMENT_DIR OUT_DIR [BIN_DIR]
set -euo pipefail
exp=$1 out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${3:-$here/build/tools}
py=${S2DM_PYTHON:-/usr/bin/python3}
mkdir -p "$out"
methods=$("$py" -c 'import json, sys; print(" ".join(m["name"] for m in json.load(open(sys.argv[1]))["methods"]))' "$exp/spec.json")
for m in $methods; do
  ck="$exp/cells/train/$m-s0/checkpoint.safetensors"
  [ -s "$ck" ] || { echo "no $ck: run the grid first" >&2; exit 1; }
  "$bin/s2dm-sample" "$ck" --sampler ddim --steps 10,100 --count 250 --batch 125 \
    --npz "$out/$m-ddim{steps}.npz" --grid "$out/$m-ddim.png" --grid-count 36 >/dev/null
  "$bin/s2dm-sample" "$ck" --sampler ddpm --steps 100 --count 250 --batch 125 \
    --npz "$out/$m-ddpm100.npz" >/dev/null
  for s in ddim10 ddim100 ddpm100; do
    echo "$m $s $("$bin/s2dm-fid" "$out/$m-$s.npz" fmnist:test --features fmnist --no-kid --quiet)"
  done
done | tee "$out/fd.txt"
"$py" "$here/tools/python/sample_failures.py" fmnist-test "$out"/*.npz | tee "$out/failures.txt"
