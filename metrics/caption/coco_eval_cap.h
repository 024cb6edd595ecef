// The caption evaluation pipeline as pycocoevalcap's COCOEvalCap.evaluate() runs it: PTB tokenization of the GT
// and of the result captions (separately), then BLEU-1..4, METEOR, ROUGE-L and CIDEr-D over the same images.
// File-free: datasets/coco_captions.h loads and pairs the COCO files into an EvalCapInput.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/caption/bleu.h"
#include "metrics/caption/image_id.h"
#include "metrics/meteor/meteor.h"
#include "metrics/ptb/ptb_tokenizer.h"

namespace glamm::caption {

/// Which scorers run (pycocoevalcap order: Bleu, METEOR, ROUGE_L, CIDEr). SPICE is not part of this pipeline.
struct MetricSet {
  bool bleu = true, meteor = true, rouge = true, cider = true;

  /// Parse a comma-separated list of "bleu", "meteor", "rouge" (or "rouge_l"), "cider" (case-insensitive,
  /// spaces ignored). Throws InputError("", "--metrics", ...) on an unknown or empty list.
  static MetricSet parse(const std::string& list);
  /// "bleu,meteor,rouge,cider" style (only the enabled ones, in pipeline order).
  std::string str() const;
};

/// The images to evaluate, in evaluation order, with raw (untokenized) captions.
struct EvalCapInput {
  std::vector<ImageId> image_ids;              ///< evaluation order (COCOEvalCap's imgIds)
  std::vector<std::vector<std::string>> refs;  ///< refs[i]: GT captions of image i, annotation file order (≥ 1)
  std::vector<std::string> hyps;               ///< hyps[i]: the one result caption of image i
};

struct EvalCapOptions {
  MetricSet metrics;
  ptb::LineBreakMode line_breaks = ptb::LineBreakMode::kReference;  ///< kStrict: line-break chars → spaces
  const meteor::Scorer* meteor = nullptr;  ///< required when metrics.meteor is set (not owned)
  int threads = 1;                         ///< worker threads for tokenization and per-image scoring (≥ 1)
  std::function<void(const std::string&)> progress;  ///< optional: stage messages ("tokenization...", ...)
};

/// Per-image scores and sufficient statistics (COCOEvalCap.evalImgs plus the statistics needed to resample
/// corpus metrics). Fields of metrics that were not run stay 0.
struct ImageEval {
  ImageId image_id;
  std::array<double, kMaxNgram> bleu{};  ///< per-image Bleu_1..4 (epsilon-smoothed, as the reference)
  BleuCounts bleu_counts;                ///< testlen, closest reflen, guess[4], correct[4]
  double meteor = 0;                     ///< segment score computeMetrics(meteor_stats)
  meteor::Stats meteor_stats;            ///< the 23 statistics of the best reference
  double rouge_l = 0;
  double cider = 0;
};

struct EvalCapResult {
  /// Corpus values in pycocoevalcap's names and order: Bleu_1..Bleu_4, METEOR, ROUGE_L, CIDEr (enabled only).
  std::vector<std::pair<std::string, double>> metrics;
  BleuCounts bleu_total;  ///< the BLEU scorer's printed dict (testlen, reflen, guess, correct)
  double bleu_ratio = 0;  ///< its printed ratio
  std::vector<ImageEval> per_image;                      ///< evaluation order
  std::vector<std::string> hyps_tokenized;               ///< after PTB + punctuation filter
  std::vector<std::vector<std::string>> refs_tokenized;  ///< after PTB + punctuation filter
  std::size_t gt_captions_with_line_breaks = 0;
  std::size_t result_captions_with_line_breaks = 0;
  std::vector<std::string> warnings;  ///< line-break handling, single-image CIDEr, tokenizer warnings
};

/// COCOEvalCap.evaluate(): tokenize all GT captions (image order, then annotation order) in one batch and all
/// result captions in another (ptb::tokenize_batch with `opt.line_breaks`), then run the enabled scorers:
/// BLEU corpus from summed counts, METEOR corpus from summed statistics (hypothesis cleaned with
/// pycocoevalcap_clean_hypothesis, references sent as tokenized), ROUGE-L and CIDEr-D as np.mean over images.
/// Deterministic for any thread count. Throws InputError when the input is inconsistent (array sizes, an image
/// without references, no images, METEOR requested without a scorer) or a caption is not valid UTF-8.
EvalCapResult evaluate(const EvalCapInput& input, const EvalCapOptions& opt);

/// Score already tokenized captions (the scorer stage of evaluate(), no PTB step): what pycocoevalcap's scorers
/// return when called directly on {id: [strings]} dicts. Same metrics, per-image values and errors as evaluate().
/// The tokenized strings are moved into the result.
EvalCapResult score_tokenized(std::vector<ImageId> image_ids, std::vector<std::vector<std::string>> refs_tokenized,
                              std::vector<std::string> hyps_tokenized, const EvalCapOptions& opt);

}  // namespace glamm::caption
