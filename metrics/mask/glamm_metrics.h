// GLaMM's own mask metrics, as its official evaluation code computes them (file-free: plain RLEs, labels and
// similarity callbacks in, numbers out). Spec: shared specs/mask-metrics.md §4.1–§4.3 and §5.
//   - GCG mIoU:   groundingLMM eval/gcg/evaluate.py compute_miou / evaluate_mask_miou
//   - GCG recall: groundingLMM eval/gcg/evaluate.py find_best_matches / evaluate_recall_with_mapping
//   - refseg cIoU / gIoU: groundingLMM eval/referring_seg/infer_and_evaluate.py evaluate_model_performance with
//     tools/utils.py intersectionAndUnionGPU and AverageMeter (float32 arithmetic)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/mask/rle.h"

namespace glamm::mask {

/// IoU of two masks as eval/utils.py compute_iou: |a ∧ b| / |a ∨ b| from integer pixel counts, as float64.
/// Empty vs empty gives NaN (0/0), as numpy does. Throws RleError when the sizes differ (numpy's broadcast
/// ValueError).
double dense_iou(const Rle& a, const Rle& b);

/// IoU matrix M[i * b.size() + j] = dense_iou(a[i], b[j]) (row-major, a.size() × b.size()).
std::vector<double> dense_iou_matrix(const std::vector<Rle>& a, const std::vector<Rle>& b);

/// The same matrix with a bounding-box prefilter (pairs whose boxes do not overlap have intersection 0, so their
/// IoU is 0, or NaN when both masks are empty) — identical values, less run-length work. Throws RleError when the
/// sizes differ.
std::vector<double> dense_iou_matrix_fast(const std::vector<Rle>& a, const std::vector<Rle>& b);

/// One image's GCG mIoU.
struct GcgImageMiou {
  double miou = 0.0;          ///< mean of the paired IoUs (numpy mean), 0.0 when there is no pair
  std::vector<double> pairs;  ///< IoUs in greedy selection order
};

/// GCG mIoU of one image (compute_miou). Official: IoU matrix preds × gts; while it is non-empty and its max is
/// > 0 (any NaN makes the max NaN and the loop never starts), take the first maximum in row-major order, record
/// it, delete its row and column; the image score is the numpy mean of the recorded IoUs, or 0.0.
/// strict (docs/quirks.md q1–q2): an empty-vs-empty pair counts IoU 1 instead of NaN, and the image score is
/// Σ pairs / max(#preds, #gts) so unmatched predictions and GT masks count as 0 (1.0 when both lists are empty).
/// Throws RleError when mask sizes differ (the reference fails the whole run).
GcgImageMiou gcg_image_miou(const std::vector<Rle>& preds, const std::vector<Rle>& gts, bool strict);

/// gcg_image_miou on a precomputed IoU matrix `ious` (n_preds × n_gts, row-major, from dense_iou_matrix).
GcgImageMiou gcg_image_miou_from_ious(std::vector<double> ious, std::size_t n_preds, std::size_t n_gts, bool strict);

/// Text similarity of GT phrase gi and predicted phrase pj (label indices), e.g. BERT cosine or a table lookup.
using PhraseSimilarity = std::function<double(std::size_t gi, std::size_t pj)>;

/// One image's GCG recall bookkeeping.
struct GcgImageRecall {
  std::size_t positives = 0;                                 ///< added to the denominator (#GT phrases)
  std::vector<std::pair<std::size_t, std::size_t>> matches;  ///< accepted (gt_idx, pred_idx) pairs in order
  std::string skipped;  ///< non-empty when the reference's try/except swallowed an error for this image
};

/// GCG recall matching of one image (find_best_matches), for an image that has a GT caption and a predicted
/// caption. Official behaviour: positives = #gt_labels counted first; IoU matrix gt_masks × pred_masks (NaN
/// possible); repeat: idx = argmax (NaN counts as the maximum, first occurrence, as numpy.argmax); stop at the
/// first pair with IoU < iou_thr or similarity < text_thr (NaN IoU is not < thr, so it can be accepted); else
/// accept and zero that row and column. The similarity of (i, j) is looked up by mask indices, so a mask index
/// beyond the label lists is numpy's IndexError: the image is skipped but its positives stay counted.
/// strict (docs/quirks.md q3, q5, q6): admissible pairs are taken in descending IoU order without stopping at the
/// first rejected one, NaN IoU pairs are never accepted, and only mask indices that have a label take part.
/// Throws RleError when mask sizes differ in strict mode (reported as skipped in official mode).
GcgImageRecall gcg_image_recall(const std::vector<Rle>& gt_masks, std::size_t n_gt_labels,
                                const std::vector<Rle>& pred_masks, std::size_t n_pred_labels,
                                const PhraseSimilarity& similarity, double iou_thr, double text_thr, bool strict);

/// gcg_image_recall on a precomputed IoU matrix `ious_gt_pred` (n_gt_masks × n_pred_masks, row-major).
GcgImageRecall gcg_image_recall_from_ious(std::vector<double> ious_gt_pred, std::size_t n_gt_masks,
                                          std::size_t n_gt_labels, std::size_t n_pred_masks,
                                          std::size_t n_pred_labels, const PhraseSimilarity& similarity,
                                          double iou_thr, double text_thr, bool strict);

/// Referring-segmentation accumulator (cIoU / gIoU over dataset items, each with one or more targets).
class RefSegAccumulator {
 public:
  /// strict = exact integer/double arithmetic (docs/quirks.md q11); otherwise GLaMM's float32 arithmetic.
  explicit RefSegAccumulator(bool strict) : strict_(strict) {}

  /// Per-target counts of the foreground class (intersectionAndUnionGPU, K = 2, ignore 255): prediction pixels
  /// where gt == 255 are ignored. pred: h*w bytes of 0/1; gt: h*w bytes of 0/1/255; any layout, same for both.
  struct Counts {
    int64_t intersection = 0;
    int64_t union_ = 0;
  };
  static Counts target_counts(const uint8_t* pred, const uint8_t* gt, std::size_t n_pixels);

  /// Add one dataset item: the counts of its N targets, in order. Returns the item's per-target IoUs as the
  /// reference computes them (float32 I/(U+1e-5), +1 for an empty union; exact I/U, 1 when U = 0, when strict).
  std::vector<double> add_item(const std::vector<Counts>& targets);

  double giou() const;  ///< Σ per-target IoU / count (float32: / float32(count + 1e-5))
  double ciou() const;  ///< ΣI / ΣU (float32: / (ΣU + 1e-10))
  int64_t n_targets() const { return count_; }
  double intersection_sum() const { return strict_ ? static_cast<double>(i_exact_) : i_f32_; }
  double union_sum() const { return strict_ ? static_cast<double>(u_exact_) : u_f32_; }

 private:
  bool strict_;
  int64_t count_ = 0;
  // float32 path (values held in float, as numpy float32 arrays)
  float i_f32_ = 0.f, u_f32_ = 0.f, giou_f32_ = 0.f;
  // exact path
  int64_t i_exact_ = 0, u_exact_ = 0;
  double giou_exact_ = 0.0;
};

}  // namespace glamm::mask
