// Pieces of the per-sample records that several tasks share (record schema: reports/SCHEMA.md). Each piece writes
// its keys into a sample's JSON object and reads them back; the task schemas (eval/tasks/<task>_schema.h) and
// reports/aggregate use only these functions, so every per-sample key string lives in eval/tasks/.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/caption/bleu.h"
#include "metrics/caption/coco_eval_cap.h"

namespace glamm::tasks {

/// `bleu_counts` as stored per sample: {testlen, reflen, guess[4], correct[4]}.
nlohmann::json bleu_counts_to_json(const caption::BleuCounts& c);
/// Read it back. Throws std::invalid_argument("needs 4 orders") or nlohmann::json::exception for a bad value.
caption::BleuCounts read_bleu_counts(const nlohmann::json& b);

/// One image's caption scores as pycocoevalcap's per-image `evalImgs` entries give them, plus the sufficient
/// statistics that let reports re-aggregate corpus BLEU and METEOR over a resample.
/// Keys: "Bleu_1".."Bleu_4" (optional), "METEOR" + "meteor_stats" (optional: METEOR computed), "ROUGE_L", "CIDEr",
/// "bleu_counts" {testlen, reflen, guess[4], correct[4]}, "caption_tokenized". ROUGE_L, CIDEr and bleu_counts are
/// left out only by `captions --metrics` without the metric (with_rouge_l / with_cider / with_bleu_counts false).
struct CaptionSampleScores {
  std::optional<std::array<double, caption::kMaxNgram>> bleu;  ///< per-image BLEU-1..4 (written only when set)
  std::optional<double> meteor;                                ///< segment METEOR
  std::vector<double> meteor_stats;                            ///< METEOR 1.5's 23 statistics (with `meteor`)
  double rouge_l = 0, cider = 0;
  caption::BleuCounts bleu_counts;
  bool with_rouge_l = true, with_cider = true, with_bleu_counts = true;  ///< false: metric not computed, key absent
  std::string caption_tokenized;  ///< the hypothesis after PTB tokenization and punctuation removal

  /// From the caption evaluator's per-image result; `with_bleu` keeps the per-image BLEU values, `with_meteor` the
  /// METEOR value and statistics.
  static CaptionSampleScores from_eval(const caption::ImageEval& e, std::string caption_tokenized, bool with_bleu,
                                       bool with_meteor);
  /// From the caption evaluator's per-image result, keeping exactly the metrics of `computed` (bleu: Bleu_1..4 and
  /// bleu_counts; meteor: METEOR and meteor_stats; rouge: ROUGE_L; cider: CIDEr).
  static CaptionSampleScores from_eval(const caption::ImageEval& e, std::string caption_tokenized,
                                       const caption::MetricSet& computed);
  /// Add the keys above to the sample object `s`.
  void write(nlohmann::json& s) const;
  /// Read them back from `s` (an absent ROUGE_L / CIDEr / bleu_counts clears its with_ flag). Throws
  /// InputError(source, "per_sample[<index>]", ...) when a key is mistyped or METEOR lacks its statistics
  /// (`bleu_counts` needs 4 orders, `meteor_stats` 23 values).
  static CaptionSampleScores read(const nlohmann::json& s, const std::string& source, std::size_t index);
};

/// One image's SPICE-style breakdown as SPICE's -subset output gives it per image: for each subset ("All", "Object",
/// "Attribute", "Relation", "Cardinality", "Color", "Size", SPICE's order) the F score and the tuple counts.
/// Key "spice_style_subsets": {"All": {"f": F, "tp": n, "fp": n, "fn": n}, ...}; "f" is null where SPICE's F is NaN
/// (a subset with no reference tuple). Records written before this key have none (the optional stays empty).
struct SpiceSampleBreakdown {
  struct Subset {
    std::string name;  ///< SPICE's subset key
    double f = 0;      ///< NaN when SPICE's F is NaN (written as null)
    int tp = 0, fp = 0, fn = 0;
  };
  std::vector<Subset> subsets;  ///< written in this order; read back in key (name) order

  /// Add "spice_style_subsets" to the sample object `s`.
  void write(nlohmann::json& s) const;
  /// Read it back from `s`; empty when the key is absent. Throws InputError(source, "per_sample[<index>]", ...) when
  /// it is not an object of {f: number|null, tp, fp, fn: non-negative integers} objects.
  static std::optional<SpiceSampleBreakdown> read(const nlohmann::json& s, const std::string& source,
                                                  std::size_t index);
};

}  // namespace glamm::tasks
