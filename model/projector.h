// GLaMM V-L projector (`model.mm_projector`): Linear(mm_hidden → hidden) → GELU (exact, erf) → Linear(hidden →
// hidden), applied to the CLIP patch tokens. Weights stay in their stored dtype (bf16 in the releases) and are
// up-cast to fp32 per use.
// Reference: groundingLMM model/llava/model/multimodal_projector/builder.py (the code always builds mlp2x_gelu,
// whatever `mm_projector_type` says). Spec: glamm-model.md §1.2, §2.2.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "model/weights.h"

namespace glamm::model {

class Projector {
 public:
  /// Read `<prefix>0.{weight [hidden, in_dim], bias [hidden]}` and `<prefix>2.{weight [hidden, hidden], bias}`
  /// from `ws` (missing / mis-shaped keys are recorded for ws.finish()).
  static Projector load(WeightStore& ws, int64_t in_dim, int64_t hidden, const std::string& prefix = "model.mm_projector.");

  /// Move the weights (stored dtype) to `device`; forward() then moves its input there and returns results there.
  void to(const c10::Device& device);

  /// Compute dtype: at::kFloat (default, weights up-cast per use) or at::kBFloat16 (the official run: bf16
  /// weights and activations, each op rounding to bf16); converts the weights once. Throws std::invalid_argument
  /// for another dtype or bf16 → fp32.
  void set_compute_dtype(c10::ScalarType dtype);

  /// x [N, in_dim] (any float dtype) → [N, hidden] fp32 (bf16 values in bf16 mode). Throws std::invalid_argument for another width.
  at::Tensor forward(const at::Tensor& x) const;

  int64_t in_dim() const { return in_dim_; }
  int64_t out_dim() const { return hidden_; }

 private:
  int64_t in_dim_ = 0, hidden_ = 0;
  c10::ScalarType dtype_ = c10::ScalarType::Float;
  at::Tensor w0_, b0_, w2_, b2_;
};

}  // namespace glamm::model
