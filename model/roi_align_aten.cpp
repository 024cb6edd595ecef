// RoIAlign with ATen tensor operations (see roi_align_aten.h). Each line below mirrors one statement of
// roi_align_chw (model/roi_align.cpp) and does its arithmetic as one elementwise operation per C++ operation, in
// the same order, so that float32 results are bit-equal.
#include "model/roi_align_aten.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace glamm::model {
namespace {

std::string shape_of(const at::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

/// The sample positions of every RoI along one axis (y or x): [n, pooled, grid] tensors.
struct AxisSamples {
  at::Tensor valid;      ///< bool: −1 ≤ coordinate ≤ size (false for NaN)
  at::Tensor low, high;  ///< int64 neighbour indices in [0, size); 0 where not valid
  at::Tensor frac, rest; ///< compute dtype: l = coordinate − low and h = 1 − l (roi_align_chw's ly/hy, lx/hx)
};

/// `start`, `bin`, `grid` ([n], compute dtype; grid holds the integer grid size as a float) → the samples
/// start + p·bin + (i + 0.5)·bin / grid for p < pooled, i < grid_max, with the range rule and clamps of
/// roi_align_chw's bilinear_sample applied per axis. Samples with i ≥ the RoI's own grid are computed too (the
/// caller masks them out), so every value here must be safe to compute: invalid coordinates are replaced by 0
/// before they become indices.
AxisSamples axis_samples(const at::Tensor& start, const at::Tensor& bin, const at::Tensor& grid, int64_t pooled,
                         int64_t grid_max, int64_t size) {
  const auto opts = start.options();
  const int64_t n = start.size(0);
  const at::Tensor s = start.view({n, 1, 1}), b = bin.view({n, 1, 1}), g = grid.view({n, 1, 1});
  const at::Tensor p = at::arange(pooled, opts).view({1, pooled, 1});              // (float)ph, exact
  const at::Tensor i = at::arange(grid_max, opts).add(0.5).view({1, 1, grid_max});  // (float)(iy + 0.5f), exact
  // start_h + (float)ph * bin_h + (float)(iy + 0.5f) * bin_h / (float)grid_h, evaluated left to right.
  const at::Tensor coord = at::add(s, at::mul(p, b)) + at::div(at::mul(i, b), g);

  AxisSamples a;
  // Kept when −1 ≤ coordinate ≤ size; written so that NaN is not kept.
  a.valid = at::logical_and(coord >= -1, coord <= static_cast<double>(size));
  // `if (y <= 0) y = 0`; samples that are not kept become 0 as well (their weights are zeroed by the caller).
  at::Tensor c = at::where(at::logical_and(a.valid, coord > 0), coord, at::zeros_like(coord));
  const at::Tensor low = c.to(at::kLong);  // (int64_t)y: truncation, = floor since c ≥ 0
  // low ≥ size−1 → low = high = size−1 and the coordinate becomes (float)(size−1).
  const at::Tensor top = low >= size - 1;
  a.low = at::clamp_max(low, size - 1);
  a.high = at::clamp_max(low + 1, size - 1);
  c = at::where(top, at::full_like(c, static_cast<double>(size - 1)), c);
  a.frac = c - a.low.to(c.scalar_type());  // ly = y − (float)y_low
  a.rest = at::ones_like(a.frac) - a.frac;  // hy = 1 − ly
  return a;
}

/// The adaptive grid of roi_align_chw, (int)ceil(roi_size / pooled) = (int)ceil(bin), as int64 ≥ 0. A grid ≤ 0
/// samples nothing; so does a value outside the int range or NaN (undefined in the C++ cast; on x86 it gives
/// INT_MIN, i.e. no samples), which is mapped to 0 here on every device.
at::Tensor adaptive_grid(const at::Tensor& bin) {
  const at::Tensor g = at::ceil(bin);
  const at::Tensor in_range = at::logical_and(g >= 1, g < 2147483648.0);
  return at::where(in_range, g, at::zeros_like(g)).to(at::kLong);
}

}  // namespace

at::Tensor roi_align_aten(const at::Tensor& feature, const at::Tensor& rois, const RoiAlignParams& p) {
  if (!feature.defined() || !rois.defined()) throw std::invalid_argument("roi_align_aten: undefined tensor");
  if (feature.dim() != 4 || feature.size(1) <= 0 || feature.size(2) <= 0 || feature.size(3) <= 0) {
    throw std::invalid_argument("roi_align_aten: feature must be [B, C, H, W] with C, H, W > 0, got " +
                                shape_of(feature));
  }
  if (!at::isFloatingType(feature.scalar_type())) {
    throw std::invalid_argument(std::string("roi_align_aten: feature must be of a floating dtype, got ") +
                                c10::toString(feature.scalar_type()));
  }
  if (rois.dim() != 2 || rois.size(1) != 5) {
    throw std::invalid_argument("roi_align_aten: rois must be [n, 5], got " + shape_of(rois));
  }
  if (p.pooled_height <= 0 || p.pooled_width <= 0) {
    throw std::invalid_argument("roi_align_aten: pooled size must be positive, got " +
                                std::to_string(p.pooled_height) + "x" + std::to_string(p.pooled_width));
  }
  const int64_t B = feature.size(0), C = feature.size(1), H = feature.size(2), W = feature.size(3);
  const int64_t n = rois.size(0), PH = p.pooled_height, PW = p.pooled_width;
  const at::ScalarType out_type = feature.scalar_type();
  if (n == 0) return at::empty({0, C, PH, PW}, feature.options());

  // Compute dtype: float32 (float64 for float64 maps). Constants are one-element tensors on the device: a
  // division by a host scalar would be done as a multiplication by its reciprocal on CUDA (not bit-exact).
  const at::ScalarType ct = out_type == at::kDouble ? at::kDouble : at::kFloat;
  const auto opts = feature.options().dtype(ct);
  auto constant = [&](double v) { return at::full({1}, v, opts); };  // (float)v for float32, as the kernel
  const at::Tensor r = rois.to(feature.device(), ct);

  // Per RoI ([n]): start = x1·scale − offset; size = end − start (not aligned: max(size, 1)); bin = size / pooled.
  const at::Tensor scale = constant(p.spatial_scale), offset = constant(p.aligned ? 0.5 : 0.0);
  const at::Tensor start_w = r.select(1, 1) * scale - offset;
  const at::Tensor start_h = r.select(1, 2) * scale - offset;
  const at::Tensor end_w = r.select(1, 3) * scale - offset;
  const at::Tensor end_h = r.select(1, 4) * scale - offset;
  at::Tensor roi_w = end_w - start_w, roi_h = end_h - start_h;
  if (!p.aligned) {  // std::max(size, 1.0f): 1 where size < 1, NaN kept
    roi_w = at::where(roi_w < 1, at::ones_like(roi_w), roi_w);
    roi_h = at::where(roi_h < 1, at::ones_like(roi_h), roi_h);
  }
  const at::Tensor bin_h = roi_h / constant(static_cast<double>(PH));
  const at::Tensor bin_w = roi_w / constant(static_cast<double>(PW));
  const bool adaptive = p.sampling_ratio <= 0;
  const at::Tensor grid_h = adaptive ? adaptive_grid(bin_h) : at::full({n}, p.sampling_ratio, opts.dtype(at::kLong));
  const at::Tensor grid_w = adaptive ? adaptive_grid(bin_w) : at::full({n}, p.sampling_ratio, opts.dtype(at::kLong));
  // count = max(grid_h·grid_w, 1). With a grid ≤ 0 the sum is 0 and 0 / count = 0 for any count ≥ 1, so the
  // clamped grids give the kernel's result.
  const at::Tensor count = at::clamp_min(grid_h * grid_w, 1).to(ct).view({n, 1, 1, 1});

  // The one host synchronisation: batch indices valid? largest grids (they size the tensors below).
  const at::Tensor batch = r.select(1, 0);
  const at::Tensor bad = at::logical_not(at::logical_and(at::logical_and(batch >= 0, batch < static_cast<double>(B)),
                                                         batch == at::floor(batch)));
  const at::Tensor stats = at::stack({bad.any().to(at::kLong), grid_h.max(), grid_w.max()}).to(at::kCPU);
  const int64_t* st = stats.data_ptr<int64_t>();
  if (st[0] != 0) {
    const int64_t k = at::nonzero(bad).select(1, 0)[0].item<int64_t>();
    throw std::invalid_argument("roi_align_aten: roi " + std::to_string(k) + ": batch index " +
                                std::to_string(batch[k].item<double>()) + " is not an integer in [0, " +
                                std::to_string(B) + ")");
  }
  const int64_t GH = st[1], GW = st[2];
  if (GH <= 0 || GW <= 0) return at::zeros({n, C, PH, PW}, feature.options());  // no RoI samples anything

  const AxisSamples ys = axis_samples(start_h, bin_h, grid_h.to(ct), PH, GH, H);
  const AxisSamples xs = axis_samples(start_w, bin_w, grid_w.to(ct), PW, GW, W);
  // Samples as [n, PH, PW, GH, GW]: y varies with (ph, iy), x with (pw, ix).
  auto Y = [&](const at::Tensor& t) { return t.view({n, PH, 1, GH, 1}); };
  auto X = [&](const at::Tensor& t) { return t.view({n, 1, PW, 1, GW}); };
  const at::Tensor valid = at::logical_and(Y(ys.valid), X(xs.valid));
  const at::Tensor zero = at::zeros({1}, opts);
  // Bilinear weights hy·hx, hy·lx, ly·hx, ly·lx; a sample outside the map has weights 0 and reads offset 0 of
  // its channel plane, as the kernel's empty Sample does (so a non-finite value there propagates the same way).
  const at::Tensor w[4] = {at::where(valid, Y(ys.rest) * X(xs.rest), zero),
                           at::where(valid, Y(ys.rest) * X(xs.frac), zero),
                           at::where(valid, Y(ys.frac) * X(xs.rest), zero),
                           at::where(valid, Y(ys.frac) * X(xs.frac), zero)};
  const at::Tensor y_low = Y(ys.low) * W, y_high = Y(ys.high) * W;
  const at::Tensor offsets = at::stack({y_low + X(xs.low), y_low + X(xs.high), y_high + X(xs.low),
                                        y_high + X(xs.high)}, -1);  // [n, PH, PW, GH, GW, 4]
  const at::Tensor plane_base = (batch.to(at::kLong) * (H * W)).view({n, 1, 1, 1, 1, 1});
  const at::Tensor rows = at::where(valid.unsqueeze(-1), offsets, at::zeros_like(offsets)) + plane_base;

  // The map as rows of channels ([B·H·W, C]); gather the 4 neighbours of every sample, up-cast exactly.
  const at::Tensor table = feature.permute({0, 2, 3, 1}).reshape({B * H * W, C});
  const at::Tensor v = table.index_select(0, rows.reshape({-1})).to(ct).view({n, PH, PW, GH, GW, 4, C});
  // w0·v0 + w1·v1 + w2·v2 + w3·v3, left to right.
  at::Tensor value = w[0].unsqueeze(-1) * v.select(5, 0);
  for (int64_t k = 1; k < 4; ++k) value = value + w[k].unsqueeze(-1) * v.select(5, k);  // [n, PH, PW, GH, GW, C]

  // Running sum over the grid in (iy, ix) order, as `acc +=` does (a reduction kernel would reorder it). Grid
  // positions beyond a RoI's own (adaptive) grid add an exact +0; the sum starts at +0 and so is never −0, so
  // adding +0 leaves it bit-identical.
  at::Tensor acc = at::zeros({n, PH, PW, C}, opts);
  for (int64_t iy = 0; iy < GH; ++iy) {
    for (int64_t ix = 0; ix < GW; ++ix) {
      at::Tensor term = value.select(4, ix).select(3, iy);
      if (adaptive) {
        const at::Tensor inside = at::logical_and(grid_h > iy, grid_w > ix).view({n, 1, 1, 1});
        term = at::where(inside, term, zero);
      }
      acc = acc + term;
    }
  }
  return (acc / count).permute({0, 3, 1, 2}).to(out_type).contiguous();
}

}  // namespace glamm::model
