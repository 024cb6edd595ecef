// `glamm-eval refseg`: referring-expression segmentation cIoU / gIoU (paper Table 4). Parses the flags, checks the
// output, loads the REFER files and predictions through the task layer (eval/tasks/refseg.h: datasets/refer), calls
// evaluate_refseg, prints the result and writes the record. The protocol itself lives in eval/tasks/refseg.cpp.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "common/error.h"
#include "datasets/refer.h"
#include "eval/command.h"
#include "eval/progress.h"
#include "eval/tasks/refseg.h"

namespace glamm::cli {
namespace {

namespace fs = std::filesystem;
namespace refer = glamm::datasets::refer;

struct RefsegCliOptions {
  CommonOptions common;
  std::string dataset, split_by, split = "val", data_root = "./data", refer_dir, pred;
  bool allow_missing = false, only_present = false;
  std::optional<uint64_t> sampling_seed;
  std::string gt_overlap = "union";
};

std::string record_label(const RefsegCliOptions& o) {
  return o.common.label.empty() ? default_label_from_file(o.pred) : o.common.label;
}

std::string record_path(const RefsegCliOptions& o) {
  if (!o.common.json_path.empty()) return o.common.json_path;
  return "glamm-results/refseg_" + o.dataset + "_" + o.split + "_" + label_for_file_name(record_label(o)) + ".json";
}

/// The files to read (REFER layout: <data-root>/Refer_Segm/<dataset>/, or --refer-dir). Throws InputError when the
/// (dataset, split-by) pair does not exist or a REFER file is missing, before anything is read.
tasks::RefsegFiles refseg_files(const RefsegCliOptions& o) {
  tasks::RefsegFiles f;
  f.dataset = o.dataset;
  f.split_by = o.split_by.empty() ? refer::default_split_by(o.dataset) : o.split_by;
  f.split = o.split;
  f.predictions = o.pred;
  refer::split_names(f.dataset, f.split_by);  // unknown pair → error before reading any file
  const fs::path dir = o.refer_dir.empty() ? fs::path(o.data_root) / "Refer_Segm" / o.dataset : fs::path(o.refer_dir);
  f.refs = dir / ("refs(" + f.split_by + ").p");
  f.instances = dir / "instances.json";
  return f;
}

void check_refer_files_exist(const tasks::RefsegFiles& f) {
  for (const fs::path& p : {f.refs, f.instances})
    if (!fs::exists(fs::symlink_status(p)))  // a dangling link is named by the reader
      throw InputError(p.string(), "", "file not found (REFER layout: <data-root>/Refer_Segm/<dataset>/)");
}

void print_report(const tasks::RefsegReport& r) {
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
  std::cout << fmt::format("refseg {} ({}) {}: {} sentences, {} refs, {} images{}{}\n", r.dataset, r.split_by,
                           r.split, r.num_sentences, r.num_refs, r.num_images,
                           r.sampling_seed ? fmt::format(", GLaMM <=3-per-image draw (seed {})", *r.sampling_seed) : "",
                           r.coverage == tasks::RefsegCoverage::kOnlyPresent ? ", ONLY PRESENT predictions" : "");
  std::string counts;
  for (const auto& [name, c] : r.split_counts)
    counts += fmt::format("{}{}: {} images / {} refs / {} sentences", counts.empty() ? "" : "; ", name, c.images,
                          c.refs, c.sentences);
  std::cout << fmt::format("refs({}).p splits: {}\n", r.split_by, counts);
  if (r.strict) {
    std::cout << fmt::format("giou: {:.7f}  ciou: {:.7f}\n", r.giou, r.ciou);
    std::cout << tasks::refseg_quirks().strict_line() << "\n";
  } else {
    std::cout << fmt::format("giou: {}  ciou: {}\n", r.giou_str, r.ciou_str);
  }
  std::cout.flush();
}

void run_refseg(const RefsegCliOptions& o) {
  if (o.allow_missing && o.only_present)
    throw InputError("", "--allow-missing", "use --allow-missing or --only-present, not both");
  const tasks::RefsegFiles files = refseg_files(o);
  check_record_writable(record_path(o), "--json");
  check_refer_files_exist(files);
  Progress progress(o.common.quiet);

  progress.start("loading " + files.refs.string() + " and " + files.instances.string() + "...");
  const tasks::RefsegInputs inputs = tasks::load_refseg_inputs(files);
  progress.done();

  tasks::RefsegOptions opt;
  opt.strict = o.common.strict;
  opt.threads = resolve_threads(o.common);
  opt.coverage = o.only_present    ? tasks::RefsegCoverage::kOnlyPresent
                 : o.allow_missing ? tasks::RefsegCoverage::kAllowMissing
                                   : tasks::RefsegCoverage::kComplete;
  opt.sampling_seed = o.sampling_seed;
  opt.gt_overlap = o.gt_overlap == "sum" ? refer::GtOverlap::kSum : refer::GtOverlap::kUnion;
  opt.stage_started = [&progress](const std::string& what) { progress.start(what); };
  opt.stage_done = [&progress] { progress.done(); };
  const tasks::RefsegReport report = tasks::evaluate_refseg(inputs, opt);

  print_report(report);
  write_record(record_path(o), tasks::to_record(report, record_label(o)));
}

/// refseg as a TaskCommand (the subcommand and `run` use the same object).
class RefsegTaskCommand : public TaskCommand {
 public:
  void bind(CLI::App* sub) override;
  void preflight() const override { check_record_folder_exists(o_.common.json_path, "--json"); }
  void run() const override { run_refseg(o_); }

