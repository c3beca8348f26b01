#!/usr/bin/env bash
# Installs dependencies, builds with warnings as errors, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --oracles  # with the Python references the comparison tests use
S2DM_CMAKE_ARGS="-DS2DM_WERROR=ON ${S2DM_CMAKE_ARGS:-}" bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
