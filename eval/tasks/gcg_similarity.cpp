#include "eval/tasks/gcg_similarity.h"

#include "common/error.h"

namespace glamm::tasks {

void PhraseSimilarity::prepare(const std::vector<std::string>&) {}
std::string PhraseSimilarity::check_coverage() const { return ""; }
nlohmann::json PhraseSimilarity::coverage() const { return nullptr; }

TableSimilarity::TableSimilarity(datasets::grandf::SimilarityTable table, std::string path)
    : table_(std::move(table)), path_(std::move(path)) {}

std::shared_ptr<TableSimilarity> TableSimilarity::load(const std::string& path) {
  return std::make_shared<TableSimilarity>(datasets::grandf::load_similarity_table(path), path);
}

double TableSimilarity::similarity(const std::string& gt_label, const std::string& pred_label) const {
  std::string key = gt_label + '\t' + pred_label;
  auto it = table_.values.find(key);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (needed_.insert(std::move(key)).second && it != table_.values.end()) ++covered_;
  }
  return it == table_.values.end() ? 0.0 : it->second;
}

std::string TableSimilarity::check_coverage() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t needed = needed_.size(), covered = covered_;
  if (needed == 0 || covered == needed) return "";
  if (covered == 0)
    throw InputError(path_, "--text-sim",
                     "the table lists none of the " + std::to_string(needed) +
                         " (gt_label, pred_label) pairs the mask recall needs: every similarity would be 0 and "
                         "Recall 0 (a table for other predictions or another split? see docs/input-rules.md)");
  return "--text-sim table " + path_ + " lists " + std::to_string(covered) + " of the " + std::to_string(needed) +
         " (gt_label, pred_label) pairs the mask recall looked up; the other " + std::to_string(needed - covered) +
         " count similarity 0.0";
}

nlohmann::json TableSimilarity::coverage() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {{"needed", needed_.size()}, {"covered", covered_}};
}

}  // namespace glamm::tasks
