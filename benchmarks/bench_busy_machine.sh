#!/usr/bin/env bash
# The CPU training step (bench_train_step, fmnist-small batch 32, no PyTorch) with OpenMP's
# waiting threads spinning for libgomp's default 300000 iterations, for s2dm's default
# (engine/cpu/runtime_env.h) and not at all (OMP_WAIT_POLICY=passive), each on an idle machine
# and with one other busy process (a `yes` loop), at 1 and 2 threads. OpenBLAS's core is the one
# s2dm chooses in every row, so only the waiting policy differs.
#
#   bash benchmarks/bench_busy_machine.sh [BUILD_DIR] [--runs 5]
set -euo pipefail
build=build runs=5
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    *) build=$1; shift ;;
  esac
done
bench="$build/benchmarks/bench_train_step"
core=$("$bench" --no-torch --only none 2>/dev/null | sed -n 's/.*OpenBLAS core \([A-Za-z0-9]*\).*/\1/p' | head -1)
default_spin=$(sed -n 's/.*kDefaultSpinCount = "\([0-9]*\)".*/\1/p' "$(dirname "$0")/../engine/cpu/runtime_env.h")
step() {  # step THREADS ENV...: img/s
  env S2DM_RUNTIME_ENV=1 OPENBLAS_CORETYPE="$core" "${@:2}" "$bench" --no-torch --only fmnist-small \
    --threads "$1" --runs "$runs" --warmup 2 2>/dev/null | awk '$1 == "fmnist-small" && $2 == 32 {print $3}'
}
echo "# bench_busy_machine: fmnist-small batch 32, median of $runs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, OpenBLAS core $core"
printf '| %-34s | %8s | %14s | %14s |\n' "waiting policy" threads "idle img/s" "busy img/s"
printf '|%s|%s|%s|%s|\n' ------------------------------------ ---------: ---------------: ---------------:
for policy in "libgomp default (spin 300000)" "s2dm default (GOMP_SPINCOUNT=$default_spin)" "passive (OMP_WAIT_POLICY=passive)"; do
  case $policy in
    libgomp*) vars=() ;;
    s2dm*) vars=(GOMP_SPINCOUNT="$default_spin") ;;
    passive*) vars=(OMP_WAIT_POLICY=passive) ;;
  esac
  for t in 1 2; do
    idle=$(step "$t" "${vars[@]}")
    yes >/dev/null &
    burner=$!
    busy=$(step "$t" "${vars[@]}")
    kill "$burner"; wait "$burner" 2>/dev/null || true
    printf '| %-34s | %8s | %14s | %14s |\n' "$policy" "$t" "$idle" "$busy"
  done
done
