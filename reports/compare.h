// `glamm-eval compare`: records of one task side by side, with a paired bootstrap over samples of the metric
// difference (re-aggregated from the stored per-sample data, reports/aggregate.h) and the samples that
// regressed most.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/record.h"

namespace glamm::reports {

struct CompareOptions {
  int resamples = 1000;        ///< bootstrap resamples (≥ 1)
  std::uint64_t seed = 12345;  ///< mt19937_64 seed; same seed → same intervals
  double confidence = 0.95;    ///< two-sided interval level
  bool force = false;          ///< compare despite different splits / metric variants / sample sets
  std::string rank_metric;     ///< per-sample metric for the regression list ("" = the metric with the largest
                               ///< relative drop B vs A that has per-sample scores, else the first that has them)
  int worst = 10;              ///< how many most-regressed samples to list
};

/// One metric of one comparison (baseline A vs candidate B).
struct MetricComparison {
  std::string metric;
  double a = 0, b = 0;        ///< stored values of the records
  double a_re = 0, b_re = 0;  ///< re-aggregated from per-sample data over all shared samples
  double delta = 0;           ///< b_re − a_re
  double ci_low = 0, ci_high = 0;  ///< percentile interval of the bootstrap differences (NumPy 'linear')
  double p_value = 1;         ///< two-sided: min(1, 2·(1 + #{d ≤ 0 or d ≥ 0, the rarer side}) / (B + 1))
};

struct RegressedSample {
  std::string id;
  double a = 0, b = 0, drop = 0;  ///< drop = a − b (> 0 means B is worse)
};

struct Comparison {
  std::string task, label_a, label_b, path_a, path_b;
  std::string data_a, data_b;  ///< signature "data" of each record ("" = real data; e.g. synthetic (built-in sample))
  std::size_t samples = 0;
  int resamples = 0;
  std::uint64_t seed = 0;
  std::vector<MetricComparison> metrics;
  std::vector<std::string> notes;  ///< metrics left out, forced mismatches
  std::string rank_metric;
  std::vector<RegressedSample> regressed;  ///< largest drop first (ties: id order), only drops > 0
  nlohmann::json to_json() const;
};

/// Check that `b` may be compared with `a`: same task (always), same METEOR paraphrase state
/// (meteor_paraphrase_of: official / other:… / off / unidentified), split and metric variant (metric_variant)
/// unless `force`. Throws InputError naming both files and the differing values.
void check_comparable(const RunRecord& a, const RunRecord& b, bool force);

/// The metric-variant fields (metric_variant: signature without split and file locations) whose values differ
/// between `a` and `b`, one block per field: "  key:\n    A: value\n    B: value\n" ("(absent)" where a record lacks
/// the key); "" when the variants are equal.
std::string variant_differences(const RunRecord& a, const RunRecord& b);

/// Paired bootstrap of B − A over the samples both records share (matched by sample id; without `force` the id
/// sets must be equal). Each resample draws n sample positions with replacement (mt19937_64(seed), index =
/// draw mod n) and re-aggregates every metric for A and B on the same positions. Deterministic for a seed.
/// Throws InputError as check_comparable, when a record has no per-sample data, or when no metric can be
/// re-aggregated.
Comparison compare_runs(const RunRecord& a, const RunRecord& b, const CompareOptions& opt);

/// Plain-text report: a table metric | A | B | Δ | CI | p, notes, and the most-regressed samples.
std::string format_comparison(const Comparison& c);

}  // namespace glamm::reports
