// Shared caption-task steps (see caption_task.h). No metric math: everything goes through caption::evaluate and
// spice::score_corpus.
#include "eval/caption_task.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "common/error.h"

namespace glamm::cli {

void add_caption_task_options(CLI::App* sub, CaptionTaskOptions& o, const std::string& pred_help,
                              const std::string& default_record) {
  sub->add_option("--pred", o.pred, pred_help)->required();
  sub->add_flag("--allow-missing", o.allow_missing,
                "Score samples without a prediction as empty captions (counted and printed) instead of failing");
  sub->add_flag("--only-present", o.only_present,
                "Score only the samples that have a prediction, as GLaMM's script silently does (named in the "
                "output and the signature)");
  sub->add_option("--meteor-resources", o.meteor_resources,
                  "METEOR resources: folder with english.{synsets,exceptions,words,prefixes} or meteor-1.5.jar "
                  "(default: the copy built with glamm-eval)");
  sub->add_option("--meteor-paraphrase", o.meteor_paraphrase,
                  "METEOR paraphrase table (paraphrase-en.gz); '-' or 'off' turns the paraphrase module off (default: found "
                  "next to the resources or in an installed pycocoevalcap, docs/meteor-resources.md)");
  add_common_options(sub, o.common,
                     "Treat line-break characters inside a caption as spaces (pycocoevalcap lets them shift later "
                     "captions onto the wrong image; docs/quirks.md)",
                     default_record);
}

datasets::Coverage coverage_of(const CaptionTaskOptions& o) {
  if (o.allow_missing && o.only_present)
    throw InputError("", "--allow-missing", "use --allow-missing or --only-present, not both");
  if (o.allow_missing) return datasets::Coverage::kAllowMissing;
  if (o.only_present) return datasets::Coverage::kOnlyPresent;
  return datasets::Coverage::kComplete;
}

caption::EvalCapResult score_captions(const caption::EvalCapInput& input, const CaptionTaskOptions& o,
                                      const MeteorSetup& met, Progress& progress, std::vector<std::string>& warnings) {
  caption::EvalCapOptions opt;
  opt.line_breaks = o.common.strict ? ptb::LineBreakMode::kStrict : ptb::LineBreakMode::kReference;
  opt.meteor = met.scorer.get();
  opt.threads = resolve_threads(o.common);
  opt.progress = [&progress](const std::string& m) { progress.note(m); };
  caption::EvalCapResult ev = caption::evaluate(input, opt);
  warnings.insert(warnings.end(), ev.warnings.begin(), ev.warnings.end());
  return ev;
}

nlohmann::json per_sample_json(const caption::EvalCapResult& ev, const datasets::Pairing& pairing) {
  nlohmann::json per = nlohmann::json::array();
  for (std::size_t i = 0; i < ev.per_image.size(); ++i) {
    const caption::ImageEval& im = ev.per_image[i];
    nlohmann::json s;
    s["image_id"] = im.image_id.is_string ? nlohmann::json(im.image_id.text) : nlohmann::json(im.image_id.number);
    s["predicted"] = pairing.predicted.at(i);
    for (int k = 0; k < caption::kMaxNgram; ++k) s["Bleu_" + std::to_string(k + 1)] = im.bleu[k];
    s["METEOR"] = im.meteor;
    s["ROUGE_L"] = im.rouge_l;
    s["CIDEr"] = im.cider;
    s["bleu_counts"] = {{"testlen", im.bleu_counts.testlen}, {"reflen", im.bleu_counts.reflen},
                        {"guess", im.bleu_counts.guess}, {"correct", im.bleu_counts.correct}};
    s["meteor_stats"] = im.meteor_stats.v;
    s["caption_tokenized"] = ev.hyps_tokenized.at(i);
    per.push_back(std::move(s));
  }
  return per;
}

void sign_captions(Signature& sig, const CaptionTaskOptions& o, const MeteorSetup& met) {
  sig.set("reference", "pycocoevalcap-1.2(salaniz@ad63453)");
  sig.set("tokenizer", std::string("ptb-corenlp-3.4.1+pycocoevalcap-filter:") +
                           (o.common.strict ? "strict" : "reference"));
  sign_meteor(sig, met);
  sig.set("coverage", o.only_present ? "only-present" : o.allow_missing ? "allow-missing" : "complete");
  sig.set("strict", o.common.strict ? "on(line_breaks_as_spaces)" : "off");
  sig.set("version", tool_version());
}

void print_caption_metrics(const caption::EvalCapResult& ev, const std::string& prefix) {
  for (const auto& [name, value] : ev.metrics) std::cout << fmt::format("{}{}: {:0.3f}\n", prefix, name, value);
}

void note_coverage(const datasets::Pairing& p, const CaptionTaskOptions& o, Result& r,
                   std::vector<std::string>& warnings) {
  r.details["num_missing"] = p.missing.size();
  r.details["num_predictions_outside_split"] = p.outside.size();
  if (!p.missing.empty())
    warnings.push_back(o.only_present
                           ? fmt::format("{} sample(s) without a prediction left out (--only-present): the score "
                                         "covers only part of the set",
                                         p.missing.size())
                           : fmt::format("{} sample(s) without a prediction scored as empty captions "
                                         "(--allow-missing)",
                                         p.missing.size()));
  if (!p.outside.empty())
    warnings.push_back(fmt::format("{} prediction(s) are for images outside the evaluated split: ignored",
                                   p.outside.size()));
}

SpiceStyleRun score_spice_style(const caption::EvalCapResult& ev, const MeteorSetup& met, int threads,
                                Progress& progress, const std::string& skip_hint) {
  if (!met.resources)
    throw InputError("", "--meteor-resources", "SPICE-style needs METEOR's english.synsets; " + skip_hint);
  SpiceStyleRun run;
  progress.start(std::string("loading the Link Grammar parser for ") + spice::kMetricName + "...");
  std::unique_ptr<spice::LinkParser> parser;
  try {
    parser = std::make_unique<spice::LinkParser>(run.parser_options);
  } catch (const InputError& e) {
    throw InputError(e.file(), e.record(), e.message() + "; " + skip_hint);
  }
  run.parser_version = parser->version();
  progress.done();
  std::vector<spice::ImageInput> images(ev.hyps_tokenized.size());
  for (std::size_t i = 0; i < images.size(); ++i)
    images[i] = {std::to_string(i), ev.hyps_tokenized[i], ev.refs_tokenized.at(i)};
  progress.start(fmt::format("computing {} score ({} images, {} thread(s))...", spice::kMetricName, images.size(),
                             threads));
  run.score = spice::score_corpus(*parser, spice::meteor_synsets(met.resources), images, std::max(1, threads));
  progress.done();
  return run;
}

void sign_spice_style(Signature& sig, const SpiceStyleRun& run) {
  const spice::ParserOptions& p = run.parser_options;
  sig.set("spice", spice::kMetricName);
  sig.set("spice_parser", fmt::format("{}; linkage_limit={} rerank={} short_length={} max_words={} prefix_fallback={}",
                                      run.parser_version, p.linkage_limit, p.rerank_linkages, p.short_length,
                                      p.max_words, p.prefix_fallback ? "on" : "off"));
  sig.set("spice_scoring", "spice-1.0-rules(-synsets,meteor-english.synsets)");
}

namespace {

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json spice_style_details(const SpiceStyleRun& run) {
  const spice::CorpusScore& s = run.score;
  nlohmann::json subsets = nlohmann::json::object();
  for (std::size_t k = 0; k < s.average.size(); ++k) {
    const spice::Evaluation& e = s.average[k];
    subsets[spice::subset_name(spice::kSubsets[k])] = {
        {"f", number_or_null(e.f)}, {"precision", number_or_null(e.pr)}, {"recall", number_or_null(e.re)},
        {"tp", e.tp},               {"fp", e.fp},                        {"fn", e.fn},
        {"num_images", e.num_images}};
  }
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

void add_spice_style_per_sample(nlohmann::json& per_sample, const SpiceStyleRun& run) {
  for (std::size_t i = 0; i < run.score.per_image.size() && i < per_sample.size(); ++i)
    per_sample[i][spice::kMetricName] = run.score.per_image[i].scores.at(0).f;
}

double spice_style_mean(const SpiceStyleRun& run, const std::vector<std::size_t>& idx) {
  double sum = 0;
  for (std::size_t i : idx) sum += run.score.per_image.at(i).scores.at(0).f;
  return idx.empty() ? 0.0 : sum / static_cast<double>(idx.size());
}

void print_spice_style(const SpiceStyleRun& run) {
  const spice::CorpusScore& s = run.score;
  std::cout << fmt::format("{}: {:0.3f}\n", spice::kMetricName, s.spice);
  std::string line = "  subsets (F):";
  for (std::size_t k = 1; k < s.average.size(); ++k) {
    const spice::Subset sub = spice::kSubsets[k];
    const std::string name = sub == spice::Subset::Cardinality ? "Count" : spice::subset_name(sub);
    line += std::isfinite(s.average[k].f) ? fmt::format(" {} {:0.3f}", name, s.average[k].f) : " " + name + " n/a";
  }
  std::cout << line << "\n";
  const spice::ParseCounts& c = s.counts;
  std::cout << fmt::format("  parser: {} distinct captions, {} complete, {} with prefix, {} with null links, {} not "
                           "parsed (noun-only fallback), {} empty\n",
                           c.total(), c.complete, c.with_prefix, c.null_links, c.nouns_only, c.empty);
}

}  // namespace glamm::cli
