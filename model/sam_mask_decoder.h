// GLaMM's pixel decoder: the SAM prompt-encoder pieces it uses (dense positional encoding, no-mask embedding),
// the SAM mask decoder (two-way transformer, output upscaling, hypernetwork MLPs; single-mask output), the L-P
// projection `text_hidden_fcs` that turns [SEG] hidden states into prompts, and the mask post-processing to
// full-resolution binary masks as COCO compressed RLE. fp32 compute on ATen ops only (libtorch 1.13 and 2.x).
// Reference: segment_anything modeling/prompt_encoder.py (PromptEncoder.get_dense_pe, PositionEmbeddingRandom),
// modeling/mask_decoder.py (MaskDecoder.predict_masks, MLP), modeling/transformer.py (TwoWayTransformer,
// TwoWayAttentionBlock, Attention), modeling/sam.py (Sam.postprocess_masks) as vendored in groundingLMM
// model/SAM (with its text_embeds sparse prompt and per-prompt repeat of the image embedding); groundingLMM
// model/GLaMM.py (text_hidden_fcs, _generate_and_postprocess_masks) and eval/utils.py (mask_to_rle_pytorch).
// Spec: glamm-model.md §1.6, §1.7, §2.2, §4.5, §6.3.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "model/glamm.h"
#include "model/weights.h"

namespace glamm::model {

/// The two prompt-encoder tensors GLaMM uses (`prompt_encoder.*`).
class SamPromptEncoder {
 public:
  /// gaussian [2, F] (`pe_layer.positional_encoding_gaussian_matrix`), no_mask_embed [1, 2F]
  /// (`no_mask_embed.weight`). Throws std::invalid_argument for other shapes.
  SamPromptEncoder(at::Tensor gaussian, at::Tensor no_mask_embed);

  /// Reads the two tensors under `prefix` and marks the prompt-encoder parts GLaMM never runs (point and
  /// not-a-point embeddings, mask_downscaling) as ignored in `store`. Missing or mis-shaped tensors are recorded
  /// in the store (report them with WeightStore::finish before computing); a missing tensor throws InputError
  /// here via finish over `prefix`.
  static SamPromptEncoder load(WeightStore& store,
                               const std::string& prefix = "model.grounding_encoder.prompt_encoder.");

  /// get_dense_pe / PositionEmbeddingRandom.forward((h, w)): [1, 2F, h, w] float32. Channel c < F is
  /// sin(2π·((2·x−1)·G[0,c] + (2·y−1)·G[1,c])) with x = (j+0.5)/w, y = (i+0.5)/h; channel F+c is the cos.
  at::Tensor dense_pe(int64_t h, int64_t w) const;

  /// The dense prompt when no mask is given: no_mask_embed broadcast to [n, 2F, h, w] (an expanded view).
  at::Tensor no_mask_dense(int64_t n, int64_t h, int64_t w) const;

  int64_t dim() const { return no_mask_embed_.size(1); }

  /// Compute dtype: at::kFloat (default) or at::kBFloat16 (the official run's model.bfloat16(): the Gaussian
  /// matrix buffer and no_mask_embed rounded to bf16, so dense_pe() builds its grid and encoding in bf16 and
  /// returns bf16). Throws std::invalid_argument for another dtype or bf16 → fp32.
  void set_compute_dtype(c10::ScalarType dtype);
  /// Move the two tensors to `device`; dense_pe() and no_mask_dense() then return tensors there.
  void to(const c10::Device& device);

