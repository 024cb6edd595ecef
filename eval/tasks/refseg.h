// Task `refseg`: referring-expression segmentation (RefCOCO/RefCOCO+/RefCOCOg/RefCLEF) cIoU and gIoU as GLaMM's
// eval/referring_seg/infer_and_evaluate.py computes them (paper Table 4). Inputs come from datasets/refer (REFER
// pickle, instances.json, split, prediction JSONL); the arithmetic is metrics/mask RefSegAccumulator's.
// docs/quirks.md (refseg) lists what --strict changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "datasets/refer.h"
#include "eval/tasks/quirks.h"
#include "eval/tasks/refseg_schema.h"

namespace glamm::tasks {

/// What to load: the REFER files, the prediction file and the split they are evaluated on.
struct RefsegFiles {
  std::filesystem::path refs;       ///< refs(<split_by>).p
  std::filesystem::path instances;  ///< instances.json
  std::string predictions;          ///< prediction JSON Lines (or JSON array), as the user named it
  std::string dataset;              ///< refcoco, refcoco+, refcocog or refclef
  std::string split_by;             ///< unc, umd, google, berkeley (already resolved: not empty)
  std::string split;                ///< e.g. val, testA
};

/// Loaded refseg inputs: the REFER data with the selected split and the predictions.
struct RefsegInputs {
  std::filesystem::path refs_file, instances_file;
  std::string predictions_file;  ///< named in every prediction error
  datasets::refer::RefsFile refs;
  datasets::refer::Instances instances;
  datasets::refer::Split split;  ///< carries dataset, split_by and split
  std::vector<datasets::refer::Prediction> predictions;
  std::vector<std::string> warnings;  ///< from loading (duplicate JSON keys, Latin-1 strings in the pickle)
};

/// Read the refs pickle and instances.json, select the split, then read the predictions (in this order, so the
/// first error is the same as the reference's). Throws InputError naming the file and record.
RefsegInputs load_refseg_inputs(const RefsegFiles& files);

/// Which sentences are scored when some have no prediction.
enum class RefsegCoverage {
  kComplete,      ///< every evaluated sentence needs a prediction (else InputError listing the missing ones)
  kAllowMissing,  ///< missing predictions score as empty masks (counted, warned)
  kOnlyPresent,   ///< only sentences with a prediction are scored (warned)
};

/// How evaluate_refseg scores (the CLI's --strict, --threads, --allow-missing/--only-present, --glamm-sampling,
/// --gt-overlap).
struct RefsegOptions {
  bool strict = false;  ///< exact arithmetic (refseg_quirks(), docs/quirks.md q11)
  int threads = 1;      ///< workers for the per-image counting; results do not depend on it
  RefsegCoverage coverage = RefsegCoverage::kComplete;
  /// GLaMM's <= 3 random sentences per image, drawn with this seed (nullopt: every sentence).
  std::optional<uint64_t> sampling_seed;
  datasets::refer::GtOverlap gt_overlap = datasets::refer::GtOverlap::kUnion;
  std::function<void(const std::string&)> stage_started;  ///< progress: a stage begins (may be empty)
  std::function<void()> stage_done;                       ///< progress: it ended (may be empty)
};

/// The result of one refseg evaluation.
struct RefsegReport {
  std::string dataset, split_by, split;
  double giou = 0, ciou = 0;
  std::string giou_str, ciou_str;        ///< the values as float32 prints them (the reference's print)
  double intersection_sum = 0, union_sum = 0;  ///< float32 sums, or exact ones under strict
  std::size_t num_sentences = 0;         ///< scored sentences (= samples.size())
  std::size_t num_images = 0;            ///< scored image items
  std::size_t num_refs = 0, num_split_sentences = 0, num_predictions = 0, num_missing = 0;
  std::size_t num_predictions_not_drawn = 0;  ///< predictions of sentences the seeded draw left out
  std::vector<std::pair<std::string, datasets::refer::SplitCounts>> split_counts;  ///< every split of the refs
  std::size_t refs_py2_strings = 0, refs_latin1_strings = 0;
  std::vector<RefsegSample> samples;     ///< item order, sentences of an item in draw/file order
  std::vector<std::string> warnings;     ///< loading warnings, then coverage warnings
  // How the numbers were made (signature) and from what (inputs).
  bool strict = false;
  std::optional<uint64_t> sampling_seed;
  RefsegCoverage coverage = RefsegCoverage::kComplete;
  datasets::refer::GtOverlap gt_overlap = datasets::refer::GtOverlap::kUnion;
  std::filesystem::path refs_file, instances_file;
  std::string predictions_file;
};

/// Score the predictions on the split as ReferSegmDataset + intersectionAndUnionGPU + AverageMeter do: per image
/// item, the per-target (intersection, union) of the foreground class, accumulated item by item in float32 (or
/// exactly when strict). Throws InputError (naming the prediction file and line, or the instances file and
/// annotation) for a prediction of another dataset/split, an unknown sent_id, a mismatched ref/image id or mask
/// size, a duplicate, missing predictions under kComplete, an undecodable mask; any other exception (e.g.
/// std::bad_alloc) passes unchanged. With several threads the error is the one a serial run gives.
RefsegReport evaluate_refseg(const RefsegInputs& inputs, const RefsegOptions& options);

/// The record: metrics cIoU and gIoU, signature, inputs (with their SHA-256; InputError when unreadable), details
/// and per-sample records.
Result to_record(const RefsegReport& report, const std::string& label);

/// The quirks --strict switches for refseg: the source of its --help text, printed strict line and signature.
const QuirkTable& refseg_quirks();

/// GLaMM's at-most-3-sentence draw of one image item (np.random.choice without replacement), reproducible: a
/// partial Fisher-Yates shuffle on a 64-bit Mersenne Twister, each index drawn by rejection so that it does not
/// depend on the standard library's distributions. Returns positions in [0, n) in draw order (all of them, in
/// order, when n < 3).
std::vector<std::size_t> draw_three(std::size_t n, std::mt19937_64& rng);

}  // namespace glamm::tasks
