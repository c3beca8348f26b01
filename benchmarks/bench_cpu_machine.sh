#!/usr/bin/env bash
# Every CPU measurement docs/benchmarks.md keeps for each machine, in one run: the training step
# against PyTorch (the 1.2x target), the same with each convolution path, 2 threads over 1, the
# convolution benchmark with its Winograd rule, OpenBLAS's SSE3 fallback, and the main job's
# time. Each program's header names the CPU, the ISA its kernels use and the libraries; this
# prints them once more with the date. About 8 minutes on 2 Xeon vCPUs, 13 with --main-job
# (slower CPUs take longer: 11 without it on an AVX2 build).
#
#   bash benchmarks/bench_cpu_machine.sh [BUILD_DIR] [--main-job] | tee out/cpu-machine.txt
#
# To try an AVX2 machine on an AVX-512 one: build with -DS2DM_CPU_ARCH_FLAGS=-march=x86-64-v3
# into another folder and run this with ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell
# (PyTorch's oneDNN reads the same variable). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build main_job=0
while [ $# -gt 0 ]; do
  case $1 in
    --main-job) main_job=1; shift ;;
    -*) echo "bench_cpu_machine.sh: unknown option $1 (use [BUILD_DIR] [--main-job])" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
bin=$build/benchmarks
for b in bench_train_step bench_cpu_conv_gemm; do
  [ -x "$bin/$b" ] || { echo "bench_cpu_machine.sh: $bin/$b is missing; build it first (bash scripts/build.sh)" >&2; exit 1; }
done
section() { printf '\n## %s\n$ %s\n' "$1" "${*:2}"; }
run() { section "$@"; "${@:2}" 2>&1 | grep -v '^s2dm: OpenBLAS does not know'; }

echo "# CPU machine report, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, $(uname -r)"
for v in OPENBLAS_CORETYPE ONEDNN_MAX_CPU_ISA DNNL_MAX_CPU_ISA S2DM_CONV OMP_NUM_THREADS; do
  if [ -n "${!v:-}" ]; then echo "set in the environment: $v=${!v}"; fi
done

run "Training step against PyTorch (target: ratio >= 1.2)" \
  "$bin/bench_train_step" --runs 5 --warmup 2 --repeat 3
for path in direct native; do
  run "Training step, S2DM_CONV=$path (compare with the row above)" \
    env S2DM_CONV=$path "$bin/bench_train_step" --runs 5 --warmup 2 --no-torch
done
run "2 threads over 1 (target: >= 1.6 on an idle machine)" \
  "$bin/bench_train_step" --runs 5 --warmup 2 --repeat 3 --scaling
run "Convolutions and GEMMs against PyTorch (GFLOP/s)" "$bin/bench_cpu_conv_gemm" --repeat 2
run "Winograd against direct, either side of the rule" "$bin/bench_cpu_conv_gemm" --winograd --repeat 3
run "OpenBLAS's SSE3 fallback (what an unknown CPU would get without s2dm's check)" \
  env OPENBLAS_CORETYPE=Prescott S2DM_CONV=native "$bin/bench_train_step" --only fmnist-small \
  --runs 3 --warmup 1 --no-torch
if [ "$main_job" = 1 ]; then  # scripts/main.sh always uses its own build in build/
  section "Main job (README), wall time" bash scripts/main.sh
  start=$(date +%s)
  bash scripts/main.sh 2>&1 | tail -4
  echo "main job: $(( $(date +%s) - start )) s"
fi
