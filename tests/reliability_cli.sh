#!/usr/bin/env bash
# What s2dm-train and s2dm-sample refuse, and what they never lose (docs/reliability.md):
# outputs that would destroy inputs or another run, a second trainer on one folder, metrics and
# temporary files across kills, nothing-to-do resumes, non-finite weights/noise/samples, values
# that make no sense, non-regular files, and signals inside steps and sample grids.
# Usage: reliability_cli.sh BUILD_DIR
set -uo pipefail
bin="$1/tools"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
source "$(dirname "$0")/cli_checks.sh"
stop_time() {  # stop_time PID SIGNAL: sends it, waits; sets rc and ms (signal to exit)
  local t0
  t0=$(date +%s%N)
  kill -"$2" "$1"
  rc=0
  wait "$1" || rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
}

cat >"$work/tiny.json" <<'JSON'
{"model": {"ch": 8, "ch_mult": [1, 2], "num_res_blocks": 1, "attn_resolutions": [16],
           "dropout": 0.1, "in_channels": 1, "out_channels": 1, "resolution": 32, "groups": 4},
 "preset": "tiny", "batch": 4, "lr": 0.001, "ema_decay": 0.9}
JSON
train=("$bin/s2dm-train" --config "$work/tiny.json" --sample-every 0 --sample-count 4 --sample-steps 2)
"${train[@]}" --steps 2 --out "$work/run" >/dev/null
ck="$work/run/checkpoint.safetensors"
cp "$ck" "$work/ck.copy"

# --- outputs never destroy inputs or another run -----------------------------------------------
expect_error "sample --grid onto the checkpoint is refused" "is one of the inputs" \
  "$bin/s2dm-sample" "$ck" --grid "$ck" --steps 2 --count 1
expect_error "sample --npz onto the checkpoint is refused" "is one of the inputs" \
  "$bin/s2dm-sample" "$ck" --npz "$work/run/../run/checkpoint.safetensors" --steps 2 --count 1
expect_error "sample --folder onto the checkpoint is refused" "is one of the inputs" \
  "$bin/s2dm-sample" "$ck" --folder "$ck" --steps 2 --count 1
check "the checkpoint is untouched" cmp -s "$ck" "$work/ck.copy"
expect_error "a fresh run into a folder holding a checkpoint is refused" "already holds a run's checkpoint" \
  "${train[@]}" --steps 2 --out "$work/run"
check "... and the checkpoint is untouched" cmp -s "$ck" "$work/ck.copy"
cp -r "$work/run" "$work/over"
"${train[@]}" --steps 3 --log-every 1 --seed 5 --out "$work/over" --overwrite >/dev/null
steps=$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["step"]) for l in open(sys.argv[1])))' "$work/over/metrics.jsonl")
check "--overwrite starts over: metrics hold the new run only ($steps)" test "$steps" = "1 2 3"

"${train[@]}" --steps 100000 --log-every 1 --out "$work/locked" >"$work/locked.log" 2>&1 &
holder=$!
wait_for "$work/locked.log" "step       1/"
expect_error "a second trainer on the same --out is refused, naming the holder" "in use by another s2dm-train (pid $holder on" \
  "${train[@]}" --steps 2 --out "$work/locked"
stop_time "$holder" INT
check "SIGINT between steps: exit 130 (rc $rc, $ms ms)" test "$rc" -eq 130 -a "$ms" -lt 3000

