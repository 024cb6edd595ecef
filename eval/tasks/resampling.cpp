#include "eval/tasks/resampling.h"

#include <cmath>
#include <numeric>

#include "common/error.h"
#include "eval/tasks/sample_parts.h"

namespace glamm::tasks {

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

bool all_have_number(const json& per, const std::string& key) {
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

std::vector<double> numbers(const json& per, const std::string& key) {
  std::vector<double> v(per.size());
  for (std::size_t i = 0; i < per.size(); ++i) v[i] = per[i][key].is_null() ? std::nan("") : per[i][key].get<double>();
  return v;
}

/// The per-sample key holding a record metric's per-sample value.
std::string value_key(const std::string& metric) {
  if (metric == "mIoU") return "miou";
  if (metric == "gIoU") return "iou";
  return metric;
}

struct Reader {
  const json& per;
  const std::string& source;
  const std::vector<std::string>& ids;
  [[noreturn]] void bad(std::size_t i, const std::string& field, const std::string& what) const {
    throw InputError(source, "per_sample[" + std::to_string(i) + "] (" + ids[i] + ")." + field, what);
  }
};

void read_caption_stats(const Reader& rd, ResamplingData& d) {
  const json& per = rd.per;
  const std::size_t n = per.size();
  if (all_have(per, "bleu_counts")) {
    d.bleu.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      try {
        d.bleu[i] = read_bleu_counts(per[i].at("bleu_counts"));
      } catch (const std::exception& e) {
        rd.bad(i, "bleu_counts", e.what());
      }
    }
  }
  if (all_have(per, "meteor_stats")) {
    d.meteor.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const json& m = per[i]["meteor_stats"];
      if (!m.is_array() || m.size() != 23) rd.bad(i, "meteor_stats", "needs the 23 METEOR statistics");
      try {
        for (std::size_t k = 0; k < 23; ++k) d.meteor[i].v[k] = m[k].get<double>();
      } catch (const json::exception& e) {
        rd.bad(i, "meteor_stats", e.what());
      }
    }
  }
}

void read_coco_matches(const Reader& rd, ResamplingData& d) {
  const json& per = rd.per;
  bool any = false;
  for (const auto& s : per) any = any || s.contains("coco_dt_matched");
  if (!any) return;
  const std::size_t T = d.coco_thresholds;
  d.coco_slot.assign(per.size(), -1);
  for (std::size_t i = 0; i < per.size(); ++i) {
    const json& s = per[i];
    if (!s.contains("coco_dt_matched")) continue;
    mask::CocoImageEval e;
    try {
      e.dt_scores = s.at("coco_dt_scores").get<std::vector<double>>();
      e.dt_matched = s.at("coco_dt_matched").get<std::vector<uint8_t>>();
      e.dt_ignore = s.at("coco_dt_ignore").get<std::vector<uint8_t>>();
      e.gt_ignore.assign(s.at("coco_num_gt_not_ignored").get<std::size_t>(), 0);
    } catch (const json::exception& ex) {
      rd.bad(i, "coco_dt_*", ex.what());
    }
    const std::size_t D = e.dt_scores.size();
    if (e.dt_matched.size() != T * D || e.dt_ignore.size() != T * D)
      rd.bad(i, "coco_dt_matched", "needs " + std::to_string(T) + "×" + std::to_string(D) + " entries");
    e.dt_ids.resize(D);
    std::iota(e.dt_ids.begin(), e.dt_ids.end(), 1);
    d.coco_slot[i] = static_cast<int32_t>(d.coco_evals.size());
    d.coco_evals.push_back(std::move(e));
  }
}

}  // namespace

DrillDown read_drill_down(const Result& r) {
  DrillDown d;
  auto text = [](const json& s, const char* key) {
    if (!s.is_object()) return std::string();
    auto it = s.find(key);
    return it != s.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  for (const json& s : r.per_sample) {
    d.captions.push_back(text(s, "caption_tokenized"));
    d.prediction_files.push_back(text(s, "prediction_file"));
  }
  return d;
}

ResamplingData read_resampling_data(const Result& r, const std::string& source) {
  ResamplingData d;
  const json& per = r.per_sample;
  const std::size_t n = per.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!per[i].is_object()) throw InputError(source, "per_sample[" + std::to_string(i) + "]", "is not an object");
    d.ids.push_back(id_of(per[i], i));
  }
  const Reader rd{per, source, d.ids};
  // A metric's per-sample values must be numbers: a string (or other non-number) is refused, and so is null when
  // the record's own value of the metric is a number (a null sample would make every resampled value NaN).
  for (const auto& [name, value] : r.metrics) {
    const std::string key = value_key(name);
    for (std::size_t i = 0; i < n; ++i) {
      auto it = per[i].find(key);
      if (it == per[i].end() || it->is_number()) continue;
      if (!it->is_null()) rd.bad(i, key, "is not a number (got " + it->dump() + ")");
      if (!std::isnan(value)) rd.bad(i, key, "is null while the record's " + name + " is a number");
    }
    if (all_have_number(per, key)) d.values[name] = numbers(per, key);
  }
  read_caption_stats(rd, d);
  if (all_have_number(per, "recall_positives") && all_have(per, "recall_matches")) {
    for (std::size_t i = 0; i < n; ++i) {
      d.recall_positives.push_back(per[i]["recall_positives"].get<double>());
      const bool skipped = per[i].contains("recall_skipped");
      d.recall_tp.push_back(skipped ? 0.0 : static_cast<double>(per[i]["recall_matches"].size()));
    }
  }
  if (all_have_number(per, "intersection") && all_have_number(per, "union")) {
    d.intersection = numbers(per, "intersection");
    d.union_ = numbers(per, "union");
  }
  read_coco_matches(rd, d);
  return d;
}

}  // namespace glamm::tasks
