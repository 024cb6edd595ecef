// Shared caption-task steps (see caption_tasks.h). No metric math: everything goes through caption::evaluate and
// spice::score_corpus.
#include "eval/tasks/caption_tasks.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace glamm::tasks {

using nlohmann::json;

QuirkTable caption_line_break_quirks(const std::string& command) {
  return QuirkTable{
      command,
      "Treat line-break characters inside a caption as spaces",
      {{"", "line_breaks_as_spaces",
        "\\r, U+000B, U+000C, U+2028 and U+2029 become spaces instead of starting a new tokenizer line, which in "
        "pycocoevalcap shifts every later caption onto the wrong image; a warning is printed either way when such "
        "characters occur"}},
      ""};
}

std::string coverage_name(datasets::Coverage c) {
  switch (c) {
    case datasets::Coverage::kOnlyPresent: return "only-present";
    case datasets::Coverage::kAllowMissing: return "allow-missing";
    case datasets::Coverage::kComplete: break;
  }
  return "complete";
}

datasets::Coverage coverage_of(bool allow_missing, bool only_present) {
  if (allow_missing && only_present)
    throw InputError("", "--allow-missing", "use --allow-missing or --only-present, not both");
  if (allow_missing) return datasets::Coverage::kAllowMissing;
  if (only_present) return datasets::Coverage::kOnlyPresent;
  return datasets::Coverage::kComplete;
}

std::vector<std::string> coverage_warnings(const datasets::Pairing& p, datasets::Coverage coverage) {
  std::vector<std::string> w;
  if (!p.missing.empty())
    w.push_back(coverage == datasets::Coverage::kOnlyPresent
                    ? fmt::format("{} sample(s) without a prediction left out (--only-present): the score covers "
                                  "only part of the set",
                                  p.missing.size())
                    : fmt::format("{} sample(s) without a prediction scored as empty captions (--allow-missing)",
                                  p.missing.size()));
  if (!p.outside.empty())
    w.push_back(fmt::format("{} prediction(s) are for images outside the evaluated split: ignored", p.outside.size()));
  return w;
}

caption::EvalCapResult score_caption_set(const caption::EvalCapInput& input, const caption::MetricSet& metrics,
                                         bool strict, int threads, const CaptionMeteor& meteor,
                                         const TaskProgress& progress, std::vector<std::string>& warnings) {
  caption::EvalCapOptions opt;
  opt.metrics = metrics;
  opt.line_breaks = strict ? ptb::LineBreakMode::kStrict : ptb::LineBreakMode::kReference;
  opt.meteor = meteor.scorer;
  opt.threads = std::max(1, threads);
  opt.progress = [&progress](const std::string& m) { progress.say(m); };
  caption::EvalCapResult ev = caption::evaluate(input, opt);
  warnings.insert(warnings.end(), ev.warnings.begin(), ev.warnings.end());
  return ev;
}

SpiceStyleRun score_spice_style(const caption::EvalCapResult& ev,
                                const std::shared_ptr<const meteor::Resources>& resources, int threads,
                                const TaskProgress& progress, const std::string& skip_hint) {
  if (!resources) throw InputError("", "--meteor-resources", "SPICE-style needs METEOR's english.synsets; " + skip_hint);
  SpiceStyleRun run;
  progress.begin(std::string("loading the Link Grammar parser for ") + spice::kMetricName + "...");
  std::unique_ptr<spice::LinkParser> parser;
  try {
    parser = std::make_unique<spice::LinkParser>(run.parser_options);
  } catch (const InputError& e) {
    throw InputError(e.file(), e.record(), e.message() + "; " + skip_hint);
  }
  run.parser_version = parser->version();
  progress.end();
  std::vector<spice::ImageInput> images(ev.hyps_tokenized.size());
  for (std::size_t i = 0; i < images.size(); ++i)
    images[i] = {std::to_string(i), ev.hyps_tokenized[i], ev.refs_tokenized.at(i)};
  progress.begin(fmt::format("computing {} score ({} images, {} thread(s))...", spice::kMetricName, images.size(),
                             threads));
  run.score = spice::score_corpus(*parser, spice::meteor_synsets(resources), images, std::max(1, threads));
  progress.end();
  return run;
}

