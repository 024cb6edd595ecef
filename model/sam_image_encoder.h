// SAM ViT image encoder (the GLaMM grounding encoder, `model.grounding_encoder.image_encoder.*`): patch embedding,
// absolute position embedding, windowed and global transformer blocks with decomposed relative positions, and the
// conv/LayerNorm2d neck. fp32 compute on ATen ops only (libtorch 1.13 and 2.x).
// Reference: segment_anything modeling/image_encoder.py (ImageEncoderViT, Block, Attention, get_rel_pos,
// add_decomposed_rel_pos, window_partition, window_unpartition, PatchEmbed) and modeling/common.py (LayerNorm2d,
// MLPBlock), as vendored in groundingLMM model/SAM. Spec: glamm-model.md §1.5, §2.2, §6.3.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/weights.h"

namespace glamm::model {

/// LayerNorm2d of segment_anything common.py: normalise every pixel over the channel axis.
/// x [N,C,H,W] float32; weight, bias [C]; eps > 0. Returns [N,C,H,W] float32:
/// w[c]·(x − mean_c)/sqrt(var_c + eps) + b[c], mean and biased variance over C. Throws std::invalid_argument for a
/// non-4-D input or a weight/bias that is not [C].
at::Tensor layer_norm_2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps);

/// window_partition (image_encoder.py): x [B,H,W,C] → windows [B·nH·nW, ws, ws, C], after zero-padding H and W at
/// the bottom/right up to multiples of `window` (nH = Hp/ws). `padded_hw` receives (Hp, Wp). Windows are ordered
/// row-major over the window grid, per batch item. Throws std::invalid_argument for window <= 0 or a non-4-D x.
at::Tensor sam_window_partition(const at::Tensor& x, int64_t window, std::pair<int64_t, int64_t>& padded_hw);

/// window_unpartition: the inverse of sam_window_partition. windows [B·nH·nW, ws, ws, C], padded_hw (Hp, Wp),
/// original_hw (H, W) → [B,H,W,C] (padding cropped away). Throws std::invalid_argument when the window count does
/// not divide into whole images.
at::Tensor sam_window_unpartition(const at::Tensor& windows, int64_t window, std::pair<int64_t, int64_t> padded_hw,
                                  std::pair<int64_t, int64_t> original_hw);

/// get_rel_pos (image_encoder.py) for the sizes SAM uses: rel_pos [2·max(q,k)−1, C] → R [q_size, k_size, C] with
/// R[i,j] = rel_pos[i·sq − j·sk + (k_size−1)·sk] (sq = max(k/q,1), sk = max(q/k,1); for q = k simply
/// rel_pos[i − j + k − 1]). The reference resizes a table of another length with linear interpolation; this
/// runner never needs that (§1.5) and throws std::invalid_argument instead.
at::Tensor sam_rel_pos_table(int64_t q_size, int64_t k_size, const at::Tensor& rel_pos);

/// Sizes of one SAM ViT, all read from tensor shapes (glamm-model.md §6.3).
struct SamImageEncoderConfig {
  int64_t image_size = 0;       ///< input side in pixels (patch · grid): 1024
  int64_t patch = 0;            ///< patch side: 16
  int64_t grid = 0;             ///< tokens per side: 64 (from pos_embed)
  int64_t dim = 0;              ///< embedding width: 1280 (ViT-H), 48 (tiny)
  int64_t heads = 0;            ///< dim / head_dim: 16 (ViT-H), 3 (tiny)
  int64_t head_dim = 0;         ///< rel_pos_h.shape[1]: 80 (ViT-H), 16 (tiny)
  int64_t mlp_dim = 0;          ///< lin1 rows: 5120 (ViT-H)
  int64_t out_chans = 0;        ///< neck width: 256 (real), 32 (tiny)
  std::vector<int64_t> window;  ///< per block: window side (14), or 0 for a global block (rel-pos rows 2·grid−1)
  double ln_eps = 1e-6;         ///< LayerNorm eps of the blocks and the neck
};

