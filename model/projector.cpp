// V-L projector forward (Linear → exact GELU → Linear, fp32). See projector.h.
#include "model/projector.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <stdexcept>

namespace glamm::model {

Projector Projector::load(WeightStore& ws, int64_t in_dim, int64_t hidden, const std::string& prefix) {
  Projector p;
  p.in_dim_ = in_dim;
  p.hidden_ = hidden;
  p.w0_ = ws.get(prefix + "0.weight", {hidden, in_dim});
  p.b0_ = ws.get(prefix + "0.bias", {hidden});
  p.w2_ = ws.get(prefix + "2.weight", {hidden, hidden});
  p.b2_ = ws.get(prefix + "2.bias", {hidden});
  return p;
}

void Projector::to(const c10::Device& device) {
  for (at::Tensor* t : {&w0_, &b0_, &w2_, &b2_}) *t = t->to(device);
}

void Projector::set_compute_dtype(c10::ScalarType dtype) {
  if (!switch_to_bf16(dtype, dtype_ == at::kBFloat16, "projector")) return;
  c10::InferenceMode guard;
  for (at::Tensor* t : {&w0_, &b0_, &w2_, &b2_}) *t = t->to(at::kBFloat16);
  dtype_ = dtype;
}

at::Tensor Projector::forward(const at::Tensor& x) const {
  c10::InferenceMode guard;
  if (x.dim() != 2 || x.size(1) != in_dim_)
    throw std::invalid_argument("projector input must be [N, " + std::to_string(in_dim_) + "], got " +
                                shape_text(x.sizes().vec()));
  if (dtype_ == at::kBFloat16) {  // Linear, GELU, Linear in bf16, each rounding its result
    const at::Tensor h = at::gelu(at::linear(x.to(w0_.device(), at::kBFloat16), w0_, b0_));
    return at::linear(h, w2_, b2_).to(at::kFloat);
  }
  at::Tensor h = at::linear(x.to(w0_.device(), at::kFloat), as_dtype(w0_, at::kFloat), as_dtype(b0_, at::kFloat));
  h = at::gelu(h);  // approximate = "none": the erf form of nn.GELU()
  return at::linear(h, as_dtype(w2_, at::kFloat), as_dtype(b2_, at::kFloat));
}

}  // namespace glamm::model
