// Lazy BERT for glamm-eval: the libtorch encoder lives in a plugin library (libglamm_bert.so, built from
// model/bert_plugin_entry.cpp) that is loaded with dlopen only when BERT similarity is asked for, so the
// executable does not pay libtorch's start-up (~0.9 s CPU of dynamic relocation and operator registration) on
// every run. Torch-free header and loader.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace glamm::model {

/// Phrase similarity as the GCG recall uses it (see BertSimilarity in model/text_similarity.h).
class TextSimilarity {
 public:
  virtual ~TextSimilarity() = default;
  /// Embed every distinct phrase once, batched.
  virtual void prepare(const std::vector<std::string>& phrases) = 0;
  /// Cosine similarity of the two phrases (sklearn float32 semantics), in [-1, 1].
  virtual double similarity(const std::string& a, const std::string& b) = 0;
  /// "bert:<dir> (sha256 <hex of the weights file>)".
  virtual std::string signature() const = 0;
};

/// File name of the plugin library.
constexpr const char* kBertPluginFile = "libglamm_bert.so";

/// Load BERT from `dir` (see BertSimilarity::load) through the plugin: $GLAMM_BERT_PLUGIN when set, else
/// libglamm_bert.so in the folder of the running executable. Throws InputError when the plugin is missing
/// (built without libtorch, or not built) or cannot be loaded (the dlerror text is included), and passes on the
/// plugin's own InputError for a bad BERT folder.
std::unique_ptr<TextSimilarity> load_bert_plugin(const std::string& dir);

}  // namespace glamm::model