 private:
  RefsegCliOptions o_;
};

GLAMM_REGISTER_TASK_COMMAND("refseg", RefsegTaskCommand);

void add_refseg(CLI::App& app) {
  auto cmd = std::make_shared<RefsegTaskCommand>();
  CLI::App* sub = app.add_subcommand(
      "refseg",
      "Referring-expression segmentation cIoU / gIoU on RefCOCO, RefCOCO+ and RefCOCOg (paper Table 4) and "
      "RefCLEF (ReferItGame; REFER layout too, not in the paper) as GLaMM's eval/referring_seg computes them; every "
      "sentence of the split by default");
  cmd->bind(sub);
  sub->callback([cmd] { cmd->run(); });
}

void RefsegTaskCommand::bind(CLI::App* sub) {
  sub->add_option("--dataset", o_.dataset, "refcoco, refcoco+, refcocog or refclef")
      ->required()
      ->check(CLI::IsMember({"refcoco", "refcoco+", "refcocog", "refclef"}));
  sub->add_option("--split-by", o_.split_by, "unc, umd, google, berkeley (refclef) (default: umd for refcocog, unc otherwise, as GLaMM)");
  sub->add_option("--split", o_.split, "val, testA, testB (unc; refclef also testC), val, test (umd, berkeley), ...; 'test' selects every split "
                                       "containing 'test' as the REFER API does")
      ->capture_default_str();
  sub->add_option("--data-root", o_.data_root, "GLaMM's data folder; the REFER files are read from "
                                               "<data-root>/Refer_Segm/<dataset>/")
      ->capture_default_str();
  sub->add_option("--refer-dir", o_.refer_dir, "Folder with refs(<splitBy>).p and instances.json (overrides "
                                               "--data-root)");
  sub->add_option("--pred", o_.pred, "Predictions: JSON Lines, one {sent_id, ref_id, image_id, mask: compressed RLE} "
                                     "per sentence (docs/quirks.md, formats), or a JSON array of them")
      ->required();
  sub->add_flag("--allow-missing", o_.allow_missing, "Score sentences without a prediction as empty masks (counted "
                                                     "and printed) instead of failing");
  sub->add_flag("--only-present", o_.only_present, "Score only the sentences that have a prediction (named in the "
                                                   "output and the signature)");
  sub->add_option("--glamm-sampling", o_.sampling_seed,
                  "Reproduce GLaMM's protocol of at most 3 random sentences per image, drawn with this seed "
                  "(the official script draws without a seed)");
  sub->add_option("--gt-overlap", o_.gt_overlap, "union (default): overlapping polygon parts give 1; sum: GLaMM's "
                                                 "summed parts (overlap pixels leave the GT area)")
      ->check(CLI::IsMember({"union", "sum"}))
      ->capture_default_str();
  add_common_options(sub, o_.common, tasks::refseg_quirks().help_text(),
                     "glamm-results/refseg_<dataset>_<split>_<label>.json");
}

GLAMM_REGISTER_COMMAND(60, add_refseg);

}  // namespace
}  // namespace glamm::cli