# kill -9 after the checkpoint at step 3, with steps 4.. logged: resume logs each step once and
# removes the dead run's temporary files.
"${train[@]}" --steps 100000 --log-every 1 --ckpt-every 3 --out "$work/killed" >"$work/killed.log" 2>&1 &
pid=$!
wait_for "$work/killed.log" "step       5/"
kill -9 "$pid"; wait "$pid" 2>/dev/null
: >"$work/killed/checkpoint.safetensors.tmp.999999999.0"
: >"$work/killed/samples/step_0000001.png.tmp.999999999.3"
"$bin/s2dm-train" --resume "$work/killed/checkpoint.safetensors" --steps 7 --log-every 1 --out "$work/killed" >"$work/resumed.log" 2>&1
steps=$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["step"]) for l in open(sys.argv[1])))' "$work/killed/metrics.jsonl")
check "after kill -9 and resume, metrics hold each step once ($steps)" test "$steps" = "1 2 3 4 5 6 7"
check "temporary files of the dead run are removed" test -z "$(find "$work/killed" -name '*.tmp.*')"
# kill -9 at an arbitrary moment (checkpoints every step, so often inside a write): the resumed
# run is bit-identical to one never interrupted.
"${train[@]}" --steps 40 --ckpt-every 1 --out "$work/straight" >/dev/null
"${train[@]}" --steps 100000 --ckpt-every 1 --log-every 1 --out "$work/k9" >"$work/k9.log" 2>&1 &
pid=$!
wait_for "$work/k9.log" "step       4/"
sleep 0.$((RANDOM % 5))
kill -9 "$pid"; wait "$pid" 2>/dev/null
"$bin/s2dm-train" --resume "$work/k9/checkpoint.safetensors" --steps 40 --out "$work/k9" >/dev/null 2>&1
check "kill -9 anywhere, then resume: bit-identical to an uninterrupted run" \
  quiet "$1/tests/s2dm-compare-checkpoints" "$work/k9/checkpoint.safetensors" "$work/straight/checkpoint.safetensors" 0
check "... and no temporary files are left" test -z "$(find "$work/k9" -name '*.tmp.*')"
cp "$work/killed/config.json" "$work/config.before"
cp "$work/killed/metrics.jsonl" "$work/metrics.before"
out=$("$bin/s2dm-train" --resume "$work/killed/checkpoint.safetensors" --steps 7 --out "$work/killed" 2>&1); rc=$?
check "resume at the checkpoint's step: nothing to do, exit 0" test "$rc" -eq 0
check "... says so" grep -q "nothing to do" <<<"$out"
check "... and changes nothing" cmp -s "$work/config.before" "$work/killed/config.json"
check "... not even the metrics" cmp -s "$work/metrics.before" "$work/killed/metrics.jsonl"

# --- non-finite values never become images ----------------------------------------------------
python3 - "$ck" "$work/nan.safetensors" "$work/negstep.safetensors" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head = json.loads(raw[8:8 + n]); data = bytearray(raw[8 + n:])
def write(path, head, data):
    h = json.dumps(head).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + bytes(data))
start = head["ema.conv_in.weight"]["data_offsets"][0]
nan = bytearray(data); nan[start:start + 4] = struct.pack("<f", float("nan"))
write(sys.argv[2], head, nan)
head["__metadata__"]["step"] = "-5"
write(sys.argv[3], head, data)
PY
expect_error "NaN weights are refused" "holds NaN values" \
  "$bin/s2dm-sample" "$work/nan.safetensors" --steps 2 --count 1 --grid "$work/nan.png"
check "... and no image is written" test ! -e "$work/nan.png"
python3 - "$work/noise-nan.npy" "$work/noise-huge.npy" <<'PY'
import struct, sys
def npy(path, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 32, 32), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
                           + struct.pack("<1024f", *values))
npy(sys.argv[1], [float("nan")] + [0.0] * 1023)
npy(sys.argv[2], [3e38] * 1024)
PY
expect_error "NaN --init-noise is refused" "--init-noise .* holds NaN" \
  "$bin/s2dm-sample" "$ck" --init-noise "$work/noise-nan.npy" --steps 2 --grid "$work/n1.png"
expect_error "a sampler producing non-finite images is refused" "sampler's images 0..0 .* holds" \
  "$bin/s2dm-sample" "$ck" --init-noise "$work/noise-huge.npy" --steps 2 --npz "$work/n2.npz"
check "... and no .npz is written" test ! -e "$work/n2.npz"

# --- values that make no sense, refused before any work -----------------------------------------
expect_error "--skip >= T" "skip must be below the number of diffusion steps T = 1000" "${train[@]}" --skip 1000 --out "$work/x1"
expect_error "--lr inf" "lr must be a finite number" "${train[@]}" --lr inf --out "$work/x2"
expect_error "--steps beyond any real run" "steps must be in \[1, 1000000000000\]" "${train[@]}" --steps 99999999999999 --out "$work/x3"
expect_error "--seed -1" "'seed' must be a non-negative integer" "${train[@]}" --seed -1 --out "$work/x4"
echo '{"batch": 3.5}' >"$work/frac.json"
expect_error "a non-integer batch in a config" "'batch' must be an integer, got 3.5" "$bin/s2dm-train" --config "$work/frac.json" --out "$work/x5"
expect_error "--sample-steps beyond T" "sample_steps must be in \[1, 1000\]" \
  "$bin/s2dm-train" --config "$work/tiny.json" --sample-steps 5000 --out "$work/x6"
