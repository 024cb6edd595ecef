#include "reports/compare.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include <fmt/format.h>

#include "common/error.h"
#include "reports/aggregate.h"
#include "reports/meteor_paraphrase.h"

namespace glamm::reports {

using nlohmann::json;

void check_comparable(const RunRecord& a, const RunRecord& b, bool force) {
  if (a.task != b.task)
    throw InputError(b.path, "task",
                     "mixes tasks: '" + b.task + "' here but '" + a.task + "' in " + a.path + " (compare one task)");
  if (force) return;
  const std::string pa = meteor_paraphrase_of(a), pb = meteor_paraphrase_of(b);
  if (!pa.empty() && !pb.empty() && pa != pb)
    throw InputError(b.path, "signature",
                     "METEOR paraphrase differs: " + a.path + " has meteor_paraphrase '" + pa + "', " + b.path +
                         " has '" + pb + "'; refusing to compare METEOR computed with different paraphrase tables "
                         "(--force to override)");
  if (a.split != b.split || a.dataset != b.dataset)
    throw InputError(b.path, "split",
                     "is " + b.dataset + "/" + b.split + " but " + a.path + " is " + a.dataset + "/" + a.split +
                         "; refusing to compare different splits (--force to override)");
  const std::string va = metric_variant(a), vb = metric_variant(b);
  if (va != vb)
    throw InputError(b.path, "signature",
                     "metric variants differ; refusing to compare (--force to override). Differing fields (A = " +
                         a.path + ", B = " + b.path + "):\n" + variant_differences(a, b));
}

std::string variant_differences(const RunRecord& a, const RunRecord& b) {
  // metric_variant's fields as (key, value), location-free, in record order.
  auto fields = [](const RunRecord& r) {
    std::vector<std::pair<std::string, std::string>> out;
    const std::string v = metric_variant(r);
    std::size_t pos = 0;
    while (!v.empty()) {
      const std::size_t bar = v.find('|', pos);
      const std::string item = v.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos);
      const std::size_t colon = item.find(':');
      out.emplace_back(item.substr(0, colon), colon == std::string::npos ? "" : item.substr(colon + 1));
      if (bar == std::string::npos) break;
      pos = bar + 1;
    }
    return out;
  };
  const auto fa = fields(a), fb = fields(b);
  auto find = [](const std::vector<std::pair<std::string, std::string>>& f, const std::string& key,
                 std::string& value) {
    for (const auto& [k, v] : f)
      if (k == key) {
        value = v;
        return true;
      }
    return false;
  };
  std::string out;
  auto line = [&](const std::string& key, bool in_a, const std::string& x, bool in_b, const std::string& y) {
    out += fmt::format("  {}:\n    A: {}\n    B: {}\n", key, in_a ? x : "(absent)", in_b ? y : "(absent)");
  };
  for (const auto& [k, x] : fa) {
    std::string y;
    const bool in_b = find(fb, k, y);
    if (!in_b || x != y) line(k, true, x, in_b, y);
  }
  for (const auto& [k, y] : fb) {
    std::string x;
    if (!find(fa, k, x)) line(k, false, "", true, y);
  }
  return out;
}

