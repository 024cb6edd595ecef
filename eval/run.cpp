// `glamm-eval run <task>`: `infer` followed by the task's evaluation on the files it wrote, through the very same
// subcommand code path (`glamm-eval gcg|regcap|refseg|imagecap ...` is parsed and run as if typed). Options not
// known to `run` are passed on to the evaluator (e.g. --bert, --meteor-resources, --json, --strict).
// When sharded (--shard or the launcher's environment), every shard infers its part and the one that completes
// the list evaluates; the others exit 0 after inference.
// The evaluator's argument list is checked BEFORE inference (parsed by the evaluator's own CLI, stopped before
// its action runs, plus the inputs the evaluator would refuse at once: gcg's --bert / --text-sim, METEOR's
// resources, existing --json folders), so an unknown or missing evaluator option costs no inference (exit 2).
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

/// The command line of `glamm-eval` whose parse stops after every option has been read and checked, before any
/// command's action runs (CLI11 calls pre_callback() of the top-level app first). Replacing the commands' callbacks
/// instead would free the option structs they own while the options still write into them.
class DryRunApp : public CLI::App {
 public:
  struct Done {};
  using CLI::App::App;
  void pre_callback() override { throw Done{}; }
};

/// Parse `args` (evaluator name first) with the registered commands of `eval_app`; with a DryRunApp nothing runs.
/// Throws InputError for a parse error (unknown option, bad value).
void parse_evaluator(std::vector<std::string> args, CLI::App& eval_app) {
  eval_app.require_subcommand(1);
  add_registered_commands(eval_app);
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last-first
  try {
    eval_app.parse(args);
  } catch (const CLI::ParseError& e) {
    throw InputError("", "run", std::string("evaluator options: ") + e.what());
  } catch (const DryRunApp::Done&) {
  }
}

/// The value of option `name` of the parsed evaluator `ev` ("" when absent or not given).
std::string given(CLI::App* ev, const std::string& name) {
  const CLI::Option* opt = ev->get_option_no_throw(name);
  return opt && opt->count() > 0 ? opt->as<std::string>() : std::string();
}

/// Check before inference what the evaluator would refuse at once (see the file comment). Throws InputError.
void check_evaluator(const RunOptions& o, const std::vector<std::string>& extra) {
  const runners::InferRequest& r = o.infer;
  std::vector<std::string> args = evaluator_args(o, runners::predictions_path(runners::parse_task(r.task), r.out));
  args.insert(args.end(), extra.begin(), extra.end());
  DryRunApp eval_app{"glamm-eval"};
  parse_evaluator(args, eval_app);
  CLI::App* ev = eval_app.get_subcommand(r.task);
  namespace fs = std::filesystem;
  std::error_code ec;
  if (r.task == "gcg") {
    const std::string bert = given(ev, "--bert"), sim = given(ev, "--text-sim");
    const char* env_bert = std::getenv("GLAMM_BERT");
    if (!bert.empty() && !sim.empty())
      throw InputError("", "--bert", "give either --bert DIR or --text-sim TABLE.tsv, not both (checked before inference)");
    if (bert.empty() && sim.empty() && !(env_bert && *env_bert))
      throw InputError("", "--bert",
                       "run gcg needs phrase similarities for mask recall: pass --bert DIR (bert-base-uncased; or set "
                       "GLAMM_BERT=DIR) or --text-sim TABLE.tsv (checked before inference)");
    if (!bert.empty() && !fs::is_directory(bert, ec)) throw InputError(bert, "--bert", "no such folder (checked before inference)");
    if (!sim.empty() && !fs::is_regular_file(sim, ec)) throw InputError(sim, "--text-sim", "no such file (checked before inference)");
    if (!sim.empty()) datasets::grandf::load_similarity_table(sim);  // empty, header-only, inf/nan rows: refused now
  }
  if (r.task != "refseg" && locate_meteor_resources(given(ev, "--meteor-resources")).empty())
    throw InputError(meteor_resources_missing_message() + " (checked before inference)");
  const std::string js = given(ev, "--json");
  if (!js.empty()) {
    const fs::path parent = fs::path(js).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec))
      throw InputError(js, "--json", "its folder does not exist (checked before inference)");
  }
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
    check_evaluator(ro, sub->remaining());  // bad evaluator options fail before any inference
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
    std::vector<std::string> args = evaluator_args(ro, s.predictions);
    for (const std::string& x : sub->remaining()) args.push_back(x);
    std::cerr << "evaluating:";
    for (const auto& x : args) std::cerr << " " << x;
    std::cerr << "\n";
    CLI::App eval_app{"glamm-eval"};
    parse_evaluator(args, eval_app);
  });
}

GLAMM_REGISTER_COMMAND(91, add_run);

}  // namespace
}  // namespace glamm::cli
