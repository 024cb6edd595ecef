// Sizes and special ids of a GLaMM checkpoint (config.json of the GLaMM folder) and of its CLIP ViT vision tower
// (config.json of the CLIP folder), plus the check that a config agrees with the stored tensor shapes.
// Torch-free: shapes come in through a lookup function, so this builds without libtorch too.
// Reference: transformers 4.29 LlamaConfig / CLIPVisionConfig / CLIPConfig (nested `vision_config`), groundingLMM
// model/GLaMM.py (bbox_token_idx, out_dim, num_level_reg_features). Spec: glamm-model.md §1.1–§1.3, §2.1, §6.3.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace glamm::model {

/// Stored shape of a tensor by name, or std::nullopt when the checkpoint has no such tensor.
using ShapeLookup = std::function<std::optional<std::vector<int64_t>>(const std::string& name)>;

/// LLaMA decoder sizes (HF LlamaConfig 4.29 fields the runner uses).
struct LlamaConfig {
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;  ///< must equal num_attention_heads (4.29 has no grouped-query attention)
  int64_t vocab_size = 32007;        ///< taken from `model.embed_tokens.weight` rows by check_shapes()
  int64_t max_position_embeddings = 4096;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;       ///< fixed in transformers 4.29 (no `rope_theta` key)

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
};

/// CLIP ViT vision tower sizes (HF CLIPVisionConfig).
struct ClipVisionConfig {
  int64_t hidden_size = 1024;
  int64_t intermediate_size = 4096;
  int64_t num_hidden_layers = 24;
  int64_t num_attention_heads = 16;
  int64_t image_size = 336;
  int64_t patch_size = 14;
  int64_t num_channels = 3;
  double layer_norm_eps = 1e-5;
  std::string hidden_act = "quick_gelu";  ///< only quick_gelu (x·sigmoid(1.702x)) is supported

  int64_t grid() const { return image_size / patch_size; }         ///< 24 for 336/14
  int64_t num_patches() const { return grid() * grid(); }          ///< 576
  int64_t num_positions() const { return num_patches() + 1; }      ///< 577 (CLS first)
  int64_t head_dim() const { return hidden_size / num_attention_heads; }

  /// Read a CLIP folder's config.json: a CLIPConfig with a nested `vision_config` object, or a flat
  /// CLIPVisionConfig. Absent keys keep the ViT-L/14-336 values above. Throws InputError(file, key, …) for
  /// unreadable JSON, a non-positive size, image_size not a multiple of patch_size, hidden_size not divisible
  /// by num_attention_heads, or a hidden_act other than quick_gelu.
  static ClipVisionConfig from_json_file(const std::filesystem::path& config_json);

  /// Check the sizes against the stored `vision_model.*` tensors (hidden size, intermediate size, layer count,
  /// patch size, channel count, number of positions). Throws InputError(config_file, key, …) naming the first
  /// config key that disagrees, with the tensor and both values. Missing tensors are not reported here (the
  /// component loader reports them, all at once, through WeightStore::finish).
  void check_shapes(const ShapeLookup& shape_of, const std::string& config_file) const;
};

/// The GLaMM config.json fields the runner uses.
struct GlammConfig {
  LlamaConfig llm;
  int64_t mm_hidden_size = 1024;          ///< CLIP width fed to the projector
  int64_t mm_vision_select_layer = -2;    ///< hidden_states index (negative: from the end) of the global tokens
  int64_t num_level_reg_features = 4;     ///< CLIP levels the region encoder uses
  int64_t out_dim = 256;                  ///< text_hidden_fcs output (SAM prompt width)
  int64_t sam_mask_decoder_num_heads = 8; ///< `glamm_runner.sam_mask_decoder_num_heads` (not inferable from shapes)
  int64_t bbox_token_id = 32002;          ///< `bbox_token_idx`
  int64_t seg_token_id = 32004;           ///< `[SEG]` (added token; not in config.json)
  int64_t image_token_id = -200;          ///< IMAGE_TOKEN_INDEX placeholder in prompt ids
  int64_t bos_token_id = 1;
  int64_t eos_token_id = 2;
  int64_t pad_token_id = 0;

  /// Read the GLaMM folder's config.json. Absent keys keep the released 7B values above; `vocab_size` is read
  /// but the runner takes the vocabulary from the embedding shape (glamm-model.md §2.1), see check_shapes().
  /// Throws InputError(file, key, …) for unreadable JSON, a non-integer or non-positive size, hidden_size not
  /// divisible by num_attention_heads, num_key_value_heads ≠ num_attention_heads, mm_vision_select_layer ≥ 0,
  /// or a `rope_scaling` that is not null.
  static GlammConfig from_json_file(const std::filesystem::path& config_json);

  /// Check the LLM, projector and text_hidden_fcs sizes against the stored tensors: hidden_size
  /// (embed_tokens columns), vocab_size (embed_tokens rows, lm_head rows; when config.json names a different
  /// vocab_size that is an error too), intermediate_size (gate_proj rows), num_hidden_layers (layers 0..L−1
  /// present, L absent), mm_hidden_size (mm_projector.0 columns), out_dim (text_hidden_fcs.0.2 rows).
  /// Sets llm.vocab_size from the embedding. Throws InputError(config_file, key, …) for the first key that
  /// disagrees; missing tensors are left to the component loaders.
  void check_shapes(const ShapeLookup& shape_of, const std::string& config_file);

  /// Whether config.json named vocab_size (then it must agree with the embedding).
  bool vocab_size_given = false;
};

}  // namespace glamm::model
