// `glamm-eval compare`: result records of one task side by side with deltas, a paired bootstrap interval and
// p-value per metric, and the samples that regressed most (reports/compare.h does the work).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/io.h"
#include "common/output_guard.h"
#include "eval/command.h"
#include "reports/compare.h"
#include "reports/record.h"

namespace glamm::cli {
namespace {

struct CompareCliOptions {
  std::vector<std::string> runs;
  reports::CompareOptions opt;
  std::string json_path;
};

void run_compare(const CompareCliOptions& o) {
  if (o.runs.size() < 2) throw InputError("", "compare", "give at least two records: RUN_A.json RUN_B.json [...]");
  io::OutputGuard guard;
  for (const auto& p : o.runs) guard.add_input(p, "record " + p);
  guard.check_output(o.json_path, "--json");
  std::vector<reports::RunRecord> runs;
  for (const auto& p : o.runs) runs.push_back(reports::load_record(p));
  reports::require_same_task(runs);
  // Check every pair against the baseline before the (slower) resampling.
  for (std::size_t k = 1; k < runs.size(); ++k) reports::check_comparable(runs[0], runs[k], o.opt.force);
  nlohmann::json all = nlohmann::json::array();
  for (std::size_t k = 1; k < runs.size(); ++k) {
    const reports::Comparison c = reports::compare_runs(runs[0], runs[k], o.opt);
    if (k > 1) std::cout << "\n";
    std::cout << reports::format_comparison(c);
    all.push_back(c.to_json());
  }
  if (!o.json_path.empty()) io::save_json(o.json_path, runs.size() == 2 ? all[0] : all);
}

void add_compare(CLI::App& app) {
  auto opts = std::make_shared<CompareCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "compare",
      "Compare result records of one task (the first is the baseline): metric deltas with a paired bootstrap over "
      "samples (95% interval, p-value) re-aggregated from the records' per-sample data, and the samples that "
      "regressed most. Refuses records of different splits or metric variants unless --force.");
  sub->add_option("runs", opts->runs, "RUN_A.json RUN_B.json [...]")->required();
  sub->add_option("--resamples", opts->opt.resamples, "Bootstrap resamples")->capture_default_str();
  sub->add_option("--seed", opts->opt.seed, "Random seed (same seed, same result)")->capture_default_str();
  sub->add_option("--by", opts->opt.rank_metric, "Per-sample metric for the most-regressed list (default: the metric "
                                                  "with the largest relative drop that the records store per sample)");
  sub->add_option("--worst", opts->opt.worst, "How many most-regressed samples to list")->capture_default_str();
  sub->add_flag("--force", opts->opt.force, "Compare despite different splits, metric variants or sample sets");
  sub->add_option("--json", opts->json_path, "Also write the comparison as JSON (atomically)");
  sub->callback([opts] { run_compare(*opts); });
}

GLAMM_REGISTER_COMMAND(110, add_compare);

}  // namespace
}  // namespace glamm::cli
