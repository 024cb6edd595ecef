// Command-line side of the caption-scoring commands (regcap, imagecap, captions): their shared flags, the METEOR
// scorer handed to the task layer (eval/tasks/caption_tasks.h), progress on stderr and the printed metric lines.
#pragma once

#include <string>
#include <vector>

#include "datasets/regcap.h"
#include "eval/command.h"
#include "eval/meteor_setup.h"
#include "eval/progress.h"
#include "eval/run_support.h"
#include "eval/tasks/caption_tasks.h"
#include "metrics/caption/coco_eval_cap.h"

namespace glamm::cli {

/// Options every caption task shares.
struct CaptionTaskOptions {
  CommonOptions common;
  std::string pred;
  bool allow_missing = false, only_present = false;
  std::string meteor_resources, meteor_paraphrase;
};

/// Bind --pred, --allow-missing, --only-present, --meteor-resources, --meteor-paraphrase and the common options
/// (--strict help from `quirks`). `default_record`: where the command writes its record without --json.
void add_caption_task_options(CLI::App* sub, CaptionTaskOptions& o, const std::string& pred_help,
                              const std::string& default_record, const tasks::QuirkTable& quirks);

/// The coverage mode of the options (throws InputError when both --allow-missing and --only-present are given).
datasets::Coverage coverage_of(const CaptionTaskOptions& o);

/// Print "Bleu_1: 0.634" ... lines (pycocoevalcap's %0.3f).
void print_caption_metrics(const std::vector<std::pair<std::string, double>>& metrics);

/// Print "SPICE-style (Link Grammar parser): 0.414" (%0.3f), the subset line and the parse counts.
void print_spice_style(const tasks::SpiceStyleRun& run);


}  // namespace glamm::cli
