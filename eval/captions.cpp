// `glamm-eval captions`: pycocoevalcap's COCOEvalCap on a COCO captions GT file and a results list, printing the
// BLEU dict and the metric lines as the reference does; with --spice also the SPICE-style (Link Grammar parser)
// score (metrics/spice, never labelled plain SPICE). Wires datasets/coco_captions → metrics/caption/coco_eval_cap
// (and spice::score_corpus) → Result record through the task layer (eval/tasks/captions.h); no metric math here.
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
#include "eval/meteor_setup.h"
#include "eval/progress.h"
#include "eval/tasks/captions.h"
#include "metrics/caption/coco_eval_cap.h"

namespace glamm::cli {
namespace {

struct CaptionsOptions {
  CommonOptions common;
  std::string gt, res;
  std::string metrics = "bleu,meteor,rouge,cider";
  std::string meteor_resources, meteor_paraphrase;
  bool spice = false;
};

/// Python repr() of a float (shortest round trip, always with a '.' or exponent), locale-independent.
std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string py_int_list(const std::array<std::int64_t, caption::kMaxNgram>& a) {
  return fmt::format("[{}]", fmt::join(a, ", "));
}

/// The reference's output: the BLEU dict and ratio, the metric lines, then SPICE-style and the strict line.
void print_captions(const tasks::CaptionsReport& rep) {
  print_warnings(rep.warnings);
  if (rep.options.metrics.bleu) {
    const auto& t = rep.eval.bleu_total;
    std::cout << fmt::format("{{'testlen': {}, 'reflen': {}, 'guess': {}, 'correct': {}}}\n", t.testlen, t.reflen,
                             py_int_list(t.guess), py_int_list(t.correct));
    std::cout << "ratio: " << py_float(rep.eval.bleu_ratio) << "\n";
  }
  print_caption_metrics(rep.eval.metrics);
  if (rep.spice) print_spice_style(*rep.spice);
  print_strict_line(tasks::captions_quirks(), rep.options.strict);
  std::cout.flush();
}

void run_captions(const CaptionsOptions& o) {
  if (o.gt.empty() || o.res.empty()) throw InputError("", "", "captions needs --gt and --res");
  {
    io::OutputGuard guard;
    guard.add_input(o.gt, "--gt");
    guard.add_input(o.res, "--res");
    guard.check_output(o.common.json_path, "--json");
  }
  if (!o.common.json_path.empty()) io::prefetch_sha256(o.gt), io::prefetch_sha256(o.res);  // for the record
  tasks::CaptionsOptions opt;
  opt.metrics = caption::MetricSet::parse(o.metrics);
  opt.spice = o.spice;
  opt.strict = o.common.strict;
  opt.threads = resolve_threads(o.common);
  Progress progress(o.common.quiet);
  opt.progress = task_progress(progress);

  // METEOR resources: located first (a missing folder fails before any long work), then loaded on a second thread
  // while the caption files are parsed. SPICE-style needs only METEOR's synonym files (no paraphrase table) when
  // METEOR itself is not run.
  std::optional<MeteorLoader> meteor_loading;
  if (opt.metrics.meteor)
    meteor_loading.emplace(o.meteor_resources, o.meteor_paraphrase, progress);
  else if (o.spice)
    meteor_loading.emplace(o.meteor_resources, "-", progress);
  const tasks::CaptionsInputs inputs = tasks::load_captions_inputs({o.gt, o.res}, opt.progress);
  MeteorSetup met;
  if (meteor_loading) {
    std::vector<std::string> meteor_warnings;
    met = meteor_loading->finish(meteor_warnings);
    opt.meteor = caption_meteor(met, std::move(meteor_warnings));
  }
  const tasks::CaptionsReport rep = tasks::evaluate_captions(inputs, opt);
  print_captions(rep);
  if (!o.common.json_path.empty()) write_record(o.common.json_path, tasks::to_record(rep, o.common.label));
}

void add_captions(CLI::App& app) {
  auto opts = std::make_shared<CaptionsOptions>();
  CLI::App* sub = app.add_subcommand(
      "captions",
      "COCO caption metrics as pycocoevalcap's COCOEvalCap computes them (PTB tokenizer, BLEU-1..4, METEOR 1.5, "
      "ROUGE-L, CIDEr-D) on a COCO captions GT file and a results list; prints Bleu_1: 0.634 ... like the reference.");
  sub->add_option("--gt", opts->gt, "COCO captions JSON (images[] with id, annotations[] with image_id and caption)")
      ->required();
  sub->add_option("--res", opts->res, "Results JSON list [{\"image_id\": ..., \"caption\": \"...\"}], one per image")
      ->required();
  sub->add_option("--metrics", opts->metrics, "Comma-separated subset of bleu,meteor,rouge,cider")
      ->capture_default_str();
  sub->add_option("--meteor-resources", opts->meteor_resources,
                  "METEOR resources: a folder with english.synsets, english.exceptions, english.words, "
                  "english.prefixes [, paraphrase-en.gz], or pycocoevalcap's meteor-1.5.jar (default: env "
                  "GLAMM_METEOR_RESOURCES, an installed pycocoevalcap, the copy built with glamm-eval in "
                  "share/glamm-eval/meteor)");
  sub->add_option("--meteor-paraphrase", opts->meteor_paraphrase,
                  "METEOR paraphrase table (paraphrase-en.gz); '-' or 'off' turns the paraphrase module off (default: "
                  "env GLAMM_METEOR_PARAPHRASE, next to the resources, an installed pycocoevalcap; "
                  "docs/meteor-resources.md)");
  sub->add_flag("--spice", opts->spice,
                "Also compute the SPICE-style (Link Grammar parser) score: SPICE 1.0's tuple scoring with the Link "
                "Grammar parser in place of CoreNLP (not the Java SPICE; ~3-5 ms per distinct caption). Needs "
                "METEOR's english.synsets (located as for METEOR)");
  add_common_options(sub, opts->common, tasks::captions_quirks().help_text());
  sub->callback([opts] { run_captions(*opts); });
}

GLAMM_REGISTER_COMMAND(20, add_captions);

}  // namespace
}  // namespace glamm::cli