 private:
  at::Tensor gaussian_;       // [2, F]
  at::Tensor no_mask_embed_;  // [1, 2F]
};

/// Sizes of the SAM mask decoder; everything but `heads` comes from tensor shapes.
struct SamMaskDecoderConfig {
  int64_t dim = 0;              ///< transformer width: 256 (real), 32 (tiny)
  int64_t heads = 8;            ///< attention heads (config.json glamm_runner.sam_mask_decoder_num_heads; 8 real)
  int64_t depth = 0;            ///< two-way blocks: 2
  int64_t mlp_dim = 0;          ///< 2048 (real), 64 (tiny)
  int64_t cross_dim = 0;        ///< cross-attention internal width: dim/2
  int64_t num_mask_tokens = 0;  ///< 4 (3 multimask outputs + 1)
  int64_t upscale1 = 0;         ///< dim/4
  int64_t upscale2 = 0;         ///< dim/8 (hypernetwork output width)
};

/// The SAM mask decoder with its weights (fp32, CPU).
class SamMaskDecoder {
 public:
  /// One attention module (`q_proj`, `k_proj`, `v_proj`, `out_proj`).
  struct Attention {
    at::Tensor q_w, q_b, k_w, k_b, v_w, v_b, out_w, out_b;
  };
  /// One TwoWayAttentionBlock (`transformer.layers.N.*`); norms index 0..3 = norm1..norm4.
  struct Layer {
    Attention self_attn, token_to_image, image_to_token;
    at::Tensor norm_w[4], norm_b[4];
    at::Tensor lin1_w, lin1_b, lin2_w, lin2_b;
  };
  /// A 3-layer hypernetwork MLP (`output_hypernetworks_mlps.N.layers.{0,1,2}`).
  struct Mlp3 {
    at::Tensor w[3], b[3];
  };
  struct Weights {
    at::Tensor iou_token;    ///< [1, dim]
    at::Tensor mask_tokens;  ///< [K, dim]
    std::vector<Layer> layers;
    Attention final_attn;  ///< transformer.final_attn_token_to_image
    at::Tensor norm_final_w, norm_final_b;
    at::Tensor up0_w, up0_b;  ///< output_upscaling.0 ConvTranspose2d [dim, dim/4, 2, 2]
    at::Tensor up1_w, up1_b;  ///< output_upscaling.1 LayerNorm2d [dim/4]
    at::Tensor up3_w, up3_b;  ///< output_upscaling.3 ConvTranspose2d [dim/4, dim/8, 2, 2]
    std::vector<Mlp3> hyper;  ///< K hypernetwork MLPs
  };

  /// Build from explicit weights (converted to contiguous fp32) and the head count. Infers the other sizes from
  /// the shapes and checks them all; throws std::invalid_argument naming the parameter for an inconsistent
  /// shape, heads <= 0, or a width (dim, cross_dim) not divisible by heads.
  SamMaskDecoder(Weights weights, int64_t heads);

  /// Reads every parameter under `prefix` (the depth is the number of consecutive `transformer.layers.N` blocks)
  /// and marks the unused IoU head as ignored. Throws the store's full report (WeightStore::finish over
  /// `prefix`) for missing/mis-shaped keys, std::invalid_argument as the constructor.
  static SamMaskDecoder load(WeightStore& store, int64_t heads,
                             const std::string& prefix = "model.grounding_encoder.mask_decoder.");

  /// MaskDecoder.forward with multimask_output=False (predict_masks, then mask 0):
  /// image_embeddings [1 or n, dim, h, w]; image_pe [1, dim, h, w]; sparse prompts [n, T, dim] (GLaMM: T = 1,
  /// the projected [SEG] vector); dense prompts [n, dim, h, w] → low-res mask logits [n, 1, 4h, 4w] float32 (bf16 in bf16 mode).
  /// n = 0 gives [0, 1, 4h, 4w]. Runs under InferenceMode. Throws std::invalid_argument for shapes that do not fit.
  at::Tensor predict_low_res(const at::Tensor& image_embeddings, const at::Tensor& image_pe, const at::Tensor& sparse,
                             const at::Tensor& dense) const;

  const SamMaskDecoderConfig& config() const { return config_; }

  /// Compute dtype: at::kFloat (default) or at::kBFloat16 (the official run's model.bfloat16(): weights rounded
  /// to bf16 once; inputs cast to bf16 and every op in bf16 in the reference's order; predict_low_res() then
  /// returns bf16 logits, which sam_postprocess_masks up-casts as the reference's `masks.float()` does). Throws
  /// std::invalid_argument for another dtype or bf16 → fp32.
  void set_compute_dtype(c10::ScalarType dtype);
  /// Move the weights to `device`; predict_low_res() then moves its inputs there and returns results there.
  void to(const c10::Device& device);