void sign_spice_style(Signature& sig, const SpiceStyleRun& run) {
  const spice::ParserOptions& p = run.parser_options;
  sig.set("spice", spice::kMetricName);
  sig.set("spice_parser",
          fmt::format("{}; linkage_limit={} rerank={} short_length={} max_words={} prefix_fallback={} rules={}",
                      run.parser_version, p.linkage_limit, p.rerank_linkages, p.short_length, p.max_words,
                      p.prefix_fallback ? "on" : "off", spice::kRulesRevision));
  sig.set("spice_scoring", "spice-1.0-rules(-synsets,meteor-english.synsets)");
}

namespace {

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json subset_json(const spice::Evaluation& e) {
  return {{"f", number_or_null(e.f)}, {"precision", number_or_null(e.pr)}, {"recall", number_or_null(e.re)},
          {"tp", e.tp},               {"fp", e.fp},                        {"fn", e.fn},
          {"num_images", e.num_images}};
}

}  // namespace

json spice_style_details(const SpiceStyleRun& run) {
  const spice::CorpusScore& s = run.score;
  json subsets = json::object();
  for (std::size_t k = 0; k < s.average.size(); ++k)
    subsets[spice::subset_name(spice::kSubsets[k])] = subset_json(s.average[k]);
  const spice::ParseCounts& c = s.counts;
  return {{"metric", spice::kMetricName},
          {"value", s.spice},
          {"num_images", s.per_image.size()},
          {"note", "not the Java SPICE 1.0: captions are parsed with the CMU Link Grammar parser instead of Stanford "
                   "CoreNLP; everything after the parse follows SPICE 1.0"},
          {"subsets", subsets},
          {"captions_parsed", {{"distinct_captions", c.total()},
                               {"complete", c.complete},
                               {"with_prefix", c.with_prefix},
                               {"null_links", c.null_links},
                               {"nouns_only", c.nouns_only},
                               {"empty", c.empty}}},
          {"fallback_captions", c.nouns_only},
          {"parser", run.parser_version}};
}

double spice_style_of(const SpiceStyleRun& run, std::size_t i) { return run.score.per_image.at(i).scores.at(0).f; }

SpiceSampleBreakdown spice_style_breakdown_of(const SpiceStyleRun& run, std::size_t i) {
  SpiceSampleBreakdown b;
  const auto& scores = run.score.per_image.at(i).scores;
  for (std::size_t k = 0; k < scores.size() && k < std::size(spice::kSubsets); ++k)
    b.subsets.push_back({spice::subset_name(spice::kSubsets[k]), scores[k].f, scores[k].tp, scores[k].fp, scores[k].fn});
  return b;
}

double spice_style_mean(const SpiceStyleRun& run, const std::vector<std::size_t>& idx) {
  double sum = 0;
  for (std::size_t i : idx) sum += spice_style_of(run, i);
  return idx.empty() ? 0.0 : sum / static_cast<double>(idx.size());
}

void sign_caption_pipeline(Signature& sig, bool strict, datasets::Coverage coverage, const CaptionMeteor& meteor,
                           const QuirkTable& quirks) {
  sig.set("reference", "pycocoevalcap-1.2(salaniz@ad63453)");
  sig.set("tokenizer", std::string("ptb-corenlp-3.4.1+pycocoevalcap-filter:") + (strict ? "strict" : "reference"));
  for (const auto& [k, v] : meteor.signature.fields) sig.set(k, v);
  sig.set("coverage", coverage_name(coverage));
  sig.set("strict", quirks.signature_value(strict));
  sig.set("version", tool_version());
}

json bleu_info_json(const caption::EvalCapResult& ev) {
  return {{"testlen", ev.bleu_total.testlen}, {"reflen", ev.bleu_total.reflen}, {"guess", ev.bleu_total.guess},
          {"correct", ev.bleu_total.correct}, {"ratio", ev.bleu_ratio}};
}

void add_prediction_inputs(Result& r, const std::vector<std::string>& pred_files) {
  for (std::size_t k = 0; k < pred_files.size(); ++k)
    r.add_input(k == 0 ? "predictions" : "predictions_" + std::to_string(k), pred_files[k]);
}

}  // namespace glamm::tasks
