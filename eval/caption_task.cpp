// Command-line side of the caption tasks (see caption_task.h): flags, METEOR hand-over, printing.
#include "eval/caption_task.h"

#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include "common/error.h"

namespace glamm::cli {

void add_caption_task_options(CLI::App* sub, CaptionTaskOptions& o, const std::string& pred_help,
                              const std::string& default_record, const tasks::QuirkTable& quirks) {
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
  add_common_options(sub, o.common, quirks.help_text(), default_record);
}

datasets::Coverage coverage_of(const CaptionTaskOptions& o) {
  return tasks::coverage_of(o.allow_missing, o.only_present);
}

void print_caption_metrics(const std::vector<std::pair<std::string, double>>& metrics) {
  for (const auto& [name, value] : metrics) std::cout << fmt::format("{}: {:0.3f}\n", name, value);
}

void print_spice_style(const tasks::SpiceStyleRun& run) {
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
