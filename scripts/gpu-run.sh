#!/usr/bin/env bash
# Everything worth running on a GPU machine, in one call: build with CUDA, run the whole test
# suite, run every benchmark, and collect the logs in one folder (default: $OUT when set, else
# gpu-results/). Each step's exit status is recorded and the script goes on after a failure, so one
# broken step does not cost the rest of the run.
#
#   bash scripts/gpu-run.sh [RESULTS_DIR] [PHASES]
#
# PHASES (default "build,test,bench") picks a subset, so a run that must fit a time limit per
# command can be split: "build,test" first, then "bench" on the same machine (build-gpu/ stays).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-gpu-results}}
phases=,${2:-build,test,bench},
want() { [[ $phases == *",$1,"* ]]; }
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
step() {  # step NAME COMMAND...: run, log to $out/NAME.log, record the status
  local name=$1; shift
  local t0=$SECONDS
  "$@" >"$out/$name.log" 2>&1
  local rc=$?
  printf '%-28s exit %3d  %5ds\n' "$name" "$rc" $((SECONDS - t0)) | tee -a "$summary"
  return 0
}
{
  date -u
  git rev-parse HEAD 2>/dev/null
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
  nproc
} >"$out/machine.txt"

if want build; then
  step install   bash scripts/install-deps.sh python3-torch python3-numpy
  step configure cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DS2DM_CUDA=ON -DS2DM_WERROR=ON
  step build     cmake --build build-gpu -j "$(nproc)"
fi
if want test; then
  # Every op on the GPU against the CPU backend first: the shortest path to a wrong kernel.
  step backend_ops_check build-gpu/tests/s2dm-backend-ops --backend cuda
  step ctest     ctest --test-dir build-gpu --output-on-failure -j 4
fi
if want bench; then
  step backend_ops_perf build-gpu/tests/s2dm-backend-ops --mode perf --backend cuda --dtype float32
  for b in build-gpu/benchmarks/bench_*; do
    [ -x "$b" ] && step "$(basename "$b")" "$b"
  done
fi
echo "results in $out" | tee -a "$summary"
