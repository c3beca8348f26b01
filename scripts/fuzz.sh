#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) into ./build-fuzz with clang, ASan and UBSan, writes their
# seed corpora, runs each target in turn and prints one line per target. Exits non-zero when any
# target finds a crash, a leak, a timeout or an out-of-memory (or fails to run).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     # default 60; `scripts/fuzz.sh 10` is the short CI run
#
# Environment: S2DM_FUZZ_TARGETS="npy idx ..." runs only those; S2DM_FUZZ_RUNS=N also stops each
# target after N executions (whichever of time and count comes first); S2DM_FUZZ_TIMEOUT=S is the
# wall-clock seconds one input may take (default 10; raise it when the machine is shared, as a
# starved process passes any limit).
# Findings land in build-fuzz/artifacts/<target>/ (rerun one with build-fuzz/fuzz/<target> FILE);
# logs in build-fuzz/logs/; the corpus grows in build-fuzz/corpus/<target>/ from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2; }
runs="${S2DM_FUZZ_RUNS:-}"
read -r -a targets <<<"${S2DM_FUZZ_TARGETS:-safetensors npy npz idx cifar10 image train_config}"

# Debian 12's clang is clang-14; libFuzzer and the sanitizer runtimes are in libclang-rt-14-dev
# (only recommended by clang-14, so named here), and clang's OpenMP is libomp-14-dev.
bash scripts/install-deps.sh clang-14 libclang-rt-14-dev libomp-14-dev
cc=clang-14 cxx=clang++-14

build="build-fuzz"
sanitize="-fsanitize=address,undefined -fsanitize=fuzzer-no-link -fno-sanitize-recover=all"
flags="$sanitize -fno-omit-frame-pointer -Wno-pass-failed -Wno-psabi"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
mkdir -p "$build"
if ! { CC=$cc CXX=$cxx cmake -S . -B "$build" -DS2DM_FUZZ=ON -DS2DM_CUDA=OFF -DS2DM_MPI=OFF \
         -DS2DM_BUILD_TESTS=OFF -DS2DM_BUILD_BENCHMARKS=OFF -DS2DM_CPU_ARCH_FLAGS=-march=x86-64-v2 \
         -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
         -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
         "${launcher[@]}" &&
       cmake --build "$build" -j "$(nproc)" --target s2dm-fuzz-seeds "${targets[@]/#/fuzz_}"; } \
     >"$build/build.log" 2>&1; then
  tail -40 "$build/build.log"
  echo "fuzz build failed (full log: $build/build.log)" >&2
  exit 1
fi

# Seeds are rewritten every run (same names); what libFuzzer added before stays.
"$build/fuzz/s2dm-fuzz-seeds" "$build/corpus"
# Inputs that once failed (fuzz/regressions/, also checked by tests/test_reader_limits.cpp).
mkdir -p "$build/corpus/fuzz_image" && cp fuzz/regressions/* "$build/corpus/fuzz_image/"

# The targets rewrite an input file every iteration; on a disk file system that waits on
# writeback, so the scratch directory goes on a tmpfs when there is one.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

mkdir -p "$build/logs"
echo "fuzzing ${#targets[@]} targets, ${seconds} s each${runs:+ (at most $runs runs)}; $(clang++-14 --version | head -1)"
failed=0
for t in "${targets[@]}"; do
  name="fuzz_$t"
  art="$build/artifacts/$name"
  log="$build/logs/$name.log"
  rm -rf "$art"
  mkdir -p "$art" "$build/corpus/$name"
  set +e
  "$build/fuzz/$name" "$build/corpus/$name" -max_total_time="$seconds" ${runs:+-runs=$runs} \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout="${S2DM_FUZZ_TIMEOUT:-10}" -print_final_stats=1 \
    -artifact_prefix="$art/" >"$log" 2>&1
  status=$?
  set -e
  execs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec:/ {print $2}' "$log")
  time=$(awk '/^Done [0-9]+ runs in/ {print $5}' "$log")
  found=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  if [ -n "$found" ] || [ "$status" -ne 0 ]; then failed=1; fi
  printf '%-18s executions %-10s time %-5s s  exec/s %-7s crashes %-3s exit %s\n' "$name" \
    "${execs:-?}" "${time:-?}" "${rate:-?}" "${found:-0}" "$status"
  if [ "$status" -ne 0 ]; then grep -m3 -E 'ERROR|runtime error|SUMMARY' "$log" | sed 's/^/    /' || true; fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzzing found problems: see $build/logs/ and $build/artifacts/" >&2
  exit 1
fi
echo "fuzzing: no findings"
