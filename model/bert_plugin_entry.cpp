// Entry point of the BERT plugin library libglamm_bert.so (see similarity_plugin.h): BertSimilarity behind the
// TextSimilarity interface. Built only with GLAMM_WITH_TORCH.
#include <memory>
#include <string>
#include <vector>

#include "model/similarity_plugin.h"
#include "model/text_similarity.h"

namespace {

class PluginSimilarity final : public glamm::model::TextSimilarity {
 public:
  explicit PluginSimilarity(std::unique_ptr<glamm::model::BertSimilarity> s) : s_(std::move(s)) {}
  void prepare(const std::vector<std::string>& phrases) override { s_->prepare(phrases); }
  double similarity(const std::string& a, const std::string& b) override { return s_->similarity(a, b); }
  std::string signature() const override { return s_->signature(); }

 private:
  std::unique_ptr<glamm::model::BertSimilarity> s_;
};

}  // namespace

/// Load a BERT folder; throws glamm::InputError as BertSimilarity::load does (same C++ runtime on both sides).
extern "C" __attribute__((visibility("default"))) glamm::model::TextSimilarity* glamm_bert_plugin_load(const char* dir) {
  return new PluginSimilarity(glamm::model::BertSimilarity::load(dir));
}
