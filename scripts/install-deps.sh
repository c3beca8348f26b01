#!/usr/bin/env bash
# Installs the Debian 12 packages s2dm builds and tests with; skips what is already installed.
# Extra packages can be named as arguments (e.g. python3-torch for golden files and benchmarks).
# --oracles adds the Python references the comparison tests run against (numpy, scipy, torch,
# torchvision, matplotlib, pytorch-fid, safetensors; the tests that need them skip without them): Debian
# packages, and pytorch-fid and safetensors from PyPI, pinned and without dependencies.
set -euo pipefail
oracles=0
args=()
for a in "$@"; do
  if [ "$a" = "--oracles" ]; then oracles=1; else args+=("$a"); fi
done
pkgs=(cmake g++ make pkg-config ccache libfmt-dev catch2 libopenblas-openmp-dev nlohmann-json3-dev libcli11-dev dataset-fashion-mnist
      zlib1g-dev libstb-dev libpng-dev libturbojpeg0-dev libdnnl-dev openmpi-bin libopenmpi-dev ${args[@]+"${args[@]}"})
if [ "$oracles" = 1 ]; then
  pkgs+=(python3-numpy python3-scipy python3-matplotlib python3-torch python3-torchvision python3-pil python3-pip)
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$oracles" = 1 ] && ! /usr/bin/python3 -c "import pytorch_fid, safetensors" 2>/dev/null; then
  echo "installing: pytorch-fid 0.3.0, safetensors 0.8.0 (pip, for /usr/bin/python3)"
  $sudo /usr/bin/python3 -m pip install -q --no-deps --break-system-packages pytorch-fid==0.3.0 safetensors==0.8.0
fi
