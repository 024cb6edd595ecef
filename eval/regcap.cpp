// `glamm-eval regcap`: region captioning (paper Table 5, RefCOCOg and Visual Genome) as GLaMM's
// eval/region_captioning/evaluate.py scores it — COCOEvalCap over the GT images — but on the whole GT set by default
// (coverage guard) instead of only the images that happen to have a result. Wires datasets/regcap →
// caption::evaluate → Result record. Spec: dataset-formats.md §6.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/result.h"
#include "datasets/regcap.h"
#include "eval/caption_task.h"
#include "eval/command.h"

namespace glamm::cli {
namespace {

namespace fs = std::filesystem;

struct RegcapOptions {
  CaptionTaskOptions task;
  std::string dataset, annotations, data_root = "./data";
};

void run_regcap(const RegcapOptions& o) {
  const datasets::Coverage coverage = coverage_of(o.task);
  const fs::path ann = !o.annotations.empty() ? fs::path(o.annotations)
                       : o.dataset == "vg"
                           ? fs::path(o.data_root) / "visual_genome" / "test_caption.json"
                           : fs::path(o.data_root) / "RefCoco_Reg" / "mdetr_annotations" /
                                 "finetune_refcocog_val_captions.json";
  if (!fs::exists(fs::symlink_status(ann)))  // a dangling link is named by the reader
    throw InputError(ann.string(), "", "annotation file not found (pass --annotations FILE)");
  check_record_writable(
      o.task.common.json_path.empty()
          ? "glamm-results/regcap_" + o.dataset + "_" + (o.dataset == "vg" ? "test" : "val") + "_" +
                label_for_file_name(o.task.common.label.empty() ? default_label_from_file(o.task.pred)
                                                                : o.task.common.label) +
                ".json"
          : o.task.common.json_path,
      "--json");
  Progress progress(o.task.common.quiet);
  std::vector<std::string> warnings;
  MeteorSetup met = load_meteor(o.task.meteor_resources, o.task.meteor_paraphrase, progress, warnings);

  progress.start("loading " + ann.string() + "...");
  const datasets::RegionCapGt gt = datasets::load_region_caption_gt(ann, warnings);
  std::vector<std::string> pred_files;
  const auto preds = datasets::load_caption_predictions(o.task.pred, pred_files);
  const datasets::Pairing pairing = datasets::pair_predictions(gt.samples, preds, {}, coverage, o.task.pred);
  progress.done();

  caption::EvalCapResult ev = score_captions(pairing.input, o.task, met, progress, warnings);
  Result r;
  note_coverage(pairing, o.task, r, warnings);
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  std::cout << fmt::format("regcap {} ({}): {} regions scored of {} image entries ({} photos, {}; {} layout){}\n",
                           o.dataset, ann.filename().string(), pairing.input.image_ids.size(), gt.samples.size(),
                           gt.photos, gt.regions_layout(), gt.layout,
                           o.task.only_present ? ", ONLY PRESENT predictions" : "");
  print_caption_metrics(ev);
  std::cout << "SPICE: not computed (region captioning reports METEOR and CIDEr)\n";
  std::cout.flush();

  r.task = "regcap";
  r.dataset = o.dataset;
  r.split = o.dataset == "vg" ? "test" : "val";
  r.label = o.task.common.label.empty() ? cli::default_label_from_file(o.task.pred) : o.task.common.label;
  r.metrics = ev.metrics;
  r.signature.set("metric", "glamm-regcap");
  r.signature.set("dataset", o.dataset);
  r.signature.set("keying", "image_id=images[].id=anns[image_id].id; refs=imgToAnns[image_id]");
  sign_captions(r.signature, o.task, met);
  r.add_input("annotations", ann);
  for (std::size_t k = 0; k < pred_files.size(); ++k)
    r.add_input(k == 0 ? "predictions" : "predictions_" + std::to_string(k), pred_files[k]);
  r.details["num_samples"] = pairing.input.image_ids.size();
  r.details["num_image_entries"] = gt.samples.size();
  r.details["num_photos"] = gt.photos;
  r.details["num_annotations"] = gt.num_annotations;
  r.details["regions_layout"] = gt.regions_layout();
  r.details["file_layout"] = gt.layout;
  r.details["images_without_annotations"] = gt.images_without_annotations;
  r.details["images_without_paired_box"] = gt.images_without_paired_box;
  r.details["images_with_many_regions"] = gt.images_with_many_regions;
  r.details["num_predictions"] = preds.size();
  r.details["bleu_info"] = {{"testlen", ev.bleu_total.testlen}, {"reflen", ev.bleu_total.reflen},
                            {"guess", ev.bleu_total.guess}, {"correct", ev.bleu_total.correct},
                            {"ratio", ev.bleu_ratio}};
  r.warnings = warnings;
  r.per_sample = per_sample_json(ev, pairing);
  const std::string out = o.task.common.json_path.empty()
                              ? "glamm-results/regcap_" + o.dataset + "_" + r.split + "_" + cli::label_for_file_name(r.label) + ".json"
                              : o.task.common.json_path;
  write_record(out, r);
}

void add_regcap(CLI::App& app) {
  auto o = std::make_shared<RegcapOptions>();
  CLI::App* sub = app.add_subcommand(
      "regcap",
      "Region captioning (RefCOCOg, Visual Genome): METEOR, CIDEr and the rest of COCOEvalCap on GLaMM's region-"
      "caption GT (paper Table 5), every GT region scored unless --only-present");
  sub->add_option("--dataset", o->dataset, "refcocog or vg")->required()->check(CLI::IsMember({"refcocog", "vg"}));
  sub->add_option("--annotations", o->annotations,
                  "GT file (default <data-root>/RefCoco_Reg/mdetr_annotations/finetune_refcocog_val_captions.json "
                  "or <data-root>/visual_genome/test_caption.json)");
  sub->add_option("--data-root", o->data_root, "GLaMM's data folder")->capture_default_str();
  add_caption_task_options(sub, o->task,
                           "Predictions: a JSON list [{image_id, caption}] or GLaMM's results folder (every *.json "
                           "except merged.json)",
                           "glamm-results/regcap_<dataset>_<split>_<label>.json");
  sub->callback([o] { run_regcap(*o); });
}

GLAMM_REGISTER_COMMAND(70, add_regcap);

}  // namespace
}  // namespace glamm::cli
