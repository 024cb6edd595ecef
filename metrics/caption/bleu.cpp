#include "metrics/caption/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "metrics/parallel.h"

namespace glamm::caption {

namespace {
constexpr double kTiny = 1e-15;
constexpr double kSmall = 1e-9;
}  // namespace

BleuCounts& BleuCounts::operator+=(const BleuCounts& o) {
  testlen += o.testlen;
  reflen += o.reflen;
  for (int k = 0; k < kMaxNgram; ++k) {
    guess[k] += o.guess[k];
    correct[k] += o.correct[k];
  }
  return *this;
}

std::array<double, kMaxNgram> bleu_from_counts(const BleuCounts& c) {
  std::array<double, kMaxNgram> out{};
  double prod = 1.0;
  for (int k = 0; k < kMaxNgram; ++k) {
    prod *= (static_cast<double>(c.correct[k]) + kTiny) / (static_cast<double>(c.guess[k]) + kSmall);
    out[k] = std::pow(prod, 1.0 / static_cast<double>(k + 1));
  }
  const double ratio = (static_cast<double>(c.testlen) + kTiny) / (static_cast<double>(c.reflen) + kSmall);
  if (ratio < 1.0) {
    const double bp = std::exp(1.0 - 1.0 / ratio);
    for (double& v : out) v *= bp;
  }
  return out;
}

BleuCounts bleu_image_counts(const CookedSentence& hyp, const std::vector<CookedSentence>& refs,
                             std::vector<std::uint32_t>& scratch) {
  BleuCounts c;
  c.testlen = hyp.length;
  // Closest reference length; ties go to the shorter one: min over (|l - c|, l).
  std::int64_t best_diff = -1, best_len = 0;
  for (const CookedSentence& r : refs) {
    const std::int64_t l = r.length;
    const std::int64_t d = std::llabs(l - c.testlen);
    if (best_diff < 0 || d < best_diff || (d == best_diff && l < best_len)) {
      best_diff = d;
      best_len = l;
    }
  }
  c.reflen = best_len;
  // maxref[g] = max count of g over the references.
  for (const CookedSentence& r : refs)
    for (const NgramCount& e : r.entries) scratch[e.id] = std::max(scratch[e.id], e.count);
  for (int n = 1; n <= kMaxNgram; ++n) {
    c.guess[n - 1] = std::max<std::int64_t>(0, c.testlen - n + 1);
    std::int64_t correct = 0;
    for (const NgramCount* e = hyp.order_begin(n); e != hyp.order_end(n); ++e)
      correct += std::min(e->count, scratch[e->id]);
    c.correct[n - 1] = correct;
  }
  for (const CookedSentence& r : refs)
    for (const NgramCount& e : r.entries) scratch[e.id] = 0;
  return c;
}

BleuResult bleu_score(const NgramCorpus& corpus, int threads) {
  const std::size_t n = corpus.hyps.size();
  BleuResult out;
  out.per_image.resize(n);
  out.per_image_counts.resize(n);
  const std::size_t chunk = 64;
  std::vector<std::vector<std::uint32_t>> scratch(static_cast<std::size_t>(metrics::parallel_workers(n, threads, chunk)));
  metrics::parallel_for(
      n, threads,
      [&](std::size_t i, int worker) {
        auto& s = scratch[static_cast<std::size_t>(worker)];
        if (s.size() < corpus.num_ngrams) s.assign(corpus.num_ngrams, 0);
        out.per_image_counts[i] = bleu_image_counts(corpus.hyps[i], corpus.refs[i], s);
        out.per_image[i] = bleu_from_counts(out.per_image_counts[i]);
      },
      chunk);
  for (const BleuCounts& c : out.per_image_counts) out.total += c;
  out.corpus = bleu_from_counts(out.total);
  out.ratio = (static_cast<double>(out.total.testlen) + kTiny) / (static_cast<double>(out.total.reflen) + kSmall);
  return out;
}

BleuResult bleu_score(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      int threads) {
  return bleu_score(cook_corpus(hyps, refs), threads);
}

}  // namespace glamm::caption
