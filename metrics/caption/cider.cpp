#include "metrics/caption/cider.h"

#include <algorithm>
#include <cmath>

#include "metrics/parallel.h"
#include "metrics/numeric.h"

namespace glamm::caption {

namespace {

constexpr double kSigma = 6.0;

/// counts2vec: per-entry weights, per-order Euclidean norms and the bigram count ("length" in the reference).
struct WeightedSentence {
  std::vector<double> weight;  ///< parallel to CookedSentence::entries
  double norm[kMaxNgram] = {0, 0, 0, 0};
  double length = 0;
};

void counts_to_vec(const CookedSentence& s, const std::vector<double>& log_df, double ref_len, WeightedSentence& out) {
  out.weight.resize(s.entries.size());
  for (int n = 1; n <= kMaxNgram; ++n) {
    double norm_sq = 0.0;
    for (std::uint32_t k = s.begin[n - 1]; k < s.begin[n]; ++k) {
      const NgramCount& e = s.entries[k];
      const double w = static_cast<double>(e.count) * (ref_len - log_df[e.id]);
      out.weight[k] = w;
      norm_sq += w * w;
    }
    out.norm[n - 1] = std::sqrt(norm_sq);
  }
  std::uint64_t bigrams = 0;
  for (std::uint32_t k = s.begin[1]; k < s.begin[2]; ++k) bigrams += s.entries[k].count;
  out.length = static_cast<double>(bigrams);
}

}  // namespace

CiderResult cider_d_score(const NgramCorpus& corpus, int threads) {
  const std::size_t n_images = corpus.hyps.size();
  CiderResult out;
  out.per_image.resize(n_images);
  if (n_images == 0) {
    out.mean = metrics::numpy_mean(out.per_image);
    return out;
  }

  // Document frequency over the evaluated reference sets (each image counts an n-gram once).
  std::vector<std::uint32_t> df(corpus.num_ngrams, 0);
  {
    std::vector<std::uint32_t> seen_in(corpus.num_ngrams, 0xFFFFFFFFu);
    for (std::size_t i = 0; i < n_images; ++i) {
      const auto stamp = static_cast<std::uint32_t>(i);
      for (const CookedSentence& r : corpus.refs[i])
        for (const NgramCount& e : r.entries)
          if (seen_in[e.id] != stamp) {
            seen_in[e.id] = stamp;
            ++df[e.id];
          }
    }
  }
  std::vector<double> log_df(corpus.num_ngrams);
  for (std::size_t g = 0; g < df.size(); ++g) log_df[g] = std::log(std::max(1.0, static_cast<double>(df[g])));
  const double ref_len = std::log(static_cast<double>(n_images));
  const double two_sigma_sq = 2.0 * std::pow(kSigma, 2);

  struct Scratch {
    std::vector<double> ref_weight;  ///< n-gram id → weight in the current reference (0 when absent)
    WeightedSentence hyp, ref;
  };
  const std::size_t chunk = 32;
  std::vector<Scratch> scratch(static_cast<std::size_t>(metrics::parallel_workers(n_images, threads, chunk)));

  metrics::parallel_for(
      n_images, threads,
      [&](std::size_t i, int worker) {
        Scratch& s = scratch[static_cast<std::size_t>(worker)];
        if (s.ref_weight.size() < corpus.num_ngrams) s.ref_weight.assign(corpus.num_ngrams, 0.0);
        const CookedSentence& hyp = corpus.hyps[i];
        counts_to_vec(hyp, log_df, ref_len, s.hyp);
        double score[kMaxNgram] = {0, 0, 0, 0};
        for (const CookedSentence& ref : corpus.refs[i]) {
          counts_to_vec(ref, log_df, ref_len, s.ref);
          for (std::size_t k = 0; k < ref.entries.size(); ++k) s.ref_weight[ref.entries[k].id] = s.ref.weight[k];
          const double delta = s.hyp.length - s.ref.length;
          const double penalty = std::pow(M_E, -std::pow(delta, 2) / two_sigma_sq);
          for (int n = 1; n <= kMaxNgram; ++n) {
            double val = 0.0;
            for (std::uint32_t k = hyp.begin[n - 1]; k < hyp.begin[n]; ++k) {
              const double wh = s.hyp.weight[k];
              const double wr = s.ref_weight[hyp.entries[k].id];
              val += (wr < wh ? wr : wh) * wr;  // Python min(wh, wr): wh unless wr < wh
            }
            if (s.hyp.norm[n - 1] != 0.0 && s.ref.norm[n - 1] != 0.0) val /= (s.hyp.norm[n - 1] * s.ref.norm[n - 1]);
            val *= penalty;
            score[n - 1] += val;
          }
          for (const NgramCount& e : ref.entries) s.ref_weight[e.id] = 0.0;
        }
        double avg = metrics::numpy_mean(score, kMaxNgram);
        avg /= static_cast<double>(corpus.refs[i].size());
        avg *= 10.0;
        out.per_image[i] = avg;
      },
      chunk);
  out.mean = metrics::numpy_mean(out.per_image);
  return out;
}

CiderResult cider_d_score(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                          int threads) {
  return cider_d_score(cook_corpus(hyps, refs), threads);
}

}  // namespace glamm::caption