/// The SAM ViT image encoder with its weights (fp32, CPU).
class SamImageEncoder {
 public:
  /// One transformer block's parameters (names as in the checkpoint below `blocks.N.`).
  struct Block {
    at::Tensor norm1_w, norm1_b, qkv_w, qkv_b, proj_w, proj_b, rel_pos_h, rel_pos_w;
    at::Tensor norm2_w, norm2_b, lin1_w, lin1_b, lin2_w, lin2_b;
  };
  /// All parameters (names as below `image_encoder.`).
  struct Weights {
    at::Tensor patch_w;    ///< patch_embed.proj.weight [dim,3,p,p]
    at::Tensor patch_b;    ///< patch_embed.proj.bias [dim]
    at::Tensor pos_embed;  ///< [1,grid,grid,dim]
    std::vector<Block> blocks;
    at::Tensor neck0_w;           ///< neck.0.weight [out,dim,1,1]
    at::Tensor neck1_w, neck1_b;  ///< neck.1 LayerNorm2d [out]
    at::Tensor neck2_w;           ///< neck.2.weight [out,out,3,3]
    at::Tensor neck3_w, neck3_b;  ///< neck.3 LayerNorm2d [out]
  };

  /// Build from explicit weights (converted to contiguous fp32). Infers the configuration from the shapes:
  /// dim from patch_w, grid from pos_embed, head_dim from rel_pos_h.shape[1], window = (rows+1)/2 or global when
  /// rows = 2·grid−1. Throws std::invalid_argument naming the parameter when a shape is inconsistent (e.g. dim not
  /// a multiple of head_dim, rel-pos tables of different shapes, a missing tensor).
  explicit SamImageEncoder(Weights weights);

  /// Read every parameter under `prefix` (default the GLaMM name) from `store`; the depth is the number of
  /// consecutive `blocks.N.norm1.weight` keys. Missing or mis-shaped keys are recorded in the store; this throws
  /// the store's full report (WeightStore::finish over `prefix`) when any of them is missing or wrong, so a
  /// returned encoder is complete. Throws InputError (from the store) or std::invalid_argument (inconsistent
  /// shapes).
  static SamImageEncoder load(WeightStore& store, const std::string& prefix = "model.grounding_encoder.image_encoder.");

  /// ImageEncoderViT.forward: image [B,3,S,S] float32 (S = image_size; SAM-normalised and zero-padded, glamm-model.md §4.2)
  /// → image embeddings [B,out_chans,grid,grid] float32. Global attention is computed one head at a time so the
  /// ViT-H 4096×4096 score matrix never exists for all 16 heads at once. Runs under InferenceMode. Throws
  /// std::invalid_argument for a wrong input shape or dtype.
  at::Tensor forward(const at::Tensor& image) const;

  const SamImageEncoderConfig& config() const { return config_; }

  /// Compute dtype: at::kFloat (default, the exactness reference) or at::kBFloat16 (the official run's
  /// model.bfloat16() with `image.bfloat16()`: weights rounded to bf16 once, every op in bf16 — the op order is the
  /// reference's, so each op rounds where the reference's does). forward() then takes fp32 or bf16 pixels and
  /// returns bf16 embeddings. Throws std::invalid_argument for another dtype or bf16 → fp32.
  void set_compute_dtype(c10::ScalarType dtype);

  /// Move the weights to `device` ("cuda:0", …); forward() then moves its input there and returns results there.
  void to(const c10::Device& device);

 private:
  /// Call f on every weight tensor (set_compute_dtype, to).
  void for_each_weight(const std::function<void(at::Tensor&)>& f);
  at::Tensor block_forward(const Block& blk, int64_t window, const at::Tensor& x) const;
  at::Tensor attention(const Block& blk, const at::Tensor& x) const;

  Weights w_;
  SamImageEncoderConfig config_;
  bool bf16_ = false;
};

}  // namespace glamm::model
