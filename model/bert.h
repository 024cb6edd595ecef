// BERT encoder (HF transformers 4.29 `BertModel`, inference, fp32 on CPU) for the GCG recall text similarity.
// The header is torch-free (pimpl); model/bert.cpp runs the forward pass with libtorch (ATen).
// Reference: transformers.models.bert.modeling_bert BertEmbeddings / BertSelfAttention / BertSelfOutput /
// BertIntermediate / BertOutput (eval mode: dropout off; absolute positions; pooler unused).
// Spec: glamm-model.md §7 (model, checkpoint keys), §2.3 (checkpoint reading).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace glamm::model {

/// The BertConfig fields the encoder uses (config.json of a HF BERT folder).
struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";  ///< "gelu" (exact, erf) or "gelu_new" / "gelu_pytorch_tanh" (tanh form)

  /// Read config.json; absent keys keep the bert-base-uncased defaults above (as HF BertConfig does).
  /// Throws InputError naming the file for unreadable JSON, a non-positive size, hidden_size not divisible by
  /// num_attention_heads, an unsupported hidden_act, or position_embedding_type other than "absolute".
  static BertConfig from_json_file(const std::filesystem::path& config_json);
  /// bert-base-uncased's sizes (12 layers, hidden 768, 12 heads, intermediate 3072).
  static BertConfig base_uncased() { return BertConfig{}; }
};

/// A BERT encoder with loaded (or random) weights. forward()/mean_pooled() are const and may be called from
/// several threads at once (libtorch parallelises each call internally as well).
class BertModel {
 public:
  ~BertModel();
  BertModel(BertModel&&) noexcept;
  BertModel& operator=(BertModel&&) noexcept;

  /// Load `weights` (a `.safetensors` file or a torch.save zip such as pytorch_model.bin) for `config`.
  /// Names are accepted with or without the `bert.` prefix and with LayerNorm `gamma`/`beta` or
  /// `weight`/`bias`; `pooler.*`, `cls.*` and `embeddings.position_ids` are ignored. Tensors of dtype F32, F16,
  /// BF16 or F64 are converted to float32. Throws InputError naming the file that lists every missing key,
  /// unexpected key and shape mismatch (expected vs found), or any reading error of the file.
  static BertModel load(const BertConfig& config, const std::filesystem::path& weights);

  /// Random weights (normal σ 0.02, LayerNorm 1/0, biases 0) with a fixed seed — for throughput measurements.
  static BertModel random(const BertConfig& config, uint64_t seed = 0);

  const BertConfig& config() const;

  /// last_hidden_state of one sequence (batch 1, no padding): ids.size() × hidden_size floats, row-major.
  /// Throws std::invalid_argument for an empty sequence, more ids than max_position_embeddings, or an id outside
  /// [0, vocab_size).
  std::vector<float> last_hidden_state(const std::vector<int64_t>& ids) const;

  /// Mean over all positions ([CLS]/[SEP] included) of last_hidden_state, for each sequence of `batch`
  /// (hidden_size floats each). Sequences are run together, padded to the longest, with padded keys masked as
  /// HF does (additive finfo(float32).min), so each result equals its batch-of-1 value up to float rounding.
  /// Same errors as last_hidden_state.
  std::vector<std::vector<float>> mean_pooled(const std::vector<std::vector<int64_t>>& batch) const;

 private:
  struct Impl;
  explicit BertModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace glamm::model
