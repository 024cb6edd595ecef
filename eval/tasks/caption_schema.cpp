#include "eval/tasks/caption_schema.h"

#include <fmt/format.h>

#include "common/error.h"
#include "metrics/spice/spice.h"

namespace glamm::tasks {

using nlohmann::json;

namespace {
std::string sample_record(std::size_t index) { return fmt::format("per_sample[{}]", index); }
}  // namespace

json image_id_to_json(const caption::ImageId& id) { return id.is_string ? json(id.text) : json(id.number); }

caption::ImageId image_id_from_json(const json& j, const std::string& source, const std::string& record) {
  caption::ImageId id;
  if (j.is_string()) {
    id.is_string = true;
    id.text = j.get<std::string>();
  } else if (j.is_number_integer()) {
    id.number = j.get<std::int64_t>();
  } else {
    throw InputError(source, record, "'image_id' must be a string or an integer");
  }
  return id;
}

json CaptionSample::to_json() const {
  json s = json::object();
  s["image_id"] = image_id_to_json(image_id);
  if (predicted) s["predicted"] = *predicted;
  if (domain) s["domain"] = *domain;
  scores.write(s);
  if (spice_style) s[spice::kMetricName] = *spice_style;
  if (spice_style_subsets) spice_style_subsets->write(s);
  return s;
}

CaptionSample CaptionSample::from_json(const json& j, const std::string& source, std::size_t index) {
  if (!j.is_object()) throw InputError(source, sample_record(index), "a per-sample record must be an object");
  if (!j.contains("image_id")) throw InputError(source, sample_record(index), "missing 'image_id'");
  CaptionSample s;
  s.image_id = image_id_from_json(j.at("image_id"), source, sample_record(index));
  try {
    if (j.contains("predicted")) s.predicted = j.at("predicted").get<bool>();
    if (j.contains("domain")) s.domain = j.at("domain").get<std::string>();
    if (j.contains(spice::kMetricName)) s.spice_style = j.at(spice::kMetricName).get<double>();
  } catch (const json::exception& e) {
    throw InputError(source, sample_record(index), std::string("caption sample: ") + e.what());
  }
  s.scores = CaptionSampleScores::read(j, source, index);
  s.spice_style_subsets = SpiceSampleBreakdown::read(j, source, index);
  return s;
}

json CaptionSample::field_notes() {
  return {{"bleu_counts", "BLEU sufficient statistics of the image: corpus BLEU = formula on their element-wise sum"},
          {"meteor_stats", "METEOR's 23 sufficient statistics (best reference): corpus METEOR = computeMetrics of the "
                           "sum (addStats)"},
          {"caption_tokenized", "the result caption after PTB tokenization and the punctuation filter"},
          {"spice_style_subsets", "SPICE-style per subset (All, Object, Attribute, Relation, Cardinality, Color, "
                                  "Size): the image's F (null: no reference tuple of the kind) and tuple counts "
                                  "tp/fp/fn (with --spice)"}};
}

json TokenizeSample::to_json() const { return {{"index", index}, {"raw", raw}, {"tokenized", tokenized}}; }

TokenizeSample TokenizeSample::from_json(const json& j, const std::string& source, std::size_t index) {
  try {
    return {j.at("index").get<std::size_t>(), j.at("raw").get<std::string>(), j.at("tokenized").get<std::string>()};
  } catch (const json::exception& e) {
    throw InputError(source, sample_record(index), std::string("tokenize sample: ") + e.what());
  }
}

json TokenizeSample::field_names() { return {"index", "raw", "tokenized"}; }

json MeteorSample::to_json() const { return {{"index", index}, {"meteor", meteor}, {"stats", stats}}; }

MeteorSample MeteorSample::from_json(const json& j, const std::string& source, std::size_t index) {
  MeteorSample m;
  try {
    m.index = j.at("index").get<std::size_t>();
    m.meteor = j.at("meteor").get<double>();
    m.stats = j.at("stats").get<std::vector<double>>();
  } catch (const json::exception& e) {
    throw InputError(source, sample_record(index), std::string("meteor sample: ") + e.what());
  }
  if (m.stats.size() != 23) throw InputError(source, sample_record(index), "'stats' needs the 23 METEOR statistics");
  return m;
}

json MeteorSample::field_names() { return {"index", "meteor", "stats"}; }

std::vector<CaptionSample> paired_caption_samples(const caption::EvalCapResult& ev, const datasets::Pairing& pairing) {
  std::vector<CaptionSample> out;
  out.reserve(ev.per_image.size());
  for (std::size_t i = 0; i < ev.per_image.size(); ++i) {
    CaptionSample s;
    s.image_id = ev.per_image[i].image_id;
    s.predicted = static_cast<bool>(pairing.predicted.at(i));
    s.scores = CaptionSampleScores::from_eval(ev.per_image[i], ev.hyps_tokenized.at(i), true, true);
    out.push_back(std::move(s));
  }
  return out;
}

json NocapsSubmissionEntry::to_json() const { return {{"image_id", image_id_to_json(image_id)}, {"caption", caption}}; }

}  // namespace glamm::tasks
