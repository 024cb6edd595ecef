// `glamm-eval gcg` as functions, so that another command (`run`) can bind the same flags and run the evaluation
// without re-parsing a command line: bind_gcg_options() adds the options to a CLI11 app, run_gcg_command() does
// what the subcommand does after parsing (loaders, eval/tasks/gcg.h, printing, the record).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "eval/command.h"
#include "eval/tasks/gcg.h"

namespace glamm::cli {

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

/// Add gcg's options (--split, --gt-dir, --pred, --sample, --text-sim, --bert, --allow-missing, --meteor-*, and the
/// common ones) to `sub`, writing into `c` (which must outlive the parse).
void bind_gcg_options(CLI::App* sub, GcgCommand& c);

/// Run the evaluation `c` describes: checks inputs and outputs first (InputError, exit 2), prints the scores on
/// stdout (warnings and progress on stderr) and writes the record (--json, else
/// glamm-results/gcg_grandf_<split>_<label>.json).
void run_gcg_command(const GcgCommand& c);

}  // namespace glamm::cli
