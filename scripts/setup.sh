#!/usr/bin/env bash
# Install the Debian packages glamm-eval needs (idempotent, non-interactive) and build it in build/.
# Usage: scripts/setup.sh [--no-build] [--sanitize]
#   --no-build   install the packages only
#   --sanitize   also configure and build build-sanitize/ with -DGLAMM_SANITIZE=ON (AddressSanitizer + UBSan;
#                run its tests with ctest --test-dir build-sanitize)
set -euo pipefail
cd "$(dirname "$0")/.."

no_build=0
sanitize=0
for arg in "$@"; do
  case "$arg" in
    --no-build) no_build=1 ;;
    --sanitize) sanitize=1 ;;
    -h|--help) sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$arg' (usage: scripts/setup.sh [--no-build] [--sanitize])" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  nlohmann-json3-dev libfmt-dev libcli11-dev libsimdjson-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libstemmer-dev libutf8proc-dev libzip-dev zlib1g-dev libssl-dev
  wordnet-base liblink-grammar-dev link-grammar-dictionaries-en
  libtorch-dev libopenblas0-pthread
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  chromium
  locales python3-numpy
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

# A non-C locale for the tests that check results do not depend on the locale (Java tools misparse numbers under
# some locales; ours must not).
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if [ -f /etc/locale.gen ]; then
    $SUDO sed -i 's/^# *\(de_DE.UTF-8 UTF-8\)/\1/' /etc/locale.gen
    grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' | $SUDO tee -a /etc/locale.gen > /dev/null
    $SUDO locale-gen > /dev/null || echo "setup: locale-gen failed; locale tests will be skipped"
  fi
fi

[ "$no_build" = 1 ] && exit 0

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
if [ "$sanitize" = 1 ]; then
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGLAMM_SANITIZE=ON
  cmake --build build-sanitize -j "$jobs"
fi
