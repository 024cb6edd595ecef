// `glamm-eval gcg`: Grounded Conversation Generation evaluation as GLaMM's eval/gcg/evaluate.py computes it —
// mask AP/AP50, caption metrics, mIoU and mask recall. Flags, output checks, the similarity and METEOR loaders, then
// the task layer (eval/tasks/gcg.h) scores; this file prints and writes the record.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/io.h"
#include "common/output_guard.h"
#include "common/result.h"
#include "datasets/grandf_sample.h"
#include "eval/command.h"
#include "eval/meteor_setup.h"
#include "eval/phrase_similarity.h"
#include "eval/progress.h"
#include "eval/tasks/gcg.h"

namespace glamm::cli {
namespace {

namespace fs = std::filesystem;

/// The flags of `glamm-eval gcg`.
struct GcgCommand {
  CommonOptions common;
  tasks::GcgFiles files{"val", "./data/GranDf/annotations/val_test", {}};
  std::string text_sim;  ///< --text-sim table ("" = BERT)
  std::string bert;      ///< --bert folder ("" = env GLAMM_BERT, unless --text-sim)
  bool allow_missing = false;
  bool sample = false;   ///< --sample: the built-in synthetic set
  std::string meteor_resources, meteor_paraphrase;
};

std::string run_label(const GcgCommand& o) {
  return o.common.label.empty() ? tasks::gcg_default_label(o.files.pred_dirs) : o.common.label;
}

/// Where the run's record goes: --json, else glamm-results/gcg_grandf_<split>_<label>.json.
std::string record_path(const GcgCommand& o) {
  return o.common.json_path.empty()
             ? "glamm-results/gcg_grandf_" + o.files.split + "_" + label_for_file_name(run_label(o)) + ".json"
             : o.common.json_path;
}

/// Before any work: no output may overwrite an input (a record named <id>.json inside a --pred folder included),
/// and the record must be writable.
void check_outputs(const GcgCommand& o) {
  io::OutputGuard guard;
  for (const std::string& dir : o.files.pred_dirs) guard.add_input_folder(dir, "--pred " + dir);
  guard.add_input(o.files.caption_gt_file(), "caption GT");
  guard.add_input(o.files.mask_gt_file(), "mask GT");
  guard.add_input(o.text_sim, "--text-sim");
  const std::string out = record_path(o);
  guard.check_output(out, "--json");
  check_record_writable(out, "--json");
}

/// The task's stage messages on stderr, with timings (silent with --quiet).
tasks::GcgProgress progress_hooks(Progress& p) {
  return {[&p](const std::string& what) { p.start(what); }, [&p] { p.done(); },
          [&p](const std::string& what) { p.note(what); }};
}

void print_report(const tasks::GcgReport& g) {
  for (const auto& w : g.warnings) std::cerr << "warning: " << w << "\n";
  const auto items = mask::summary_items(g.coco_params);
  for (std::size_t j = 0; j < items.size(); ++j)
    std::cout << mask::summary_line(g.coco_params, items[j], g.coco_stats[j]) << "\n";
  for (const auto& [name, value] : g.caption_metrics) std::cout << fmt::format("{}: {:.3f}\n", name, value);
  std::cout << fmt::format("Mean IoU (mIoU) across all images: {:.3f}\n", g.miou);
  std::cout << fmt::format("Recall: {:.3f}\n", g.recall);
  const std::string meteor = g.with_meteor ? fmt::format("{:.3f}", g.caption_metric("METEOR")) : "n/a";
  std::cout << fmt::format("\nGCG {} ({} images{}): METEOR {} | CIDEr {:.3f} | AP50 {:.3f} | mIoU {:.3f} | "
                           "Recall {:.3f}\n",
                           g.files.split, g.num_images, g.strict ? ", --strict" : "", meteor,
                           g.caption_metric("CIDEr"), g.coco_stats[1], g.miou, g.recall);
  if (g.strict) std::cout << tasks::gcg_quirks().strict_line() << "\n";
  std::cout.flush();
}

/// Evaluate the files `o` names. METEOR is required, except for the built-in sample on a machine without METEOR's
/// resources (`meteor_optional`).
void run_gcg_files(const GcgCommand& o, bool meteor_optional) {
  tasks::validate_gcg_files(o.files);
  check_outputs(o);
  // The record's input checksums, computed while the evaluation runs.
  io::prefetch_sha256(o.files.caption_gt_file());
  io::prefetch_sha256(o.files.mask_gt_file());
  tasks::GcgOptions opt;
  opt.similarity = open_phrase_similarity(o.text_sim, o.bert);  // --bert / GLAMM_BERT / --text-sim
  opt.strict = o.common.strict;
  opt.threads = resolve_threads(o.common);
  opt.allow_missing = o.allow_missing;
  Progress progress(o.common.quiet);
  opt.progress = progress_hooks(progress);
  std::optional<MeteorLoader> loader;  // loads while the GT and predictions are read and AP is computed
  MeteorSetup met;
  if (!meteor_optional || !locate_meteor_resources(o.meteor_resources).empty()) {
    loader.emplace(o.meteor_resources, o.meteor_paraphrase, progress);
    opt.meteor = [&](std::vector<std::string>& warnings) {
      met = loader->finish(warnings);
      tasks::GcgMeteor m;
      m.scorer = met.scorer.get();
      sign_meteor(m.signature, met);
      return m;
    };
  } else {
    opt.meteor_unavailable = meteor_resources_missing_message();
  }
  const tasks::GcgReport report = tasks::run_gcg_task(o.files, opt);
  print_report(report);
  write_record(record_path(o), tasks::to_record(report, {run_label(o), o.sample}));
}

/// --sample: write the built-in synthetic GranD-f set (annotations, predictions, similarity table and images) into
/// a folder next to the record, <record>.sample/, and evaluate it like any other. The folder is kept so that
/// `glamm-eval report` can draw the overlays of the sample's record; the record says its data are synthetic.
void run_gcg(const GcgCommand& in) {
  if (!in.sample) return run_gcg_files(in, false);
  if (!in.files.pred_dirs.empty() || !in.text_sim.empty())
    throw InputError("", "--sample", "--sample evaluates the built-in set; leave out --pred and --text-sim");
  GcgCommand o = in;
  o.files.split = "val";
  if (o.common.label.empty()) o.common.label = "builtin-sample";
  o.common.json_path = record_path(o);
  check_record_writable(o.common.json_path, "--json");  // before the sample folder is written next to it
  fs::path dir = fs::absolute(fs::path(o.common.json_path)).lexically_normal();
  dir = dir.parent_path() / (dir.stem().string() + ".sample");
  std::error_code ec;
  // Replace only a sample folder this command wrote before (never another folder that happens to have the name).
  if (fs::exists(dir, ec) && !fs::exists(dir / "val_gcg_coco_caption_gt.json", ec))
    throw InputError(dir.string(), "--sample",
                     "exists and is not a built-in sample folder; choose another --json path for the sample record");
  fs::remove_all(dir, ec);
  datasets::grandf::write_grandf_sample(dir);
  o.files.gt_dir = dir.string();
  o.files.pred_dirs = {(dir / "predictions").string()};
  o.text_sim = (dir / "val_text_similarity.tsv").string();
  std::cout << "glamm-eval gcg: built-in sample (6 synthetic 48x64 images in GranD-f layout, phrase similarities "
               "from a table; no input files, no BERT); synthetic data, not GranD-f: its numbers are no model's score\n";
  run_gcg_files(o, true);
}

/// gcg's options (--split, --gt-dir, --pred, --sample, --text-sim, --bert, --allow-missing, --meteor-*, and the
/// common ones), written into `c`.
void bind_gcg_options(CLI::App* sub, GcgCommand& c) {
  sub->add_option("--split", c.files.split, "val or test")->capture_default_str();
  sub->add_option("--gt-dir", c.files.gt_dir,
                  "Folder with {split}_gcg_coco_caption_gt.json and {split}_gcg_coco_mask_gt.json")
      ->capture_default_str();
  sub->add_option("--pred", c.files.pred_dirs,
                  "Predictions folder(s) with one <image_id>.json each (as GLaMM's infer.py writes them); several "
                  "folders (shards) are merged and an image predicted twice is an error");
  sub->add_flag("--sample", c.sample,
                "Evaluate the built-in synthetic GranD-f sample (no data, no BERT needed; METEOR only when its "
                "resources are found). Its files (annotations, predictions, images) are written to a folder next to "
                "the record, <record>.sample/, and kept so that `glamm-eval report <record>` can draw its overlays; "
                "the record's signature says data:synthetic (built-in sample)");
  sub->add_option("--text-sim", c.text_sim,
                  "Phrase similarity table gt_label<TAB>pred_label<TAB>similarity used by mask recall instead of "
                  "BERT (a missing pair counts 0.0)");
  sub->add_option("--bert", c.bert,
                  "bert-base-uncased folder (config.json, vocab.txt, model.safetensors or pytorch_model.bin) for the "
                  "recall's text similarity, as the official evaluation; default: env GLAMM_BERT");
  sub->add_flag("--allow-missing", c.allow_missing,
                "Score a missing prediction file as an empty prediction (and report how many) instead of failing");
  sub->add_option("--meteor-resources", c.meteor_resources,
                  "METEOR resources: folder with english.{synsets,exceptions,words,prefixes} or meteor-1.5.jar "
                  "(default: the copy built with glamm-eval)");
  sub->add_option("--meteor-paraphrase", c.meteor_paraphrase,
                  "METEOR paraphrase table (paraphrase-en.gz); '-' or 'off': none (default: found as "
                  "docs/meteor-resources.md says)");
  add_common_options(sub, c.common, tasks::gcg_strict_help(), "glamm-results/gcg_grandf_<split>_<label>.json");
}

/// gcg as a TaskCommand (the subcommand and `run` use the same object).
class GcgTaskCommand : public TaskCommand {
 public:
  void bind(CLI::App* sub) override { bind_gcg_options(sub, c_); }
  void preflight() const override {
    const char* env_bert = std::getenv("GLAMM_BERT");
    if (!c_.bert.empty() && !c_.text_sim.empty())
      throw InputError("", "--bert", "give either --bert DIR or --text-sim TABLE.tsv, not both (checked before inference)");
    if (c_.bert.empty() && c_.text_sim.empty() && !(env_bert && *env_bert))
      throw InputError("", "--bert",
                       "run gcg needs phrase similarities for mask recall: pass --bert DIR (bert-base-uncased; or set "
                       "GLAMM_BERT=DIR) or --text-sim TABLE.tsv (checked before inference)");
    std::error_code ec;
    if (!c_.bert.empty() && !fs::is_directory(c_.bert, ec))
      throw InputError(c_.bert, "--bert", "no such folder (checked before inference)");
    if (!c_.text_sim.empty() && !fs::is_regular_file(c_.text_sim, ec))
      throw InputError(c_.text_sim, "--text-sim", "no such file (checked before inference)");
    if (!c_.text_sim.empty()) datasets::grandf::load_similarity_table(c_.text_sim);  // empty, inf/nan rows: now
    preflight_meteor_resources(c_.meteor_resources);
    check_record_folder_exists(c_.common.json_path, "--json");
  }
  void run() const override { run_gcg(c_); }

 private:
  GcgCommand c_;
};

GLAMM_REGISTER_TASK_COMMAND("gcg", GcgTaskCommand);

void add_gcg(CLI::App& app) {
  auto cmd = std::make_shared<GcgTaskCommand>();
  CLI::App* sub = app.add_subcommand(
      "gcg",
      "Grounded Conversation Generation (GranD-f): METEOR, CIDEr, AP50, mIoU and mask recall exactly as GLaMM's "
      "eval/gcg/evaluate.py computes them (paper Table 3)");
  cmd->bind(sub);
  sub->callback([cmd] { cmd->run(); });
}

GLAMM_REGISTER_COMMAND(50, add_gcg);

}  // namespace
}  // namespace glamm::cli
