#include "eval/tasks/captions.h"

#include "common/error.h"
#include "datasets/json_util.h"

namespace glamm::tasks {

using nlohmann::json;

const QuirkTable& captions_quirks() {
  static const QuirkTable table = caption_line_break_quirks("captions");
  return table;
}

CaptionsInputs load_captions_inputs(const CaptionsFiles& files, const TaskProgress& progress) {
  CaptionsInputs in;
  in.gt_file = files.gt;
  in.res_file = files.res;
  progress.begin("loading annotations into memory...");
  in.gt = datasets::load_coco_caption_gt(files.gt, in.warnings);
  in.results = datasets::load_coco_caption_results(files.res);
  for (std::string& w : datasets::take_duplicate_key_warnings()) in.warnings.push_back(std::move(w));
  progress.end();
  return in;
}

CaptionsReport evaluate_captions(const CaptionsInputs& inputs, const CaptionsOptions& options) {
  CaptionsReport rep;
  rep.options = options;
  rep.options.progress = {};
  rep.gt_file = inputs.gt_file;
  rep.res_file = inputs.res_file;
  rep.warnings = inputs.warnings;
  const caption::EvalCapInput input = datasets::pair_captions(inputs.gt, inputs.results, inputs.res_file);
  if (options.metrics.meteor)
    rep.warnings.insert(rep.warnings.end(), options.meteor.warnings.begin(), options.meteor.warnings.end());
  rep.eval = score_caption_set(input, options.metrics, options.strict, options.threads, options.meteor,
                               options.progress, rep.warnings);
  if (options.spice)
    rep.spice = score_spice_style(rep.eval, options.meteor.resources, options.threads, options.progress,
                                  "leave out --spice to skip it");
  rep.metrics = rep.eval.metrics;
  if (rep.spice) rep.metrics.emplace_back(spice::kMetricName, rep.spice->score.spice);
  rep.num_gt_images = inputs.gt.images.size();
  rep.num_gt_annotations = inputs.gt.num_annotations;
  rep.num_results = inputs.results.size();
  for (std::size_t i = 0; i < rep.eval.per_image.size(); ++i) {
    CaptionSample s;
    s.image_id = rep.eval.per_image[i].image_id;
    s.scores = CaptionSampleScores::from_eval(rep.eval.per_image[i], rep.eval.hyps_tokenized[i], options.metrics);
    if (rep.spice && i < rep.spice->score.per_image.size()) {
      s.spice_style = spice_style_of(*rep.spice, i);
      s.spice_style_subsets = spice_style_breakdown_of(*rep.spice, i);
    }
    rep.samples.push_back(std::move(s));
  }
  return rep;
}

namespace {

Signature captions_signature(const CaptionsReport& rep) {
  const CaptionsOptions& o = rep.options;
  Signature sig;
  sig.set("metric", "coco-caption");
  sig.set("reference", "pycocoevalcap-1.2(salaniz@ad63453)");
  sig.set("metrics", o.metrics.str());
  sig.set("tokenizer", std::string("ptb-corenlp-3.4.1+pycocoevalcap-filter:") + (o.strict ? "strict" : "reference"));
  if (o.metrics.meteor) {
    for (const auto& [k, v] : o.meteor.signature.fields) sig.set(k, v);
  } else if (rep.spice) {
    sig.set("meteor_resources", o.meteor.source);  // SPICE-style's synonyms
    sig.set("meteor_resources_sha256", o.meteor.resources->checksum);
  }
  if (rep.spice) sign_spice_style(sig, *rep.spice);
  sig.set("strict", captions_quirks().signature_value(o.strict));
  sig.set("version", tool_version());
  return sig;
}

json captions_details(const CaptionsReport& rep) {
  const caption::EvalCapResult& ev = rep.eval;
  json d = json::object();
  d["num_images"] = ev.per_image.size();
  d["num_gt_images"] = rep.num_gt_images;
  d["num_gt_annotations"] = rep.num_gt_annotations;
  d["num_results"] = rep.num_results;
  d["gt_captions_with_line_breaks"] = ev.gt_captions_with_line_breaks;
  d["result_captions_with_line_breaks"] = ev.result_captions_with_line_breaks;
  if (rep.options.metrics.bleu) d["bleu_info"] = bleu_info_json(ev);
  if (rep.spice) d["spice_style"] = spice_style_details(*rep.spice);
  d["per_sample_fields"] = CaptionSample::field_notes();
  return d;
}

}  // namespace

Result to_record(const CaptionsReport& report, const std::string& label) {
  Result r;
  r.task = "captions";
  r.dataset = "coco_captions";
  r.label = label;
  r.metrics = report.metrics;
  r.signature = captions_signature(report);
  r.add_input("gt", report.gt_file);
  r.add_input("res", report.res_file);
  r.warnings = report.warnings;
  r.details = captions_details(report);
  for (const CaptionSample& s : report.samples) r.per_sample.push_back(s.to_json());
  return r;
}

}  // namespace glamm::tasks
