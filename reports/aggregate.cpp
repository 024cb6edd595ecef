#include "reports/aggregate.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "common/error.h"
#include "metrics/caption/bleu.h"
#include "metrics/mask/cocoeval.h"
#include "metrics/meteor/stats_score.h"
#include "metrics/numeric.h"

namespace glamm::reports {

using nlohmann::json;

namespace {

std::string id_of(const json& s, std::size_t i) {
  for (const char* k : {"sample_id", "sent_id", "image_id", "id"}) {
    auto it = s.find(k);
    if (it == s.end()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number()) return it->dump();
  }
  return std::to_string(i);
}

bool all_have_number(const json& per, const char* key) {
  if (per.empty()) return false;
  for (const auto& s : per) {
    auto it = s.find(key);
    if (it == s.end() || !(it->is_number() || it->is_null())) return false;
  }
  return true;
}

bool all_have(const json& per, const char* key) {
  if (per.empty()) return false;
  for (const auto& s : per)
    if (!s.contains(key)) return false;
  return true;
}

double num(const json& v) { return v.is_null() ? std::nan("") : v.get<double>(); }

}  // namespace

struct Aggregator::Impl {
  std::string file;
  std::vector<std::string> ids, metric_names, notes;
  std::vector<std::function<double(const std::vector<std::size_t>&)>> fns;
  std::map<std::string, std::vector<double>> per_sample_scores;  // metric → per-sample score

  // Stored data.
  std::map<std::string, std::vector<double>> mean_fields;
  std::vector<caption::BleuCounts> bleu;
  std::vector<meteor::Stats> meteor;
  std::vector<double> rec_pos, rec_tp, inter, uni;
  // AP.
  mask::CocoEvaluation ev;                // slots = samples with match records; params.img_ids per call
  std::vector<int32_t> slot_of;           // sample → slot (-1 = no match record: None)
  std::vector<std::size_t> ap_order;      // samples sorted by id (np.unique order)

  [[noreturn]] void bad(std::size_t i, const std::string& field, const std::string& what) const {
    throw InputError(file, "per_sample[" + std::to_string(i) + "] (" + ids[i] + ")." + field, what);
  }

  double mean_of(const std::vector<double>& v, const std::vector<std::size_t>& idx) const {
    std::vector<double> x(idx.size());
    for (std::size_t k = 0; k < idx.size(); ++k) x[k] = v[idx[k]];
    return x.empty() ? 0.0 : metrics::numpy_mean(x);
  }

  mask::CocoAccumulation accumulate_over(const std::vector<std::size_t>& idx, mask::CocoEvaluation& e) const {
    // Images in np.unique order of their ids, repeats adjacent (draw order among equal ids).
    std::vector<std::size_t> order(idx);
    std::vector<std::size_t> rank(ids.size());
    for (std::size_t k = 0; k < ap_order.size(); ++k) rank[ap_order[k]] = k;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rank[a] < rank[b]; });
    e.params = ev.params;
    e.params.img_ids.assign(order.size(), mask::ImageId{int64_t{0}});
    e.eval_cat_ids = ev.eval_cat_ids;
    e.cell_slot.resize(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) e.cell_slot[k] = slot_of[order[k]];
    // slot_evals are shared read-only data; copy the small vector of structs once per call.
    e.slot_evals = ev.slot_evals;
    return mask::accumulate(e);
  }

  double ap(const std::vector<std::size_t>& idx, bool at50) const {
    mask::CocoEvaluation e;
    const mask::CocoAccumulation acc = accumulate_over(idx, e);
    mask::CocoSummaryItem item;
    item.ap = true;
    item.iou_thr = at50 ? 0.5 : -1;
    item.area = "all";
    item.max_dets = 100;
    return mask::summarize_one(acc, e.params, item);
  }
};

