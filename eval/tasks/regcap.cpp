#include "eval/tasks/regcap.h"

#include "datasets/json_util.h"

#include "common/error.h"

namespace glamm::tasks {

using nlohmann::json;

const QuirkTable& regcap_quirks() {
  static const QuirkTable table = caption_line_break_quirks("regcap");
  return table;
}

RegcapInputs load_regcap_inputs(const RegcapFiles& files, const TaskProgress& progress) {
  RegcapInputs in;
  in.dataset = files.dataset;
  in.annotations = files.annotations;
  in.pred = files.pred;
  progress.begin("loading " + files.annotations + "...");
  in.gt = datasets::load_region_caption_gt(files.annotations, in.warnings);
  in.predictions = datasets::load_caption_predictions(files.pred, in.pred_files);
  for (std::string& w : datasets::take_duplicate_key_warnings()) in.warnings.push_back(std::move(w));
  progress.end();
  return in;
}

RegcapReport evaluate_regcap(const RegcapInputs& inputs, const RegcapOptions& options) {
  RegcapReport rep;
  rep.dataset = inputs.dataset;
  rep.split = inputs.dataset == "vg" ? "test" : "val";
  rep.annotations = inputs.annotations;
  rep.pred_files = inputs.pred_files;
  rep.coverage = options.coverage;
  rep.strict = options.strict;
  rep.meteor_signature = options.meteor.signature;
  rep.warnings = options.meteor.warnings;  // the resources are loaded first
  rep.warnings.insert(rep.warnings.end(), inputs.warnings.begin(), inputs.warnings.end());
  const datasets::Pairing pairing =
      datasets::pair_predictions(inputs.gt.samples, inputs.predictions, {}, options.coverage, inputs.pred);
  rep.eval = score_caption_set(pairing.input, caption::MetricSet{}, options.strict, options.threads, options.meteor,
                               options.progress, rep.warnings);
  for (std::string& w : coverage_warnings(pairing, options.coverage)) rep.warnings.push_back(std::move(w));
  const datasets::RegionCapGt& gt = inputs.gt;
  rep.num_image_entries = gt.samples.size();
  rep.num_photos = gt.photos;
  rep.num_annotations = gt.num_annotations;
  rep.num_predictions = inputs.predictions.size();
  rep.images_without_annotations = gt.images_without_annotations;
  rep.images_without_paired_box = gt.images_without_paired_box;
  rep.images_with_many_regions = gt.images_with_many_regions;
  rep.regions_layout = gt.regions_layout();
  rep.file_layout = gt.layout;
  rep.num_missing = pairing.missing.size();
  rep.num_outside = pairing.outside.size();
  rep.samples = paired_caption_samples(rep.eval, pairing);
  return rep;
}

namespace {

json regcap_details(const RegcapReport& rep) {
  json d = json::object();
  d["num_missing"] = rep.num_missing;
  d["num_predictions_outside_split"] = rep.num_outside;
  d["num_samples"] = rep.eval.per_image.size();
  d["num_image_entries"] = rep.num_image_entries;
  d["num_photos"] = rep.num_photos;
  d["num_annotations"] = rep.num_annotations;
  d["regions_layout"] = rep.regions_layout;
  d["file_layout"] = rep.file_layout;
  d["images_without_annotations"] = rep.images_without_annotations;
  d["images_without_paired_box"] = rep.images_without_paired_box;
  d["images_with_many_regions"] = rep.images_with_many_regions;
  d["num_predictions"] = rep.num_predictions;
  d["bleu_info"] = bleu_info_json(rep.eval);
  return d;
}

}  // namespace

Result to_record(const RegcapReport& report, const std::string& label) {
  Result r;
  r.task = "regcap";
  r.dataset = report.dataset;
  r.split = report.split;
  r.label = label;
  r.metrics = report.eval.metrics;
  r.signature.set("metric", "glamm-regcap");
  r.signature.set("dataset", report.dataset);
  r.signature.set("keying", "image_id=images[].id=anns[image_id].id; refs=imgToAnns[image_id]");
  CaptionMeteor met;
  met.signature = report.meteor_signature;
  sign_caption_pipeline(r.signature, report.strict, report.coverage, met, regcap_quirks());
  r.add_input("annotations", report.annotations);
  add_prediction_inputs(r, report.pred_files);
  r.details = regcap_details(report);
  r.warnings = report.warnings;
  for (const CaptionSample& s : report.samples) r.per_sample.push_back(s.to_json());
  return r;
}

}  // namespace glamm::tasks