namespace {

double percentile(std::vector<double> v, double q) {  // NumPy's default 'linear' method
  std::sort(v.begin(), v.end());
  if (v.empty()) return std::nan("");
  const double pos = q * static_cast<double>(v.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

}  // namespace

Comparison compare_runs(const RunRecord& a, const RunRecord& b, const CompareOptions& opt) {
  check_comparable(a, b, opt.force);
  if (opt.resamples < 1) throw InputError("", "--resamples", "must be at least 1");
  Aggregator ga(a), gb(b);
  if (ga.size() == 0) throw InputError(a.path, "per_sample", "is empty: nothing to resample");
  if (gb.size() == 0) throw InputError(b.path, "per_sample", "is empty: nothing to resample");

  Comparison c;
  c.task = a.task;
  c.label_a = a.label;
  c.label_b = b.label;
  c.path_a = a.path;
  c.path_b = b.path;
  c.data_a = a.signature_value("data");
  c.data_b = b.signature_value("data");
  c.resamples = opt.resamples;
  c.seed = opt.seed;
  if (const std::string pa = meteor_paraphrase_of(a), pb = meteor_paraphrase_of(b); pa != pb)
    c.notes.push_back("METEOR paraphrase differs (A: " + (pa.empty() ? std::string("none") : pa) + ", B: " +
                      (pb.empty() ? std::string("none") : pb) + "), compared with --force: METEOR deltas mix metric "
                      "variants");

  // Pair samples by id (A's order).
  std::map<std::string, std::size_t> pos_b;
  for (std::size_t i = 0; i < gb.size(); ++i)
    if (!pos_b.emplace(gb.sample_ids()[i], i).second)
      throw InputError(b.path, "per_sample", "sample id '" + gb.sample_ids()[i] + "' appears twice");
  std::vector<std::size_t> ia, ib;
  std::size_t only_a = 0;
  for (std::size_t i = 0; i < ga.size(); ++i) {
    auto it = pos_b.find(ga.sample_ids()[i]);
    if (it == pos_b.end()) {
      ++only_a;
      continue;
    }
    ia.push_back(i);
    ib.push_back(it->second);
  }
  const std::size_t only_b = gb.size() - ib.size();
  if (only_a || only_b) {
    const std::string msg = fmt::format("the records cover different samples ({} only in {}, {} only in {})", only_a,
                                        a.path, only_b, b.path);
    if (!opt.force) throw InputError(b.path, "per_sample", msg + "; refusing a paired comparison (--force: use the shared ones)");
    c.notes.push_back(msg + "; compared on the " + std::to_string(ia.size()) + " shared samples");
  }
  if (ia.empty()) throw InputError(b.path, "per_sample", "no sample id in common with " + a.path);
  const std::size_t n = ia.size();
  c.samples = n;

  // Metrics both can re-aggregate, in A's order.
  std::vector<std::size_t> ma, mb;
  for (std::size_t k = 0; k < ga.metrics().size(); ++k) {
    auto it = std::find(gb.metrics().begin(), gb.metrics().end(), ga.metrics()[k]);
    if (it == gb.metrics().end()) {
      c.notes.push_back(ga.metrics()[k] + ": left out (" + b.path + " has no per-sample data for it)");
      continue;
    }
    ma.push_back(k);
    mb.push_back(static_cast<std::size_t>(it - gb.metrics().begin()));
  }
  for (const auto& s : ga.notes()) c.notes.push_back(s);
  for (const auto& s : gb.notes())
    if (std::find(c.notes.begin(), c.notes.end(), s) == c.notes.end()) c.notes.push_back(s);
  for (std::size_t k = 0; k < gb.metrics().size(); ++k)
    if (std::find(ga.metrics().begin(), ga.metrics().end(), gb.metrics()[k]) == ga.metrics().end())
      c.notes.push_back(gb.metrics()[k] + ": left out (" + a.path + " has no per-sample data for it)");
  if (ma.empty()) throw InputError(a.path, "per_sample", "no metric can be re-aggregated from the per-sample data");

  // Full-set values.
  const std::vector<double> full_a = ga.compute(ia), full_b = gb.compute(ib);
  std::vector<std::vector<double>> diffs(ma.size());
  for (auto& d : diffs) d.reserve(static_cast<std::size_t>(opt.resamples));
  std::mt19937_64 rng(opt.seed);
  std::vector<std::size_t> draw_a(n), draw_b(n);
  for (int r = 0; r < opt.resamples; ++r) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t j = static_cast<std::size_t>(rng() % n);
      draw_a[k] = ia[j];
      draw_b[k] = ib[j];
    }
    const std::vector<double> va = ga.compute(draw_a), vb = gb.compute(draw_b);
    for (std::size_t m = 0; m < ma.size(); ++m) diffs[m].push_back(vb[mb[m]] - va[ma[m]]);
  }
  const double alpha = (1.0 - opt.confidence) / 2.0;
  for (std::size_t m = 0; m < ma.size(); ++m) {
    MetricComparison mc;
    mc.metric = ga.metrics()[ma[m]];
    a.metric(mc.metric, mc.a);
    b.metric(mc.metric, mc.b);
    mc.a_re = full_a[ma[m]];
    mc.b_re = full_b[mb[m]];
    mc.delta = mc.b_re - mc.a_re;
    mc.ci_low = percentile(diffs[m], alpha);
    mc.ci_high = percentile(diffs[m], 1.0 - alpha);
    std::size_t le = 0, ge = 0;
    for (double d : diffs[m]) {
      le += d <= 0;
      ge += d >= 0;
    }
    const double B = static_cast<double>(diffs[m].size());
    mc.p_value = std::min(1.0, 2.0 * (1.0 + static_cast<double>(std::min(le, ge))) / (B + 1.0));
    c.metrics.push_back(mc);
  }

