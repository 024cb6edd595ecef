// RoIAlign forward (average pooling) over one float feature map, as a plain C++ kernel (no libtorch).
// Reimplements torchvision 0.14 `roi_align` (CPU kernel, csrc/ops/cpu/roi_align_kernel.cpp with
// roi_align_common.h), which the GLaMM golden reference uses in place of mmcv 1.4.7 `RoIAlign` (same rules;
// mmcv's default is aligned=True, pool_mode "avg"). Every step is done in float32 in the reference's order, so
// equal inputs give bit-equal outputs. Spec: glamm-model.md §1.4 step 4, §6.2. The same computation for any
// device, with ATen tensor operations and bit-equal in float32: model/roi_align_aten.h.
//
// Rules, for each output bin (ph, pw) of one RoI (x1, y1, x2, y2) in input-image coordinates:
//   offset     = aligned ? 0.5 : 0
//   start_x    = x1·scale − offset, end_x = x2·scale − offset      (y likewise)
//   roi_w      = end_x − start_x   (aligned: NOT clamped, so zero-area and inverted boxes are computed as is;
//                                   not aligned: max(roi_w, 1))
//   bin_w      = roi_w / pooled_w
//   grid_w     = sampling_ratio > 0 ? sampling_ratio : ceil(roi_w / pooled_w)
//   sample x   = start_x + pw·bin_w + (ix + 0.5)·bin_w / grid_w,   ix = 0 … grid_w−1
//   a sample with y < −1, y > H, x < −1 or x > W (or a NaN coordinate) contributes 0 but is still counted;
//   otherwise negative coordinates clamp to 0, low = (int)coord, and low ≥ size−1 gives low = high = size−1
//   (coordinate set to size−1); the value is the bilinear mix of the 4 neighbours
//   output     = (Σ samples) / max(grid_h·grid_w, 1)
#pragma once

#include <cstdint>

namespace glamm::model {

/// Settings of one RoIAlign layer. GLaMM's region encoder uses pooled 14×14, sampling_ratio 2, aligned, and
/// spatial_scale 1/stride with strides 14/8, 14/4, 14/2, 14 (scales 8/14, 4/14, 2/14, 1/14).
struct RoiAlignParams {
  int pooled_height = 14;
  int pooled_width = 14;
  int sampling_ratio = 2;      ///< samples per bin along each axis; ≤ 0: adaptive ceil(roi size / pooled size)
  double spatial_scale = 1.0;  ///< RoI coordinates × scale = feature-map coordinates; used as float32, as the
                               ///< reference converts its double argument to the tensor's type
  bool aligned = true;         ///< pixel-centre shift of −0.5 (mmcv default / torchvision aligned=True)
};

/// RoIAlign of one RoI over one C×H×W feature map.
/// `feature`: channels·height·width floats, row-major (C, H, W). `roi`: x1, y1, x2, y2 in the coordinates the
/// boxes are given in (before spatial_scale); any finite values, including boxes outside the map, zero-area
/// boxes and x2 < x1 (all computed by the rules above, as the reference does; NaN samples contribute 0).
/// `out`: channels·pooled_height·pooled_width floats, row-major (C, PH, PW); fully overwritten.
/// Throws std::invalid_argument when channels, height, width or a pooled size is not positive, or a pointer is
/// null. Reference: torchvision 0.14 roi_align_forward_kernel_impl (one RoI; the batch index is the caller's).
void roi_align_chw(const float* feature, int64_t channels, int64_t height, int64_t width, const float roi[4],
                   const RoiAlignParams& params, float* out);

}  // namespace glamm::model
