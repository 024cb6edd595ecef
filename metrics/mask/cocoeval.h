// COCOeval for iouType 'segm' and 'bbox', reimplementing pycocotools 2.0.6 cocoeval.py (evaluate, computeIoU,
// evaluateImg, accumulate, summarize) number for number, on plain records. Spec: shared specs/mask-metrics.md §3
// and §5 (quirks kept by default; exactly items 7 and 8 change under strict).
//
// Flow:   CocoGroundTruth + CocoDetections (what COCO() and COCO.loadRes() hold; built by datasets/coco_json)
//         -> default_params() -> evaluate() -> accumulate() -> summarize() -> 12 stats.
// Nested index orders (all flat vectors are row-major / C order, as the NumPy arrays they mirror):
//   CocoEvaluation::ious(k, i)    eval category k, image position i in params.img_ids (self.ious[imgId, catId])
//   CocoEvaluation::eval_img(k,a,i)  = pycocotools' evalImgs[(k * A + a) * I + i] (cat, area, image order)
//   CocoImageEval::dt_matches     [t * D + d]              (threshold t, detection d in score order)
//   CocoImageEval::gt_matches     [t * G + g]              (ground truth g in ignore-last order)
//   CocoAccumulation::precision   [(((t * R + r) * K + k) * A + a) * M + m]
//   CocoAccumulation::recall      [((t * K + k) * A + a) * M + m]
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "metrics/mask/rle.h"

#include "common/image_id.h"

