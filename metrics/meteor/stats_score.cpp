#include "metrics/meteor/stats_score.h"

#include <memory>

#include "metrics/meteor/paraphrase.h"

namespace glamm::meteor {

namespace {

// Scorer::score / corpus_score read only the configuration (module count), never the resource tables, so a
// scorer over empty resources reproduces them exactly.
const Scorer& stats_scorer(bool paraphrase) {
  static const Scorer three(std::make_shared<const Resources>(), Config{false});
  static const Scorer four = [] {
    auto res = std::make_shared<Resources>();
    res->paraphrase = std::make_shared<const ParaphraseTable>(ParaphraseTable::parse("", "<none>"));
    return Scorer(res, Config{true});
  }();
  return paraphrase ? four : three;
}

bool uses_paraphrase(const Stats& s) {
  for (std::size_t i = 16; i < 20; ++i)
    if (s.v[i] != 0) return true;
  return false;
}

}  // namespace

double score_from_stats(const Stats& s) { return stats_scorer(uses_paraphrase(s)).score(s); }

double corpus_score_from_stats(const std::vector<Stats>& all) {
  bool para = false;
  for (const auto& s : all) para = para || uses_paraphrase(s);
  return stats_scorer(para).corpus_score(all);
}

}  // namespace glamm::meteor
