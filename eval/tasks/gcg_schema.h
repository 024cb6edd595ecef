// The typed pieces of a GCG record (`glamm-eval gcg`; record schema: reports/SCHEMA.md): one image's per-sample
// entry and the failure breakdown of `details`. Their JSON keys are written and read only here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/tasks/sample_parts.h"

namespace glamm::tasks {

/// COCOeval's record of one image (category 1, area "all"), enough to re-accumulate AP and AP50 over a resample.
/// Keys: "coco_dt_scores" [D], "coco_dt_matched" [T·D], "coco_dt_ignore" [T·D], "coco_num_gt_not_ignored".
struct GcgCocoMatches {
  std::vector<double> dt_scores;   ///< [D] detection scores (all 1.0 in GCG), COCOeval's sorted order
  std::vector<uint8_t> dt_matched;  ///< [T][D] 1 = matched at IoU threshold t
  std::vector<uint8_t> dt_ignore;   ///< [T][D] 1 = ignored at threshold t
  std::size_t num_gt_not_ignored = 0;
};

/// One caption-GT image of a GCG run (`per_sample[i]`, caption-GT image order).
/// Keys: "image_id", "prediction_file" (absent for a missing prediction scored as empty), "miou", "miou_pairs",
/// "recall_positives", "recall_matches" [[gt, pred], ...], "recall_skipped" (only when the reference skips the
/// image's recall), the caption scores of CaptionSampleScores (no per-image BLEU), "num_pred_masks", "num_phrases",
/// and the GcgCocoMatches keys (only for an image COCOeval scored).
struct GcgSample {
  std::string image_id;
  std::string prediction_file;    ///< the prediction JSON the masks came from ("" = none: key left out)
  double miou = 0.0;               ///< the image's mIoU (NaN, written as null, when a pair is NaN in official mode)
  std::vector<double> miou_pairs;  ///< IoUs in greedy selection order
  std::size_t recall_positives = 0;                                 ///< the image's GT phrases
  std::vector<std::pair<std::size_t, std::size_t>> recall_matches;  ///< accepted (gt_idx, pred_idx) pairs
  std::string recall_skipped;  ///< the reference's swallowed error when it drops the image's recall ("" = none)
  CaptionSampleScores caption;
  std::size_t num_pred_masks = 0, num_phrases = 0;
  std::optional<GcgCocoMatches> coco;

  nlohmann::json to_json() const;
  /// Read `per_sample[index]` of the record `source`. Throws InputError(source, "per_sample[<index>]", ...) when a
  /// key is missing or mistyped, or when the COCOeval arrays disagree in length.
  static GcgSample from_json(const nlohmann::json& s, const std::string& source, std::size_t index);
};

/// Counts of the usual reasons a model scores 0 silently (`details.failure_breakdown`; the report shows them).
struct GcgFailureBreakdown {
  std::size_t missing_prediction = 0, empty_caption = 0, no_masks = 0, fewer_masks_than_phrases = 0,
              more_masks_than_phrases = 0, empty_mask = 0, wrong_size_mask = 0;

  nlohmann::json to_json() const;
  /// Read `details.failure_breakdown` of the record `source` (missing keys count 0). Throws InputError when a
  /// value is not a non-negative integer.
  static GcgFailureBreakdown from_json(const nlohmann::json& j, const std::string& source);
};

}  // namespace glamm::tasks
