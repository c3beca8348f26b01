#!/usr/bin/env bash
# Data-parallel runs under mpirun with 2 CPU ranks, against one process:
# - training: 2 ranks x B/2 compute the step 1 rank x B computes (float64: every tensor of the
#   checkpoint within NMSE 1e-12; float32: 1e-6), also with 3 ranks;
# - a run resumes on another world size (2 ranks to step 20, 1 rank to 40 = 1 rank to 40);
# - a failing or killed rank ends the job within seconds, non-zero, leaving the last good
#   checkpoint and no temporary files; drifting replicas are caught by --check-sync;
# - bad input: a batch that does not divide over the ranks;
# - s2dm-sample writes the same files under 2 ranks as one process;
# - bench_allreduce checks every message size.
# Usage: mpi_tests.sh BUILD_DIR [MPIEXEC]
set -uo pipefail
build="$1"
mpiexec="${2:-mpirun}"
bin="$build/tools"
compare="$build/tests/s2dm-compare-checkpoints"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Root is allowed in CI containers; oversubscription lets 2-3 ranks share 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMP_NUM_THREADS=1
source "$(dirname "$0")/../cli_checks.sh"
mpi() {  # mpi NP COMMAND...
  local np=$1; shift
  timeout 300 "$mpiexec" --oversubscribe -np "$np" "$@"
}

cat >"$work/tiny.json" <<'JSON'
{"model": {"ch": 8, "ch_mult": [1, 2], "num_res_blocks": 1, "attn_resolutions": [16],
           "dropout": 0.1, "in_channels": 1, "out_channels": 1, "resolution": 32, "groups": 4},
 "preset": "tiny", "batch": 6, "lr": 0.001, "ema_decay": 0.9}
JSON
train_args=(--config "$work/tiny.json" --log-every 1 --sample-every 0 --sample-count 4 --sample-steps 2)

# --- the same step on 1, 2 and 3 ranks -------------------------------------------------------
for dtype in float64 float32; do
  tol=1e-12; [ "$dtype" = float32 ] && tol=1e-6
  "$bin/s2dm-train" "${train_args[@]}" --dtype "$dtype" --steps 4 --out "$work/one-$dtype" >"$work/one-$dtype.log" 2>&1
  mpi 2 "$bin/s2dm-train" "${train_args[@]}" --dtype "$dtype" --steps 4 --bucket-mb 0.05 --check-sync 1 \
    --out "$work/two-$dtype" >"$work/two-$dtype.log" 2>&1
  check "2 ranks train ($dtype)" grep -q "done: 4 steps" "$work/two-$dtype.log"
  check "2 ranks report world size and all-reduce time" grep -q "2 ranks, all-reduce" "$work/two-$dtype.log"
  check "2 ranks = 1 rank after 4 steps ($dtype, NMSE <= $tol)" \
    "$compare" "$work/two-$dtype/checkpoint.safetensors" "$work/one-$dtype/checkpoint.safetensors" "$tol"
done
mpi 3 "$bin/s2dm-train" "${train_args[@]}" --dtype float64 --steps 4 --out "$work/three" >"$work/three.log" 2>&1
check "3 ranks = 1 rank after 4 steps (float64)" \
  "$compare" "$work/three/checkpoint.safetensors" "$work/one-float64/checkpoint.safetensors" 1e-12
rc=0
"$compare" "$work/one-float32/checkpoint.safetensors" "$work/one-float64/checkpoint.safetensors" 1e-12 >/dev/null || rc=$?
check "the comparison tells float32 from float64 apart" test "$rc" -eq 1
check "rank 0 alone writes metrics" test "$(wc -l <"$work/two-float64/metrics.jsonl")" -eq 4

# --- resume on another world size ------------------------------------------------------------
mpi 2 "$bin/s2dm-train" "${train_args[@]}" --dtype float64 --steps 20 --ckpt-every 10 --out "$work/r" >"$work/r1.log" 2>&1
"$bin/s2dm-train" --resume "$work/r/checkpoint.safetensors" --steps 40 --out "$work/r" >"$work/r2.log" 2>&1
"$bin/s2dm-train" "${train_args[@]}" --dtype float64 --steps 40 --ckpt-every 10 --out "$work/straight" >"$work/s.log" 2>&1
check "2 ranks to 20, 1 rank to 40 = 1 rank to 40" \
  "$compare" "$work/r/checkpoint.safetensors" "$work/straight/checkpoint.safetensors" 1e-12

