#!/usr/bin/env bash
# The main job: install dependencies, build, and run the engine demo (a miniature UNet learning to
# predict noise on synthetic images, CPU). The S²-DM trainer replaces this demo once it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/tools/s2dm-demo --out out/demo "$@"
