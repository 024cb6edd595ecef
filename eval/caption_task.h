// Shared steps of the caption-scoring task commands (regcap, imagecap, captions): METEOR setup, COCOEvalCap scoring
// of a paired sample set, the SPICE-style score (metrics/spice), the printed metric lines, and the per-sample records
// kept for resampling.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "datasets/regcap.h"
#include "eval/command.h"
#include "eval/meteor_setup.h"
#include "eval/progress.h"
#include "metrics/caption/coco_eval_cap.h"
#include "metrics/spice/spice.h"

namespace glamm::cli {

/// Options every caption task shares.
struct CaptionTaskOptions {
  CommonOptions common;
  std::string pred;
  bool allow_missing = false, only_present = false;
  std::string meteor_resources, meteor_paraphrase;
};

/// Bind --pred, --allow-missing, --only-present, --meteor-resources, --meteor-paraphrase and the common options.
/// `default_record`: where the command writes its record without --json (said in --help; add_common_options).
void add_caption_task_options(CLI::App* sub, CaptionTaskOptions& o, const std::string& pred_help,
                              const std::string& default_record);

/// The coverage mode of the options (throws InputError when both --allow-missing and --only-present are given).
datasets::Coverage coverage_of(const CaptionTaskOptions& o);

/// Run COCOEvalCap (BLEU, METEOR, ROUGE-L, CIDEr) on `input` with the METEOR scorer `met`; PTB line breaks as the
/// reference unless --strict. Appends the scorer's warnings.
caption::EvalCapResult score_captions(const caption::EvalCapInput& input, const CaptionTaskOptions& o,
                                      const MeteorSetup& met, Progress& progress, std::vector<std::string>& warnings);

/// Per-sample records: image_id, predicted flag, Bleu_1..4, METEOR, ROUGE_L, CIDEr, bleu_counts, meteor_stats (23),
/// caption_tokenized; plus `extra[i]` merged in when given.
nlohmann::json per_sample_json(const caption::EvalCapResult& ev, const datasets::Pairing& pairing);

/// Signature entries of the caption pipeline (reference, tokenizer, METEOR, coverage, strict, version).
void sign_captions(Signature& sig, const CaptionTaskOptions& o, const MeteorSetup& met);

/// Print "Bleu_1: 0.634" ... lines (pycocoevalcap's %0.3f) with an optional prefix.
void print_caption_metrics(const caption::EvalCapResult& ev, const std::string& prefix = "");

/// The coverage facts for the record details and the printed summary; appends a warning for missing/ignored ones.
void note_coverage(const datasets::Pairing& p, const CaptionTaskOptions& o, Result& r,
                   std::vector<std::string>& warnings);

/// A SPICE-style (Link Grammar parser) run over a scored caption set.
struct SpiceStyleRun {
  spice::CorpusScore score;
  std::string parser_version;  ///< LinkParser::version()
  spice::ParserOptions parser_options;
};

/// SPICE-style score of the captions COCOEvalCap just scored: the PTB-tokenized, punctuation-filtered strings of
/// `ev` (hyps_tokenized, refs_tokenized: what pycocoevalcap hands to SPICE), one image per evaluated image, synonyms
/// from METEOR's english.synsets in `met` (SPICE's -synsets). Uses `threads` ≥ 1 parser threads (result independent
/// of it). Throws InputError when the Link Grammar dictionary or WordNet cannot be loaded; its message ends with
/// `skip_hint` (how to run without SPICE-style, e.g. "pass --no-spice to skip it").
SpiceStyleRun score_spice_style(const caption::EvalCapResult& ev, const MeteorSetup& met, int threads,
                                Progress& progress, const std::string& skip_hint);

/// Signature entries of a SPICE-style run: spice = "SPICE-style (Link Grammar parser)", spice_parser (Link Grammar
/// version and settings), spice_synonyms (METEOR english.synsets; its checksum is meteor_resources_sha256).
void sign_spice_style(Signature& sig, const SpiceStyleRun& run);

/// The record's details entry: metric name, value (mean over images of the "All" F, in [0, 1]), SPICE's subset
/// macro averages (All, Object, Attribute, Relation, Cardinality = count, Color, Size: f, precision, recall, tp, fp,
/// fn, num_images; f/precision/recall null where no image has a reference tuple of the kind), how the distinct
/// captions were parsed and `fallback_captions` (distinct non-empty captions with no linkage, scored as noun-only
/// objects).
nlohmann::json spice_style_details(const SpiceStyleRun& run);

/// Add the per-image "All" F under the metric name (kMetricName) to each per-sample record (same order).
void add_spice_style_per_sample(nlohmann::json& per_sample, const SpiceStyleRun& run);

/// Mean of the per-image "All" F over the images `idx` (indexes into run.score.per_image), summed in index order
/// as score_corpus does; 0 for none.
double spice_style_mean(const SpiceStyleRun& run, const std::vector<std::size_t>& idx);

/// Print "SPICE-style (Link Grammar parser): 0.414" (%0.3f), the subset line and the parse counts.
void print_spice_style(const SpiceStyleRun& run);

}  // namespace glamm::cli
