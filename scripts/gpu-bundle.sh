#!/usr/bin/env bash
# Packs this machine's CUDA build for a GPU machine that cannot install packages: the test,
# benchmark and tool binaries (stripped), the shared libraries they need that are neither glibc nor
# CUDA (fmt, OpenBLAS, stb...), and Fashion-MNIST, into gpu-bundle/bundle.tar.xz. On the GPU
# machine, scripts/gpu-bundle-run.sh unpacks it and runs the checks; CUDA's own libraries (cuBLAS,
# cuDNN, the runtime) are taken from that machine, so both must have the same CUDA major version.
#
#   bash scripts/gpu-bundle.sh [BUILD_DIR] [--with-train-set]
#
# BUILD_DIR defaults to build/ (configured with S2DM_CUDA=ON). --with-train-set adds the 60k-image
# training split (26 MB) for the main_job step; without it only the 10k-image t10k split goes.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build train_set=0
for a in "$@"; do
  if [ "$a" = --with-train-set ]; then train_set=1; else build=$a; fi
done
grep -q 'S2DM_CUDA_BUILT:INTERNAL=ON' "$build/CMakeCache.txt" ||
  { echo "gpu-bundle: $build has no CUDA build; configure it with -DS2DM_CUDA=ON" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/data"
bins=(tests/s2dm_tests tests/s2dm-backend-ops tools/s2dm-train tools/s2dm-sample
      benchmarks/bench_cuda_kernels benchmarks/bench_cuda_train_step benchmarks/bench_allreduce
      benchmarks/bench_fid_features)
for b in "${bins[@]}"; do strip -o "$stage/bin/$(basename "$b")" "$build/$b"; done
# Every library the binaries load, less glibc, the C++ runtime (a newer one there serves, and an
# older one here would break the CUDA torch run beside) and CUDA's (which the GPU machine has).
ldd "$stage"/bin/* | awk '/=> \//{print $3}' | sort -u |
  grep -vE '/(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so|/libcu(blas|blasLt|dart|dnn)[^/]*\.so' |
  while read -r lib; do cp -L "$lib" "$stage/lib/"; done
# NCCL is loaded at run time and is not bundled (218 MB): the GPU machine's CUDA torch brings one
# (site-packages/nvidia/nccl/lib), which gpu-bundle-run.sh puts on LD_LIBRARY_PATH.
# The t10k split for the smoke run; the training split only on request (the carry is size-limited).
[ "$train_set" = 1 ] && cp /usr/share/datasets/fashion-mnist/train-*.gz "$stage/data/"
cp /usr/share/datasets/fashion-mnist/t10k-*.gz "$stage/data/" 2>/dev/null ||
  echo "gpu-bundle: no Fashion-MNIST (apt-get install dataset-fashion-mnist); the training run is skipped there" >&2
# The commit the binaries were built from (the GPU machine's copy of .git may be stale).
{ git rev-parse HEAD; git status --porcelain | grep -q . && echo '(with uncommitted changes)'; } \
  >"$stage/commit.txt" 2>/dev/null || true
mkdir -p gpu-bundle
tar -C "$stage" -cJf gpu-bundle/bundle.tar.xz .
ls -la gpu-bundle/bundle.tar.xz
