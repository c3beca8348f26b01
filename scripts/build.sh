#!/usr/bin/env bash
# Configures and builds s2dm into ./build (Release). Extra CMake flags: S2DM_CMAKE_ARGS.
# The CUDA backend is built when nvcc is found (-DS2DM_CUDA=AUTO); set S2DM_CMAKE_ARGS=-DS2DM_CUDA=OFF
# to skip it.
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# shellcheck disable=SC2086
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" ${S2DM_CMAKE_ARGS:-} >/dev/null
cmake --build build -j "$(nproc)"
