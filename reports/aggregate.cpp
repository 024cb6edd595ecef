#include "reports/aggregate.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "common/error.h"
#include "eval/tasks/resampling.h"
#include "metrics/caption/bleu.h"
#include "metrics/mask/cocoeval.h"
#include "metrics/meteor/stats_score.h"
#include "metrics/numeric.h"

namespace glamm::reports {

using nlohmann::json;


struct Aggregator::Impl {
  std::string file;
  std::vector<std::string> ids, metric_names, notes;
  std::vector<std::function<double(const std::vector<std::size_t>&)>> fns;
  std::map<std::string, std::vector<double>> per_sample_scores;  // metric → per-sample score

  tasks::ResamplingData data;  // the record's per-sample data (eval/tasks/resampling.h)
  // AP.
  mask::CocoEvaluation ev;                // slots = samples with match records; params.img_ids per call
  std::vector<int32_t> slot_of;           // sample → slot (-1 = no match record: None)
  std::vector<std::size_t> ap_order;      // samples sorted by id (np.unique order)

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
  I.data = tasks::read_resampling_data(r, r.path);
  const tasks::ResamplingData& D = I.data;
  I.ids = D.ids;
  const std::size_t n = D.ids.size();
  if (!D.coco_slot.empty()) {
    mask::CocoParams& p = I.ev.params;
    p.iou_thrs = mask::numpy_linspace(0.5, 0.95, 10);
    p.rec_thrs = mask::numpy_linspace(0.0, 1.0, 101);
    p.max_dets = {1, 10, 100};
    p.area_rng = {{0.0, 1e10}};
    p.area_rng_lbl = {"all"};
    I.ev.eval_cat_ids = {1};
    I.slot_of = D.coco_slot;
    I.ev.slot_evals = D.coco_evals;
    I.ap_order.resize(n);
    std::iota(I.ap_order.begin(), I.ap_order.end(), 0);
    std::stable_sort(I.ap_order.begin(), I.ap_order.end(),
                     [&](std::size_t a, std::size_t b) { return I.ids[a] < I.ids[b]; });
  }

  for (const auto& [name, value] : r.metrics) {
    (void)value;
    std::function<double(const std::vector<std::size_t>&)> fn;
    if (name.rfind("Bleu_", 0) == 0 && !D.bleu.empty() && name.size() == 6 && name[5] >= '1' && name[5] <= '4') {
      const std::size_t k = static_cast<std::size_t>(name[5] - '1');
      fn = [&D, k](const std::vector<std::size_t>& idx) {
        caption::BleuCounts sum;
        for (std::size_t i : idx) sum += D.bleu[i];
        return caption::bleu_from_counts(sum)[k];
      };
    } else if (name == "METEOR" && !D.meteor.empty()) {
      fn = [&D](const std::vector<std::size_t>& idx) {
        std::vector<meteor::Stats> s;
        s.reserve(idx.size());
        for (std::size_t i : idx) s.push_back(D.meteor[i]);
        return meteor::corpus_score_from_stats(s);
      };
    } else if (name == "Recall" && !D.recall_positives.empty()) {
      fn = [&D](const std::vector<std::size_t>& idx) {
        double tp = 0, pos = 0;
        for (std::size_t i : idx) {
          tp += D.recall_tp[i];
          pos += D.recall_positives[i];
        }
        return pos > 0 ? tp / pos : 0.0;
      };
    } else if (name == "cIoU" && !D.intersection.empty()) {
      fn = [&D](const std::vector<std::size_t>& idx) {
        double a = 0, b = 0;
        for (std::size_t i : idx) {
          a += D.intersection[i];
          b += D.union_[i];
        }
        return b > 0 ? a / b : 0.0;
      };
    } else if ((name == "AP" || name == "AP50") && !D.coco_slot.empty()) {
      const bool at50 = name == "AP50";
      fn = [&I, at50](const std::vector<std::size_t>& idx) { return I.ap(idx, at50); };
    } else if (auto v = D.values.find(name); v != D.values.end()) {
      const std::vector<double>* values = &v->second;
      fn = [&I, values](const std::vector<std::size_t>& idx) { return I.mean_of(*values, idx); };
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
    if (name == "cIoU" && !D.intersection.empty()) {
      std::vector<double> v(n);
      for (std::size_t i = 0; i < n; ++i) v[i] = D.union_[i] > 0 ? D.intersection[i] / D.union_[i] : 0.0;
      I.per_sample_scores[name] = v;
      continue;
    }
    if (auto v = D.values.find(name); v != D.values.end()) I.per_sample_scores[name] = v->second;
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
