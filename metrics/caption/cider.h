// CIDEr-D as pycocoevalcap's cider_scorer.py computes it (n = 4, σ = 6, document frequencies from the evaluated
// references, clipped hypothesis weights, Gaussian length penalty, ×10), with the reference's floating-point order.
#pragma once

#include <string>
#include <vector>

#include "metrics/caption/ngrams.h"

namespace glamm::caption {

struct CiderResult {
  double mean = 0;                ///< np.mean of the per-image scores (CIDEr)
  std::vector<double> per_image;  ///< per-image CIDEr-D in evaluation order (≥ 0; 0 for every image when N = 1)
};

/// CiderScorer.compute_score over a cooked corpus. df(g) = number of images whose reference set contains g;
/// weight of g in a sentence = count · (ln N − ln max(1, df(g))); per order n the similarity
/// Σ_g min(w_h, w_r)·w_r / (‖h‖·‖r‖) (division skipped when a norm is 0) times e^(−δ²/72) with δ the difference
/// of the two sentences' bigram counts (computed as pow(M_E, x)); image score = 10 · mean_n(Σ_refs sim_n) / #refs.
/// Per-image work on `threads` threads; results do not depend on the thread count.
CiderResult cider_d_score(const NgramCorpus& corpus, int threads = 1);

/// Convenience: cook tokenized strings (parallel arrays by image) and score. Throws InputError as cook_corpus.
CiderResult cider_d_score(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                          int threads = 1);

}  // namespace glamm::caption
