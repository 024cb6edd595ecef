// Task `coco`: COCOeval (pycocotools 2.0.6, iouType segm or bbox) on a COCO instances file and a results list, or on
// the built-in synthetic sample. Inputs come from datasets/coco_json; the evaluation is metrics/mask/cocoeval's.
// The record has no per-sample part; details.stats holds the 12 summarize() values. docs/quirks.md (coco) lists
// what --strict changes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "eval/tasks/quirks.h"
#include "metrics/mask/cocoeval.h"

namespace glamm::tasks {

/// What to load: a GT instances file and a results file, or the built-in synthetic sample.
struct CocoFiles {
  std::string gt, dt;   ///< paths (ignored when sample)
  bool sample = false;  ///< datasets/coco_sample.h builtin_coco_sample() instead of files
};

/// COCOeval parameters and run settings (the CLI's --iou-type, --cat-ids, --img-ids, --use-cats, --max-dets,
/// --strict, --threads).
struct CocoOptions {
  mask::IouType iou_type = mask::IouType::kSegm;
  std::vector<int64_t> cat_ids;      ///< params.catIds (empty: every GT category)
  std::vector<std::string> img_ids;  ///< params.imgIds as typed (empty: every GT image), read with the GT's id type
  int use_cats = 1;                  ///< params.useCats, 0 or 1
  std::vector<int> max_dets = {1, 10, 100};
  bool strict = false;  ///< coco_quirks(): GT id 0 matchable, segm results keep their mask areas
  int threads = 1;      ///< workers for decoding and per-image evaluation; results do not depend on it
  std::function<void(const std::string&)> stage_started;  ///< progress: a stage begins (may be empty)
  std::function<void()> stage_done;                       ///< progress: it ended (may be empty)
};

/// "segm" → kSegm, "bbox" → kBbox; anything else → InputError naming --iou-type.
mask::IouType parse_iou_type(const std::string& text);

/// Check the options that do not need the data: use_cats 0/1, at least 3 positive max_dets (summarize reads
/// maxDets[0..2]). Throws InputError naming the flag (--use-cats, --max-dets).
void check_coco_options(const CocoOptions& o);

/// Loaded coco inputs.
struct CocoInputs {
  bool sample = false;
  std::string gt_file, dt_file;  ///< "" for the sample
  std::string gt_name, dt_name;  ///< what messages call them: the paths, or "<built-in sample gt/results>"
  mask::CocoGroundTruth gt;
  mask::CocoDetections dt;
  std::vector<std::string> warnings;  ///< from loading (odd polygons, RLE sizes unlike the image, ...)
};

/// Load the GT and the results as pycocotools' COCO() and loadRes() (datasets/coco_json.h) with options.iou_type,
/// options.strict and options.threads. Throws InputError naming the file and record.
CocoInputs load_coco_inputs(const CocoFiles& files, const CocoOptions& options);

/// The result of one COCOeval run.
struct CocoReport {
  std::vector<double> stats;               ///< the 12 summarize() values (mask::stat_names() order)
  std::vector<std::string> summary_lines;  ///< summarize()'s printed lines, one per stat
  mask::IouType iou_type = mask::IouType::kSegm;
  int use_cats = 1;
  std::vector<int> max_dets;               ///< as evaluate() normalised them (sorted)
  std::size_t num_images = 0, num_categories = 0, num_gt = 0, num_dt = 0;
  std::vector<std::string> warnings;       ///< loading warnings, then the empty-selection warning
  bool strict = false, sample = false;
  std::string gt_file, dt_file;
  /// The per-image evaluation the statistics come from (evaluate()'s evalImgs and ious), kept for callers that
  /// read it.
  std::shared_ptr<const mask::CocoEvaluation> evaluation;
};

/// evaluate() + accumulate() + summarize() of COCOeval on the inputs. A selection with no GT image, category or
/// annotation adds a warning saying why every statistic is -1. Throws InputError for parameters COCOeval rejects
/// (e.g. image ids mixing integers and strings) and for --img-ids of the wrong type.
CocoReport evaluate_coco(const CocoInputs& inputs, const CocoOptions& options);

/// The record: metrics AP..ARl, signature, inputs (files with their SHA-256; none for the sample), details.stats and
/// counts. Throws InputError when an input file cannot be read for its checksum.
Result to_record(const CocoReport& report, const std::string& label);

/// The quirks --strict switches for coco: the source of its --help text, printed strict line and signature.
const QuirkTable& coco_quirks();

}  // namespace glamm::tasks
