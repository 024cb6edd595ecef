// Shared steps of the caption-scoring task commands (regcap, imagecap): METEOR setup, COCOEvalCap scoring of a
// paired sample set, the printed metric lines, and the per-sample records kept for resampling.
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

namespace glamm::cli {

/// Options every caption task shares.
struct CaptionTaskOptions {
  CommonOptions common;
  std::string pred;
  bool allow_missing = false, only_present = false;
  std::string meteor_resources, meteor_paraphrase;
};

/// Bind --pred, --allow-missing, --only-present, --meteor-resources, --meteor-paraphrase and the common options.
void add_caption_task_options(CLI::App* sub, CaptionTaskOptions& o, const std::string& pred_help);

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

}  // namespace glamm::cli
