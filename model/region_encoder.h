// GLaMM region encoder (`model.region_encoder`, groundingLMM model/layers.py `MLVLROIQueryModule`): multi-level
// fusion of 4 CLIP layers (MLVLFuseModule), per-level RoIAlign, pconvs, flatten_linear + box position embedding,
// updims → one LLM-width vector per region box. Also the box preparation of eval/region_captioning/infer.py
// (normalise, round to fp16 then bf16) and the RoIs GLaMM derives from it (×224, rounded to bf16).
// Computation is float32 (the golden reference's mode: its hard-coded `.to(torch.bfloat16)` on the resized levels
// becomes a bf16 round trip that keeps fp32, README "Deviations" 2); weights stay in their stored dtype (bf16 in
// the releases) and are up-cast per layer when used (glamm-model.md §6.1). Spec: glamm-model.md §1.1 (region pyramid),
// §1.4, §2.2, §4.3, §6.2–6.4.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/glamm.h"
#include "model/weights.h"

namespace glamm::model {

/// Boxes as the reference feeds them to the region encoder: for each box, (x1·(336/W))/336, (y1·(336/H))/336,
/// (x2·(336/W))/336, (y2·(336/H))/336 in float64 (eval/region_captioning/infer.py: scale to 336, then normalise
/// by 336), then `.half().to(bfloat16)` (float64 → float16, which rounds through float32 as torch does, then
/// → bfloat16). Returns [n, 4] float32 holding those bf16 values (n = 0 gives [0, 4]).
/// Boxes partly or wholly outside the image, zero-area boxes and x2 < x1 / y2 < y1 are kept as given (the
/// reference does not clip or reorder them; RoIAlign then samples them as its rules say).
/// Throws InputError when image_width or image_height is not positive, when a coordinate is NaN or infinite
/// ("box k: x1 is NaN"), or when a normalised coordinate overflows float16 (|value| ≥ 65520 image sizes: the
/// reference would turn it into inf and produce NaN vectors).
at::Tensor prepare_region_boxes(const std::vector<RegionBox>& boxes, int64_t image_width, int64_t image_height);

/// The RoIs of `MlvlRoIExtractor.forward`: [n, 5] float32 rows (0, bf16(x1·224), bf16(y1·224), bf16(x2·224),
/// bf16(y2·224)) — batch index 0, the normalised box times 224 (not 336: kept from the reference) computed in
/// bf16 as the reference does, then cast to float32. `normalized_boxes`: [n, 4] from prepare_region_boxes
/// (values must be bf16-representable; any floating dtype). Throws InputError for a tensor not of shape [n, 4].
at::Tensor region_rois(const at::Tensor& normalized_boxes);

/// Intermediate tensors of one forward pass (for tests and debugging), all float32 on the CPU.
struct RegionTrace {
  at::Tensor boxes;      ///< [n, 4] prepare_region_boxes output
  at::Tensor rois;       ///< [n, 5] region_rois output
  at::Tensor pos_embed;  ///< [n, Dh] pos_embedd(boxes)
  at::Tensor roi_feats;  ///< [4, n, E, 14, 14] RoIAlign output per level
  std::vector<at::Tensor> fused;  ///< 4 × [E, S_l, S_l] MLVLFuse outputs, S = 192, 96, 48, 24
};

/// The loaded region encoder. Sizes come from the tensor shapes: E (= CLIP width; divisible by 64 for the
/// GroupNorm) from input_conv.0.weight [E, E+2, 1, 1], the position-MLP width P from pos_embedd.0.weight [P, 4],
/// Dh from flatten_linear.weight [Dh, E·14·14], the LLM width D from updims.weight [D, Dh]. The literals of the
/// reference stay: 4 levels (strides 14/8, 14/4, 14/2, 14), 5 fuse rounds, GroupNorm 64 groups eps 1e-5,
/// shuffle E/4 and remain E/2 channels, RoI 14×14 with sampling ratio 2, aligned, box scale 224.
/// forward() is const and may run on several threads at once.
class RegionEncoder {
 public:
  /// Ask `store` for every parameter under `prefix` (default "model.region_encoder."), checking shapes.
  /// Problems are recorded in the store, not thrown: call store.finish() before forward() (WeightStore
  /// contract). Throws InputError naming the checkpoint only when the sizes cannot be used at all (E not a
  /// positive multiple of 64, or input_conv.0.weight not 4-D [E, E+2, 1, 1]).
  static RegionEncoder load(WeightStore& store, const std::string& prefix = "model.region_encoder.");

  int64_t embed_dim() const { return embed_; }      ///< E
  int64_t hidden_dim() const { return hidden_; }    ///< Dh (flatten_linear / pos_embedd output)
  int64_t output_dim() const { return out_; }       ///< D (LLM hidden size)

