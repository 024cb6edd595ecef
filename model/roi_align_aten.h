// RoIAlign forward (average pooling) written with ATen tensor operations only, so that it runs unchanged on any
// device libtorch supports (CPU, CUDA, ...): the device-agnostic counterpart of the plain C++ kernel
// roi_align_chw (model/roi_align.h), which only reads CPU memory. Same rules and reference: torchvision 0.14
// `roi_align` (CPU kernel, csrc/ops/cpu/roi_align_kernel.cpp with roi_align_common.h), spec glamm-model.md §1.4
// step 4 and §6.2.
//
// Float32 is bit-exact with roi_align_chw: every quantity is one elementwise tensor operation per C++ operation,
// in the C++ kernel's order (coordinates x1·scale − offset, roi size, bin = size / pooled, the adaptive grid
// ceil(size / pooled), sample = (start + p·bin) + (i + 0.5)·bin / grid, the range rule, the clamps, the bilinear
// weights hy·hx, hy·lx, ly·hx, ly·lx, the neighbour sum ((w0·v0 + w1·v1) + w2·v2) + w3·v3, the running sum over
// the grid samples in (iy, ix) order, and the final division by max(grid_h·grid_w, 1)). No reduction kernel is
// used for a sum (their order is not the kernel's), and no division by a host scalar (CUDA turns that into a
// multiplication by the reciprocal), so each operation rounds once, as the C++ statement does. Tested bit for bit
// against roi_align_chw in tests/model/region/roi_align_test.cpp on the CPU, and on CUDA where a GPU is present.
#pragma once

#include <ATen/core/Tensor.h>

#include "model/roi_align.h"

namespace glamm::model {

/// RoIAlign of a batch of RoIs over a batch of feature maps, on the feature's device.
///
/// `feature`: [B, C, H, W], floating dtype (float32, bfloat16, float16 or float64), any device and strides.
/// `rois`: [n, 5] rows (batch index, x1, y1, x2, y2) in the coordinates the boxes are given in (before
/// `params.spatial_scale`), any floating dtype and any device (copied to the feature's device and converted to the
/// compute dtype below, as the kernel's caller converts them to float32). Coordinates follow
/// the roi_align_chw rules: boxes outside the map, zero-area and inverted boxes (x2 < x1) are computed as given;
/// a NaN sample contributes 0.
/// Returns [n, C, pooled_height, pooled_width], contiguous, in the feature's dtype, on the feature's device
/// (n = 0 gives an empty [0, C, PH, PW]).
///
/// Precision: float32, bfloat16 and float16 features are computed in float32 — the coordinates, weights and sums
/// always in float32, the feature values up-cast exactly — and the result is rounded once to the feature's dtype
/// (round to nearest even). For float32 this is bit-equal to roi_align_chw on the same map and RoI; for bf16 it
/// equals roi_align_chw on the up-cast map, rounded to bf16. Computing in bf16 itself (as torchvision's kernel
/// would for its scalar type) would round sample coordinates to 8 significant bits — up to half a pixel off on a
/// 192-wide map — and sum in bf16; GLaMM's reference runs RoIAlign on a float32 copy of the map (glamm-model.md
/// §1.4), so float32 arithmetic with a bf16 result is the closer choice. float64 features are computed in float64.
///
/// Cost: one host synchronisation per call (the batch-index check, and with sampling_ratio ≤ 0 the largest
/// adaptive grid, which sizes the tensors: RoIs are padded to the largest grid and the padding contributes an
/// exact 0). Memory ≈ n·PH·PW·grid_h·grid_w·4·(C + 3) floats plus one [B·H·W, C] copy of the map.
///
/// Throws std::invalid_argument when a tensor is undefined or mis-shaped ([B, C, H, W] with C, H, W > 0; rois
/// [n, 5]), the feature is not of a floating dtype, a pooled size is not positive, or a batch index is not an
/// integer in [0, B) (NaN included).
/// Reference: torchvision 0.14 roi_align_forward_kernel_impl (CPU), via roi_align_chw.
at::Tensor roi_align_aten(const at::Tensor& feature, const at::Tensor& rois, const RoiAlignParams& params);

}  // namespace glamm::model
