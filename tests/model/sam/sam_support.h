// Helpers shared by the SAM tests: golden tensors, the SAM input built from the golden resized image, and the
// README tolerance max|Δ| ≤ 1e-4·(1 + max|ref|).
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>

#include "model/weights.h"

namespace glamm::sam_test {

/// One tensor of a golden safetensors file, as float32 (or its stored dtype when `keep_dtype`).
inline at::Tensor golden_tensor(const std::filesystem::path& file, const std::string& name, bool keep_dtype = false) {
  model::WeightStore store = model::WeightStore::open(file);
  at::Tensor t = store.get(name);
  if (!t.defined()) throw std::runtime_error(file.string() + ": no tensor " + name);
  return keep_dtype ? t : t.to(at::kFloat);
}

/// max |got − ref| and max |ref| (shapes must agree).
struct Delta {
  double max_abs = 0;
  double max_ref = 0;
  double bound() const { return 1e-4 * (1.0 + max_ref); }
  bool ok() const { return max_abs <= bound(); }
};

inline Delta compare(const at::Tensor& got, const at::Tensor& ref) {
  Delta d;
  d.max_abs = (got.to(at::kDouble) - ref.to(at::kDouble)).abs().max().item<double>();
  d.max_ref = ref.to(at::kDouble).abs().max().item<double>();
  return d;
}

/// The SAM encoder input of glamm-model.md §4.2 from the golden uint8 resized image [h,w,3]:
/// (x − mean)/std in float32, CHW, zero-padded at the bottom/right to size×size → [1,3,size,size].
inline at::Tensor sam_input_from_resized(const at::Tensor& resized_u8_hwc, int64_t size = 1024) {
  const at::Tensor mean = at::tensor({123.675f, 116.28f, 103.53f}).view({3, 1, 1});
  const at::Tensor stdv = at::tensor({58.395f, 57.12f, 57.375f}).view({3, 1, 1});
  const at::Tensor x = (resized_u8_hwc.permute({2, 0, 1}).to(at::kFloat) - mean) / stdv;
  const int64_t h = x.size(1), w = x.size(2);
  return at::constant_pad_nd(x, {0, size - w, 0, size - h}, 0.0).unsqueeze(0).contiguous();
}

}  // namespace glamm::sam_test
