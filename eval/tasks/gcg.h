// GCG — Grounded Conversation Generation on GranD-f — scored as groundingLMM's eval/gcg/evaluate.py scores it: mask
// AP/AP50 (COCOeval segm, catIds [1], every score 1.0), the caption metrics (pycocoevalcap pipeline), mIoU and
// mask recall. load_gcg_inputs reads the files through datasets/grandf and datasets/coco_json, evaluate_gcg scores
// them (no printing; progress through callbacks), to_record builds the results record. run_gcg_task does the first
// two in one call. docs/quirks.md (gcg) lists what `--strict` changes; reports/SCHEMA.md the record.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "datasets/grandf.h"
#include "eval/tasks/gcg_schema.h"
#include "eval/tasks/gcg_similarity.h"
#include "eval/tasks/quirks.h"
#include "metrics/caption/bleu.h"
#include "metrics/mask/cocoeval.h"
#include "metrics/meteor/meteor.h"

namespace glamm::tasks {

/// Where a GCG run's files are (the layout GLaMM's evaluate.py reads).
struct GcgFiles {
  std::string split = "val";           ///< "val" or "test"
  std::string gt_dir;                  ///< folder with {split}_gcg_coco_caption_gt.json and {split}_gcg_coco_mask_gt.json
  std::vector<std::string> pred_dirs;  ///< folders of <image_id>.json (shards; an image predicted twice is an error)

  std::filesystem::path caption_gt_file() const;  ///< <gt_dir>/<split>_gcg_coco_caption_gt.json
  std::filesystem::path mask_gt_file() const;     ///< <gt_dir>/<split>_gcg_coco_mask_gt.json
};

/// Throws InputError unless `files` names a GCG split (val, test) and at least one existing predictions folder
/// (a mistyped folder would otherwise read as "no prediction for any image").
void validate_gcg_files(const GcgFiles& files);

/// Stage messages; every member is optional.
struct GcgProgress {
  std::function<void(const std::string&)> stage;  ///< a timed stage begins, e.g. "reading predictions..."
  std::function<void()> stage_done;               ///< the stage begun last has ended
  std::function<void(const std::string&)> note;   ///< a free-form message (the caption scorers' stages)
};

/// METEOR for the caption metrics, handed over when the captions are about to be scored.
struct GcgMeteor {
  const meteor::Scorer* scorer = nullptr;  ///< not owned; must stay alive until evaluate_gcg returns
  Signature signature;                     ///< the record's METEOR signature entries, in order
};

struct GcgOptions {
  bool strict = false;       ///< the corrected variants of gcg_quirks() instead of the reference behaviour
  int threads = 1;           ///< worker threads (GT decoding, COCOeval, captions, mIoU/recall); < 1 means 1
  bool allow_missing = false;  ///< score a missing prediction file as an empty prediction instead of failing
  /// Phrase similarity of the mask recall (BERT or a table). Required.
  std::shared_ptr<PhraseSimilarity> similarity;
  /// Called once, after AP and before the captions are scored (so that METEOR's resources can load meanwhile);
  /// may append warnings (e.g. the paraphrase table is off). Unset: METEOR is not computed.
  std::function<GcgMeteor(std::vector<std::string>& warnings)> meteor;
  /// Without `meteor`: why, as the run's first warning "METEOR not computed: <meteor_unavailable>".
  std::string meteor_unavailable;
  GcgProgress progress;
};

/// Everything a GCG evaluation reads, already parsed.
struct GcgInputs {
  GcgFiles files;
  datasets::grandf::CaptionGt caption_gt;
  mask::CocoGroundTruth mask_gt;  ///< the mask GT as COCOeval reads it
  std::vector<datasets::grandf::MaskGtAnnotation> mask_annotations;  ///< as GLaMM's mIoU / recall read them
  /// predictions[i] belongs to caption_gt.image_ids[i]; Prediction::file names the file it came from, "" for the
  /// empty stand-in of a missing file.
  std::vector<datasets::grandf::Prediction> predictions;
  std::vector<std::string> missing;   ///< ids of the images without a prediction file, caption-GT order
  std::vector<std::string> warnings;  ///< the loaders' warnings (COCO GT checks, duplicate JSON keys)
};

/// Read the caption GT, the mask GT (twice: for COCOeval and for mIoU/recall) and every image's prediction file
/// (caption-GT image order, GLaMM's ingestion order), looking in each of files.pred_dirs. Uses options.threads and
/// options.progress. Throws InputError for bad files (naming file and record) and for an image with a prediction in
/// more than one folder; a missing prediction is left to evaluate_gcg.
GcgInputs load_gcg_inputs(const GcgFiles& files, const GcgOptions& options);

/// A scored GCG run.
struct GcgReport {
  GcgFiles files;
  bool strict = false;
  bool with_meteor = false;
  std::vector<double> coco_stats;   ///< COCOeval summarize(): the 12 stats (AP = [0], AP50 = [1])
  mask::CocoParams coco_params;     ///< the parameters COCOeval ran with (for its summary lines)
  std::vector<std::pair<std::string, double>> caption_metrics;  ///< pycocoevalcap's names and order
  caption::BleuCounts bleu_total;   ///< the BLEU scorer's corpus counts
  double bleu_ratio = 0;
  double miou = 0;                  ///< numpy mean of the per-image mIoU over the caption-GT images
  double recall = 0;                ///< true positives / actual positives (0 without positives)
  std::size_t recall_true_positives = 0, recall_actual_positives = 0;
  std::size_t num_images = 0, num_pred_masks = 0, num_gt_masks = 0;
  GcgFailureBreakdown failures;
  std::vector<GcgSample> samples;   ///< caption-GT image order
  std::vector<std::string> warnings;
  Signature meteor_signature;       ///< from GcgOptions::meteor (empty without METEOR)
  std::string similarity_signature, similarity_role, similarity_path;  ///< PhraseSimilarity's record entries
  nlohmann::json similarity_coverage;  ///< PhraseSimilarity::coverage() after the recall (null for BERT)

