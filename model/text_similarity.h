// Phrase similarity for GLaMM's GCG mask recall: cosine of mean-pooled bert-base-uncased embeddings, as
// eval/gcg/evaluate.py computes it (tokenizer max_length 512 + truncation, batch 1, mean of last_hidden_state[0]
// over all tokens incl. [CLS]/[SEP], sklearn cosine_similarity on float32 vectors). Torch-free header (pimpl).
// Spec: mask-metrics.md §4.2 step 5; glamm-model.md §7.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace glamm::model {

/// True when this build has the libtorch BERT encoder (GLAMM_WITH_TORCH); otherwise loading a model throws.
bool torch_available();

/// sklearn.metrics.pairwise.cosine_similarity of two float32 vectors as sklearn computes it for float32 input:
/// each vector divided by its L2 norm (a zero norm counts as 1), then the dot product, all rounded to float32
/// (sums are accumulated in double, so only the last float32 bit can differ from BLAS's order). Result in
/// [-1, 1] (0 when either vector is zero). Throws std::invalid_argument when the lengths differ.
double cosine_similarity_f32(const std::vector<float>& a, const std::vector<float>& b);

/// Text similarity service backed by a BERT folder. Caches every phrase's embedding; thread-safe.
class BertSimilarity {
 public:
  ~BertSimilarity();

  /// Load a Hugging Face BERT folder: config.json, vocab.txt and model.safetensors (preferred) or
  /// pytorch_model.bin; tokenizer_config.json, when present, must not set do_lower_case false.
  /// Throws InputError naming the folder/file: folder or files missing (the message says how to get
  /// bert-base-uncased), unreadable config, weights that do not fit the config (missing/unexpected keys, shapes),
  /// a truncated or corrupt weights file, or a build without libtorch.
  static std::unique_ptr<BertSimilarity> load(const std::string& dir);

  /// Embed every distinct phrase not yet cached, in length-sorted batches (padding masked, so each embedding
  /// equals its batch-of-1 value up to float rounding).
  void prepare(const std::vector<std::string>& phrases);

  /// Cosine similarity (cosine_similarity_f32) of the two phrases' embeddings; embeds uncached phrases first.
  double similarity(const std::string& a, const std::string& b);

  /// The mean-pooled embedding of `phrase` (hidden_size floats).
  std::vector<float> embedding(const std::string& phrase);

  /// The model input ids of `phrase` ([CLS] … [SEP], at most 512).
  std::vector<int64_t> input_ids(const std::string& phrase) const;

  /// "bert:<dir> (sha256 <hex of the weights file>)" for result signatures.
  std::string signature() const;
  const std::filesystem::path& weights_path() const;
  const std::string& weights_sha256() const;

 private:
  struct Impl;
  BertSimilarity();
  std::unique_ptr<Impl> impl_;
};

}  // namespace glamm::model
