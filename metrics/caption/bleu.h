// BLEU-1..4 exactly as pycocoevalcap's bleu_scorer.py (David Chiang's BleuScorer, option "closest") computes it:
// per-image clipped n-gram counts, corpus score from summed counts, epsilon-smoothed per-image scores.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/caption/ngrams.h"

namespace glamm::caption {

/// BLEU sufficient statistics (the dict the BLEU scorer prints): hypothesis length, the chosen reference length
/// (closest to the hypothesis length, ties → shorter), and per order n = 1..4 the number of hypothesis n-grams
/// (guess = max(0, testlen − n + 1)) and of clipped matches (correct). Summing them over images gives the corpus
/// statistics (element-wise).
struct BleuCounts {
  std::int64_t testlen = 0;
  std::int64_t reflen = 0;
  std::array<std::int64_t, kMaxNgram> guess{};
  std::array<std::int64_t, kMaxNgram> correct{};

  BleuCounts& operator+=(const BleuCounts& o);
};

/// BLEU-1..4 from counts, as BleuScorer.compute_score does both for each image and for the corpus:
/// p_n = (correct_n + 1e-15) / (guess_n + 1e-9); BLEU_k = (p_1 ⋯ p_k)^(1/k) (cumulative product);
/// ratio = (testlen + 1e-15) / (reflen + 1e-9) and, if ratio < 1, every BLEU_k *= exp(1 − 1/ratio).
/// Values in [0, 1]; never exactly 0 unless the brevity penalty underflows (empty hypothesis).
std::array<double, kMaxNgram> bleu_from_counts(const BleuCounts& c);

/// Per-image counts for one cooked hypothesis against its cooked references (cook_test with option "closest").
/// `scratch` must have ≥ num_ngrams zero entries and is left zeroed.
BleuCounts bleu_image_counts(const CookedSentence& hyp, const std::vector<CookedSentence>& refs,
                             std::vector<std::uint32_t>& scratch);

struct BleuResult {
  std::array<double, kMaxNgram> corpus{};                ///< Bleu_1..Bleu_4 (cocoEval.eval values)
  BleuCounts total;                                      ///< corpus counts (testlen, reflen, guess, correct)
  double ratio = 0;                                      ///< (testlen + 1e-15) / (reflen + 1e-9), as printed
  std::vector<std::array<double, kMaxNgram>> per_image;  ///< per-image Bleu_1..4 (evalImgs values)
  std::vector<BleuCounts> per_image_counts;              ///< per-image sufficient statistics
};

/// Bleu(4).compute_score over a cooked corpus (images in evaluation order), per-image work on `threads` threads;
/// results do not depend on the thread count.
BleuResult bleu_score(const NgramCorpus& corpus, int threads = 1);

/// Convenience: cook tokenized strings (parallel arrays by image) and score. Throws InputError as cook_corpus.
BleuResult bleu_score(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      int threads = 1);

}  // namespace glamm::caption
