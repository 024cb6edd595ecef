#include "eval/tasks/imagecap.h"

#include "datasets/json_util.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "datasets/flickr30k.h"
#include "datasets/nocaps.h"

namespace glamm::tasks {

using nlohmann::json;

const QuirkTable& imagecap_quirks() {
  static const QuirkTable table = caption_line_break_quirks("imagecap");
  return table;
}

std::string imagecap_split(const std::string& dataset, const std::string& split) {
  if (!split.empty()) return split;
  return dataset == "flickr30k" ? "test" : "val";
}

namespace {

void load_annotations(ImagecapInputs& in) {
  if (in.dataset == "flickr30k") {
    datasets::flickr30k::Split f = datasets::flickr30k::load(in.annotations, in.split);
    in.samples = std::move(f.samples);
    in.other_ids = std::move(f.other_ids);
    in.images_per_split = f.images_per_split;
    in.num_sentences = f.sentences;
    in.images_not_five_sentences = f.images_not_five_sentences;
    if (in.split == "restval")
      in.warnings.push_back("'restval' is Karpathy's extra training data, not an evaluation split");
    return;
  }
  datasets::nocaps::Data d = datasets::nocaps::load(in.annotations);
  in.samples = std::move(d.samples);
  in.images_per_domain = d.images_per_domain;
  if (!d.has_annotations || in.split == "test") {
    in.submission_only = true;
    if (d.has_annotations) in.warnings.push_back("--split test with a file that has captions: writing the submission anyway");
    return;
  }
  if (in.split != "val") throw InputError("", "--split", "NoCaps splits are val and test");
}

}  // namespace

ImagecapInputs load_imagecap_inputs(const ImagecapFiles& files, const TaskProgress& progress) {
  ImagecapInputs in;
  in.dataset = files.dataset;
  in.split = imagecap_split(files.dataset, files.split);
  in.annotations = files.annotations;
  in.pred = files.pred;
  progress.begin("loading " + files.annotations + "...");
  load_annotations(in);
  in.predictions = datasets::load_caption_predictions(files.pred, in.pred_files);
  for (std::string& w : datasets::take_duplicate_key_warnings()) in.warnings.push_back(std::move(w));
  progress.end();
  return in;
}

std::vector<NocapsSubmissionEntry> nocaps_submission(const ImagecapInputs& inputs, datasets::Coverage coverage) {
  std::vector<datasets::CaptionSample> samples = inputs.samples;
  for (auto& s : samples) s.references = {"(test)"};  // placeholders: test captions are not public
  const datasets::Pairing p = datasets::pair_predictions(samples, inputs.predictions, {}, coverage, inputs.pred);
  std::vector<NocapsSubmissionEntry> out;
  for (std::size_t i = 0; i < p.input.image_ids.size(); ++i)
    if (p.predicted[i]) out.push_back({p.input.image_ids[i], p.input.hyps[i]});
  return out;
}

namespace {

/// NoCaps: each domain evaluated on its own, in name order.
std::vector<ImagecapDomain> score_domains(const ImagecapInputs& in, const datasets::Pairing& pairing,
                                          const ImagecapOptions& o, const std::optional<SpiceStyleRun>& sp) {
  std::vector<std::string> names;
  for (std::size_t k : pairing.sample_index)
    if (std::find(names.begin(), names.end(), in.samples[k].domain) == names.end())
      names.push_back(in.samples[k].domain);
  std::sort(names.begin(), names.end());
  std::vector<ImagecapDomain> out;
  for (const std::string& dom : names) {
    caption::EvalCapInput sub;
    std::vector<std::size_t> in_domain;
    for (std::size_t i = 0; i < pairing.sample_index.size(); ++i) {
      if (in.samples[pairing.sample_index[i]].domain != dom) continue;
      in_domain.push_back(i);
      sub.image_ids.push_back(pairing.input.image_ids[i]);
      sub.refs.push_back(pairing.input.refs[i]);
      sub.hyps.push_back(pairing.input.hyps[i]);
    }
    std::vector<std::string> dw;  // the overall run already warned
    ImagecapDomain d;
    d.name = dom;
    d.metrics = score_caption_set(sub, caption::MetricSet{}, o.strict, o.threads, o.meteor, o.progress, dw).metrics;
    // SPICE-style per image depends only on that image's captions: the domain value is the mean of its images.
    if (sp) d.spice_style = spice_style_mean(*sp, in_domain);
    d.num_images = sub.image_ids.size();
    out.push_back(std::move(d));
  }
  return out;
}

void fill_counts(ImagecapReport& rep, const ImagecapInputs& in, const datasets::Pairing& pairing) {
  rep.images_per_split = in.images_per_split;
  rep.images_per_domain = in.images_per_domain;
  rep.num_sentences = in.num_sentences;
  rep.images_not_five_sentences = in.images_not_five_sentences;
  rep.num_split_images = in.samples.size();
  rep.num_predictions = in.predictions.size();
  rep.num_missing = pairing.missing.size();
  rep.num_outside = pairing.outside.size();
}

}  // namespace

ImagecapReport evaluate_imagecap(const ImagecapInputs& in, const ImagecapOptions& options) {
  if (in.submission_only)
    throw InputError(in.annotations, "", "NoCaps test captions are not public: nothing can be scored (make the "
                                         "submission list instead)");
  ImagecapReport rep;
  rep.options = options;
  rep.options.progress = {};
  rep.dataset = in.dataset;
  rep.split = in.split;
  rep.annotations = in.annotations;
  rep.pred_files = in.pred_files;
  rep.warnings = in.warnings;
  const datasets::Pairing pairing =
      datasets::pair_predictions(in.samples, in.predictions, in.other_ids, options.coverage, in.pred);
  if (!pairing.outside.empty())
    rep.warnings.push_back(fmt::format("predictions cover {} image(s) of other splits: only the {} {} images are scored",
                                       pairing.outside.size(), in.samples.size(), in.split));
  rep.warnings.insert(rep.warnings.end(), options.meteor.warnings.begin(), options.meteor.warnings.end());
  rep.eval = score_caption_set(pairing.input, caption::MetricSet{}, options.strict, options.threads, options.meteor,
                               options.progress, rep.warnings);
  if (options.spice)
    rep.spice = score_spice_style(rep.eval, options.meteor.resources, options.threads, options.progress,
                                  "pass --no-spice to skip it");
  if (in.dataset == "nocaps") rep.domains = score_domains(in, pairing, options, rep.spice);
  for (std::string& w : coverage_warnings(pairing, options.coverage)) rep.warnings.push_back(std::move(w));
  rep.metrics = rep.eval.metrics;
  if (rep.spice) rep.metrics.emplace_back(spice::kMetricName, rep.spice->score.spice);
  for (const ImagecapDomain& d : rep.domains)
    for (const auto& [n, v] : d.metrics)
      if (n == "CIDEr") rep.metrics.emplace_back(d.name + "/CIDEr", v);
  fill_counts(rep, in, pairing);
  rep.samples = paired_caption_samples(rep.eval, pairing);
  for (std::size_t i = 0; i < rep.samples.size(); ++i) {
    if (in.dataset == "nocaps") rep.samples[i].domain = in.samples[pairing.sample_index[i]].domain;
    if (rep.spice && i < rep.spice->score.per_image.size()) {
      rep.samples[i].spice_style = spice_style_of(*rep.spice, i);
      rep.samples[i].spice_style_subsets = spice_style_breakdown_of(*rep.spice, i);
    }
  }
  return rep;
}

namespace {

json domains_json(const ImagecapReport& rep) {
  json domains = json::object();
  for (const ImagecapDomain& d : rep.domains) {
    json m = json::object();
    for (const auto& [n, v] : d.metrics) m[n] = v;
    if (d.spice_style) m[spice::kMetricName] = *d.spice_style;
    m["num_images"] = d.num_images;
    domains[d.name] = m;
  }
  return domains;
}

json imagecap_details(const ImagecapReport& rep) {
  json d = json::object();
  if (rep.dataset == "flickr30k") {
    d["images_per_split"] = rep.images_per_split;
    d["num_sentences"] = rep.num_sentences;
    d["images_not_five_sentences"] = rep.images_not_five_sentences;
  } else {
    d["images_per_domain"] = rep.images_per_domain;
  }
  d["num_missing"] = rep.num_missing;
  d["num_predictions_outside_split"] = rep.num_outside;
  if (rep.spice) d["spice_style"] = spice_style_details(*rep.spice);
  d["num_images"] = rep.eval.per_image.size();
  d["num_split_images"] = rep.num_split_images;
  d["num_predictions"] = rep.num_predictions;
  if (!rep.domains.empty()) d["domains"] = domains_json(rep);
  d["bleu_info"] = bleu_info_json(rep.eval);
  return d;
}

}  // namespace

Result to_record(const ImagecapReport& report, const std::string& label) {
  const ImagecapOptions& o = report.options;
  Result r;
  r.task = "imagecap";
  r.dataset = report.dataset;
  r.split = report.split;
  r.label = label;
  r.metrics = report.metrics;
  r.signature.set("metric", "glamm-imagecap");
  r.signature.set("dataset", report.dataset);
  r.signature.set("split", report.split);
  r.signature.set("references", report.dataset == "flickr30k" ? "karpathy sentences[].raw" : "nocaps annotations");
  sign_caption_pipeline(r.signature, o.strict, o.coverage, o.meteor, imagecap_quirks());
  if (report.spice)
    sign_spice_style(r.signature, *report.spice);
  else
    r.signature.set("spice", "off(--no-spice)");
  r.add_input("annotations", report.annotations);
  add_prediction_inputs(r, report.pred_files);
  r.details = imagecap_details(report);
  r.warnings = report.warnings;
  for (const CaptionSample& s : report.samples) r.per_sample.push_back(s.to_json());
  return r;
}

}  // namespace glamm::tasks