# --- faults ----------------------------------------------------------------------------------
fault_run() {  # fault_run NAME SPEC EXTRA_ARGS... ; sets rc, secs, log
  local name=$1 spec=$2; shift 2
  log="$work/$name.log"
  local t0=$SECONDS
  rc=0
  S2DM_TEST_FAULT="$spec" mpi 2 "$bin/s2dm-train" "${train_args[@]}" --steps 1000 --ckpt-every 1 \
    --out "$work/$name" "$@" >"$log" 2>&1 || rc=$?
  secs=$((SECONDS - t0))
}
fault_run fail "1:3:error"
check "a failing rank ends the job non-zero (rc $rc) within 60 s ($secs s)" \
  test "$rc" -ne 0 -a "$rc" -ne 124 -a "$secs" -lt 60
check "the failing rank's message is shown" grep -q "error on rank 1 of 2: injected failure on rank 1 after step 3" "$log"
check "no temporary files are left" test -z "$(find "$work/fail" -name '*.tmp.*')"
check "the last checkpoint is good and resumes" \
  "$bin/s2dm-train" --resume "$work/fail/checkpoint.safetensors" --steps 5 --out "$work/fail" >/dev/null 2>&1

fault_run kill "1:2:kill"
check "a killed rank ends the job non-zero (rc $rc) within 60 s ($secs s)" \
  test "$rc" -ne 0 -a "$rc" -ne 124 -a "$secs" -lt 60
check "after a killed rank no temporary files are left" test -z "$(find "$work/kill" -name '*.tmp.*')"

fault_run drift "1:2:drift" --check-sync 1
check "--check-sync stops drifting replicas (rc $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "--check-sync names the rank" grep -q "the parameters on rank 1 differ from rank 0's" "$log"

rc=0
mpi 2 "$bin/s2dm-train" "${train_args[@]}" --batch 5 --steps 2 --out "$work/odd" >"$work/odd.log" 2>&1 || rc=$?
check "a batch that does not divide over the ranks is refused (rc $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "... naming the fix" grep -q "must be a multiple of the number of ranks (e.g. --batch 6)" "$work/odd.log"

# --- sampling --------------------------------------------------------------------------------
ck="$work/one-float32/checkpoint.safetensors"
for s in ddpm ddim; do
  "$bin/s2dm-sample" "$ck" --sampler "$s" --eta 1 --steps 3 --count 7 --batch 2 \
    --npz "$work/s1-$s.npz" --grid "$work/s1-$s.png" >/dev/null 2>&1
  mpi 2 "$bin/s2dm-sample" "$ck" --sampler "$s" --eta 1 --steps 3 --count 7 --batch 2 \
    --npz "$work/s2-$s.npz" --grid "$work/s2-$s.png" --folder "$work/s2-$s" >"$work/s2-$s.log" 2>&1
  check "s2dm-sample $s: 2 ranks write the same .npz as one process" cmp -s "$work/s1-$s.npz" "$work/s2-$s.npz"
  check "s2dm-sample $s: the same grid" cmp -s "$work/s1-$s.png" "$work/s2-$s.png"
  check "s2dm-sample $s: every image in the folder" test -s "$work/s2-$s/000006.png"
done
# Several step counts: each one's file and the side-by-side grid as one process writes them.
"$bin/s2dm-sample" "$ck" --steps 3,2 --count 5 --batch 2 --npz "$work/m1-{steps}.npz" \
  --grid "$work/m1.png" >/dev/null 2>&1
mpi 2 "$bin/s2dm-sample" "$ck" --steps 3,2 --count 5 --batch 2 --npz "$work/m2-{steps}.npz" \
  --grid "$work/m2.png" >"$work/m2.log" 2>&1
check "s2dm-sample --steps 3,2: 2 ranks write the same files as one process" \
  cmp -s "$work/m1-2.npz" "$work/m2-2.npz"
check "... the 3-step file" cmp -s "$work/m1-3.npz" "$work/m2-3.npz"
check "... and the same side-by-side grid" cmp -s "$work/m1.png" "$work/m2.png"

# --- the all-reduce benchmark checks its results ---------------------------------------------
check "bench_allreduce on 2 ranks: every size correct" \
  mpi 2 "$build/benchmarks/bench_allreduce" --max-bytes 4194304 --iters 3 --warmup 1

echo "$fails failed"
test "$fails" -eq 0