  /// Region vectors [n, D] float32 for `boxes` (original-image pixels x1, y1, x2, y2, in `<bbox>` order) over an
  /// image of image_width × image_height pixels. `levels`: the CLIP hidden states of layers 14, 17, 20, 23
  /// without CLS (§1.1), [4, 576, E] (or [4, 1, 576, E]) float32, row-major 24×24 tokens. No boxes → [0, D]
  /// without running the encoder (the reference passes bboxes=None then). `trace`, when given, receives the
  /// intermediate tensors. Throws InputError for a `levels` tensor of another shape, and the errors of
  /// prepare_region_boxes. Reference: MLVLROIQueryModule.forward + MlvlRoIExtractor.forward.
  at::Tensor forward(const at::Tensor& levels, const std::vector<RegionBox>& boxes, int64_t image_width,
                     int64_t image_height, RegionTrace* trace = nullptr) const;

  /// The 4 fused feature maps [1, E, S, S] (S = 192, 96, 48, 24) of MLVLFuseModule for `levels` ([4, 576, E]
  /// float32): resize (bilinear, align_corners) to 192/96/48/24, bf16 round trip, coordinate channels,
  /// input_conv, 5 rounds of the shared fuse convs. Same errors as forward().
  std::vector<at::Tensor> fuse(const at::Tensor& levels) const;

  /// Compute dtype: at::kFloat (default: fp32 with the reference's bf16 round trips emulated) or at::kBFloat16
  /// (the official run, model/layers.py under model.bfloat16(): weights rounded to bf16 once; maps bf16 between
  /// ops; every bilinear resize in fp32 and cast back to bf16; the coordinate channels rounded to bf16; RoIAlign
  /// on an fp32 copy of the map, its result cast to bf16; pos_embedd, pconvs, flatten_linear and updims in bf16).
  /// fuse() then returns bf16 maps; forward()/extract() return fp32 tensors holding bf16 values. Throws
  /// std::invalid_argument for another dtype or bf16 → fp32.
  void set_compute_dtype(c10::ScalarType dtype);

  /// Move the weights to `device`; fuse()/extract()/forward() then move their inputs there and return results
  /// there (RoIAlign takes its ATen path on a non-CPU map, model/roi_align_aten.h).
  void to(const c10::Device& device);

  /// Region vectors [n, D] from fused maps (as fuse() returns) and prepared boxes [n, 4] (prepare_region_boxes):
  /// pos_embedd, RoIs, per-level RoIAlign, pconvs, sum, ReLU, flatten_linear, + pos embedding, updims.
  at::Tensor extract(const std::vector<at::Tensor>& fused, const at::Tensor& boxes, RegionTrace* trace = nullptr) const;

 private:
  struct Conv {
    at::Tensor weight, bias;  // stored dtype; bias may be undefined
  };
  struct Norm {
    at::Tensor weight, bias;
  };
  std::vector<Conv> input_conv_;  // 4 levels, 1×1
  std::vector<Conv> fuse_conv_;   // 5 rounds, 3×3 no bias
  std::vector<Norm> fuse_gn_;     // 5 rounds, GroupNorm(64)
  std::vector<Conv> pconv_;       // 4 levels, 3×3 with bias
  Conv pos0_, pos3_, flatten_, updims_;  // linear layers
  Norm pos2_, pos5_;                     // LayerNorms
  int64_t embed_ = 0, pos_hidden_ = 0, hidden_ = 0, out_ = 0;
  bool complete_ = false;  // every tensor present with its expected shape
  bool bf16_ = false;

  void require_complete() const;
  /// Call f on every weight tensor (set_compute_dtype, to).
  void for_each_weight(const std::function<void(at::Tensor&)>& f);
  /// x·Wᵀ + b in float32; a non-float32 weight is up-cast in row blocks.
  static at::Tensor linear(const at::Tensor& x, const Conv& layer);
};

/// RoIAlign (model/roi_align.h rules) over a map for a batch of RoIs: `feature` [B, C, H, W], `rois` [n, 5]
/// (batch index, x1, y1, x2, y2; any floating dtype, any device; used as float32, as float64 with a float64 map)
/// → [n, C, pooled, pooled] on the feature's device. A float32 CPU map runs the C++ kernel roi_align_chw
/// (channels split over threads); any other map — on a GPU, or bf16/fp16/fp64 — runs roi_align_aten
/// (model/roi_align_aten.h) on its own device, whose float32 results are bit-equal to the kernel's; the result
/// keeps the map's floating dtype (bf16/fp16 computed in float32 and rounded once; a non-floating map is used as
/// float32). Throws InputError for bad shapes or a batch index that is not an integer in [0, B).
/// Reference: torchvision 0.14 ops.roi_align(aligned=True).
at::Tensor roi_align(const at::Tensor& feature, const at::Tensor& rois, double spatial_scale, int pooled = 14,
                     int sampling_ratio = 2, bool aligned = true);

}  // namespace glamm::model
