#include "eval/tasks/gcg_schema.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/error.h"

namespace glamm::tasks {

using nlohmann::json;

namespace {
/// nlohmann writes NaN as null; read null back as NaN.
double number_or_nan(const json& v) {
  return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
}
}  // namespace

json GcgSample::to_json() const {
  json s = json::object();
  s["image_id"] = image_id;
  if (!prediction_file.empty()) s["prediction_file"] = prediction_file;
  s["miou"] = miou;
  s["miou_pairs"] = miou_pairs;
  s["recall_positives"] = recall_positives;
  if (!recall_skipped.empty()) s["recall_skipped"] = recall_skipped;
  json mm = json::array();
  for (const auto& [g, p] : recall_matches) mm.push_back({g, p});
  s["recall_matches"] = std::move(mm);
  caption.write(s);
  s["num_pred_masks"] = num_pred_masks;
  s["num_phrases"] = num_phrases;
  if (coco) {
    s["coco_dt_scores"] = coco->dt_scores;
    s["coco_dt_matched"] = coco->dt_matched;
    s["coco_dt_ignore"] = coco->dt_ignore;
    s["coco_num_gt_not_ignored"] = coco->num_gt_not_ignored;
  }
  return s;
}

GcgSample GcgSample::from_json(const json& s, const std::string& source, std::size_t index) {
  const std::string record = fmt::format("per_sample[{}]", index);
  if (!s.is_object()) throw InputError(source, record, "a GCG per-sample entry must be a JSON object");
  GcgSample g;
  try {
    g.image_id = s.at("image_id").get<std::string>();
    g.prediction_file = s.value("prediction_file", std::string());
    g.miou = number_or_nan(s.at("miou"));
    for (const json& v : s.at("miou_pairs")) g.miou_pairs.push_back(number_or_nan(v));
    g.recall_positives = s.at("recall_positives").get<std::size_t>();
    for (const json& m : s.at("recall_matches")) {
      if (!m.is_array() || m.size() != 2) throw InputError(source, record, "'recall_matches': pairs [gt, pred] expected");
      g.recall_matches.emplace_back(m[0].get<std::size_t>(), m[1].get<std::size_t>());
    }
    g.recall_skipped = s.value("recall_skipped", std::string());
    g.num_pred_masks = s.at("num_pred_masks").get<std::size_t>();
    g.num_phrases = s.at("num_phrases").get<std::size_t>();
    if (s.contains("coco_dt_scores")) {
      GcgCocoMatches c;
      c.dt_scores = s.at("coco_dt_scores").get<std::vector<double>>();
      c.dt_matched = s.at("coco_dt_matched").get<std::vector<uint8_t>>();
      c.dt_ignore = s.at("coco_dt_ignore").get<std::vector<uint8_t>>();
      c.num_gt_not_ignored = s.at("coco_num_gt_not_ignored").get<std::size_t>();
      const std::size_t d = c.dt_scores.size();
      if (c.dt_matched.size() != c.dt_ignore.size() || (d == 0 ? !c.dt_matched.empty() : c.dt_matched.size() % d != 0))
        throw InputError(source, record,
                         "'coco_dt_matched' / 'coco_dt_ignore' must both hold [thresholds x detections] values");
      g.coco = std::move(c);
    }
  } catch (const json::exception& e) {
    throw InputError(source, record, std::string("GCG per-sample entry: ") + e.what());
  }
  g.caption = CaptionSampleScores::read(s, source, index);
  return g;
}

json GcgFailureBreakdown::to_json() const {
  return {{"missing_prediction", missing_prediction},
          {"empty_caption", empty_caption},
          {"no_masks", no_masks},
          {"fewer_masks_than_phrases", fewer_masks_than_phrases},
          {"more_masks_than_phrases", more_masks_than_phrases},
          {"empty_mask", empty_mask},
          {"wrong_size_mask", wrong_size_mask}};
}

GcgFailureBreakdown GcgFailureBreakdown::from_json(const json& j, const std::string& source) {
  GcgFailureBreakdown f;
  if (!j.is_object()) throw InputError(source, "details.failure_breakdown", "must be a JSON object");
  const std::pair<const char*, std::size_t*> fields[] = {
      {"missing_prediction", &f.missing_prediction},
      {"empty_caption", &f.empty_caption},
      {"no_masks", &f.no_masks},
      {"fewer_masks_than_phrases", &f.fewer_masks_than_phrases},
      {"more_masks_than_phrases", &f.more_masks_than_phrases},
      {"empty_mask", &f.empty_mask},
      {"wrong_size_mask", &f.wrong_size_mask}};
  for (const auto& [key, slot] : fields) {
    if (!j.contains(key)) continue;
    const json& v = j.at(key);
    if (!v.is_number_unsigned())
      throw InputError(source, "details.failure_breakdown", fmt::format("'{}' must be a non-negative integer", key));
    *slot = v.get<std::size_t>();
  }
  return f;
}

}  // namespace glamm::tasks
