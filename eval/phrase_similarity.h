// Where glamm-eval gcg's mask recall gets its phrase similarities: BERT (--bert DIR, or env GLAMM_BERT; the
// official evaluate.py uses bert-base-uncased cosine) through the on-demand plugin, or a --text-sim table.
// Spec: mask-metrics.md §4.2 step 5.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/grandf.h"
#include "model/similarity_plugin.h"

namespace glamm::cli {

class PhraseSimilaritySource {
 public:
  /// Choose the source: an explicit --bert wins, then an explicit --text-sim, then env GLAMM_BERT. Throws
  /// InputError when both options are given, when neither is available (the message says how to get BERT),
  /// or when the table / BERT folder cannot be loaded.
  static PhraseSimilaritySource open(const std::string& text_sim, const std::string& bert_dir);

  /// Embed all phrases up front (BERT; batched, each distinct phrase once). No-op for a table.
  void prepare(const std::vector<std::string>& phrases);
  /// Similarity of a GT label and a predicted phrase (table: 0.0 for an unlisted pair). Thread-safe. A table also
  /// notes each distinct pair looked up, for check_table_coverage().
  double operator()(const std::string& gt_label, const std::string& pred_label) const;
  /// For a --text-sim table, after the recall: throws InputError naming the table when it lists none of the (gt,
  /// pred) pairs looked up (at least one), since every similarity would silently be 0 and Recall 0; returns a
  /// warning with the counts when it lists only some of them; "" when it lists all (or the source is BERT).
  std::string check_table_coverage() const;
  /// {"needed": distinct pairs looked up, "covered": how many the table lists} for a table; null for BERT.
  nlohmann::json table_coverage() const;
  /// Signature value: "table:<path>" or "bert:<dir> (sha256 <weights>)".
  std::string signature() const;
  /// The input to record ("text_sim" table path or "bert" folder) and its key.
  const std::string& input_key() const { return input_key_; }
  const std::string& input_path() const { return input_path_; }

 private:
  std::string input_key_, input_path_;
  datasets::grandf::SimilarityTable table_;
  std::shared_ptr<model::TextSimilarity> bert_;
  struct Lookups {  // distinct pairs looked up in the table (keys gt\tpred) and how many it lists
    std::mutex mutex;
    std::unordered_set<std::string> needed;
    std::size_t covered = 0;
  };
  std::shared_ptr<Lookups> lookups_ = std::make_shared<Lookups>();
};

}  // namespace glamm::cli
