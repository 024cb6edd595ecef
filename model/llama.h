// LLaMA decoder (Vicuna-7B v1.5 as used by GLaMM), inference in fp32 with weights kept in their stored dtype
// (bf16 in the releases) and up-cast per use; with a key/value cache (prefill many tokens, then one at a time) or
// without (the whole sequence recomputed, as the reference's generate() with use_cache=False does).
// Math of transformers 4.29 modeling_llama: LlamaRMSNorm (variance in fp32), LlamaRotaryEmbedding (base 10000,
// cos/sin in fp32, rotate_half), LlamaAttention (scores / sqrt(head_dim), causal mask at finfo.min, clamp at
// finfo.min, softmax in fp32), LlamaMLP (down(silu(gate(x)) · up(x)), no biases), untied lm_head.
// Spec: glamm-model.md §0 (4.29 behaviour), §1.3, §2.2 (LLM keys), §5, §6.1–§6.2.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "model/glamm_config.h"
#include "model/weights.h"

namespace glamm::model {

/// ShapeLookup over a WeightStore (for GlammConfig/ClipVisionConfig::check_shapes).
ShapeLookup shape_lookup(const WeightStore& ws);

/// Keys and values of every layer for the positions processed so far (fp32, [heads, capacity, head_dim] per
/// layer, the first length() positions valid). When full it grows to max(needed, capacity + 256) positions
/// (model/llama.cpp), so a generation of n tokens copies the cache about n / 256 times. One cache per sequence;
/// not thread-safe.
class KvCache {
 public:
  /// Positions held (= the position of the next token).
  int64_t length() const { return length_; }
  /// Forget everything (keeps the allocation).
  void clear() { length_ = 0; }
  /// Bytes allocated for keys and values.
  int64_t bytes() const;

 private:
  friend class Llama;
  std::vector<at::Tensor> k_, v_;
  int64_t length_ = 0;
};

class Llama {
 public:
  /// Read `model.embed_tokens`, `model.layers.{0..L-1}.*`, `model.norm`, `lm_head` for `config` from `ws`
  /// (missing / mis-shaped keys are recorded for ws.finish(); call it before the first forward). Marks
  /// `model.layers.*.self_attn.rotary_emb.inv_freq` as ignored (4.29 persistent buffers; recomputed here).
  /// The vocabulary size is config.vocab_size (GlammConfig::check_shapes sets it from the embedding).
  static Llama load(WeightStore& ws, const LlamaConfig& config);

  /// Random weights (normal σ 0.02, copied from slices of one random pool; norms 1) in `dtype` with a fixed seed,
  /// for benchmarks and tests. `with_embeddings` false leaves out embed_tokens / lm_head (embed() and logits()
  /// then throw std::logic_error).
  static Llama random(const LlamaConfig& config, c10::ScalarType dtype, uint64_t seed = 0, bool with_embeddings = true);

  const LlamaConfig& config() const { return config_; }

  /// Token embeddings: ids int64 [T] → [T, hidden] fp32. Throws std::invalid_argument for an id outside
  /// [0, vocab_size) (the −200 image placeholder must be spliced out first, see generation.h).
  at::Tensor embed(const at::Tensor& ids) const;

  /// Run the decoder on inputs_embeds [T, hidden] (any float dtype) and return the final-RMSNorm hidden states
  /// [T, hidden] fp32 (the "hidden state" GLaMM uses for logits and [SEG]). Positions are cache->length() ..
  /// +T−1; the new keys/values are appended to `cache`. With cache == nullptr the sequence is processed alone
  /// from position 0 (full recomputation). Throws std::invalid_argument for another width or T = 0, and
  /// std::length_error past max_position_embeddings.
  at::Tensor forward(const at::Tensor& inputs_embeds, KvCache* cache = nullptr) const;

  /// Several sequences in one pass (batched decoding): inputs_embeds[b] [T_b, hidden] continues caches[b] (one
  /// cache per sequence, each at its own length; nullptr = that sequence alone from position 0). The linear layers
  /// read their weights once for all rows; RMSNorm, RoPE, attention and the MLP activation run per sequence, and
  /// every sequence's result is bit-identical to forward(inputs_embeds[b], caches[b]) (no padding: each sequence
  /// attends only to its own cache). Returns one [T_b, hidden] fp32 tensor per sequence. Throws
  /// std::invalid_argument for no sequences, a count mismatch, a cache given twice or a bad shape, and
  /// std::length_error past max_position_embeddings.
  std::vector<at::Tensor> forward_batch(const std::vector<at::Tensor>& inputs_embeds,
                                        const std::vector<KvCache*>& caches) const;

  /// lm_head: hidden [T, hidden] → logits [T, vocab] fp32.
  at::Tensor logits(const at::Tensor& hidden) const;
  /// lm_head for rows of different sequences: each row's logits bit-identical to logits() of that row alone.
  at::Tensor logits_rows(const at::Tensor& hidden) const;

  /// Move the weights (kept in their stored dtype) to `device` ("cuda:0", …); embed/forward/logits then move
  /// their inputs there and return results there. Throws c10::Error when the device is unavailable.
  void to(const c10::Device& device);
  /// Where the weights are (CPU after load()/random()).
  c10::Device device() const;

  /// Bytes of the weights as held (stored dtype, e.g. bf16).
  int64_t weight_bytes() const;

  /// Compute dtype. at::kFloat (default) is the exactness reference: fp32 math, weights kept in their stored dtype
  /// and up-cast per use. at::kBFloat16 follows the official evaluation (`model.bfloat16()`, transformers 4.29
  /// modeling_llama in bf16): weights converted to bf16 here (once; fp32 mode cannot be restored), activations
  /// bf16 between ops with each op rounding its result to bf16 (RMSNorm variance in fp32 then the normalised
  /// values rounded before the weight product; RoPE cos/sin computed in fp32 and rounded; attention scores and
  /// their 1/√d scaling in bf16, the causal mask at bf16's lowest value, clamp, softmax in fp32 rounded back; the
  /// KV cache in bf16). bf16 linear layers accumulate in fp32 and round once: on the CPU a few rows (decode) go
  /// through the in-place bf16 GEMV kernels (model/bf16_gemv.h), more rows through at::linear (oneDNN); on a GPU
  /// at::linear (cuBLAS). forward() and logits() still return fp32 tensors (bf16 values widened exactly).
  /// Throws std::invalid_argument for another dtype.
  void set_compute_dtype(c10::ScalarType dtype);
  c10::ScalarType compute_dtype() const { return compute_dtype_; }

 private:
  struct Layer {
    at::Tensor in_norm, q, k, v, o, post_norm, gate, up, down;
  };
  /// cos/sin [T, head_dim] fp32 for positions start..start+T−1.
  std::pair<at::Tensor, at::Tensor> rope(int64_t start, int64_t T) const;

  /// bf16 on the CPU: move the matrices into one huge-page mapping in decode order (model/llama.cpp).
  void pack_for_decode();
  /// x [Σ rows, in] (the sequences' rows one after another) times wᵀ; each sequence's rows get the result they
  /// would get alone.
  at::Tensor linear_rows(const at::Tensor& x, const at::Tensor& w, const std::vector<int64_t>& rows) const;

  LlamaConfig config_;
  c10::ScalarType compute_dtype_ = c10::ScalarType::Float;
  at::Tensor embed_tokens_, norm_, lm_head_;
  std::vector<Layer> layers_;
};

}  // namespace glamm::model
