#!/usr/bin/env bash
# Install the Debian packages glamm-eval needs (idempotent, non-interactive) and build it in build/.
# Usage: scripts/setup.sh [--no-build] [--sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  nlohmann-json3-dev libfmt-dev libcli11-dev libsimdjson-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libstemmer-dev libutf8proc-dev libzip-dev zlib1g-dev libssl-dev
  wordnet-base liblink-grammar-dev link-grammar-dictionaries-en
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  chromium
  libtorch-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

[ "${1:-}" = "--no-build" ] && exit 0

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
