#include "metrics/caption/rouge.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "common/error.h"
#include "metrics/parallel.h"
#include "metrics/caption/text_split.h"
#include "metrics/numeric.h"

namespace glamm::caption {

namespace {

constexpr double kBeta = 1.2;

/// Length of the longest common subsequence of two token lists (rouge.py my_lcs; symmetric).
std::size_t lcs_length(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  const std::vector<std::string_view>& longer = a.size() >= b.size() ? a : b;
  const std::vector<std::string_view>& shorter = a.size() >= b.size() ? b : a;
  std::vector<std::size_t> row(shorter.size() + 1, 0);
  for (std::size_t i = 0; i < longer.size(); ++i) {
    std::size_t diag = 0;  // row[j] of the previous i
    for (std::size_t j = 1; j <= shorter.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = (longer[i] == shorter[j - 1]) ? diag + 1 : std::max(up, row[j - 1]);
      diag = up;
    }
  }
  return row[shorter.size()];
}

}  // namespace

double rouge_l(const std::string& hyp, const std::vector<std::string>& refs) {
  if (refs.empty()) throw InputError("", "", "ROUGE-L: no reference captions (at least one is required)");
  const std::vector<std::string_view> tc = python_split_space(hyp);
  double prec_max = 0.0, rec_max = 0.0;
  bool first = true;
  for (const std::string& ref : refs) {
    const std::vector<std::string_view> tr = python_split_space(ref);
    const double lcs = static_cast<double>(lcs_length(tr, tc));
    const double p = lcs / static_cast<double>(tc.size());
    const double r = lcs / static_cast<double>(tr.size());
    if (first || p > prec_max) prec_max = p;
    if (first || r > rec_max) rec_max = r;
    first = false;
  }
  if (prec_max != 0.0 && rec_max != 0.0) {
    const double b2 = kBeta * kBeta;
    return ((1.0 + b2) * prec_max * rec_max) / (rec_max + b2 * prec_max);
  }
  return 0.0;
}

RougeResult rouge_score(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                        int threads) {
  if (hyps.size() != refs.size())
    throw InputError("", "", "ROUGE-L: " + std::to_string(hyps.size()) + " hypotheses but " +
                                 std::to_string(refs.size()) + " reference sets");
  for (std::size_t i = 0; i < refs.size(); ++i)
    if (refs[i].empty())
      throw InputError("", "image #" + std::to_string(i), "no reference captions (at least one is required)");
  RougeResult out;
  out.per_image.resize(hyps.size());
  metrics::parallel_for(
      hyps.size(), threads, [&](std::size_t i, int) { out.per_image[i] = rouge_l(hyps[i], refs[i]); }, 64);
  out.mean = metrics::numpy_mean(out.per_image);
  return out;
}

}  // namespace glamm::caption
