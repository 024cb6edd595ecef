// `glamm-eval imagecap`: zero-shot image captioning (paper Table 6) on Flickr30k (Karpathy split) and NoCaps
// (overall and per domain, as the NoCaps benchmark reports). COCOEvalCap metrics plus, unless --no-spice, the
// SPICE-style score (metrics/spice: SPICE 1.0's tuple scoring with the Link Grammar parser in place of CoreNLP; always
// labelled "SPICE-style (Link Grammar parser)", never plain SPICE). NoCaps test has no public captions: the
// submission file is written and scoring is refused (exit 3). Wires datasets/flickr30k, datasets/nocaps →
// caption::evaluate, spice::score_corpus → Result record through the task layer (eval/tasks/imagecap.h).
// Spec: dataset-formats.md §8.
#include <algorithm>
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
#include "eval/caption_task.h"
#include "eval/command.h"
#include "eval/tasks/imagecap.h"

namespace glamm::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ImagecapOptions {
  CaptionTaskOptions task;
  std::string dataset, annotations, split, submission;
  bool no_spice = false;
};

/// NoCaps test: write the EvalAI submission list made from the predictions, refuse to score (exit 3).
void write_nocaps_submission(const ImagecapOptions& o, const tasks::ImagecapInputs& in, const std::string& label) {
  print_warnings(in.warnings);
  json sub = json::array();
  for (const tasks::NocapsSubmissionEntry& e : tasks::nocaps_submission(in, coverage_of(o.task))) sub.push_back(e.to_json());
  const std::string out = o.submission.empty()
                              ? "glamm-results/imagecap_nocaps_test_submission_" + label_for_file_name(label) + ".json"
                              : o.submission;
  io::OutputGuard guard;
  guard.add_input(o.annotations, "--annotations");
  for (const auto& f : in.pred_files) guard.add_input(f, "--pred " + f);
  guard.check_output(out, "--submission");
  io::save_json(out, sub, 0);
  std::cout << fmt::format("nocaps test: {} predictions for {} images written to {} (submit to the EvalAI server); "
                           "test captions are not public, nothing is scored\n",
                           sub.size(), in.samples.size(), out);
  std::cout.flush();
  throw ExitRequest{kRefused};
}

void print_imagecap(const tasks::ImagecapReport& rep, bool only_present) {
  print_warnings(rep.warnings);
  std::cout << fmt::format("imagecap {} {}: {} images scored{}\n", rep.dataset, rep.split, rep.eval.per_image.size(),
                           only_present ? ", ONLY PRESENT predictions" : "");
  print_caption_metrics(rep.eval.metrics);
  if (rep.spice)
    print_spice_style(*rep.spice);
  else
    std::cout << spice::kMetricName << ": not computed (--no-spice)\n";
  for (const tasks::ImagecapDomain& d : rep.domains) {
    std::cout << fmt::format("[{}] {} images:", d.name, d.num_images);
    for (const auto& [n, v] : d.metrics) std::cout << fmt::format(" {} {:0.3f}", n, v);
    if (d.spice_style) std::cout << fmt::format(" SPICE-style {:0.3f}", *d.spice_style);
    std::cout << "\n";
  }
  print_strict_line(tasks::imagecap_quirks(), rep.options.strict);
  std::cout.flush();
}

void run_imagecap(const ImagecapOptions& o) {
  tasks::ImagecapOptions opt;
  opt.coverage = coverage_of(o.task);
  const std::string split = tasks::imagecap_split(o.dataset, o.split);
  const std::string label = o.task.common.label.empty() ? default_label_from_file(o.task.pred) : o.task.common.label;
  const std::string out = o.task.common.json_path.empty() ? "glamm-results/imagecap_" + o.dataset + "_" + split + "_" +
                                                                label_for_file_name(label) + ".json"
                                                          : o.task.common.json_path;
  check_record_writable(out, "--json");
  opt.spice = !o.no_spice;
  opt.strict = o.task.common.strict;
  opt.threads = resolve_threads(o.task.common);
  Progress progress(o.task.common.quiet);
  opt.progress = task_progress(progress);
  const tasks::ImagecapInputs inputs =
      tasks::load_imagecap_inputs({o.dataset, o.annotations, split, o.task.pred}, opt.progress);
  if (inputs.submission_only) write_nocaps_submission(o, inputs, label);
  std::vector<std::string> meteor_warnings;
  const MeteorSetup met = load_meteor(o.task.meteor_resources, o.task.meteor_paraphrase, progress, meteor_warnings);
  opt.meteor = caption_meteor(met, std::move(meteor_warnings));
  const tasks::ImagecapReport rep = tasks::evaluate_imagecap(inputs, opt);
  print_imagecap(rep, o.task.only_present);
  write_record(out, tasks::to_record(rep, label));
}

/// imagecap as a TaskCommand (the subcommand and `run` use the same object).
class ImagecapTaskCommand : public TaskCommand {
 public:
  void bind(CLI::App* sub) override;
  void preflight() const override {
    preflight_meteor_resources(o_.task.meteor_resources);
    check_record_folder_exists(o_.task.common.json_path, "--json");
  }
  void run() const override { run_imagecap(o_); }

 private:
  ImagecapOptions o_;
};

GLAMM_REGISTER_TASK_COMMAND("imagecap", ImagecapTaskCommand);

void add_imagecap(CLI::App& app) {
  auto cmd = std::make_shared<ImagecapTaskCommand>();
  CLI::App* sub = app.add_subcommand(
      "imagecap",
      "Zero-shot image captioning on Flickr30k (Karpathy split) and NoCaps (overall and per domain): CIDEr, METEOR, "
      "BLEU, ROUGE-L and the SPICE-style (Link Grammar parser) score (paper Table 6)");
  cmd->bind(sub);
  sub->callback([cmd] { cmd->run(); });
}

void ImagecapTaskCommand::bind(CLI::App* sub) {
  sub->add_option("--dataset", o_.dataset, "flickr30k or nocaps")
      ->required()
      ->check(CLI::IsMember({"flickr30k", "nocaps"}));
  sub->add_option("--annotations", o_.annotations,
                  "dataset_flickr30k.json (Karpathy) or nocaps_val_4500_captions.json / nocaps_test_image_info.json")
      ->required();
  sub->add_option("--split", o_.split, "Flickr30k: test (default), val, train; NoCaps: val (default) or test "
                                       "(writes the submission file, exit 3)");
  sub->add_flag("--no-spice", o_.no_spice,
                "Skip the SPICE-style (Link Grammar parser) score (it parses every caption: ~3-5 ms each)");
  sub->add_option("--submission", o_.submission, "NoCaps test: where to write the EvalAI submission list");
  add_caption_task_options(sub, o_.task,
                           "Predictions: JSON list [{image_id, caption}] (Flickr30k: the photo id from the file name, "
                           "an integer; NoCaps: images[].id), or a folder of such lists",
                           "glamm-results/imagecap_<dataset>_<split>_<label>.json", tasks::imagecap_quirks());
}

GLAMM_REGISTER_COMMAND(80, add_imagecap);

}  // namespace
}  // namespace glamm::cli
