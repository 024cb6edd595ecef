// `glamm-eval captions`: pycocoevalcap's COCOEvalCap on a COCO captions GT file and a results list, printing the
// BLEU dict and the metric lines as the reference does; with --spice also the SPICE-style (Link Grammar parser)
// score (metrics/spice, never labelled plain SPICE). Wires datasets/coco_captions → metrics/caption/coco_eval_cap
// (and spice::score_corpus) → Result record; no metric math here.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/output_guard.h"
#include "common/result.h"
#include "datasets/coco_captions.h"
#include "datasets/json_util.h"
#include "eval/caption_task.h"
#include "eval/command.h"
#include "eval/meteor_setup.h"
#include "eval/progress.h"
#include "metrics/caption/coco_eval_cap.h"
#include "metrics/meteor/meteor.h"

namespace glamm::cli {
namespace {

namespace fs = std::filesystem;

struct CaptionsOptions {
  CommonOptions common;
  std::string gt, res;
  std::string metrics = "bleu,meteor,rouge,cider";
  std::string meteor_resources, meteor_paraphrase;
  bool spice = false;
};

constexpr const char* kStrictHelp =
    "Treat line-break characters inside a caption (\\r, U+000B, U+000C, U+2028, U+2029) as spaces. pycocoevalcap "
    "lets each of them start a new tokenizer output line, which shifts every later caption onto the wrong image "
    "(docs/quirks.md); a warning is printed either way when such characters occur";

/// Python repr() of a float (shortest round trip, always with a '.' or exponent), locale-independent.
std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string py_int_list(const std::array<std::int64_t, caption::kMaxNgram>& a) {
  return fmt::format("[{}]", fmt::join(a, ", "));
}

nlohmann::json image_id_json(const caption::ImageId& id) {
  return id.is_string ? nlohmann::json(id.text) : nlohmann::json(id.number);
}

nlohmann::json bleu_counts_json(const caption::BleuCounts& c) {
  return {{"testlen", c.testlen}, {"reflen", c.reflen}, {"guess", c.guess}, {"correct", c.correct}};
}

void run_captions(const CaptionsOptions& o) {
  if (o.gt.empty() || o.res.empty()) throw InputError("", "", "captions needs --gt and --res");
  {
    io::OutputGuard guard;
    guard.add_input(o.gt, "--gt");
    guard.add_input(o.res, "--res");
    guard.check_output(o.common.json_path, "--json");
  }
  const caption::MetricSet metrics = caption::MetricSet::parse(o.metrics);
  const int threads = resolve_threads(o.common);
  Progress progress(o.common.quiet);
  std::vector<std::string> warnings;

  // METEOR resources: located first (a missing folder fails before any long work), then loaded on a second thread
  // while the caption files are parsed.
  // SPICE-style needs only METEOR's synonym files (no paraphrase table) when METEOR itself is not run.
  std::optional<MeteorLoader> meteor_loading;
  if (metrics.meteor)
    meteor_loading.emplace(o.meteor_resources, o.meteor_paraphrase, progress);
  else if (o.spice)
    meteor_loading.emplace(o.meteor_resources, "-", progress);

  progress.start("loading annotations into memory...");
  datasets::CocoCaptionGt gt = datasets::load_coco_caption_gt(o.gt, warnings);
  const std::vector<datasets::CocoCaptionResult> results = datasets::load_coco_caption_results(o.res);
  for (std::string& w : datasets::take_duplicate_key_warnings()) warnings.push_back(std::move(w));
  caption::EvalCapInput input = datasets::pair_captions(gt, results, o.res);
  progress.done();

  MeteorSetup met;
  if (meteor_loading) {
    std::vector<std::string> meteor_warnings;
    met = meteor_loading->finish(meteor_warnings);
    if (metrics.meteor)
      warnings.insert(warnings.end(), meteor_warnings.begin(), meteor_warnings.end());
  }

  caption::EvalCapOptions opt;
  opt.metrics = metrics;
  opt.line_breaks = o.common.strict ? ptb::LineBreakMode::kStrict : ptb::LineBreakMode::kReference;
  opt.meteor = met.scorer.get();
  opt.threads = threads;
  opt.progress = [&progress](const std::string& m) { progress.note(m); };
  caption::EvalCapResult ev = caption::evaluate(input, opt);
  warnings.insert(warnings.end(), ev.warnings.begin(), ev.warnings.end());
  std::optional<SpiceStyleRun> sp;
  if (o.spice) sp = score_spice_style(ev, met, threads, progress, "leave out --spice to skip it");

  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  if (metrics.bleu) {
    const auto& t = ev.bleu_total;
    std::cout << fmt::format("{{'testlen': {}, 'reflen': {}, 'guess': {}, 'correct': {}}}\n", t.testlen, t.reflen,
                             py_int_list(t.guess), py_int_list(t.correct));
    std::cout << "ratio: " << py_float(ev.bleu_ratio) << "\n";
  }
  for (const auto& [name, value] : ev.metrics) std::cout << fmt::format("{}: {:0.3f}\n", name, value);
  if (sp) print_spice_style(*sp);
  std::cout.flush();

  if (o.common.json_path.empty()) return;
  Result r;
  r.task = "captions";
  r.dataset = "coco_captions";
  r.label = o.common.label;
  r.metrics = ev.metrics;
  if (sp) r.metrics.emplace_back(spice::kMetricName, sp->score.spice);
  r.signature.set("metric", "coco-caption");
  r.signature.set("reference", "pycocoevalcap-1.2(salaniz@ad63453)");
  r.signature.set("metrics", metrics.str());
  r.signature.set("tokenizer", std::string("ptb-corenlp-3.4.1+pycocoevalcap-filter:") +
                                   (o.common.strict ? "strict" : "reference"));
  if (metrics.meteor) {
    sign_meteor(r.signature, met);
  } else if (sp) {
    r.signature.set("meteor_resources", met.source);  // SPICE-style's synonyms
    r.signature.set("meteor_resources_sha256", met.resources->checksum);
  }
  if (sp) sign_spice_style(r.signature, *sp);
  r.signature.set("strict", o.common.strict ? "on(line_breaks_as_spaces)" : "off");
  r.signature.set("version", tool_version());
  r.add_input("gt", o.gt);
  r.add_input("res", o.res);
  r.warnings = warnings;

  r.details["num_images"] = ev.per_image.size();
  r.details["num_gt_images"] = gt.images.size();
  r.details["num_gt_annotations"] = gt.num_annotations;
  r.details["num_results"] = results.size();
  r.details["gt_captions_with_line_breaks"] = ev.gt_captions_with_line_breaks;
  r.details["result_captions_with_line_breaks"] = ev.result_captions_with_line_breaks;
  if (metrics.bleu) {
    nlohmann::json bi = bleu_counts_json(ev.bleu_total);
    bi["ratio"] = ev.bleu_ratio;
    r.details["bleu_info"] = bi;
  }
  if (sp) r.details["spice_style"] = spice_style_details(*sp);
  r.details["per_sample_fields"] = {
      {"bleu_counts", "BLEU sufficient statistics of the image: corpus BLEU = formula on their element-wise sum"},
      {"meteor_stats", "METEOR's 23 sufficient statistics (best reference): corpus METEOR = computeMetrics of the "
                       "sum (addStats)"},
      {"caption_tokenized", "the result caption after PTB tokenization and the punctuation filter"}};

  nlohmann::json per = nlohmann::json::array();
  for (std::size_t i = 0; i < ev.per_image.size(); ++i) {
    const caption::ImageEval& im = ev.per_image[i];
    nlohmann::json s;
    s["image_id"] = image_id_json(im.image_id);
    if (metrics.bleu)
      for (int k = 0; k < caption::kMaxNgram; ++k) s["Bleu_" + std::to_string(k + 1)] = im.bleu[k];
    if (metrics.meteor) s["METEOR"] = im.meteor;
    if (metrics.rouge) s["ROUGE_L"] = im.rouge_l;
    if (metrics.cider) s["CIDEr"] = im.cider;
    if (metrics.bleu) s["bleu_counts"] = bleu_counts_json(im.bleu_counts);
    if (metrics.meteor) s["meteor_stats"] = im.meteor_stats.v;
    s["caption_tokenized"] = ev.hyps_tokenized[i];
    per.push_back(std::move(s));
  }
  if (sp) add_spice_style_per_sample(per, *sp);
  r.per_sample = std::move(per);
  write_record(o.common.json_path, r);
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
  add_common_options(sub, opts->common, kStrictHelp);
  sub->callback([opts] { run_captions(*opts); });
}

GLAMM_REGISTER_COMMAND(20, add_captions);

}  // namespace
}  // namespace glamm::cli
