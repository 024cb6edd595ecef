// Re-aggregation of a record's metrics from its stored per-sample data, for any multiset of samples (bootstrap
// resampling). Uses the metrics/ aggregation functions; never recomputes anything from raw inputs:
//   mIoU (per-sample miou), gIoU (per-sample iou), ROUGE_L, CIDEr (CIDEr-D per image, document frequencies fixed
//   from the full set), any metric stored per sample under its own name → NumPy-order mean of the per-sample values;
//   Bleu_1..4 → bleu_from_counts of the summed per-sample bleu_counts;
//   METEOR → corpus score of the per-sample meteor_stats (MeteorStats.addStats rule);
//   Recall → Σ matches / Σ positives (images the reference skipped add positives, no matches);
//   cIoU → Σ intersection / Σ union (per-sample `intersection`, `union`);
//   AP, AP50 → COCOeval accumulate + summarize over the per-image match records (coco_dt_scores,
//   coco_dt_matched [T][D], coco_dt_ignore [T][D], coco_num_gt_not_ignored), area all, maxDets 100.
// Metrics with no per-sample data are left out with a note.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "reports/record.h"

namespace glamm::reports {

class Aggregator {
 public:
  /// Parse the per-sample data of `r`. Throws InputError naming the record file and the sample when a field has
  /// the wrong shape (e.g. bleu_counts without 4 orders, meteor_stats not 23 numbers, coco_dt_matched not T×D).
  explicit Aggregator(const RunRecord& r);
  ~Aggregator();
  Aggregator(Aggregator&&) noexcept;

  /// Metrics that can be re-aggregated, in the record's metric order.
  const std::vector<std::string>& metrics() const;
  /// Record metrics that cannot (with why), e.g. "SPICE: no per-sample data in the record".
  const std::vector<std::string>& notes() const;
  /// Sample ids in record order (`sample_id`, else `sent_id`, else `image_id`, else `id`, else the position).
  const std::vector<std::string>& sample_ids() const;
  std::size_t size() const;

  /// Values of metrics() over the samples `idx` (positions in record order; repeats allowed), in metrics() order.
  std::vector<double> compute(const std::vector<std::size_t>& idx) const;
  /// compute() over all samples in record order (equals the record's values up to float rounding).
  std::vector<double> compute_all() const;

  /// Per-sample score of `metric` for sample i (for "most regressed" lists): mIoU → miou, gIoU → iou, METEOR/CIDEr/ROUGE_L →
  /// their per-sample fields, cIoU → intersection/union, else the sample's field of that name. False when none.
  bool sample_score(const std::string& metric, std::size_t i, double& value) const;

  /// COCOeval precision at the 101 recall thresholds (0, 0.01, …, 1) for IoU threshold `iou_thr` (one of
  /// 0.50:0.05:0.95), area all, maxDets 100, over all samples; −1 entries where undefined. Empty when the
  /// record has no per-image match records.
  std::vector<double> precision_curve(double iou_thr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glamm::reports