Aggregator::Aggregator(const RunRecord& r) : impl_(std::make_unique<Impl>()) {
  Impl& I = *impl_;
  I.file = r.path;
  const json& per = r.per_sample;
  const std::size_t n = per.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!per[i].is_object()) throw InputError(r.path, "per_sample[" + std::to_string(i) + "]", "is not an object");
    I.ids.push_back(id_of(per[i], i));
  }
  auto field_vec = [&](const char* key) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = num(per[i][key]);
    return v;
  };

  const std::map<std::string, std::string> mean_field_of = {{"mIoU", "miou"}, {"gIoU", "iou"}};
  // A metric's per-sample values must be numbers: a string (or other non-number) is refused, and so is null when
  // the record's own value of the metric is a number (a null sample would make every resampled value NaN).
  for (const auto& [name, value] : r.metrics) {
    auto m = mean_field_of.find(name);
    const std::string key = m == mean_field_of.end() ? name : m->second;
    for (std::size_t i = 0; i < n; ++i) {
      auto it = per[i].find(key);
      if (it == per[i].end() || it->is_number()) continue;
      if (!it->is_null()) I.bad(i, key, "is not a number (got " + it->dump() + ")");
      if (!std::isnan(value)) I.bad(i, key, "is null while the record's " + name + " is a number");
    }
  }

  const bool has_bleu = all_have(per, "bleu_counts");
  if (has_bleu) {
    I.bleu.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const json& b = per[i]["bleu_counts"];
      try {
        I.bleu[i].testlen = b.at("testlen").get<std::int64_t>();
        I.bleu[i].reflen = b.at("reflen").get<std::int64_t>();
        const auto g = b.at("guess").get<std::vector<std::int64_t>>();
        const auto c = b.at("correct").get<std::vector<std::int64_t>>();
        if (g.size() != caption::kMaxNgram || c.size() != caption::kMaxNgram) I.bad(i, "bleu_counts", "needs 4 orders");
        std::copy(g.begin(), g.end(), I.bleu[i].guess.begin());
        std::copy(c.begin(), c.end(), I.bleu[i].correct.begin());
      } catch (const json::exception& e) {
        I.bad(i, "bleu_counts", e.what());
      }
    }
  }
  const bool has_meteor = all_have(per, "meteor_stats");
  if (has_meteor) {
    I.meteor.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const json& m = per[i]["meteor_stats"];
      if (!m.is_array() || m.size() != 23) I.bad(i, "meteor_stats", "needs the 23 METEOR statistics");
      for (std::size_t k = 0; k < 23; ++k) I.meteor[i].v[k] = m[k].get<double>();
    }
  }
  const bool has_recall = all_have_number(per, "recall_positives") && all_have(per, "recall_matches");
  if (has_recall) {
    for (std::size_t i = 0; i < n; ++i) {
      I.rec_pos.push_back(per[i]["recall_positives"].get<double>());
      const bool skipped = per[i].contains("recall_skipped");
      I.rec_tp.push_back(skipped ? 0.0 : static_cast<double>(per[i]["recall_matches"].size()));
    }
  }
  const bool has_iu = all_have_number(per, "intersection") && all_have_number(per, "union");
  if (has_iu) {
    I.inter = field_vec("intersection");
    I.uni = field_vec("union");
  }
  // AP from match records.
  bool has_coco = false;
  for (const auto& s : per) has_coco = has_coco || s.contains("coco_dt_matched");
  if (has_coco) {
    mask::CocoParams& p = I.ev.params;
    p.iou_thrs = mask::numpy_linspace(0.5, 0.95, 10);
    p.rec_thrs = mask::numpy_linspace(0.0, 1.0, 101);
    p.max_dets = {1, 10, 100};
    p.area_rng = {{0.0, 1e10}};
    p.area_rng_lbl = {"all"};
    I.ev.eval_cat_ids = {1};
    const std::size_t T = p.iou_thrs.size();
    I.slot_of.assign(n, -1);
    for (std::size_t i = 0; i < n; ++i) {
      const json& s = per[i];
      if (!s.contains("coco_dt_matched")) continue;
      mask::CocoImageEval e;
      try {
        e.dt_scores = s.at("coco_dt_scores").get<std::vector<double>>();
        e.dt_matched = s.at("coco_dt_matched").get<std::vector<uint8_t>>();
        e.dt_ignore = s.at("coco_dt_ignore").get<std::vector<uint8_t>>();
        e.gt_ignore.assign(s.at("coco_num_gt_not_ignored").get<std::size_t>(), 0);
      } catch (const json::exception& ex) {
        I.bad(i, "coco_dt_*", ex.what());
      }
      const std::size_t D = e.dt_scores.size();
      if (e.dt_matched.size() != T * D || e.dt_ignore.size() != T * D)
        I.bad(i, "coco_dt_matched", "needs " + std::to_string(T) + "×" + std::to_string(D) + " entries");
      e.dt_ids.resize(D);
      std::iota(e.dt_ids.begin(), e.dt_ids.end(), 1);
      I.slot_of[i] = static_cast<int32_t>(I.ev.slot_evals.size());
      I.ev.slot_evals.push_back(std::move(e));
    }
    I.ap_order.resize(n);
    std::iota(I.ap_order.begin(), I.ap_order.end(), 0);
    std::stable_sort(I.ap_order.begin(), I.ap_order.end(),
                     [&](std::size_t a, std::size_t b) { return I.ids[a] < I.ids[b]; });
  }

  for (const auto& [name, value] : r.metrics) {
    (void)value;
    std::function<double(const std::vector<std::size_t>&)> fn;
    if (name.rfind("Bleu_", 0) == 0 && has_bleu && name.size() == 6 && name[5] >= '1' && name[5] <= '4') {
      const std::size_t k = static_cast<std::size_t>(name[5] - '1');
      fn = [&I, k](const std::vector<std::size_t>& idx) {
        caption::BleuCounts sum;
        for (std::size_t i : idx) sum += I.bleu[i];
        return caption::bleu_from_counts(sum)[k];
      };
    } else if (name == "METEOR" && has_meteor) {
      fn = [&I](const std::vector<std::size_t>& idx) {
        std::vector<meteor::Stats> s;
        s.reserve(idx.size());
        for (std::size_t i : idx) s.push_back(I.meteor[i]);
        return meteor::corpus_score_from_stats(s);
      };
    } else if (name == "Recall" && has_recall) {
      fn = [&I](const std::vector<std::size_t>& idx) {
        double tp = 0, pos = 0;
        for (std::size_t i : idx) {
          tp += I.rec_tp[i];
          pos += I.rec_pos[i];
        }
        return pos > 0 ? tp / pos : 0.0;
      };
    } else if (name == "cIoU" && has_iu) {
      fn = [&I](const std::vector<std::size_t>& idx) {
        double a = 0, b = 0;
        for (std::size_t i : idx) {
          a += I.inter[i];
          b += I.uni[i];
        }
        return b > 0 ? a / b : 0.0;
      };
    } else if ((name == "AP" || name == "AP50") && has_coco) {
      const bool at50 = name == "AP50";
      fn = [&I, at50](const std::vector<std::size_t>& idx) { return I.ap(idx, at50); };
    } else {
      auto m = mean_field_of.find(name);
      const std::string key = m == mean_field_of.end() ? name : m->second;
      if (all_have_number(per, key.c_str())) {
        I.mean_fields[name] = field_vec(key.c_str());
        const std::vector<double>* v = &I.mean_fields[name];
        fn = [&I, v](const std::vector<std::size_t>& idx) { return I.mean_of(*v, idx); };
      }
    }
    if (fn) {
      I.metric_names.push_back(name);
      I.fns.push_back(std::move(fn));
    } else {
      I.notes.push_back(name + ": left out (the record stores no per-sample data to re-aggregate it from)");
    }
  }
  // Per-sample scores for ranking.
  for (const auto& [name, value] : r.metrics) {
    (void)value;
    if (name == "cIoU" && has_iu) {
      std::vector<double> v(n);
      for (std::size_t i = 0; i < n; ++i) v[i] = I.uni[i] > 0 ? I.inter[i] / I.uni[i] : 0.0;
      I.per_sample_scores[name] = v;
      continue;
    }
    auto m = mean_field_of.find(name);
    const std::string key = m == mean_field_of.end() ? name : m->second;
    if (all_have_number(per, key.c_str())) I.per_sample_scores[name] = field_vec(key.c_str());
  }
}

