// Phrase similarity source of glamm-eval gcg. See phrase_similarity.h.
#include "eval/phrase_similarity.h"

#include <cstdlib>

#include "common/error.h"
#include "model/similarity_plugin.h"

namespace glamm::cli {

namespace {
/// BERT cosine through the plugin (model/similarity_plugin.h).
class BertPhraseSimilarity final : public tasks::PhraseSimilarity {
 public:
  BertPhraseSimilarity(std::unique_ptr<model::TextSimilarity> bert, std::string dir)
      : bert_(std::move(bert)), dir_(std::move(dir)) {}
  void prepare(const std::vector<std::string>& phrases) override { bert_->prepare(phrases); }
  double similarity(const std::string& gt_label, const std::string& pred_label) const override {
    return bert_->similarity(gt_label, pred_label);
  }
  std::string signature() const override { return bert_->signature(); }
  std::string input_role() const override { return "bert"; }
  std::string input_path() const override { return dir_; }

 private:
  std::unique_ptr<model::TextSimilarity> bert_;
  std::string dir_;
};
}  // namespace

std::shared_ptr<tasks::PhraseSimilarity> open_phrase_similarity(const std::string& text_sim,
                                                                const std::string& bert_dir) {
  if (!text_sim.empty() && !bert_dir.empty())
    throw InputError("", "--bert", "give either --bert DIR or --text-sim TABLE.tsv, not both");
  std::string bert = bert_dir;
  if (bert.empty() && text_sim.empty())
    if (const char* env = std::getenv("GLAMM_BERT"); env && *env) bert = env;
  if (!bert.empty()) return std::make_shared<BertPhraseSimilarity>(model::load_bert_plugin(bert), bert);
  if (text_sim.empty())
    throw InputError("", "--bert",
                     "mask recall needs phrase similarities: pass --bert DIR with the Hugging Face bert-base-uncased "
                     "files (config.json, vocab.txt, model.safetensors or pytorch_model.bin; or set GLAMM_BERT=DIR) "
                     "as the official evaluation does, or --text-sim TABLE.tsv (gt_label<TAB>pred_label<TAB>"
                     "similarity)");
  return tasks::TableSimilarity::load(text_sim);
}

}  // namespace glamm::cli