namespace glamm::mask {

/// An image id with its JSON type kept (common/image_id.h): COCO files use integers, GLaMM's GCG files use
/// file-name strings.
using glamm::ImageId;

enum class IouType { kSegm, kBbox };

/// "segm" / "bbox".
const char* iou_type_name(IouType t);

/// One annotation (GT) or result (DT) as COCOeval reads it.
struct CocoInstance {
  int64_t id = 0;           ///< GT: JSON `id`; DT: loadRes id = list index + 1
  uint32_t image = 0;       ///< index into CocoGroundTruth::images
  int64_t category_id = 0;  ///< JSON `category_id`
  double score = 0;         ///< DT `score` (unused for GT)
  double area = 0;          ///< GT: JSON `area`; DT: loadRes area (pixel count or bbox w*h)
  bool iscrowd = false;     ///< GT `iscrowd` (ignore := iscrowd); always false for DT
  Rle rle;                  ///< annToRLE of the segmentation (iouType segm only; empty otherwise)
  Box box{};                ///< bbox (iouType bbox only; GT from JSON, DT as loadRes sets it)
  /// rle_facts(rle) when has_rle_facts (the COCO loaders fill it while decoding, iouType segm); evaluate()
  /// computes it from `rle` otherwise. Whoever changes `rle` afterwards must clear has_rle_facts.
  RleFacts rle_facts{};
  bool has_rle_facts = false;
};

/// One GT image: id and size (size used to rasterise polygons).
struct CocoImage {
  ImageId id;
  uint32_t height = 0;
  uint32_t width = 0;
};

/// What COCO(annotation_file) holds, reduced to what COCOeval reads.
struct CocoGroundTruth {
  std::vector<CocoImage> images;        ///< unique image ids, first-appearance order (size from the last entry)
  std::vector<int64_t> category_ids;    ///< categories[].id in file order
  std::vector<CocoInstance> annotations;  ///< annotations in file order (those on unknown images dropped)
  /// When two annotations share an id, COCO.loadAnns(id) returns the LAST one: load_index[j] is the annotation
  /// that getAnnIds' j-th hit turns into. Empty when all ids are unique (the normal case).
  std::vector<uint32_t> load_index;
};

/// What COCO.loadRes(results) holds: results in list order with loadRes ids, areas and boxes.
struct CocoDetections {
  std::vector<CocoInstance> results;
};

/// COCOeval.params (setDetParams). Defaults from default_params(); evaluate() normalises img_ids/cat_ids as
/// np.unique does and sorts max_dets.
struct CocoParams {
  IouType iou_type = IouType::kSegm;
  std::vector<ImageId> img_ids;                   ///< default: all GT images, sorted
  std::vector<int64_t> cat_ids;                   ///< default: all GT categories, sorted
  std::vector<double> iou_thrs;                   ///< linspace(.5, .95, 10)
  std::vector<double> rec_thrs;                   ///< linspace(0, 1, 101)
  std::vector<int> max_dets = {1, 10, 100};
  std::vector<std::array<double, 2>> area_rng;    ///< [lo, hi], inclusive both ends
  std::vector<std::string> area_rng_lbl;          ///< "all", "small", "medium", "large"
  bool use_cats = true;
  /// --strict, docs/quirks.md q7: a GT with id 0 can be matched (2.0.6 stores matches as ids, so 0 = unmatched).
  bool strict_gt_id_zero = false;
};

/// np.linspace(start, stop, num) exactly as NumPy 1.24 computes it (i * step + start, last = stop).
std::vector<double> numpy_linspace(double start, double stop, int num);

/// Params() of cocoeval.py for iouType segm/bbox with imgIds/catIds from the GT (sorted).
CocoParams default_params(const CocoGroundTruth& gt, IouType iou_type);

/// One evaluateImg result (pycocotools returns a dict or None).
struct CocoImageEval {
  std::vector<int64_t> dt_ids;      ///< D detections, sorted by -score (stable), cut at maxDets[-1]
  std::vector<double> dt_scores;    ///< [D]
  std::vector<int64_t> gt_ids;      ///< G ground truths, non-ignored first (stable)
  std::vector<int64_t> dt_matches;  ///< [T][D] id of the matched GT, 0 = none (2.0.6 `dtMatches`)
  std::vector<int64_t> gt_matches;  ///< [T][G] id of the matched DT, 0 = none
  std::vector<uint8_t> dt_matched;  ///< [T][D] 1 = matched (dt_matches != 0, or any match under strict)
  std::vector<uint8_t> dt_ignore;   ///< [T][D]
  std::vector<uint8_t> gt_ignore;   ///< [G]
};

/// computeIoU of one (image, eval category): D×G row-major, rows = detections in dt_ids order, columns = GT in
/// file order (gt_ids). Empty when either side is empty ([] in pycocotools).
struct CocoIouMatrix {
  std::vector<int64_t> dt_ids;
  std::vector<int64_t> gt_ids;
  std::vector<double> values;  ///< [D][G]
};

/// Everything evaluate() produces. Only (image, category) cells with a GT or a DT are stored: pycocotools' ious
/// entry is [] and every evalImgs entry None for the others.
struct CocoEvaluation {
  CocoParams params;                      ///< as normalised by evaluate()
  std::vector<int64_t> eval_cat_ids;      ///< K eval categories: params.cat_ids, or {-1} when !use_cats
  std::vector<int32_t> cell_slot;         ///< [k * I + i] -> slot s of a non-empty cell, -1 = empty
  std::vector<CocoIouMatrix> slot_ious;   ///< [s] computeIoU of the cell
  std::vector<CocoImageEval> slot_evals;  ///< [s * A + a] evaluateImg of the cell for area range a
  std::size_t num_images() const { return params.img_ids.size(); }
  /// self.ious[imgId, catId] (nullptr when it is []) for eval category k and image position i.
  const CocoIouMatrix* ious(std::size_t k, std::size_t i) const {
    int32_t s = cell_slot[k * num_images() + i];
    return s < 0 ? nullptr : &slot_ious[static_cast<std::size_t>(s)];
  }
  /// self.evalImgs[(k * A + a) * I + i] (nullptr for None).
  const CocoImageEval* eval_img(std::size_t k, std::size_t a, std::size_t i) const {
    int32_t s = cell_slot[k * num_images() + i];
    return s < 0 ? nullptr : &slot_evals[static_cast<std::size_t>(s) * params.area_rng.size() + a];
  }
};

/// COCOeval.evaluate(): np.unique on imgIds (and catIds when use_cats), sorted maxDets, _prepare (getAnnIds order,
/// ignore := iscrowd, grouping by (image, category)), computeIoU and evaluateImg for every area range with
/// maxDet = maxDets[-1]. Parallel over images with `threads` workers; the result does not depend on `threads`.
/// Throws std::invalid_argument for empty iou_thrs/max_dets/area_rng, area labels not matching ranges, or
/// mixed int/string image ids.
CocoEvaluation evaluate(const CocoGroundTruth& gt, const CocoDetections& dt, const CocoParams& params,
                        int threads = 1);

/// COCOeval.accumulate() output. Shapes T = iou_thrs, R = rec_thrs, K = eval categories, A = area ranges,
/// M = max_dets. Entries with no non-ignored GT stay -1.
struct CocoAccumulation {
  std::size_t T = 0, R = 0, K = 0, A = 0, M = 0;
  std::vector<double> precision;  ///< [T][R][K][A][M]
  std::vector<double> recall;     ///< [T][K][A][M]
  std::vector<double> scores;     ///< [T][R][K][A][M] score at each recall threshold (0 past the end, -1 unset)
  double precision_at(std::size_t t, std::size_t r, std::size_t k, std::size_t a, std::size_t m) const {
    return precision[(((t * R + r) * K + k) * A + a) * M + m];
  }
  double recall_at(std::size_t t, std::size_t k, std::size_t a, std::size_t m) const {
    return recall[((t * K + k) * A + a) * M + m];
  }
};

/// COCOeval.accumulate(): per (k, a, m) one stable sort by -score across images (image order, then per-image
/// order), cumulative TP/FP, recall = tp/npig, precision = tp/(tp+fp+2^-52) made monotone from the right,
/// sampled at rec_thrs with searchsorted(left) and the 0-after-end rule. Parallel over categories (the sort) and
/// (category, area) cells with `threads` workers (metrics::parallel_for); the arrays do not depend on `threads`.
CocoAccumulation accumulate(const CocoEvaluation& ev, int threads = 1);

/// One summarize() line's selection.
struct CocoSummaryItem {
  bool ap = true;         ///< precision (AP) or recall (AR)
  double iou_thr = -1;    ///< -1 = all thresholds
  std::string area = "all";
  int max_dets = 100;
};

/// The 12 selections of summarizeDets (stats[0] uses maxDets=100 literally; the others maxDets[0..2]).
/// Throws std::invalid_argument when params.max_dets has fewer than 3 entries (2.0.6: IndexError).
std::vector<CocoSummaryItem> summary_items(const CocoParams& params);

/// _summarize: np.mean(s[s > -1]) over the selected slice, in NumPy's pairwise order (C order of the slice);
/// -1 when nothing is > -1.
double summarize_one(const CocoAccumulation& acc, const CocoParams& params, const CocoSummaryItem& item);

/// The 12 stats in summarize() order.
std::vector<double> summarize(const CocoAccumulation& acc, const CocoParams& params);

/// summarize()'s printed line, e.g.
/// " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.320".
std::string summary_line(const CocoParams& params, const CocoSummaryItem& item, double value);

/// Names of the 12 stats for records: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl.
const std::vector<std::string>& stat_names();

}  // namespace glamm::mask