Aggregator::~Aggregator() = default;
Aggregator::Aggregator(Aggregator&&) noexcept = default;

const std::vector<std::string>& Aggregator::metrics() const { return impl_->metric_names; }
const std::vector<std::string>& Aggregator::notes() const { return impl_->notes; }
const std::vector<std::string>& Aggregator::sample_ids() const { return impl_->ids; }
std::size_t Aggregator::size() const { return impl_->ids.size(); }

std::vector<double> Aggregator::compute(const std::vector<std::size_t>& idx) const {
  std::vector<double> out;
  out.reserve(impl_->fns.size());
  for (const auto& f : impl_->fns) out.push_back(f(idx));
  return out;
}

std::vector<double> Aggregator::compute_all() const {
  std::vector<std::size_t> idx(size());
  std::iota(idx.begin(), idx.end(), 0);
  return compute(idx);
}

bool Aggregator::sample_score(const std::string& metric, std::size_t i, double& value) const {
  auto it = impl_->per_sample_scores.find(metric);
  if (it == impl_->per_sample_scores.end() || i >= it->second.size()) return false;
  value = it->second[i];
  return true;
}

std::vector<double> Aggregator::precision_curve(double iou_thr) const {
  const Impl& I = *impl_;
  if (I.ev.slot_evals.empty()) return {};
  std::vector<std::size_t> idx(size());
  std::iota(idx.begin(), idx.end(), 0);
  mask::CocoEvaluation e;
  const mask::CocoAccumulation acc = I.accumulate_over(idx, e);
  std::size_t t = 0;
  while (t < e.params.iou_thrs.size() && std::fabs(e.params.iou_thrs[t] - iou_thr) > 1e-9) ++t;
  if (t == e.params.iou_thrs.size()) return {};
  std::vector<double> out(acc.R);
  for (std::size_t r = 0; r < acc.R; ++r) out[r] = acc.precision_at(t, r, 0, 0, acc.M - 1);
  return out;
}

}  // namespace glamm::reports
