// Task `regcap`: region captioning (paper Table 5, RefCOCOg and Visual Genome) as GLaMM's
// eval/region_captioning/evaluate.py scores it — COCOEvalCap over the GT images — but on the whole GT set by default
// (coverage guard) instead of only the images that happen to have a result.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "datasets/regcap.h"
#include "eval/tasks/caption_schema.h"
#include "eval/tasks/caption_tasks.h"
#include "eval/tasks/quirks.h"

namespace glamm::tasks {

/// The files of a regcap run.
struct RegcapFiles {
  std::string dataset;      ///< "refcocog" or "vg"
  std::string annotations;  ///< the region-caption GT file
  std::string pred;         ///< a predictions list or GLaMM's results folder
};

/// Loaded regcap inputs.
struct RegcapInputs {
  std::string dataset, annotations, pred;
  datasets::RegionCapGt gt;
  std::vector<datasets::CaptionPrediction> predictions;  ///< each with the file it was read from
  std::vector<std::string> pred_files;                   ///< prediction files read, in order
  std::vector<std::string> warnings;                     ///< from reading the GT file
};

/// Read the GT file and the predictions through datasets/regcap (InputError naming file and record).
RegcapInputs load_regcap_inputs(const RegcapFiles& files, const TaskProgress& progress = {});

struct RegcapOptions {
  datasets::Coverage coverage = datasets::Coverage::kComplete;
  bool strict = false;  ///< regcap_quirks()
  int threads = 1;
  CaptionMeteor meteor;  ///< scorer required
  TaskProgress progress;
};

struct RegcapReport {
  std::string dataset, split;  ///< split: "test" for vg, "val" for refcocog
  std::string annotations;
  std::vector<std::string> pred_files;
  datasets::Coverage coverage = datasets::Coverage::kComplete;
  bool strict = false;
  Signature meteor_signature;
  caption::EvalCapResult eval;
  std::size_t num_image_entries = 0, num_photos = 0, num_annotations = 0, num_predictions = 0;
  std::size_t images_without_annotations = 0, images_without_paired_box = 0, images_with_many_regions = 0;
  std::string regions_layout, file_layout;
  std::size_t num_missing = 0, num_outside = 0;
  std::vector<CaptionSample> samples;
  std::vector<std::string> warnings;
};

/// Pair GT samples with predictions under `coverage` (datasets::pair_predictions) and score them with COCOEvalCap.
/// Throws InputError for missing predictions (kComplete), unknown or repeated ids, nothing to score, no METEOR scorer.
RegcapReport evaluate_regcap(const RegcapInputs& inputs, const RegcapOptions& options);

/// The record (task "regcap"); reads the input files again for their checksums.
Result to_record(const RegcapReport& report, const std::string& label);

/// The `--strict` quirks of regcap (caption line breaks).
const QuirkTable& regcap_quirks();

}  // namespace glamm::tasks
