#!/usr/bin/env bash
# Install the Debian packages glamm-eval needs (idempotent, non-interactive) and build it in build/.
#
# Usage: scripts/setup.sh [--all] [--no-build] [--sanitize]
#   (default)   the packages and the build of what the main job needs: the glamm-eval binary and its derived
#               METEOR resources (build/share/glamm-eval). No libtorch, no tests.
#   --all       everything: libtorch (BERT recall, the GLaMM runner), chromium (report checks), the plugins, the
#               tests and the benchmarks. The README's test command uses it; so does CI.
#   --no-build  install packages only.
#   --sanitize  also configure and build build-sanitize/ with AddressSanitizer + UBSan (implies --all's packages;
#               run its tests with ctest --test-dir build-sanitize).
set -euo pipefail
cd "$(dirname "$0")/.."

all=0 build=1 sanitize=0
for arg in "$@"; do
  case "$arg" in
    --all) all=1 ;;
    --no-build) build=0 ;;
    --sanitize) sanitize=1; all=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$arg' (see scripts/setup.sh --help)" >&2; exit 2 ;;
  esac
done

# What the glamm-eval binary needs to build and run the main job.
CORE_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  nlohmann-json3-dev libfmt-dev libcli11-dev libsimdjson-dev
  libgtest-dev libgmock-dev
  libstemmer-dev libutf8proc-dev libzip-dev zlib1g-dev libssl-dev libmimalloc-dev
  wordnet-base liblink-grammar-dev link-grammar-dictionaries-en
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
)
# The rest: libtorch for the model plugins, chromium for the report checks, a second locale and numpy for tests,
# and the Python package (python/): pybind11 and Python's headers to build it, pytest to test it, venv/pip/setuptools/
# wheel for the offline install check (scripts/python_install_check.sh).
EXTRA_PACKAGES=(
  libtorch-dev libopenblas0-pthread
  chromium
  locales python3-numpy
  python3-dev pybind11-dev python3-pytest python3-venv python3-pip python3-setuptools python3-wheel
)
PACKAGES=("${CORE_PACKAGES[@]}")
((all)) && PACKAGES+=("${EXTRA_PACKAGES[@]}")

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# A non-C locale for the tests that check results do not depend on the locale (Java tools misparse numbers under
# some locales; ours must not).
if ((all)) && ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  if [ -f /etc/locale.gen ]; then
    $SUDO sed -i 's/^# *\(de_DE.UTF-8 UTF-8\)/\1/' /etc/locale.gen
    grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' | $SUDO tee -a /etc/locale.gen > /dev/null
    $SUDO locale-gen > /dev/null || echo "setup: locale-gen failed; locale tests will fail under CI"
  fi
fi

((build)) || exit 0

jobs=$(nproc 2>/dev/null || echo 2)
# Debian's python3 (the one python3-dev, pybind11-dev, numpy and pytest belong to), not another on PATH.
python_args=()
[ -x /usr/bin/python3 ] && python_args=(-DPython_EXECUTABLE=/usr/bin/python3)
if ((all)); then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGLAMM_WITH_TORCH=ON -DGLAMM_BUILD_PYTHON=ON "${python_args[@]}"
  cmake --build build -j "$jobs"
else
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${python_args[@]}"
  cmake --build build -j "$jobs" --target glamm-eval
fi
if ((sanitize)); then
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGLAMM_SANITIZE=ON -DGLAMM_WITH_TORCH=OFF
  cmake --build build-sanitize -j "$jobs"
fi
