#!/usr/bin/env bash
# The GPU checks from a bundle made by scripts/gpu-bundle.sh, for a GPU machine with CUDA (and a
# CUDA torch for the reference numbers) but no package manager or build dependencies. Steps run
# most important first, each under its own time cap and all under one deadline, so a short run
# still returns the correctness checks; every step's output is appended to RESULTS_DIR/all.log.
#
#   bash scripts/gpu-bundle-run.sh [RESULTS_DIR] [SECONDS] [STEPS]
#
# Defaults: $OUT or gpu-results/, 420 s, every step. STEPS is a comma-separated subset of
# backend_ops_check, device_tests, train_step_bench, kernel_bench, fid_inception, train_smoke, nccl_allreduce,
# nccl_overhead, backend_ops_perf, all_tests, and main_job (the README's main job on the GPU, with
# a bundle made --with-train-set: not in the default list, it takes about four minutes).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-${OUT:-gpu-results}}
deadline=$((SECONDS + ${2:-420}))
steps=,${3:-backend_ops_check,device_tests,train_step_bench,kernel_bench,fid_inception,train_smoke,nccl_allreduce,nccl_overhead,backend_ops_perf,all_tests},
mkdir -p "$out" /tmp/s2dm-bundle
log="$out/all.log" summary="$out/summary.txt"
: >"$log"; : >"$summary"
tar -C /tmp/s2dm-bundle -xJf gpu-bundle/bundle.tar.xz || { echo "no gpu-bundle/bundle.tar.xz" | tee "$summary"; exit 1; }
bin=/tmp/s2dm-bundle/bin
# The binaries were built in /work/main: golden files and benchmark scripts are found through it.
[ -e /work/main ] || { mkdir -p /work && ln -s "$root" /work/main; }
# CUDA's libraries from this machine: the toolkit's and those of the pip wheels beside torch.
cudalibs=
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
         $(python3 -c 'import nvidia, os; print(" ".join(sorted({r for p in nvidia.__path__ for r, _, fs in os.walk(p) if any(".so" in f for f in fs)})))' 2>/dev/null); do
  [ -d "$d" ] && cudalibs="$cudalibs:$d"
done
export LD_LIBRARY_PATH="/tmp/s2dm-bundle/lib${cudalibs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export S2DM_PYTHON=${S2DM_PYTHON:-python3}
{ date -u; cat /tmp/s2dm-bundle/commit.txt 2>/dev/null
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1; nproc
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; } >>"$log"
step() {  # step NAME CAP_SECONDS COMMAND...
  local name=$1 cap=$2; shift 2
  [[ $steps == *",$name,"* ]] || return 0
  local left=$((deadline - SECONDS))
  ((left < 10)) && { printf '%-24s skipped (deadline)\n' "$name" | tee -a "$summary"; return 0; }
  ((cap > left)) && cap=$left
  local t0=$SECONDS
  echo "===== $name: $*" >>"$log"
  timeout "$cap" "$@" >>"$log" 2>&1
  local rc=$?
  printf '%-24s exit %3d  %4ds\n' "$name" "$rc" $((SECONDS - t0)) | tee -a "$summary"
}
step backend_ops_check 90  "$bin/s2dm-backend-ops" --backend cuda
step device_tests      120 "$bin/s2dm_tests" "[cuda],[device]"
step train_step_bench  150 "$bin/bench_cuda_train_step" --profile 3
step kernel_bench      120 "$bin/bench_cuda_kernels"
step fid_inception     90  "$bin/bench_fid_features" --device cuda --count 50000 --batch 250
if ls /tmp/s2dm-bundle/data/t10k-images* >/dev/null 2>&1; then
  step train_smoke 120 "$bin/s2dm-train" --preset fmnist --device cuda --data-path /tmp/s2dm-bundle/data \
    --split t10k --batch 128 --steps 1000 --ema-decay 0.999 --log-every 100 --ckpt-every 1000 \
    --sample-every 0 --sample-count 36 --out /tmp/s2dm-train --overwrite
  cp /tmp/s2dm-train/samples/*.png /tmp/s2dm-train/*.jsonl "$out/" 2>/dev/null
fi
# The NCCL path on one GPU rank (no mpirun there): the all-reduce itself, then the training step
# with --comm nccl (bucketed all-reduce on the communication stream) against no communicator.
step nccl_allreduce 60 "$bin/bench_allreduce" --device cuda --comm nccl --iters 20
if ls /tmp/s2dm-bundle/data/t10k-images* >/dev/null 2>&1; then
  for comm in local nccl local nccl; do
    rm -rf "/tmp/s2dm-nccl-$comm"
    step nccl_overhead 60 "$bin/s2dm-train" --preset fmnist --device cuda --comm "$comm" \
      --data-path /tmp/s2dm-bundle/data --split t10k --steps 300 --batch 128 --log-every 100 \
      --ckpt-every 1000 --sample-every 0 --sample-count 4 --sample-steps 2 --out "/tmp/s2dm-nccl-$comm"
  done
fi
if ls /tmp/s2dm-bundle/data/train-images* >/dev/null 2>&1; then
  # scripts/main.sh's GPU arguments.
  step main_job 400 "$bin/s2dm-train" --preset fmnist --device cuda --steps 6000 --batch 128 \
    --lr 2e-4 --ema-decay 0.999 --data-path /tmp/s2dm-bundle/data --log-every 500 \
    --out /tmp/s2dm-main --overwrite
  step main_job_sample 60 "$bin/s2dm-sample" /tmp/s2dm-main/checkpoint.safetensors --sampler ddim \
    --steps 10,100 --count 1000 --batch 250 --device cuda --grid "$out/samples.png" --grid-count 36 \
    --npz "/tmp/s2dm-main/ddim{steps}.npz"
  for s in 10 100; do
    step main_job_fd 30 "$bin/s2dm-fid" "/tmp/s2dm-main/ddim$s.npz" fmnist:test --features fmnist \
      --data-path /tmp/s2dm-bundle/data --no-kid --quiet
  done
  cp /tmp/s2dm-main/metrics.jsonl "$out/main-metrics.jsonl" 2>/dev/null
fi
step backend_ops_perf  60  "$bin/s2dm-backend-ops" --mode perf --backend cuda --dtype float32
step all_tests         120 "$bin/s2dm_tests" "~[backend_ops]"