 private:
  /// Call f on every weight tensor (set_compute_dtype, to).
  void for_each_weight(const std::function<void(at::Tensor&)>& f);
  at::Tensor attend(const Attention& a, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const;

  Weights w_;
  SamMaskDecoderConfig config_;
  bool bf16_ = false;
};

/// The L-P projection `text_hidden_fcs[0]`: Linear(D→D) → ReLU → Linear(D→out) → Dropout(0).
class TextHiddenProjection {
 public:
  /// w0 [D, D], b0 [D], w2 [out, D], b2 [out] (converted to contiguous fp32); throws std::invalid_argument for
  /// other shapes.
  TextHiddenProjection(at::Tensor w0, at::Tensor b0, at::Tensor w2, at::Tensor b2);
  /// Reads `<prefix>0.{weight,bias}` and `<prefix>2.{weight,bias}`; throws the store's report for missing keys.
  static TextHiddenProjection load(WeightStore& store, const std::string& prefix = "model.text_hidden_fcs.0.");
  /// hidden [n, D] (any float dtype; computed in fp32) → prompts [n, out] float32. Throws std::invalid_argument
  /// for a width other than D.
  at::Tensor forward(const at::Tensor& hidden) const;
  int64_t in_dim() const { return w0_.size(1); }
  int64_t out_dim() const { return w2_.size(0); }
  /// Compute dtype: at::kFloat (default) or at::kBFloat16 (the official run's model.bfloat16(): weights rounded to
  /// bf16 once, Linear/ReLU/Linear in bf16; forward() then returns fp32 tensors holding bf16 values). Throws
  /// std::invalid_argument for another dtype or bf16 → fp32.
  void set_compute_dtype(c10::ScalarType dtype);
  /// Move the weights to `device`; forward() then moves its input there and returns results there.
  void to(const c10::Device& device);

 private:
  at::Tensor w0_, b0_, w2_, b2_;
  bool bf16_ = false;
};

/// Sam.postprocess_masks: low-res logits [n, 1, h, w] → bilinear (align_corners=False) to image_size² → crop to
/// [:resized.first, :resized.second] → bilinear to original (H, W) → logits [n, H, W] float32. Throws
/// std::invalid_argument for a non-4-D input, a resize larger than image_size or an empty original size.
at::Tensor sam_postprocess_masks(const at::Tensor& low_res, std::pair<int64_t, int64_t> resized,
                                 std::pair<int64_t, int64_t> original, int64_t image_size = 1024);

/// The binary mask of GLaMM's evaluation: logit > 0 strictly (a logit of exactly 0 is background).
/// logits [H, W] float → [H, W] bool.
at::Tensor sam_binary_mask(const at::Tensor& logits);

/// One full-resolution logit map [H, W] → its binary mask (sam_binary_mask) as COCO compressed RLE (column-major
/// runs, pycocotools rleToString), size [H, W]. Throws std::invalid_argument for a non-2-D input.
PredictedMask sam_mask_to_rle(const at::Tensor& logits);

/// Every mask of [n, H, W] logits through sam_mask_to_rle, in order.
std::vector<PredictedMask> sam_masks_to_rle(const at::Tensor& logits);

/// GLaMM's mask step for one image (GLaMM.py _generate_and_postprocess_masks, glamm-model.md §4.5 steps 1–5): prompts
/// [n, dim] (text_hidden_fcs output) become sparse tokens [n, 1, dim], the dense prompt is no_mask_embed, the
/// positional encoding is the dense PE of the embedding grid; the decoder runs on image_embeddings [1, dim, h, w]
/// and the low-res masks are post-processed to full-resolution logits [n, H, W] float32 (n = 0 → [0, H, W]).
/// Throws std::invalid_argument for mismatched widths or sizes.
at::Tensor sam_full_res_logits(const SamPromptEncoder& prompt_encoder, const SamMaskDecoder& decoder,
                               const at::Tensor& image_embeddings, const at::Tensor& prompts,
                               std::pair<int64_t, int64_t> resized, std::pair<int64_t, int64_t> original,
                               int64_t image_size = 1024);

}  // namespace glamm::model
