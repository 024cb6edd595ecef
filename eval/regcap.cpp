// `glamm-eval regcap`: region captioning (paper Table 5, RefCOCOg and Visual Genome) as GLaMM's
// eval/region_captioning/evaluate.py scores it — COCOEvalCap over the GT images — but on the whole GT set by default
// (coverage guard) instead of only the images that happen to have a result. Wires datasets/regcap →
// caption::evaluate → Result record through the task layer (eval/tasks/regcap.h). Spec: dataset-formats.md §6.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "eval/caption_task.h"
#include "eval/command.h"
#include "eval/tasks/regcap.h"

namespace glamm::cli {
namespace {

namespace fs = std::filesystem;

struct RegcapOptions {
  CaptionTaskOptions task;
  std::string dataset, annotations, data_root = "./data";
};

/// The GT file: --annotations, else the dataset's file under --data-root.
fs::path annotations_path(const RegcapOptions& o) {
  if (!o.annotations.empty()) return o.annotations;
  return o.dataset == "vg" ? fs::path(o.data_root) / "visual_genome" / "test_caption.json"
                           : fs::path(o.data_root) / "RefCoco_Reg" / "mdetr_annotations" /
                                 "finetune_refcocog_val_captions.json";
}

void print_regcap(const tasks::RegcapReport& rep, const std::string& ann_name, bool only_present) {
  print_warnings(rep.warnings);
  std::cout << fmt::format("regcap {} ({}): {} regions scored of {} image entries ({} photos, {}; {} layout){}\n",
                           rep.dataset, ann_name, rep.eval.per_image.size(), rep.num_image_entries, rep.num_photos,
                           rep.regions_layout, rep.file_layout, only_present ? ", ONLY PRESENT predictions" : "");
  print_caption_metrics(rep.eval.metrics);
  std::cout << "SPICE: not computed (region captioning reports METEOR and CIDEr)\n";
  print_strict_line(tasks::regcap_quirks(), rep.strict);
  std::cout.flush();
}

void run_regcap(const RegcapOptions& o) {
  tasks::RegcapOptions opt;
  opt.coverage = coverage_of(o.task);
  const fs::path ann = annotations_path(o);
  if (!fs::exists(fs::symlink_status(ann)))  // a dangling link is named by the reader
    throw InputError(ann.string(), "", "annotation file not found (pass --annotations FILE)");
  const std::string label =
      o.task.common.label.empty() ? default_label_from_file(o.task.pred) : o.task.common.label;
  const std::string out = o.task.common.json_path.empty()
                              ? "glamm-results/regcap_" + o.dataset + "_" + (o.dataset == "vg" ? "test" : "val") +
                                    "_" + label_for_file_name(label) + ".json"
                              : o.task.common.json_path;
  check_record_writable(out, "--json");
  opt.strict = o.task.common.strict;
  opt.threads = resolve_threads(o.task.common);
  Progress progress(o.task.common.quiet);
  opt.progress = task_progress(progress);
  std::vector<std::string> meteor_warnings;
  const MeteorSetup met = load_meteor(o.task.meteor_resources, o.task.meteor_paraphrase, progress, meteor_warnings);
  opt.meteor = caption_meteor(met, std::move(meteor_warnings));
  const tasks::RegcapInputs inputs = tasks::load_regcap_inputs({o.dataset, ann.string(), o.task.pred}, opt.progress);
  const tasks::RegcapReport rep = tasks::evaluate_regcap(inputs, opt);
  print_regcap(rep, ann.filename().string(), o.task.only_present);
  write_record(out, tasks::to_record(rep, label));
}

/// regcap as a TaskCommand (the subcommand and `run` use the same object).
class RegcapTaskCommand : public TaskCommand {
 public:
  void bind(CLI::App* sub) override;
  void preflight() const override {
    preflight_meteor_resources(o_.task.meteor_resources);
    check_record_folder_exists(o_.task.common.json_path, "--json");
  }
  void run() const override { run_regcap(o_); }

 private:
  RegcapOptions o_;
};

GLAMM_REGISTER_TASK_COMMAND("regcap", RegcapTaskCommand);

void add_regcap(CLI::App& app) {
  auto cmd = std::make_shared<RegcapTaskCommand>();
  CLI::App* sub = app.add_subcommand(
      "regcap",
      "Region captioning (RefCOCOg, Visual Genome): METEOR, CIDEr and the rest of COCOEvalCap on GLaMM's region-"
      "caption GT (paper Table 5), every GT region scored unless --only-present");
  cmd->bind(sub);
  sub->callback([cmd] { cmd->run(); });
}

void RegcapTaskCommand::bind(CLI::App* sub) {
  sub->add_option("--dataset", o_.dataset, "refcocog or vg")->required()->check(CLI::IsMember({"refcocog", "vg"}));
  sub->add_option("--annotations", o_.annotations,
                  "GT file (default <data-root>/RefCoco_Reg/mdetr_annotations/finetune_refcocog_val_captions.json "
                  "or <data-root>/visual_genome/test_caption.json)");
  sub->add_option("--data-root", o_.data_root, "GLaMM's data folder")->capture_default_str();
  add_caption_task_options(sub, o_.task,
                           "Predictions: a JSON list [{image_id, caption}] or GLaMM's results folder (every *.json "
                           "except merged.json)",
                           "glamm-results/regcap_<dataset>_<split>_<label>.json", tasks::regcap_quirks());
}

GLAMM_REGISTER_COMMAND(70, add_regcap);

}  // namespace
}  // namespace glamm::cli
