#!/usr/bin/env bash
# The GPU check of issue #16, for a lent GPU machine (PyTorch with CUDA, CMake, nvcc; no apt, no network, no
# ../shared), in one call of the device tool, in well under 8 minutes:
#   1. configure and build the device-check mode (-DGLAMM_DEVICE_CHECK=ON, bench/device_check/CMakeLists.txt)
#      against that PyTorch's libtorch;
#   2. gpu_check: the six golden tiny-model LLM cases on the GPU in fp32 (tokens must equal the CPU golden) and
#      bf16 (agreement), batch 4 = batch 1, then real-size LLaMA-7B decode (batch 1 and 8) / prefill, CLIP ViT-L
#      and SAM ViT-H encoder times with random bf16 weights;
#   3. eager_llama.py: the same LLaMA layers in PyTorch eager on the same GPU, for the ratio.
# Before the call, on the development machine: bench/device_check/prepare.sh (writes the git-ignored
# bench/device_data the call must carry). Device-tool call, from the repository root:
#   run(command="OUT=$OUT bash bench/gpu_check.sh", carry=["bench/device_data"], timeout_s=540)
# Results: $OUT/gpu_check.{txt,json}, $OUT/eager.{txt,json}, $OUT/build.log; bench/README.md says how to read them.
# Dry run without a GPU: GPU_CHECK_DEVICE=cpu GPU_CHECK_ARGS="--layers 1 --prefill 16 --decode 2" (the eager part
# then needs a Python with torch).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/gpu_out}
py=${PYTHON:-python3}
mkdir -p "$out"
cd "$root"
[ -d bench/device_data/tiny-glamm ] || { echo "gpu_check.sh: bench/device_data missing (run bench/device_check/prepare.sh and carry it)" | tee "$out/error.txt"; exit 2; }
{ nvidia-smi -L; "$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'; } > "$out/device.txt" 2>&1
cat "$out/device.txt"
prefix=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')
start=$(date +%s)
if ! cmake -S . -B build-device -DGLAMM_DEVICE_CHECK=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
     -DGLAMM_DEVICE_INCLUDE="$root/bench/device_data/include" > "$out/configure.log" 2>&1; then
  tail -30 "$out/configure.log"; exit 3
fi
if ! cmake --build build-device -j"$(nproc)" > "$out/build.log" 2>&1; then
  grep -m 20 -E "error|Error" "$out/build.log"; exit 3
fi
echo "build: $(( $(date +%s) - start )) s"
timeout 300 ./build-device/bench/device_check/gpu_check --data bench/device_data --device "${GPU_CHECK_DEVICE:-cuda}" \
  ${GPU_CHECK_ARGS:-} --json "$out/gpu_check.json" \
  2>&1 | tee "$out/gpu_check.txt"
timeout 120 "$py" bench/device_check/eager_llama.py --json "$out/eager.json" 2>&1 | tee "$out/eager.txt"
echo "total: $(( $(date +%s) - start )) s"
