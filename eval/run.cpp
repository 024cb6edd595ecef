// `glamm-eval run <task>`: `infer` followed by the task's evaluation on the files it wrote, through the very same
// subcommand code path (`glamm-eval gcg|regcap|refseg|imagecap ...` is parsed and run as if typed). Options not
// known to `run` are passed on to the evaluator (e.g. --bert, --meteor-resources, --json, --strict).
// When sharded (--shard or the launcher's environment), every shard infers its part and the one that completes
// the list evaluates; the others exit 0 after inference.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "eval/command.h"
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

/// The evaluator's argument list for the files `s` points at.
std::vector<std::string> evaluator_args(const RunOptions& o, const runners::RunSummary& s) {
  const runners::InferRequest& r = o.infer;
  std::vector<std::string> a{r.task};
  if (r.task == "gcg") {
    a.insert(a.end(), {"--split", o.gcg_split, "--gt-dir", o.gt_dir, "--pred", s.predictions.string()});
  } else if (r.task == "regcap") {
    a.insert(a.end(), {"--dataset", r.dataset, "--data-root", r.data_root.string(), "--pred", s.predictions.string()});
    if (!r.annotations.empty()) a.insert(a.end(), {"--annotations", r.annotations.string()});
  } else if (r.task == "refseg") {
    a.insert(a.end(), {"--dataset", r.dataset, "--split", r.split.empty() ? "val" : r.split, "--data-root",
                       r.data_root.string(), "--pred", s.predictions.string()});
    if (!r.split_by.empty()) a.insert(a.end(), {"--split-by", r.split_by});
    if (!r.refer_dir.empty()) a.insert(a.end(), {"--refer-dir", r.refer_dir.string()});
  } else {
    if (r.dataset != "flickr30k" && r.dataset != "nocaps")
      throw InputError("", "--dataset", "run imagecap evaluates flickr30k or nocaps (an image folder has no references; "
                                        "use infer)");
    a.insert(a.end(), {"--dataset", r.dataset, "--annotations", r.annotations.string(), "--pred", s.predictions.string()});
    if (!r.split.empty()) a.insert(a.end(), {"--split", r.split});
  }
  return a;
}

void add_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand(
      "run",
      "infer + evaluate in one go: run GLaMM on a task's evaluation images, then score the predictions with the "
      "task's evaluator (unknown options go to the evaluator, e.g. --bert DIR --meteor-resources DIR --json FILE)");
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
    std::vector<std::string> args = evaluator_args(ro, s);
    for (const std::string& x : sub->remaining()) args.push_back(x);
    std::cerr << "evaluating:";
    for (const auto& x : args) std::cerr << " " << x;
    std::cerr << "\n";
    CLI::App eval_app{"glamm-eval"};
    eval_app.require_subcommand(1);
    add_registered_commands(eval_app);
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last-first
    try {
      eval_app.parse(args);
    } catch (const CLI::ParseError& e) {
      throw InputError("", "run", std::string("evaluator options: ") + e.what());
    }
  });
}

GLAMM_REGISTER_COMMAND(91, add_run);

}  // namespace
}  // namespace glamm::cli
