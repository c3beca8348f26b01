#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer: builds the tests and the tools without CUDA into
# build-asan/ and runs them: the Catch2 suite except what runs on the SIMT emulator ([simt],
# [device], [backend_ops]: its fibers switch stacks with swapcontext, which ASan cannot follow;
# those kernels run unsanitized in the main suite), then the end-to-end and reliability scripts on
# the sanitized s2dm-train and s2dm-sample, and the s2dm-fid checks. Any report
# fails the run (halt_on_error); leaks count too. Warnings are the main build's business (-Werror
# there): GCC reports false maybe-uninitialized warnings in libstdc++ under -fsanitize.
#
#   bash scripts/sanitize.sh [CATCH2_FILTER]
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-"~[backend_ops]~[simt]~[device]"}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DS2DM_CUDA=OFF -DS2DM_MPI=OFF \
  -DS2DM_BUILD_BENCHMARKS=OFF -DS2DM_WERROR=OFF "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build build-asan -j "$(nproc)" --target s2dm_tests s2dm-train s2dm-sample s2dm-fid s2dm-compare-checkpoints
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0
export OMP_NUM_THREADS=2
t0=$SECONDS
build-asan/tests/s2dm_tests "$filter"
bash tests/e2e_cli.sh build-asan
bash tests/reliability_cli.sh build-asan
bash tests/fid_cli.sh build-asan
echo "sanitizers: clean (ASan + UBSan, Catch2 '$filter', e2e_cli, reliability_cli, fid_cli) in $((SECONDS - t0)) s"
