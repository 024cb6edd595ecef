// Helpers shared by the torch model tests (LLM, CLIP, weights, region encoder): golden safetensors tensors as
// at::Tensor and the golden README tolerance (max |Δ| ≤ 1e-4 × (1 + max |ref|)).
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/safetensors.h"

namespace glamm::testing {

/// A golden tensor as a CPU at::Tensor (F32 → float, I64 → int64, U8 → uint8, BF16 → bfloat16); a copy.
inline at::Tensor golden_tensor(const safetensors::File& f, const std::string& name) {
  const safetensors::TensorView& t = f.at(name);
  at::ScalarType st = at::kFloat;
  if (t.dtype == "I64") st = at::kLong;
  else if (t.dtype == "U8") st = at::kByte;
  else if (t.dtype == "BF16") st = at::kBFloat16;
  else if (t.dtype != "F32") ADD_FAILURE() << name << ": unexpected golden dtype " << t.dtype;
  at::Tensor out = at::empty(t.shape, at::TensorOptions().dtype(st));
  if (t.nbytes) std::memcpy(out.data_ptr(), t.data, t.nbytes);
  return out;
}

/// Golden int64 tensor as a vector (flattened).
inline std::vector<int64_t> golden_ids(const safetensors::File& f, const std::string& name) {
  at::Tensor t = golden_tensor(f, name).flatten().contiguous();
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

struct Parity {
  double max_abs = 0;  ///< max |got − ref|
  double max_ref = 0;  ///< max |ref|
  double tol = 0;      ///< allowed max |Δ|
};

/// Compare `got` with `ref` (same shape) under max |Δ| ≤ rel × (1 + max|ref|) (+ abs); prints the figure.
inline Parity expect_close(const at::Tensor& got, const at::Tensor& ref, const std::string& what, double rel = 1e-4,
                           double abs_tol = 0) {
  Parity p;
  EXPECT_EQ(got.sizes().vec(), ref.sizes().vec()) << what;
  if (got.sizes() != ref.sizes()) return p;
  if (ref.numel() == 0) return p;
  const at::Tensor g = got.to(at::kDouble), r = ref.to(at::kDouble);
  p.max_abs = (g - r).abs().max().item<double>();
  p.max_ref = r.abs().max().item<double>();
  p.tol = abs_tol > 0 ? abs_tol : rel * (1 + p.max_ref);
  std::cout << "[parity] " << what << ": max|d| = " << p.max_abs << " (max|ref| " << p.max_ref << ", tol " << p.tol
            << ")\n";
  EXPECT_LE(p.max_abs, p.tol) << what << " max|ref| " << p.max_ref;
  EXPECT_FALSE(std::isnan(p.max_abs)) << what;
  return p;
}

}  // namespace glamm::testing