  /// A caption metric by pycocoevalcap name ("METEOR", "CIDEr", ...); 0 when it was not computed.
  double caption_metric(const std::string& name) const;
};

/// Score `inputs` as evaluate.py does: detections in caption-GT image order then pred_masks order (score 1.0,
/// category 1); AP by COCOeval (segm, catIds [1]); the captions by COCOEvalCap over every caption-GT image; per
/// image mIoU (compute_miou) and recall matching (find_best_matches) with GT masks of the image (category-1
/// non-crowd only with strict, q13) and the labels of its first caption annotation. mIoU/recall run on
/// options.threads workers; an error there is the one a serial run gives (the first failing image).
/// Throws InputError for: missing predictions (unless allow_missing), a predicted image not in the mask GT, a bad
/// or mis-sized mask (naming the prediction file that holds it), GT that is not compressed RLE, an image without a
/// caption annotation, a --text-sim table that lists none of the pairs looked up.
GcgReport evaluate_gcg(const GcgInputs& inputs, const GcgOptions& options);

/// load_gcg_inputs then evaluate_gcg.
GcgReport run_gcg_task(const GcgFiles& files, const GcgOptions& options);

/// What the record says beyond the report.
struct GcgRecordInfo {
  std::string label;            ///< "" = gcg_default_label(files.pred_dirs)
  bool builtin_sample = false;  ///< `gcg --sample`: signature data = synthetic, inputs.images = <gt_dir>/images
};

/// The results record (task gcg, dataset grandf): metrics METEOR (when computed), CIDEr, AP50, mIoU, Recall, AP,
/// then the other caption metrics; the signature; inputs with checksums (throws InputError when one cannot be
/// read); details; per_sample from GcgSample::to_json.
Result to_record(const GcgReport& report, const GcgRecordInfo& info);

/// The run label when none is given: the name of the first predictions folder ("run" when there is none).
std::string gcg_default_label(const std::vector<std::string>& pred_dirs);

/// The quirks `gcg --strict` corrects (docs/quirks.md, gcg), in the order of the record's `strict` signature.
const QuirkTable& gcg_quirks();

/// `--strict` help of gcg: gcg_quirks().help_text() and the caption line-break rule (signed in the record's
/// `tokenizer` entry, not in `strict`).
std::string gcg_strict_help();

}  // namespace glamm::tasks
