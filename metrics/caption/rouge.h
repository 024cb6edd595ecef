// ROUGE-L as pycocoevalcap's rouge.py computes it: LCS on tokens from split(" "), β = 1.2, precision and recall
// maximised independently over the references, mean over images with NumPy's summation order.
#pragma once

#include <string>
#include <vector>

namespace glamm::caption {

/// ROUGE-L of one hypothesis against its references (Rouge.calc_score). Tokens = Python split(" ") (so "" is one
/// empty token). P = max_j LCS_j/len(hyp), R = max_j LCS_j/len(ref_j) (maxima taken independently);
/// F = ((1 + β²)·P·R) / (R + β²·P) with β = 1.2 when P ≠ 0 and R ≠ 0, else 0. Value in [0, 1].
/// Throws InputError when `refs` is empty (the reference asserts ≥ 1 reference).
double rouge_l(const std::string& hyp, const std::vector<std::string>& refs);

struct RougeResult {
  double mean = 0;                ///< np.mean of the per-image scores (ROUGE_L)
  std::vector<double> per_image;  ///< per-image F in evaluation order
};

/// Rouge.compute_score over parallel arrays by image (evaluation order), per-image work on `threads` threads.
/// Throws InputError when the arrays differ in length or an image has no reference.
RougeResult rouge_score(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                        int threads = 1);

}  // namespace glamm::caption