expect_error "a negative step in a checkpoint" "metadata 'step' = -5 is negative" \
  "$bin/s2dm-train" --resume "$work/negstep.safetensors" --steps 9 --out "$work/x7"
check "none of those created its output folder" test ! -e "$work/x1" -a ! -e "$work/x2" -a ! -e "$work/x6"
: >"$work/a-file"
expect_error "--out naming a file" "is a file; the output must be a folder" "${train[@]}" --steps 2 --out "$work/a-file"
expect_error "--count 0 reads as a range" "--count: must be in \[1, 100000000\], got 0" "$bin/s2dm-sample" "$ck" --count 0
expect_error "--grid in a missing folder, before sampling" "does not exist; create it first" \
  "$bin/s2dm-sample" "$ck" --steps 1000 --count 64 --grid "$work/no/such/dir/g.png"
expect_error "--grid naming a folder" "is a folder; give a file name" "$bin/s2dm-sample" "$ck" --grid "$work"
expect_error "an unknown S2DM_CONV, at the first convolution" "S2DM_CONV='wino' is not a convolution path: use auto" \
  env S2DM_CONV=wino "${train[@]}" --steps 2 --out "$work/x8"
check "... before any checkpoint" test ! -e "$work/x8/checkpoint.safetensors"

# --- non-regular files ------------------------------------------------------------------------
expect_error "--init-noise /dev/zero" "not a regular file" "$bin/s2dm-sample" "$ck" --init-noise /dev/zero --grid "$work/z.png"
mkfifo "$work/fifo"
expect_error "--init-noise FIFO (no hang)" "not a regular file" "$bin/s2dm-sample" "$ck" --init-noise "$work/fifo" --grid "$work/f.png"
expect_error "--resume FIFO (no hang)" "not a regular file" "$bin/s2dm-train" --resume "$work/fifo" --out "$work/x8"

# --- signals anywhere ---------------------------------------------------------------------------
"${train[@]}" --steps 100000 --log-every 1 --out "$work/hup" >"$work/hup.log" 2>&1 &
pid=$!; wait_for "$work/hup.log" "step       2/"
stop_time "$pid" HUP
check "SIGHUP between steps: exit 129 with a checkpoint (rc $rc, $ms ms)" test "$rc" -eq 129 -a -s "$work/hup/checkpoint.safetensors"

"$bin/s2dm-train" --config "$work/tiny.json" --steps 100000 --log-every 1 --sample-every 2 --sample-count 64 \
  --sample-steps 1000 --ckpt-every 1000 --out "$work/grid" >"$work/grid.log" 2>&1 &
pid=$!; wait_for "$work/grid.log" "step       2/"; sleep 0.5
stop_time "$pid" INT
check "SIGINT inside a periodic grid: exit 130 within 5 s (a loaded machine; about 0.1-0.3 s idle) (rc $rc, $ms ms)" test "$rc" -eq 130 -a "$ms" -lt 5000
check "... with a checkpoint of that step" grep -q "stopped at step 2 while sampling" "$work/grid.log"

"$bin/s2dm-train" --config "$work/tiny.json" --steps 2 --log-every 1 --sample-every 0 --sample-count 64 \
  --sample-steps 1000 --out "$work/final" >"$work/final.log" 2>&1 &
pid=$!; wait_for "$work/final.log" "step       2/"; sleep 0.5
stop_time "$pid" TERM
check "SIGTERM inside the final grid: exit 143, not 0 (rc $rc, $ms ms)" test "$rc" -eq 143 -a "$ms" -lt 5000
check "... the checkpoint of the last step is kept" test -s "$work/final/checkpoint.safetensors"

"$bin/s2dm-sample" "$ck" --steps 1000 --count 64 --grid "$work/s.png" >"$work/s.log" 2>&1 &
pid=$!; sleep 1.5
stop_time "$pid" INT
check "SIGINT inside s2dm-sample: exit 130 within 5 s (a loaded machine; about 0.1-0.3 s idle), nothing written (rc $rc, $ms ms)" \
  test "$rc" -eq 130 -a "$ms" -lt 5000 -a ! -e "$work/s.png"

echo "$fails failed"
test "$fails" -eq 0
