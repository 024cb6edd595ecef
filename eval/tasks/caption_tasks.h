// Shared parts of the caption-scoring tasks (captions, regcap, imagecap): the METEOR scorer they are handed, the
// COCOEvalCap run, the SPICE-style (Link Grammar parser) run, coverage warnings and the signature entries they share.
// No printing: stage messages go through TaskProgress.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "datasets/regcap.h"
#include "eval/tasks/quirks.h"
#include "eval/tasks/sample_parts.h"
#include "metrics/caption/coco_eval_cap.h"
#include "metrics/meteor/meteor.h"
#include "metrics/spice/spice.h"

namespace glamm::tasks {

/// Stage messages of a task, all optional: the command line prints them on stderr (eval/progress.h).
struct TaskProgress {
  std::function<void(const std::string&)> start;  ///< a timed stage begins
  std::function<void()> done;                     ///< the stage begun last has ended
  std::function<void(const std::string&)> note;   ///< a free-form message

  void begin(const std::string& what) const { if (start) start(what); }
  void end() const { if (done) done(); }
  void say(const std::string& what) const { if (note) note(what); }
};

/// The METEOR scorer a caption task is handed, loaded by the caller (the command line: eval/meteor_setup.h).
struct CaptionMeteor {
  const meteor::Scorer* scorer = nullptr;              ///< not owned; nullptr when METEOR is not computed
  std::shared_ptr<const meteor::Resources> resources;  ///< english.synsets etc. (SPICE-style synonyms too)
  std::string source;                                  ///< resource folder or jar, as located
  Signature signature;                                 ///< METEOR's signature entries (cli::sign_meteor)
  std::vector<std::string> warnings;                   ///< warnings from loading the resources
};

/// The `--strict` quirk of every caption task: Java line-break characters inside a caption become spaces
/// (docs/quirks.md, captions/regcap/imagecap). `command` names the task in the help text.
QuirkTable caption_line_break_quirks(const std::string& command);

/// Signature value of a coverage mode: "complete", "allow-missing" or "only-present".
std::string coverage_name(datasets::Coverage c);

/// The coverage mode of --allow-missing / --only-present (InputError "", "--allow-missing" when both are given).
datasets::Coverage coverage_of(bool allow_missing, bool only_present);

/// Warnings about a pairing: samples without a prediction (left out or scored as empty captions, per `coverage`)
/// and predictions for images outside the evaluated split (ignored).
std::vector<std::string> coverage_warnings(const datasets::Pairing& p, datasets::Coverage coverage);

/// COCOEvalCap (pycocoevalcap's COCOEvalCap.evaluate) on `input`: `metrics` with `meteor.scorer`, PTB line breaks as
/// the reference unless `strict`, `threads` workers. Appends the scorer's warnings to `warnings`. Throws as
/// caption::evaluate.
caption::EvalCapResult score_caption_set(const caption::EvalCapInput& input, const caption::MetricSet& metrics,
                                         bool strict, int threads, const CaptionMeteor& meteor,
                                         const TaskProgress& progress, std::vector<std::string>& warnings);

/// A SPICE-style (Link Grammar parser) run over a scored caption set.
struct SpiceStyleRun {
  spice::CorpusScore score;
  std::string parser_version;  ///< LinkParser::version()
  spice::ParserOptions parser_options;
};

/// SPICE-style score of the captions COCOEvalCap just scored: the PTB-tokenized, punctuation-filtered strings of
/// `ev` (what pycocoevalcap hands to SPICE), one image per evaluated image, synonyms from METEOR's english.synsets
/// in `resources` (SPICE's -synsets). `threads` ≥ 1 parser threads (result independent of it). Throws InputError
/// when the resources are missing or the Link Grammar dictionary / WordNet cannot be loaded; the message ends with
/// `skip_hint` (how to run without SPICE-style).
SpiceStyleRun score_spice_style(const caption::EvalCapResult& ev, const std::shared_ptr<const meteor::Resources>& resources,
                                int threads, const TaskProgress& progress, const std::string& skip_hint);

/// Signature entries of a SPICE-style run: spice, spice_parser (Link Grammar version and settings), spice_scoring.
void sign_spice_style(Signature& sig, const SpiceStyleRun& run);

/// The record's details entry of a SPICE-style run: metric, value (mean "All" F), SPICE's subset macro averages
/// (f/precision/recall null where no image has a reference tuple of the kind), parse counts, fallback_captions.
nlohmann::json spice_style_details(const SpiceStyleRun& run);

/// Per-image "All" F of image `i` of the run.
double spice_style_of(const SpiceStyleRun& run, std::size_t i);

/// SPICE-style breakdown of image `i` of the run: F and tp/fp/fn of every SPICE subset, "All" first.
SpiceSampleBreakdown spice_style_breakdown_of(const SpiceStyleRun& run, std::size_t i);

/// Mean of the per-image "All" F over the images `idx`, summed in index order as score_corpus does; 0 for none.
double spice_style_mean(const SpiceStyleRun& run, const std::vector<std::size_t>& idx);

/// The caption pipeline's signature entries in record order: reference, tokenizer, METEOR's entries (from
/// `meteor.signature`), coverage, strict (from `quirks`), version.
void sign_caption_pipeline(Signature& sig, bool strict, datasets::Coverage coverage, const CaptionMeteor& meteor,
                           const QuirkTable& quirks);

/// details.bleu_info: the BLEU scorer's printed dict (testlen, reflen, guess, correct) and ratio.
nlohmann::json bleu_info_json(const caption::EvalCapResult& ev);

/// Record inputs "predictions", "predictions_1", ... for the prediction files read (in reading order).
void add_prediction_inputs(Result& r, const std::vector<std::string>& pred_files);

}  // namespace glamm::tasks
