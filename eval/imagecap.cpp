// `glamm-eval imagecap`: zero-shot image captioning (paper Table 6) on Flickr30k (Karpathy split) and NoCaps
// (overall and per domain, as the NoCaps benchmark reports). COCOEvalCap metrics plus, unless --no-spice, the
// SPICE-style score (metrics/spice: SPICE 1.0's tuple scoring with the Link Grammar parser in place of CoreNLP; always
// labelled "SPICE-style (Link Grammar parser)", never plain SPICE). NoCaps test has no public captions: the
// submission file is written and scoring is refused (exit 3). Wires datasets/flickr30k, datasets/nocaps →
// caption::evaluate, spice::score_corpus → Result record.
// Spec: dataset-formats.md §8.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/io.h"
#include "common/output_guard.h"
#include "common/result.h"
#include "datasets/flickr30k.h"
#include "datasets/nocaps.h"
#include "datasets/regcap.h"
#include "eval/caption_task.h"
#include "eval/command.h"

namespace glamm::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ImagecapOptions {
  CaptionTaskOptions task;
  std::string dataset, annotations, split, submission;
  bool no_spice = false;
};

json id_json(const caption::ImageId& id) { return id.is_string ? json(id.text) : json(id.number); }

/// NoCaps test: check the predictions against the test images, write the EvalAI submission list, refuse to score.
void write_nocaps_submission(const ImagecapOptions& o, const datasets::nocaps::Data& d, const std::string& label) {
  std::vector<std::string> files;
  const auto preds = datasets::load_caption_predictions(o.task.pred, files);
  const datasets::Pairing p = datasets::pair_predictions(
      [&] {
        auto s = d.samples;
        for (auto& x : s) x.references = {"(test)"};  // placeholders: test captions are not public
        return s;
      }(),
      preds, {}, coverage_of(o.task), o.task.pred);
  json sub = json::array();
  for (std::size_t i = 0; i < p.input.image_ids.size(); ++i)
    if (p.predicted[i]) sub.push_back({{"image_id", id_json(p.input.image_ids[i])}, {"caption", p.input.hyps[i]}});
  const std::string out =
      o.submission.empty() ? "glamm-results/imagecap_nocaps_test_submission_" + cli::label_for_file_name(label) + ".json" : o.submission;
  io::OutputGuard guard;
  guard.add_input(o.annotations, "--annotations");
  for (const auto& f : files) guard.add_input(f, "--pred " + f);
  guard.check_output(out, "--submission");
  io::save_json(out, sub, 0);
  std::cout << fmt::format("nocaps test: {} predictions for {} images written to {} (submit to the EvalAI server); "
                           "test captions are not public, nothing is scored\n",
                           sub.size(), d.samples.size(), out);
  std::cout.flush();
  throw ExitRequest{kRefused};
}