  // Most-regressed samples by a per-sample score.
  // Default: the metric that moved most, i.e. the largest relative drop (B − A) / |A| among the compared metrics,
  // then the record's metric order; --by overrides.
  std::vector<std::string> candidates;
  if (!opt.rank_metric.empty()) {
    candidates.push_back(opt.rank_metric);
  } else {
    std::vector<const MetricComparison*> dropped;
    for (const auto& m : c.metrics)
      if (m.delta < 0) dropped.push_back(&m);
    auto rel = [](const MetricComparison* m) { return m->delta / std::max(std::fabs(m->a_re), 1e-12); };
    std::stable_sort(dropped.begin(), dropped.end(),
                     [&](const MetricComparison* x, const MetricComparison* y) {
                       return rel(x) < rel(y) - 1e-9;  // equal drops (up to rounding): the record's order
                     });
    for (const MetricComparison* m : dropped) candidates.push_back(m->metric);
    for (const auto& [name, v] : a.metrics) {
      (void)v;
      candidates.push_back(name);
    }
  }
  for (const auto& m : candidates) {
    double x;
    if (ga.sample_score(m, ia[0], x) && gb.sample_score(m, ib[0], x)) {
      c.rank_metric = m;
      break;
    }
  }
  if (c.rank_metric.empty()) {
    if (!opt.rank_metric.empty())
      throw InputError("", "--by", "metric '" + opt.rank_metric + "' has no per-sample scores in both records");
    c.notes.push_back("no per-sample metric to rank regressions by");
  } else {
    std::vector<RegressedSample> all;
    for (std::size_t k = 0; k < n; ++k) {
      RegressedSample s;
      s.id = ga.sample_ids()[ia[k]];
      ga.sample_score(c.rank_metric, ia[k], s.a);
      gb.sample_score(c.rank_metric, ib[k], s.b);
      s.drop = s.a - s.b;
      if (s.drop > 0) all.push_back(s);
    }
    std::stable_sort(all.begin(), all.end(), [](const RegressedSample& x, const RegressedSample& y) {
      if (x.drop != y.drop) return x.drop > y.drop;
      return x.id < y.id;
    });
    if (all.size() > static_cast<std::size_t>(std::max(0, opt.worst))) all.resize(static_cast<std::size_t>(std::max(0, opt.worst)));
    c.regressed = std::move(all);
  }
  return c;
}

json Comparison::to_json() const {
  json j;
  j["task"] = task;
  j["a"] = {{"label", label_a}, {"path", path_a}};
  j["b"] = {{"label", label_b}, {"path", path_b}};
  if (!data_a.empty()) j["a"]["data"] = data_a;
  if (!data_b.empty()) j["b"]["data"] = data_b;
  j["samples"] = samples;
  j["resamples"] = resamples;
  j["seed"] = seed;
  j["metrics"] = json::array();
  for (const auto& m : metrics)
    j["metrics"].push_back({{"metric", m.metric}, {"a", m.a}, {"b", m.b}, {"a_reaggregated", m.a_re},
                            {"b_reaggregated", m.b_re}, {"delta", m.delta}, {"ci_low", m.ci_low},
                            {"ci_high", m.ci_high}, {"p_value", m.p_value}});
  j["notes"] = notes;
  j["rank_metric"] = rank_metric;
  j["regressed"] = json::array();
  for (const auto& s : regressed) j["regressed"].push_back({{"id", s.id}, {"a", s.a}, {"b", s.b}, {"drop", s.drop}});
  return j;
}

std::string format_comparison(const Comparison& c) {
  auto data = [](const std::string& d) { return d.empty() ? std::string() : "  [data: " + d + "]"; };
  std::string out = fmt::format("compare {}: A = {} ({}){}\n            B = {} ({}){}\n", c.task, c.label_a, c.path_a,
                                data(c.data_a), c.label_b, c.path_b, data(c.data_b));
  if (!c.data_a.empty() || !c.data_b.empty())
    out += "note: synthetic data (built-in sample) are no model's score; a difference shows the tool, not a model\n";
  out += fmt::format("paired bootstrap over {} samples, {} resamples, seed {}; Δ = B − A, 95% percentile interval\n\n",
                     c.samples, c.resamples, c.seed);
  out += fmt::format("{:<10} {:>10} {:>10} {:>10} {:>24} {:>8}\n", "metric", "A", "B", "delta", "95% CI", "p");
  for (const auto& m : c.metrics) {
    const bool sig = m.ci_low > 0 || m.ci_high < 0;
    out += fmt::format("{:<10} {:>10.4f} {:>10.4f} {:>+10.4f} {:>24} {:>8.4f}{}\n", m.metric, m.a_re, m.b_re, m.delta,
                       fmt::format("[{:+.4f}, {:+.4f}]", m.ci_low, m.ci_high), m.p_value, sig ? " *" : "");
  }
  out += "(* interval excludes 0)\n";
  for (const auto& m : c.metrics)
    if (std::fabs(m.a_re - m.a) > 1e-9 * std::max(1.0, std::fabs(m.a)) ||
        std::fabs(m.b_re - m.b) > 1e-9 * std::max(1.0, std::fabs(m.b)))
      out += fmt::format("note: {} re-aggregated ({:.6f} / {:.6f}) differs from the stored value ({:.6f} / {:.6f})\n",
                         m.metric, m.a_re, m.b_re, m.a, m.b);
  for (const auto& n : c.notes) out += "note: " + n + "\n";
  if (!c.rank_metric.empty()) {
    out += fmt::format("\nmost regressed samples by per-sample {} (A → B):\n", c.rank_metric);
    if (c.regressed.empty()) out += "  none\n";
    for (const auto& s : c.regressed)
      out += fmt::format("  {:<28} {:.4f} → {:.4f}  (−{:.4f})\n", s.id, s.a, s.b, s.drop);
  }
  return out;
}

}  // namespace glamm::reports
