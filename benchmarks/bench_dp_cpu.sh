#!/usr/bin/env bash
# Data-parallel training on CPU ranks against one process, in the same run: the README's
# fmnist-small step at global batch 32 as (a) one process with 2 OpenMP threads, (b) 2 ranks of
# one thread under mpirun, (c) the same with waiting ranks yielding the core
# (OMPI_MCA_mpi_yield_when_idle=1). The configurations alternate --repeat times; each row gives the
# best run's img/s, and the all-reduce time per step and its exposed part (mean over its log windows
# after the first).
#
#   bash benchmarks/bench_dp_cpu.sh [BUILD_DIR] [--steps 60] [--repeat 2]
set -euo pipefail
build=build steps=60 repeat=2
while [ $# -gt 0 ]; do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) build=$1; shift ;;
  esac
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
train=(--preset fmnist-small --batch 32 --steps "$steps" --log-every 10 --sample-every 0
       --sample-count 4 --sample-steps 2 --ckpt-every 100000)
summarise() {  # summarise METRICS.jsonl -> "img/s allreduce_ms exposed_ms"
  python3 - "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
tail = rows[1:] or rows
ar = sum(r.get("allreduce_ms", 0) for r in tail) / len(tail)
ex = sum(r.get("exposed_ms", 0) for r in tail) / len(tail)
print(f"{rows[-1]['img_per_s']:.1f} {ar:.1f} {ex:.1f}")
PY
}
declare -A best
for rep in $(seq 1 "$repeat"); do
  for cfg in one two two-yield; do
    out="$work/$cfg-$rep"
    case $cfg in
      one) OMP_NUM_THREADS=2 "$build/tools/s2dm-train" "${train[@]}" --out "$out" >/dev/null ;;
      two) OMP_NUM_THREADS=1 mpirun --oversubscribe -np 2 "$build/tools/s2dm-train" "${train[@]}" --out "$out" >/dev/null ;;
      two-yield) OMP_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1 mpirun --oversubscribe -np 2 \
                   "$build/tools/s2dm-train" "${train[@]}" --out "$out" >/dev/null ;;
    esac
    r=$(summarise "$out/metrics.jsonl")
    prev=${best[$cfg]:-0 0 0}
    if awk -v a="${r%% *}" -v b="${prev%% *}" 'BEGIN{exit !(a > b)}'; then best[$cfg]=$r; fi
  done
done
echo "# bench_dp_cpu: fmnist-small, global batch 32, $steps steps, best of $repeat; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs"
printf '| %-44s | %7s | %6s | %15s | %10s |\n' configuration "img/s" ratio "all-reduce ms" "exposed ms"
printf '|%s|%s|%s|%s|%s|\n' ---------------------------------------------- ---------: -------: ----------------: -----------:
base=${best[one]%% *}
for cfg in one two two-yield; do
  read -r ips ar ex <<<"${best[$cfg]}"
  case $cfg in
    one) name="1 process, 2 threads" ;;
    two) name="2 ranks x 1 thread (mpirun)" ;;
    two-yield) name="2 ranks x 1 thread, mpi_yield_when_idle=1" ;;
  esac
  printf '| %-44s | %7s | %5.2fx | %15s | %10s |\n' "$name" "$ips" "$(awk -v a="$ips" -v b="$base" 'BEGIN{print a/b}')" \
    "$([ $cfg = one ] && echo - || echo "$ar")" "$([ $cfg = one ] && echo - || echo "$ex")"
done