void run_imagecap(const ImagecapOptions& o) {
  const datasets::Coverage coverage = coverage_of(o.task);
  const std::string split = !o.split.empty() ? o.split : o.dataset == "flickr30k" ? "test" : "val";
  const std::string label = o.task.common.label.empty() ? cli::default_label_from_file(o.task.pred) : o.task.common.label;
  check_record_writable(o.task.common.json_path.empty() ? "glamm-results/imagecap_" + o.dataset + "_" + split + "_" +
                                                              cli::label_for_file_name(label) + ".json"
                                                        : o.task.common.json_path,
                        "--json");
  Progress progress(o.task.common.quiet);
  std::vector<std::string> warnings;

  std::vector<datasets::CaptionSample> samples;
  std::vector<caption::ImageId> other_ids;
  Result r;
  progress.start("loading " + o.annotations + "...");
  if (o.dataset == "flickr30k") {
    const auto f = datasets::flickr30k::load(o.annotations, split);
    samples = f.samples;
    other_ids = f.other_ids;
    json per_split = json::object();
    for (const auto& [n, c] : f.images_per_split) per_split[n] = c;
    r.details["images_per_split"] = per_split;
    r.details["num_sentences"] = f.sentences;
    r.details["images_not_five_sentences"] = f.images_not_five_sentences;
    if (split == "restval") warnings.push_back("'restval' is Karpathy's extra training data, not an evaluation split");
  } else {
    const auto d = datasets::nocaps::load(o.annotations);
    if (!d.has_annotations || split == "test") {
      progress.done();
      if (d.has_annotations)
        warnings.push_back("--split test with a file that has captions: writing the submission anyway");
      for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
      write_nocaps_submission(o, d, label);
    }
    if (split != "val") throw InputError("", "--split", "NoCaps splits are val and test");
    samples = d.samples;
    json per_domain = json::object();
    for (const auto& [n, c] : d.images_per_domain) per_domain[n] = c;
    r.details["images_per_domain"] = per_domain;
  }
  std::vector<std::string> pred_files;
  const auto preds = datasets::load_caption_predictions(o.task.pred, pred_files);
  const datasets::Pairing pairing = datasets::pair_predictions(samples, preds, other_ids, coverage, o.task.pred);
  progress.done();
  if (!pairing.outside.empty())
    warnings.push_back(fmt::format("predictions cover {} image(s) of other splits: only the {} {} images are scored",
                                   pairing.outside.size(), samples.size(), split));
  MeteorSetup met = load_meteor(o.task.meteor_resources, o.task.meteor_paraphrase, progress, warnings);
  caption::EvalCapResult ev = score_captions(pairing.input, o.task, met, progress, warnings);
  std::optional<SpiceStyleRun> sp;
  if (!o.no_spice)
    sp = score_spice_style(ev, met, resolve_threads(o.task.common), progress, "pass --no-spice to skip it");

  // NoCaps: the benchmark's per-domain numbers, each domain evaluated on its own (IDF from that domain's refs).
  json domains = json::object();
  std::vector<std::pair<std::string, double>> domain_metrics;
  if (o.dataset == "nocaps") {
    std::vector<std::string> names;
    for (std::size_t k : pairing.sample_index)
      if (std::find(names.begin(), names.end(), samples[k].domain) == names.end()) names.push_back(samples[k].domain);
    std::sort(names.begin(), names.end());
    for (const std::string& dom : names) {
      caption::EvalCapInput sub;
      std::vector<std::size_t> in_domain;
      for (std::size_t i = 0; i < pairing.sample_index.size(); ++i) {
        if (samples[pairing.sample_index[i]].domain != dom) continue;
        in_domain.push_back(i);
        sub.image_ids.push_back(pairing.input.image_ids[i]);
        sub.refs.push_back(pairing.input.refs[i]);
        sub.hyps.push_back(pairing.input.hyps[i]);
      }
      std::vector<std::string> dw;
      const caption::EvalCapResult de = score_captions(sub, o.task, met, progress, dw);
      json m = json::object();
      for (const auto& [n, v] : de.metrics) m[n] = v;
      // SPICE-style per image depends only on that image's captions: the domain value is the mean of its images.
      if (sp) m[spice::kMetricName] = spice_style_mean(*sp, in_domain);
      m["num_images"] = sub.image_ids.size();
      domains[dom] = m;
      for (const auto& [n, v] : de.metrics)
        if (n == "CIDEr") domain_metrics.emplace_back(dom + "/CIDEr", v);
    }
  }

  note_coverage(pairing, o.task, r, warnings);
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  std::cout << fmt::format("imagecap {} {}: {} images scored{}\n", o.dataset, split, pairing.input.image_ids.size(),
                           o.task.only_present ? ", ONLY PRESENT predictions" : "");
  print_caption_metrics(ev);
  if (sp)
    print_spice_style(*sp);
  else
    std::cout << spice::kMetricName << ": not computed (--no-spice)\n";
  for (auto it = domains.begin(); it != domains.end(); ++it) {
    std::cout << fmt::format("[{}] {} images:", it.key(), it.value()["num_images"].get<std::size_t>());
    for (const auto& [n, v] : ev.metrics) std::cout << fmt::format(" {} {:0.3f}", n, it.value()[n].get<double>());
    if (sp) std::cout << fmt::format(" SPICE-style {:0.3f}", it.value()[spice::kMetricName].get<double>());
    std::cout << "\n";
  }
  std::cout.flush();

  r.task = "imagecap";
  r.dataset = o.dataset;
  r.split = split;
  r.label = label;
  r.metrics = ev.metrics;
  if (sp) r.metrics.emplace_back(spice::kMetricName, sp->score.spice);
  r.metrics.insert(r.metrics.end(), domain_metrics.begin(), domain_metrics.end());
  r.signature.set("metric", "glamm-imagecap");
  r.signature.set("dataset", o.dataset);
  r.signature.set("split", split);
  r.signature.set("references", o.dataset == "flickr30k" ? "karpathy sentences[].raw" : "nocaps annotations");
  sign_captions(r.signature, o.task, met);
  if (sp)
    sign_spice_style(r.signature, *sp);
  else
    r.signature.set("spice", "off(--no-spice)");
  r.add_input("annotations", o.annotations);
  for (std::size_t k = 0; k < pred_files.size(); ++k)
    r.add_input(k == 0 ? "predictions" : "predictions_" + std::to_string(k), pred_files[k]);
  if (sp) r.details["spice_style"] = spice_style_details(*sp);
  r.details["num_images"] = pairing.input.image_ids.size();
  r.details["num_split_images"] = samples.size();
  r.details["num_predictions"] = preds.size();
  if (!domains.empty()) r.details["domains"] = domains;
  r.details["bleu_info"] = {{"testlen", ev.bleu_total.testlen}, {"reflen", ev.bleu_total.reflen},
                            {"guess", ev.bleu_total.guess}, {"correct", ev.bleu_total.correct},
                            {"ratio", ev.bleu_ratio}};
  r.warnings = warnings;
  r.per_sample = per_sample_json(ev, pairing);
  if (o.dataset == "nocaps")
    for (std::size_t i = 0; i < pairing.sample_index.size(); ++i)
      r.per_sample[i]["domain"] = samples[pairing.sample_index[i]].domain;
  if (sp) add_spice_style_per_sample(r.per_sample, *sp);
  const std::string out = o.task.common.json_path.empty()
                              ? "glamm-results/imagecap_" + o.dataset + "_" + split + "_" + cli::label_for_file_name(label) + ".json"
                              : o.task.common.json_path;
  write_record(out, r);
}

