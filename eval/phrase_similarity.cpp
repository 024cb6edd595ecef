// Phrase similarity source of glamm-eval gcg. See phrase_similarity.h.
#include "eval/phrase_similarity.h"

#include <cstdlib>

#include "common/error.h"

namespace glamm::cli {

PhraseSimilaritySource PhraseSimilaritySource::open(const std::string& text_sim, const std::string& bert_dir) {
  if (!text_sim.empty() && !bert_dir.empty())
    throw InputError("", "--bert", "give either --bert DIR or --text-sim TABLE.tsv, not both");
  std::string bert = bert_dir;
  if (bert.empty() && text_sim.empty())
    if (const char* env = std::getenv("GLAMM_BERT"); env && *env) bert = env;
  PhraseSimilaritySource s;
  if (!bert.empty()) {
    s.bert_ = model::load_bert_plugin(bert);
    s.input_key_ = "bert";
    s.input_path_ = bert;
    return s;
  }
  if (text_sim.empty())
    throw InputError("", "--bert",
                     "mask recall needs phrase similarities: pass --bert DIR with the Hugging Face bert-base-uncased "
                     "files (config.json, vocab.txt, model.safetensors or pytorch_model.bin; or set GLAMM_BERT=DIR) "
                     "as the official evaluation does, or --text-sim TABLE.tsv (gt_label<TAB>pred_label<TAB>"
                     "similarity)");
  s.table_ = datasets::grandf::load_similarity_table(text_sim);
  s.input_key_ = "text_sim";
  s.input_path_ = text_sim;
  return s;
}

void PhraseSimilaritySource::prepare(const std::vector<std::string>& phrases) {
  if (bert_) bert_->prepare(phrases);
}

double PhraseSimilaritySource::operator()(const std::string& gt_label, const std::string& pred_label) const {
  if (bert_) return bert_->similarity(gt_label, pred_label);
  std::string key = gt_label + '\t' + pred_label;
  auto it = table_.values.find(key);
  {
    std::lock_guard<std::mutex> lock(lookups_->mutex);
    if (lookups_->needed.insert(std::move(key)).second && it != table_.values.end()) ++lookups_->covered;
  }
  return it == table_.values.end() ? 0.0 : it->second;
}

std::string PhraseSimilaritySource::check_table_coverage() const {
  if (bert_) return "";
  std::lock_guard<std::mutex> lock(lookups_->mutex);
  const std::size_t needed = lookups_->needed.size(), covered = lookups_->covered;
  if (needed == 0 || covered == needed) return "";
  if (covered == 0)
    throw InputError(input_path_, "--text-sim",
                     "the table lists none of the " + std::to_string(needed) +
                         " (gt_label, pred_label) pairs the mask recall needs: every similarity would be 0 and "
                         "Recall 0 (a table for other predictions or another split? see docs/input-rules.md)");
  return "--text-sim table " + input_path_ + " lists " + std::to_string(covered) + " of the " +
         std::to_string(needed) + " (gt_label, pred_label) pairs the mask recall looked up; the other " +
         std::to_string(needed - covered) + " count similarity 0.0";
}

nlohmann::json PhraseSimilaritySource::table_coverage() const {
  if (bert_) return nullptr;
  std::lock_guard<std::mutex> lock(lookups_->mutex);
  return {{"needed", lookups_->needed.size()}, {"covered", lookups_->covered}};
}

std::string PhraseSimilaritySource::signature() const { return bert_ ? bert_->signature() : "table:" + input_path_; }

}  // namespace glamm::cli
