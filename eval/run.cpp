// `glamm-eval run <task>`: `infer` followed by the task's evaluation on the files it wrote, through the task command
// object the subcommand uses (eval/command.h TaskCommand: the same flags, checks and task function). Options not
// known to `run` are passed on to the evaluator (e.g. --bert, --meteor-resources, --json, --strict).
// When sharded (--shard or the launcher's environment), every shard infers its part and the one that completes
// the list evaluates; the others exit 0 after inference.
// The evaluator's options are parsed and checked BEFORE inference (TaskCommand::preflight: gcg's --bert /
// --text-sim, METEOR's resources, existing --json folders), so an unknown or missing evaluator option costs no
// inference (exit 2).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "datasets/grandf.h"
#include "eval/command.h"
#include "eval/meteor_setup.h"
#include "runners/infer_driver.h"
#include "runners/runner.h"

namespace glamm::cli {

void bind_infer_options(CLI::App* sub, runners::InferRequest& r);
runners::RunSummary run_infer_command(const runners::InferRequest& r);

namespace {

struct RunOptions {
  runners::InferRequest infer;
  std::string gt_dir = "./data/GranDf/annotations/val_test";
  std::string gcg_split = "val";
};

/// The evaluator's argument list for the prediction file / folder `pred` (what infer writes), without the
/// pass-through options.
std::vector<std::string> evaluator_args(const RunOptions& o, const std::filesystem::path& pred_path) {
  const runners::InferRequest& r = o.infer;
  const std::string pred = pred_path.string();
  std::vector<std::string> a{r.task};
  if (r.task == "gcg") {
    a.insert(a.end(), {"--split", o.gcg_split, "--gt-dir", o.gt_dir, "--pred", pred});
  } else if (r.task == "regcap") {
    a.insert(a.end(), {"--dataset", r.dataset, "--data-root", r.data_root.string(), "--pred", pred});
    if (!r.annotations.empty()) a.insert(a.end(), {"--annotations", r.annotations.string()});
  } else if (r.task == "refseg") {
    a.insert(a.end(), {"--dataset", r.dataset, "--split", r.split.empty() ? "val" : r.split, "--data-root",
                       r.data_root.string(), "--pred", pred});
    if (!r.split_by.empty()) a.insert(a.end(), {"--split-by", r.split_by});
    if (!r.refer_dir.empty()) a.insert(a.end(), {"--refer-dir", r.refer_dir.string()});
  } else {
    if (r.dataset != "flickr30k" && r.dataset != "nocaps")
      throw InputError("", "--dataset", "run imagecap evaluates flickr30k or nocaps (an image folder has no references; "
                                        "use infer)");
    a.insert(a.end(), {"--dataset", r.dataset, "--annotations", r.annotations.string(), "--pred", pred});
    if (!r.split.empty()) a.insert(a.end(), {"--split", r.split});
  }
  return a;
}

/// The evaluator of task args[0] with its flags parsed from the rest of `args` by the evaluator's own binding
/// (eval/command.h TaskCommand); nothing runs yet. Throws InputError for an unknown option or a bad value.
std::unique_ptr<TaskCommand> parse_evaluator(const std::vector<std::string>& args) {
  std::unique_ptr<TaskCommand> cmd = make_task_command(args.front());
  if (!cmd) throw InputError("", "--task", "no evaluator for task '" + args.front() + "'");
  CLI::App app{"glamm-eval " + args.front()};
  cmd->bind(&app);
  std::vector<std::string> rest(args.rbegin(), args.rend() - 1);  // CLI11 takes the arguments last-first
  try {
    app.parse(rest);
  } catch (const CLI::ParseError& e) {
    throw InputError("", "run", std::string("evaluator options: ") + e.what());
  }
  return cmd;
}

/// The evaluator's full argument list for the predictions at `pred` plus the pass-through options `extra`.
std::vector<std::string> with_extras(std::vector<std::string> args, const std::vector<std::string>& extra) {
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void add_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand(
      "run",
      "infer + evaluate in one go: run GLaMM on a task's evaluation images, then score the predictions with the "
      "task's evaluator (unknown options go to the evaluator, e.g. --bert DIR --meteor-resources DIR --json FILE; they "
      "are checked before inference starts)");
  bind_infer_options(sub, o->infer);
  sub->add_option("--gt-dir", o->gt_dir, "gcg: folder with {split}_gcg_coco_{caption,mask}_gt.json; the images "
                                         "inferred are the split's GT images")
      ->capture_default_str();
  sub->add_option("--gcg-split", o->gcg_split, "gcg: val or test")->check(CLI::IsMember({"val", "test"}))
      ->capture_default_str();
  sub->allow_extras();
  sub->callback([o, sub] {
    RunOptions ro = *o;
    if (ro.infer.task == "gcg" && ro.infer.annotations.empty())
      ro.infer.annotations = (std::filesystem::path(ro.gt_dir) / (ro.gcg_split + "_gcg_coco_caption_gt.json"));
    {  // bad evaluator options, and what the evaluator would refuse at once, fail before any inference
      const runners::InferRequest& r = ro.infer;
      const auto pred = runners::predictions_path(runners::parse_task(r.task), r.out);
      parse_evaluator(with_extras(evaluator_args(ro, pred), sub->remaining()))->preflight();
    }
    const runners::RunSummary s = run_infer_command(ro.infer);
    if (!s.failures.empty()) {
      std::cerr << "error: " << s.failures.size() << " item(s) failed; not evaluating (rerun to retry them)\n";
      throw ExitRequest{kBadInput};
    }
    if (!s.complete) {
      std::cout << "evaluation skipped: " << s.missing << " item(s) of the list belong to other shards that have not "
                << "finished; the shard that completes the list evaluates\n";
      return;
    }
    const std::vector<std::string> args = with_extras(evaluator_args(ro, s.predictions), sub->remaining());
    std::cerr << "evaluating:";
    for (const auto& x : args) std::cerr << " " << x;
    std::cerr << "\n";
    parse_evaluator(args)->run();  // the task command's own code path (eval/tasks via eval/<task>.cpp)
  });
}

GLAMM_REGISTER_COMMAND(91, add_run);

}  // namespace
}  // namespace glamm::cli
