// METEOR scores from sufficient statistics alone (no language resources): for re-aggregating stored per-segment
// Stats, e.g. reports/ bootstrap resampling of a results record.
#pragma once

#include <vector>

#include "metrics/meteor/meteor.h"

namespace glamm::meteor {

/// MeteorScorer.computeMetrics of one Stats vector (same value as Scorer::score), without resources.
/// Modules: 4 (with paraphrase) when any paraphrase-module entry [16..19] is non-zero, else 3.
double score_from_stats(const Stats& s);

/// The EVAL corpus score of per-segment stats (same value as Scorer::corpus_score: summed with
/// MeteorStats.addStats, a perfect segment's chunks not added), without resources. Empty input → 0.
double corpus_score_from_stats(const std::vector<Stats>& all);

}  // namespace glamm::meteor