void add_imagecap(CLI::App& app) {
  auto o = std::make_shared<ImagecapOptions>();
  CLI::App* sub = app.add_subcommand(
      "imagecap",
      "Zero-shot image captioning on Flickr30k (Karpathy split) and NoCaps (overall and per domain): CIDEr, METEOR, "
      "BLEU, ROUGE-L and the SPICE-style (Link Grammar parser) score (paper Table 6)");
  sub->add_option("--dataset", o->dataset, "flickr30k or nocaps")
      ->required()
      ->check(CLI::IsMember({"flickr30k", "nocaps"}));
  sub->add_option("--annotations", o->annotations,
                  "dataset_flickr30k.json (Karpathy) or nocaps_val_4500_captions.json / nocaps_test_image_info.json")
      ->required();
  sub->add_option("--split", o->split, "Flickr30k: test (default), val, train; NoCaps: val (default) or test "
                                       "(writes the submission file, exit 3)");
  sub->add_flag("--no-spice", o->no_spice,
                "Skip the SPICE-style (Link Grammar parser) score (it parses every caption: ~3-5 ms each)");
  sub->add_option("--submission", o->submission, "NoCaps test: where to write the EvalAI submission list");
  add_caption_task_options(sub, o->task,
                           "Predictions: JSON list [{image_id, caption}] (Flickr30k: the photo id from the file name, "
                           "an integer; NoCaps: images[].id), or a folder of such lists",
                           "glamm-results/imagecap_<dataset>_<split>_<label>.json");
  sub->callback([o] { run_imagecap(*o); });
}

GLAMM_REGISTER_COMMAND(80, add_imagecap);

}  // namespace
}  // namespace glamm::cli
