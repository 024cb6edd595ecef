#include "eval/tasks/sample_parts.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "common/error.h"

namespace glamm::tasks {

using nlohmann::json;

namespace {
[[noreturn]] void bad(const std::string& source, std::size_t index, const std::string& key, const std::string& why) {
  throw InputError(source, fmt::format("per_sample[{}]", index), fmt::format("'{}': {}", key, why));
}
}  // namespace

nlohmann::json bleu_counts_to_json(const caption::BleuCounts& c) {
  return {{"testlen", c.testlen}, {"reflen", c.reflen}, {"guess", c.guess}, {"correct", c.correct}};
}

caption::BleuCounts read_bleu_counts(const nlohmann::json& b) {
  caption::BleuCounts c;
  c.testlen = b.at("testlen").get<std::int64_t>();
  c.reflen = b.at("reflen").get<std::int64_t>();
  const auto g = b.at("guess").get<std::vector<std::int64_t>>();
  const auto k = b.at("correct").get<std::vector<std::int64_t>>();
  if (g.size() != caption::kMaxNgram || k.size() != caption::kMaxNgram) throw std::invalid_argument("needs 4 orders");
  std::copy(g.begin(), g.end(), c.guess.begin());
  std::copy(k.begin(), k.end(), c.correct.begin());
  return c;
}

CaptionSampleScores CaptionSampleScores::from_eval(const caption::ImageEval& e, std::string caption_tokenized,
                                                   bool with_bleu, bool with_meteor) {
  CaptionSampleScores c;
  if (with_bleu) c.bleu = e.bleu;
  if (with_meteor) {
    c.meteor = e.meteor;
    c.meteor_stats.assign(e.meteor_stats.v.begin(), e.meteor_stats.v.end());
  }
  c.rouge_l = e.rouge_l;
  c.cider = e.cider;
  c.bleu_counts = e.bleu_counts;
  c.caption_tokenized = std::move(caption_tokenized);
  return c;
}

CaptionSampleScores CaptionSampleScores::from_eval(const caption::ImageEval& e, std::string caption_tokenized,
                                                   const caption::MetricSet& computed) {
  CaptionSampleScores c = from_eval(e, std::move(caption_tokenized), computed.bleu, computed.meteor);
  c.with_rouge_l = computed.rouge;
  c.with_cider = computed.cider;
  c.with_bleu_counts = computed.bleu;
  return c;
}

void CaptionSampleScores::write(json& s) const {
  if (bleu)
    for (int k = 0; k < caption::kMaxNgram; ++k) s["Bleu_" + std::to_string(k + 1)] = (*bleu)[k];
  if (meteor) {
    s["METEOR"] = *meteor;
    s["meteor_stats"] = meteor_stats;
  }
  if (with_rouge_l) s["ROUGE_L"] = rouge_l;
  if (with_cider) s["CIDEr"] = cider;
  if (with_bleu_counts) s["bleu_counts"] = bleu_counts_to_json(bleu_counts);
  s["caption_tokenized"] = caption_tokenized;
}

CaptionSampleScores CaptionSampleScores::read(const json& s, const std::string& source, std::size_t index) {
  CaptionSampleScores c;
  try {
    if (s.contains("Bleu_1")) {
      std::array<double, caption::kMaxNgram> b{};
      for (int k = 0; k < caption::kMaxNgram; ++k) b[k] = s.at("Bleu_" + std::to_string(k + 1)).get<double>();
      c.bleu = b;
    }
    if (s.contains("METEOR")) {
      c.meteor = s.at("METEOR").get<double>();
      c.meteor_stats = s.at("meteor_stats").get<std::vector<double>>();
      if (c.meteor_stats.size() != 23) bad(source, index, "meteor_stats", "needs the 23 METEOR statistics");
    }
    c.with_rouge_l = s.contains("ROUGE_L");
    if (c.with_rouge_l) c.rouge_l = s.at("ROUGE_L").get<double>();
    c.with_cider = s.contains("CIDEr");
    if (c.with_cider) c.cider = s.at("CIDEr").get<double>();
    c.with_bleu_counts = s.contains("bleu_counts");
    if (c.with_bleu_counts) {
      try {
        c.bleu_counts = read_bleu_counts(s.at("bleu_counts"));
      } catch (const std::invalid_argument& e) {
        bad(source, index, "bleu_counts", e.what());
      }
    }
    c.caption_tokenized = s.value("caption_tokenized", std::string());
  } catch (const json::exception& e) {
    throw InputError(source, fmt::format("per_sample[{}]", index), std::string("caption scores: ") + e.what());
  }
  return c;
}

void SpiceSampleBreakdown::write(nlohmann::json& s) const {
  nlohmann::json o = nlohmann::json::object();
  for (const Subset& x : subsets)
    o[x.name] = {{"f", std::isfinite(x.f) ? nlohmann::json(x.f) : nlohmann::json(nullptr)},
                 {"tp", x.tp},
                 {"fp", x.fp},
                 {"fn", x.fn}};
  s["spice_style_subsets"] = std::move(o);
}

std::optional<SpiceSampleBreakdown> SpiceSampleBreakdown::read(const nlohmann::json& s, const std::string& source,
                                                               std::size_t index) {
  if (!s.contains("spice_style_subsets")) return std::nullopt;
  const std::string record = "per_sample[" + std::to_string(index) + "]";
  const nlohmann::json& o = s.at("spice_style_subsets");
  if (!o.is_object()) throw InputError(source, record, "'spice_style_subsets' must be an object");
  SpiceSampleBreakdown b;
  for (const auto& [name, v] : o.items()) {
    auto count = [&](const char* key) {
      if (!v.is_object() || !v.contains(key) || !v.at(key).is_number_integer() || v.at(key).get<long long>() < 0)
        throw InputError(source, record,
                         "'spice_style_subsets." + name + "." + key + "' must be a non-negative integer");
      return v.at(key).get<int>();
    };
    Subset x;
    x.name = name;
    x.tp = count("tp");
    x.fp = count("fp");
    x.fn = count("fn");
    if (!v.contains("f")) throw InputError(source, record, "'spice_style_subsets." + name + "' has no 'f'");
    const nlohmann::json& f = v.at("f");
    if (f.is_null()) {
      x.f = std::numeric_limits<double>::quiet_NaN();
    } else if (f.is_number()) {
      x.f = f.get<double>();
    } else {
      throw InputError(source, record, "'spice_style_subsets." + name + ".f' must be a number or null");
    }
    b.subsets.push_back(std::move(x));
  }
  return b;
}

}  // namespace glamm::tasks
