#!/usr/bin/env bash
# End to end through the command-line programs on tiny settings: train -> checkpoint -> resume ->
# sample with every sampler and output format, and bad input rejected with a message and non-zero
# exit. Usage: e2e_cli.sh BUILD_DIR
set -euo pipefail
bin="$1/tools"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/cli_checks.sh"

cat >"$work/tiny.json" <<'JSON'
{"model": {"ch": 16, "ch_mult": [1, 2], "num_res_blocks": 1, "attn_resolutions": [16],
           "dropout": 0.1, "in_channels": 1, "out_channels": 1, "resolution": 32, "groups": 8},
 "preset": "fmnist-small", "batch": 4, "lr": 0.001, "ema_decay": 0.9}
JSON

"$bin/s2dm-train" --config "$work/tiny.json" --steps 4 --ckpt-every 2 --log-every 2 \
  --sample-every 0 --sample-count 4 --sample-steps 3 --out "$work/run" >"$work/train.log"
check "train writes a checkpoint" test -s "$work/run/checkpoint.safetensors"
check "train writes a sample grid" test -s "$work/run/samples/step_0000004.png"
check "train logs progress" grep -q "step       4/4  loss" "$work/train.log"
check "train writes metrics" test "$(wc -l <"$work/run/metrics.jsonl")" -eq 2

"$bin/s2dm-train" --resume "$work/run/checkpoint.safetensors" --steps 6 --out "$work/run" >"$work/resume.log"
check "resume continues from step 4" grep -q "resumed from .* at step 4" "$work/resume.log"
check "resume reaches step 6" grep -q "done: 6 steps" "$work/resume.log"

ck="$work/run/checkpoint.safetensors"
for s in ddim ddpm pndm-s pndm-f deis; do
  "$bin/s2dm-sample" "$ck" --sampler "$s" --steps 4 --count 3 --batch 2 \
    --grid "$work/$s.png" --folder "$work/$s" --npz "$work/$s.npz" >/dev/null
  check "sample $s: grid" test -s "$work/$s.png"
  check "sample $s: folder" test -s "$work/$s/000002.png"
  check "sample $s: npz" test -s "$work/$s.npz"
done
"$bin/s2dm-sample" "$ck" --weights model --eta 1 --spacing quadratic --steps 5 --count 2 --grid "$work/raw.png" >/dev/null
check "raw weights, eta 1, quadratic steps" test -s "$work/raw.png"
"$bin/s2dm-sample" "$ck" --interpolate 5 --count 2 --steps 3 --grid "$work/interp.png" >/dev/null
check "slerp interpolation grid" test -s "$work/interp.png"
# Several step counts: the same noises at each, one file per count, the grids side by side.
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $3*256+$4 "x" $7*256+$8}'; }
"$bin/s2dm-sample" "$ck" --steps 4,2 --count 3 --batch 2 --grid-count 2 --grid "$work/cmp.png" \
  --npz "$work/cmp{steps}.npz" >"$work/cmp.log"
"$bin/s2dm-sample" "$ck" --steps 4 --count 3 --batch 3 --grid-count 2 --grid "$work/one.png" \
  --npz "$work/one.npz" >/dev/null
check "several --steps: one npz per count" test -s "$work/cmp2.npz"
check "several --steps: the same noise as one count alone" cmp -s "$work/cmp4.npz" "$work/one.npz"
check "--grid-count 2: a 2-image grid" test "$(png_size "$work/one.png")" = 70x36
check "several --steps: grids side by side, 8 pixels apart" test "$(png_size "$work/cmp.png")" = 148x36
check "several --steps: each count logged" grep -q "sampled 3/3 (ddim, 2 steps" "$work/cmp.log"
expect_error "sample: several --steps need {steps} in --npz" "{steps}" \
  "$bin/s2dm-sample" "$ck" --steps 4,2 --npz "$work/x.npz"

# SIGINT: finish the step, checkpoint, exit 128 + 2.
"$bin/s2dm-train" --config "$work/tiny.json" --steps 100000 --log-every 1 --sample-every 0 \
  --out "$work/sig" >"$work/sig.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do grep -q "step       2/" "$work/sig.log" 2>/dev/null && break; sleep 0.1; done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGINT exits with 130" test "$rc" -eq 130
check "SIGINT saves a checkpoint" grep -q "checkpoint saved" "$work/sig.log"
check "the interrupted checkpoint resumes" "$bin/s2dm-train" --resume "$work/sig/checkpoint.safetensors" \
  --steps 5 --sample-every 0 --out "$work/sig"

expect_error "train: bad batch" "batch must be in \[1, 1000000\], got 0" "$bin/s2dm-train" --batch 0 --out "$work/x"
expect_error "train: non-numeric flag" "could not be converted\|not a valid\|Could not convert" "$bin/s2dm-train" --steps many
expect_error "train: unknown flag" "--bogus" "$bin/s2dm-train" --bogus
expect_error "train: unknown preset" "unknown model preset 'giant'" "$bin/s2dm-train" --preset giant
expect_error "train: missing data" "/nonexistent" "$bin/s2dm-train" --data-path /nonexistent --out "$work/x"
expect_error "train: no GPU" "not available" "$bin/s2dm-train" --device cuda --out "$work/x"
expect_error "train: resume cannot change the model" "cannot change" "$bin/s2dm-train" --resume "$ck" --preset cifar10
printf 'not a checkpoint' >"$work/bad.safetensors"
expect_error "sample: corrupt checkpoint" "bad.safetensors" "$bin/s2dm-sample" "$work/bad.safetensors"
expect_error "sample: missing checkpoint" "nope.safetensors" "$bin/s2dm-sample" "$work/nope.safetensors"
expect_error "sample: unknown sampler" "sampler" "$bin/s2dm-sample" "$ck" --sampler euler
expect_error "sample: wrong preset for the weights" "shape" "$bin/s2dm-sample" "$ck" --preset cifar10

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all end-to-end checks passed"
