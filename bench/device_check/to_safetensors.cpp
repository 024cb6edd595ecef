// Convert a checkpoint folder (torch.save .bin shards or safetensors, read by model::WeightStore) into one
// model.safetensors holding every tensor with its stored dtype and values, for the device-check build, which reads
// safetensors only (no libzip there). Built by the main build; used by bench/device_check/prepare.sh.
// Usage: to_safetensors CHECKPOINT_DIR OUT_FILE
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#if GLAMM_WITH_TORCH
#include <ATen/ATen.h>

#include "common/safetensors.h"
#include "model/weights.h"
#endif

int main(int argc, char** argv) {
#if !GLAMM_WITH_TORCH
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "to_safetensors: built without libtorch\n");
  return 2;
#else
  if (argc != 3) {
    std::fprintf(stderr, "usage: to_safetensors CHECKPOINT_DIR OUT_FILE\n");
    return 2;
  }
  try {
    glamm::model::WeightStore ws = glamm::model::WeightStore::open(argv[1]);
    std::vector<at::Tensor> keep;
    std::vector<glamm::safetensors::TensorToWrite> out;
    for (const std::string& name : ws.names()) {
      const at::Tensor t = ws.get(name).contiguous();
      std::string dtype;
      switch (t.scalar_type()) {
        case at::kFloat: dtype = "F32"; break;
        case at::kBFloat16: dtype = "BF16"; break;
        case at::kHalf: dtype = "F16"; break;
        case at::kDouble: dtype = "F64"; break;
        case at::kLong: dtype = "I64"; break;
        case at::kInt: dtype = "I32"; break;
        case at::kBool: dtype = "BOOL"; break;
        case at::kByte: dtype = "U8"; break;
        default:
          std::fprintf(stderr, "to_safetensors: %s has an unsupported dtype\n", name.c_str());
          return 2;
      }
      keep.push_back(t);
      out.push_back({name, dtype, t.sizes().vec(),
                     std::string_view(static_cast<const char*>(t.data_ptr()), t.nbytes())});
    }
    glamm::safetensors::write_file(argv[2], out, {{"format", "pt"}});
    std::printf("%zu tensors -> %s\n", out.size(), argv[2]);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "to_safetensors: %s\n", e.what());
    return 2;
  }
#endif
}
