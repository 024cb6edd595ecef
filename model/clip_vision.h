// CLIP ViT vision tower (HF transformers 4.29 `CLIPVisionModel`, inference) as GLaMM uses it: the global image
// tokens (hidden_states[mm_vision_select_layer] without CLS) and the multi-level features of the region encoder.
// Weights stay in their stored dtype and are up-cast to fp32 per use; all compute is fp32.
// Reference: transformers.models.clip.modeling_clip CLIPVisionEmbeddings / CLIPEncoderLayer / CLIPAttention /
// CLIPMLP (quick_gelu); groundingLMM model/llava/model/multimodal_encoder/clip_encoder.py `feature_select` and
// model/llava/llava_with_region_arch.py (hidden_states[-2::-3] reversed, last num_level_reg_features).
// Spec: glamm-model.md §1.1, §2.2 (CLIP keys).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "model/glamm_config.h"
#include "model/weights.h"

namespace glamm::model {

/// What the tower produces for one image (fp32, CPU).
struct ClipVisionOutput {
  at::Tensor patches;        ///< [num_patches, C]: hidden_states[select_layer] without CLS (576×1024 real)
  at::Tensor cls;            ///< [C]: CLS row of the same hidden state
  at::Tensor region_levels;  ///< [num_levels, num_patches, C]: hidden_states at region_level_indices(), no CLS
};

class ClipVisionTower {
 public:
  /// Read the `vision_model.*` parameters of `config` from `ws` (each get() records missing keys and shape
  /// mismatches; the caller calls ws.finish({"vision_model."}) before the first forward). Marks as ignored:
  /// vision_model.post_layernorm.*, vision_model.embeddings.position_ids, text_model.*, text_projection.*,
  /// visual_projection.*, logit_scale. `select_layer` is a negative hidden_states index (−2: the output of the
  /// second-to-last layer); `num_levels` is num_level_reg_features. Throws InputError(ws.path(), …) when the
  /// depth gives fewer than `num_levels` region levels or select_layer is out of range.
  static ClipVisionTower load(WeightStore& ws, const ClipVisionConfig& config, int64_t select_layer = -2,
                              int64_t num_levels = 4);

  /// Open a CLIP folder (config.json + pytorch_model.bin or model.safetensors), check the config against the
  /// shapes (ClipVisionConfig::check_shapes), load and finish. Throws InputError naming the file for every
  /// reading problem, a config that disagrees with the shapes, or missing / mis-shaped / unexpected keys.
  /// Random weights of `config`'s sizes (normal σ 0.02, LayerNorm 1/0, fp32), fixed seed — for benchmarks only.
  static ClipVisionTower random(const ClipVisionConfig& config, uint64_t seed = 0, int64_t select_layer = -2,
                                int64_t num_levels = 4);
  static ClipVisionTower load_folder(const std::filesystem::path& folder, int64_t select_layer = -2,
                                     int64_t num_levels = 4);

  /// Run the tower on CLIP-normalised pixels [1,3,S,S] or [3,S,S] (fp32; S = image_size). Runs the encoder
  /// layers only up to the deepest hidden state needed. Throws std::invalid_argument for another shape.
  ClipVisionOutput forward(const at::Tensor& pixel_values) const;

  /// Move the weights (stored dtype) to `device`; forward() then moves its input there and returns results there.
  void to(const c10::Device& device);

  /// Compute dtype: at::kFloat (default; weights up-cast per use, the exactness reference) or at::kBFloat16 (the
  /// official run: `vision_tower.to(bfloat16)`, pixels `.bfloat16()`, HF CLIP 4.29 in bf16 — every op rounds its
  /// result to bf16). Converts the weights once (no way back). forward() still returns fp32 tensors (bf16 values).
  /// Throws std::invalid_argument for another dtype or bf16 → fp32.
  void set_compute_dtype(c10::ScalarType dtype);

  /// hidden_states indices of the region levels, ascending ([14,17,20,23] for 24 layers, 4 levels).
  const std::vector<int64_t>& region_level_indices() const { return level_indices_; }
  /// hidden_states index of the global tokens (23 for 24 layers and select_layer −2).
  int64_t select_index() const { return select_index_; }
  const ClipVisionConfig& config() const { return config_; }

 private:
  struct Layer {
    at::Tensor ln1_w, ln1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
  };
  ClipVisionConfig config_;
  c10::ScalarType dtype_ = c10::ScalarType::Float;
  at::Tensor class_embedding_, patch_weight_, position_embedding_, pre_ln_w_, pre_ln_b_;
  std::vector<Layer> layers_;
  int64_t select_index_ = 0;
  std::vector<int64_t> level_indices_;
  /// select_index_ and level_indices_ from mm_vision_select_layer / num_level_reg_features; throws InputError
  /// naming `source` when they do not fit the tower's depth.
  void set_layers(int64_t select_layer, int64_t num_levels, const std::string& source);
};

}  // namespace glamm::model
