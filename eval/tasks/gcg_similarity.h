// The phrase similarity GCG's mask recall uses (groundingLMM eval/gcg/evaluate.py: bert-base-uncased cosine of a
// GT label and a predicted phrase). The task layer sees it through PhraseSimilarity; the CLI's loader
// (eval/phrase_similarity.h) provides BERT through its plugin, TableSimilarity reads a `--text-sim` table.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/grandf.h"

namespace glamm::tasks {

/// Where the recall's phrase similarities come from.
class PhraseSimilarity {
 public:
  virtual ~PhraseSimilarity() = default;
  /// Called once before the recall with every GT label and predicted phrase (repeats included), so that a model
  /// can embed them in batches. Default: nothing.
  virtual void prepare(const std::vector<std::string>& phrases);
  /// Similarity of a GT label and a predicted phrase. Called from several threads at once.
  virtual double similarity(const std::string& gt_label, const std::string& pred_label) const = 0;
  /// After the recall: "" when every pair looked up had a value, else a warning with the counts; throws InputError
  /// when the source could give no real value at all (a table listing none of the pairs). Default: "".
  virtual std::string check_coverage() const;
  /// `details.text_sim_coverage` of the record ({"needed": N, "covered": M}), or null when not applicable.
  virtual nlohmann::json coverage() const;
  /// The record's `text_similarity` signature value, e.g. "table:<path>" or "bert:<dir> (sha256 ...)".
  virtual std::string signature() const = 0;
  /// The record's input role, "text_sim" (a file: path and checksum recorded) or "bert" (a folder: path only).
  virtual std::string input_role() const = 0;
  /// The path recorded under input_role().
  virtual std::string input_path() const = 0;
};

/// A `--text-sim` table (datasets::grandf::load_similarity_table) standing in for BERT: an unlisted pair counts 0.0.
/// Notes each distinct (gt, pred) pair looked up so that check_coverage() can refuse a table for other data.
class TableSimilarity final : public PhraseSimilarity {
 public:
  /// `path` is what the record names (signature "table:<path>", input "text_sim").
  TableSimilarity(datasets::grandf::SimilarityTable table, std::string path);
  /// Read the table at `path` (throws InputError as load_similarity_table).
  static std::shared_ptr<TableSimilarity> load(const std::string& path);

  double similarity(const std::string& gt_label, const std::string& pred_label) const override;
  /// Throws InputError(path, "--text-sim", ...) when the table lists none of the pairs looked up (at least one):
  /// every similarity would silently be 0 and Recall 0. Returns a warning with the counts when it lists only some.
  std::string check_coverage() const override;
  nlohmann::json coverage() const override;
  std::string signature() const override { return "table:" + path_; }
  std::string input_role() const override { return "text_sim"; }
  std::string input_path() const override { return path_; }

 private:
  datasets::grandf::SimilarityTable table_;
  std::string path_;
  mutable std::mutex mutex_;
  mutable std::unordered_set<std::string> needed_;  // distinct pairs looked up (keys gt\tpred)
  mutable std::size_t covered_ = 0;                 // how many of them the table lists
};

}  // namespace glamm::tasks
