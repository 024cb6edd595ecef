// Task `captions`: pycocoevalcap's COCOEvalCap on a COCO captions GT file and a results list (BLEU-1..4, METEOR 1.5,
// ROUGE-L, CIDEr-D; optionally the SPICE-style score, metrics/spice, never labelled plain SPICE).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "datasets/coco_captions.h"
#include "eval/tasks/caption_schema.h"
#include "eval/tasks/caption_tasks.h"
#include "eval/tasks/quirks.h"

namespace glamm::tasks {

/// The files of a captions run.
struct CaptionsFiles {
  std::string gt;   ///< COCO captions JSON (images[], annotations[] with image_id and caption)
  std::string res;  ///< results list [{image_id, caption}]
};

/// Loaded captions inputs.
struct CaptionsInputs {
  std::string gt_file, res_file;
  datasets::CocoCaptionGt gt;
  std::vector<datasets::CocoCaptionResult> results;
  std::vector<std::string> warnings;  ///< from reading the files (GT anomalies, duplicate JSON keys)
};

/// Read both files through datasets/coco_captions (InputError naming file and record).
CaptionsInputs load_captions_inputs(const CaptionsFiles& files, const TaskProgress& progress = {});

struct CaptionsOptions {
  caption::MetricSet metrics;  ///< --metrics
  bool spice = false;          ///< also the SPICE-style score (needs meteor.resources)
  bool strict = false;         ///< captions_quirks()
  int threads = 1;
  CaptionMeteor meteor;  ///< scorer required with metrics.meteor; resources required with spice
  TaskProgress progress;
};

struct CaptionsReport {
  CaptionsOptions options;  ///< as run, without the progress callbacks (meteor.scorer is not used after evaluate)
  std::string gt_file, res_file;
  caption::EvalCapResult eval;        ///< corpus and per-image scores, BLEU dict, line-break counts
  std::optional<SpiceStyleRun> spice;
  std::vector<std::pair<std::string, double>> metrics;  ///< record order: COCOEvalCap's, then SPICE-style
  std::size_t num_gt_images = 0, num_gt_annotations = 0, num_results = 0;
  std::vector<CaptionSample> samples;  ///< evaluation order
  std::vector<std::string> warnings;
};

/// Pair results with GT images (datasets::pair_captions) and score them as COCOEvalCap.evaluate() does. Throws
/// InputError for results that do not pair (unknown or repeated image ids, empty list), for invalid captions, and
/// when METEOR / SPICE-style is asked for without its scorer / resources.
CaptionsReport evaluate_captions(const CaptionsInputs& inputs, const CaptionsOptions& options);

/// The record (task "captions", dataset "coco_captions"); reads the input files again for their checksums.
Result to_record(const CaptionsReport& report, const std::string& label);

/// The `--strict` quirks of captions (caption line breaks).
const QuirkTable& captions_quirks();

}  // namespace glamm::tasks
