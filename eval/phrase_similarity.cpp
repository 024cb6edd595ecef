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
  return bert_ ? bert_->similarity(gt_label, pred_label) : table_.lookup(gt_label, pred_label);
}

std::string PhraseSimilaritySource::signature() const { return bert_ ? bert_->signature() : "table:" + input_path_; }

}  // namespace glamm::cli
