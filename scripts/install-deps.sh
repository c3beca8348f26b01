#!/usr/bin/env bash
# Installs the Debian 12 packages s2dm builds and tests with; skips what is already installed.
# Extra packages can be named as arguments (e.g. python3-torch for golden files and benchmarks).
set -euo pipefail
pkgs=(cmake g++ make pkg-config ccache libfmt-dev catch2 libopenblas-openmp-dev nlohmann-json3-dev libcli11-dev dataset-fashion-mnist
      zlib1g-dev libstb-dev libpng-dev libturbojpeg0-dev libdnnl-dev openmpi-bin libopenmpi-dev "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
