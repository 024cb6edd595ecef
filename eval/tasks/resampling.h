// The task-independent view of a record's per-sample data that reports re-aggregate (compare's bootstrap, the HTML
// report's drill-down). Every per-sample key reports read is spelled here and in the task schemas, nowhere in
// reports/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "metrics/caption/bleu.h"
#include "metrics/mask/cocoeval.h"
#include "metrics/meteor/stats_score.h"

namespace glamm::tasks {

/// Per-sample data of one record, by sample position. A vector is empty when not every sample stores its data
/// (then the metric it serves cannot be re-aggregated).
struct ResamplingData {
  std::vector<std::string> ids;  ///< sample ids: `sample_id`, else `sent_id`, `image_id`, `id`, else the position
  /// Metric name → per-sample value (NaN for null), for every record metric whose samples all store a number:
  /// under the metric's own name, or `miou` for mIoU and `iou` for gIoU.
  std::map<std::string, std::vector<double>> values;
  std::vector<caption::BleuCounts> bleu;          ///< `bleu_counts` (corpus BLEU from summed counts)
  std::vector<meteor::Stats> meteor;              ///< `meteor_stats` (corpus METEOR from summed statistics)
  std::vector<double> recall_positives, recall_tp;  ///< GCG recall: GT phrases, true positives (0 when skipped)
  std::vector<double> intersection, union_;         ///< refseg: pixel counts per sentence (cIoU = Σ I / Σ U)
  /// COCOeval match records (GCG, category 1, area all): per sample the slot in coco_evals, -1 for none.
  std::vector<int32_t> coco_slot;
  std::vector<mask::CocoImageEval> coco_evals;
  std::size_t coco_thresholds = 10;  ///< T of the stored [T][D] match arrays (COCO's 0.50:0.05:0.95)
};

/// What the HTML report shows per sample besides scores, by sample position ("" where a sample has none).
struct DrillDown {
  std::vector<std::string> captions;          ///< `caption_tokenized`
  std::vector<std::string> prediction_files;  ///< `prediction_file` (GCG: the file the masks come from)
};

/// Read the drill-down fields of `r`'s per-sample entries (lenient: a missing or non-string value reads as "").
DrillDown read_drill_down(const Result& r);

/// Read the per-sample data of `r` (read from `source`). Throws InputError(source, "per_sample[i] (<id>).<key>", ...)
/// for a sample that is not an object, a metric value that is not a number (or null while the record's value is a
/// number), `bleu_counts` without 4 orders, `meteor_stats` without 23 values, or match arrays of the wrong size.
ResamplingData read_resampling_data(const Result& r, const std::string& source);

}  // namespace glamm::tasks
