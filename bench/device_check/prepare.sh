#!/usr/bin/env bash
# Prepare, on a development machine, what the GPU check carries to a GPU machine that has only PyTorch, CMake and
# nvcc (no apt, no network, no ../shared): writes the git-ignored folder bench/device_data with
#   tiny-glamm/   the tiny golden checkpoint as one model.safetensors + config.json (the device-check build reads
#                 safetensors only), converted by build/bench/to_safetensors;
#   golden/       the golden tensors of the six generation cases and the two images (inputs and expected tokens);
#   include/      nlohmann/json headers (the only library the device-check build needs besides libtorch).
# About 30 MB. Never commit it (it is copied from ../shared for this purpose only).
# Usage: bench/device_check/prepare.sh [BUILD_DIR (build)]    (GLAMM_SHARED: the shared folder, default ../shared)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
shared=${GLAMM_SHARED:-$root/../shared}
out=$root/bench/device_data
[ -x "$build/bench/to_safetensors" ] || { echo "prepare.sh: build $build/bench/to_safetensors first (ninja -C $build to_safetensors)" >&2; exit 2; }
[ -d "$shared/golden/model/tiny-glamm" ] || { echo "prepare.sh: $shared/golden/model not found (set GLAMM_SHARED)" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out/tiny-glamm" "$out/golden" "$out/include"
"$build/bench/to_safetensors" "$shared/golden/model/tiny-glamm" "$out/tiny-glamm/model.safetensors"
cp "$shared/golden/model/tiny-glamm/config.json" "$out/tiny-glamm/"
for img in COCO_val2014_000000391895 surfer; do
  cp "$shared/golden/model/golden/image__$img.safetensors" "$out/golden/"
  for task in gcg regcap1 regcap2; do cp "$shared/golden/model/golden/${task}__$img.safetensors" "$out/golden/"; done
  cp "$shared/golden/model/golden/gcg__$img.json" "$out/golden/"
done
deps=$(echo '#include <nlohmann/json.hpp>' | ${CXX:-c++} -x c++ -E -H - 2>&1 >/dev/null || true)
nl=$(printf '%s\n' "$deps" | sed -n 's/^\.* \(.*nlohmann\/json\.hpp\)$/\1/p' | head -n 1)
[ -n "$nl" ] || { echo "prepare.sh: nlohmann/json.hpp not found (install nlohmann-json3-dev)" >&2; exit 2; }
cp -r "$(dirname "$nl")" "$out/include/"
du -sh "$out"
