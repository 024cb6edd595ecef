// `glamm-eval gcg`: Grounded Conversation Generation evaluation as GLaMM's eval/gcg/evaluate.py computes it —
// mask AP/AP50 (COCOeval segm, catIds [1], all scores 1.0), caption metrics (pycocoevalcap pipeline), mIoU and
// mask recall. Wires datasets/grandf + datasets/coco_json → metrics → Result record; no metric math here.
// Spec: shared specs/mask-metrics.md §3.8, §4.0–§4.2, §5; specs/dataset-formats.md §7.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/output_guard.h"
#include "common/result.h"
#include "datasets/coco_json.h"
#include "datasets/grandf.h"
#include "datasets/grandf_sample.h"
#include "datasets/json_util.h"
#include "eval/command.h"
#include "eval/meteor_setup.h"
#include "eval/phrase_similarity.h"
#include "eval/progress.h"
#include "metrics/caption/coco_eval_cap.h"
#include "metrics/mask/cocoeval.h"
#include "metrics/mask/glamm_metrics.h"
#include "metrics/mask/segmentation.h"
#include "metrics/numeric.h"

namespace glamm::cli {
namespace {

/// Run body(i) for i in [0, n) on `threads` workers (static interleaved split; body must only write slot i).
template <typename F>
void parallel_for(std::size_t n, int threads, F body) {
  const std::size_t t = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(threads), n));
  if (t <= 1) {
    for (std::size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::vector<std::thread> pool;
  for (std::size_t w = 0; w < t; ++w)
    pool.emplace_back([&, w] {
      for (std::size_t i = w; i < n; i += t) body(i);
    });
  for (auto& th : pool) th.join();
}

namespace fs = std::filesystem;
using nlohmann::json;

struct GcgOptions {
  CommonOptions common;
  std::string split = "val";
  std::string gt_dir = "./data/GranDf/annotations/val_test";
  std::vector<std::string> pred_dirs;
  std::string text_sim;
  std::string bert;
  bool allow_missing = false;
  bool sample = false;
  std::string meteor_resources, meteor_paraphrase;
};

constexpr const char* kStrictHelp =
    "Use the corrected GCG variants (docs/quirks.md): empty-vs-empty pairs count IoU 1 and unmatched masks "
    "count 0 in mIoU (q1-q2); recall keeps looking past a rejected pair, never accepts NaN pairs, pairs only "
    "masks that have a phrase and fails loudly instead of skipping an image (q3-q6); GT id 0 can match in AP "
    "(q7); mIoU/recall use only category-1 non-crowd GT like AP (q13); caption line breaks become spaces";

/// Counts of the usual reasons a model scores 0 silently (reports' failure breakdown).
struct FailureBreakdown {
  std::size_t missing_prediction = 0, empty_caption = 0, no_masks = 0, fewer_masks_than_phrases = 0,
              more_masks_than_phrases = 0, empty_mask = 0, wrong_size_mask = 0;
  json to_json() const {
    return {{"missing_prediction", missing_prediction}, {"empty_caption", empty_caption},
            {"no_masks", no_masks},
            {"fewer_masks_than_phrases", fewer_masks_than_phrases},
            {"more_masks_than_phrases", more_masks_than_phrases},
            {"empty_mask", empty_mask},
            {"wrong_size_mask", wrong_size_mask}};
  }
};

std::string default_label(const std::vector<std::string>& pred_dirs) {
  if (pred_dirs.empty()) return "run";
  fs::path p = fs::path(pred_dirs.front()).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const std::string s = p.filename().string();
  return s.empty() ? "run" : s;
}

void run_gcg_files(const GcgOptions& o, bool meteor_optional);

/// Where the run's record goes: --json, else glamm-results/gcg_grandf_<split>_<label>.json.
std::string record_path(const GcgOptions& o, const std::string& label) {
  return o.common.json_path.empty() ? "glamm-results/gcg_grandf_" + o.split + "_" + label_for_file_name(label) + ".json"
                                    : o.common.json_path;
}

/// --sample: write the built-in synthetic GranD-f set (annotations, predictions, similarity table and images) into
/// a folder next to the record, <record>.sample/, and evaluate it like any other. The folder is kept so that
/// `glamm-eval report` can draw the overlays of the sample's record; the record says its data are synthetic.
void run_gcg(const GcgOptions& in) {
  if (!in.sample) return run_gcg_files(in, false);
  if (!in.pred_dirs.empty() || !in.text_sim.empty())
    throw InputError("", "--sample", "--sample evaluates the built-in set; leave out --pred and --text-sim");
  GcgOptions o = in;
  o.split = "val";
  if (o.common.label.empty()) o.common.label = "builtin-sample";
  o.common.json_path = record_path(o, o.common.label);
  check_record_writable(o.common.json_path, "--json");  // before the sample folder is written next to it
  fs::path dir = fs::absolute(fs::path(o.common.json_path)).lexically_normal();
  dir = dir.parent_path() / (dir.stem().string() + ".sample");
  std::error_code ec;
  // Replace only a sample folder this command wrote before (never another folder that happens to have the name).
  if (fs::exists(dir, ec) && !fs::exists(dir / "val_gcg_coco_caption_gt.json", ec))
    throw InputError(dir.string(), "--sample",
                     "exists and is not a built-in sample folder; choose another --json path for the sample record");
  fs::remove_all(dir, ec);
  datasets::grandf::write_grandf_sample(dir);
  o.gt_dir = dir.string();
  o.pred_dirs = {(dir / "predictions").string()};
  o.text_sim = (dir / "val_text_similarity.tsv").string();
  std::cout << "glamm-eval gcg: built-in sample (6 synthetic 48x64 images in GranD-f layout, phrase similarities "
               "from a table; no input files, no BERT); synthetic data, not GranD-f: its numbers are no model's score\n";
  run_gcg_files(o, true);
}

void run_gcg_files(const GcgOptions& o, bool meteor_optional) {
  if (o.split != "val" && o.split != "test")
    throw InputError("", "--split", "GCG has only the splits val and test (got '" + o.split + "')");
  if (o.pred_dirs.empty()) throw InputError("", "--pred", "give the predictions folder (one <image_id>.json each)");
  for (const std::string& dir : o.pred_dirs)
    if (!fs::is_directory(dir))
      throw InputError(dir, "--pred", fs::exists(dir) ? "not a folder (give the folder of <image_id>.json files)"
                                                      : "no such predictions folder");
  {  // before any work: no output may overwrite an input (a record named <id>.json inside a --pred folder included)
    io::OutputGuard guard;
    for (const std::string& dir : o.pred_dirs) guard.add_input_folder(dir, "--pred " + dir);
    guard.add_input(fs::path(o.gt_dir) / (o.split + "_gcg_coco_caption_gt.json"), "caption GT");
    guard.add_input(fs::path(o.gt_dir) / (o.split + "_gcg_coco_mask_gt.json"), "mask GT");
    guard.add_input(o.text_sim, "--text-sim");
    const std::string out = record_path(o, o.common.label.empty() ? default_label(o.pred_dirs) : o.common.label);
    guard.check_output(out, "--json");
    check_record_writable(out, "--json");
  }
  PhraseSimilaritySource similarity = PhraseSimilaritySource::open(o.text_sim, o.bert);  // --bert / GLAMM_BERT / --text-sim
  const bool strict = o.common.strict;
  const int threads = resolve_threads(o.common);
  Progress progress(o.common.quiet);
  std::vector<std::string> warnings;

  // METEOR: required, except for the built-in sample on a machine without METEOR's resources.
  MeteorSetup met;
  std::optional<MeteorLoader> meteor_loading;  // loads while the GT and predictions are read
  const bool with_meteor = !meteor_optional || !locate_meteor_resources(o.meteor_resources).empty();
  if (with_meteor) {
    meteor_loading.emplace(o.meteor_resources, o.meteor_paraphrase, progress);
  } else {
    warnings.push_back("METEOR not computed: " + meteor_resources_missing_message());
  }

  const fs::path cap_file = fs::path(o.gt_dir) / (o.split + "_gcg_coco_caption_gt.json");
  const fs::path mask_file = fs::path(o.gt_dir) / (o.split + "_gcg_coco_mask_gt.json");
  progress.start("loading GranD-f " + o.split + " ground truth...");
  const datasets::grandf::CaptionGt cap_gt = datasets::grandf::load_caption_gt(cap_file);
  datasets::CocoLoadOptions lo;
  lo.iou_type = mask::IouType::kSegm;
  lo.threads = threads;
  mask::CocoGroundTruth mask_gt = datasets::load_coco_gt(mask_file, lo, warnings);
  const std::vector<datasets::grandf::MaskGtAnnotation> mask_anns = datasets::grandf::load_mask_gt_annotations(mask_file);
  progress.done();

  // Index of the mask-GT images by id text, and of the GT annotations / first caption by image.
  std::unordered_map<std::string, uint32_t> mask_image_index;
  for (uint32_t k = 0; k < mask_gt.images.size(); ++k) {
    const mask::ImageId& id = mask_gt.images[k].id;
    mask_image_index[id.is_string ? id.text
                                                             : std::to_string(id.number)] = k;
  }
  std::unordered_map<std::string, std::vector<const datasets::grandf::MaskGtAnnotation*>> gt_by_image;
  for (const auto& a : mask_anns) {
    if (strict && (a.category_id != 1 || a.iscrowd)) continue;  // item 13: same GT as AP
    gt_by_image[a.image_id].push_back(&a);
  }
  std::unordered_map<std::string, std::vector<const datasets::grandf::CaptionAnnotation*>> caps_by_image;
  for (const auto& a : cap_gt.annotations) caps_by_image[a.image_id].push_back(&a);

  // Predictions, in caption-GT image order (GLaMM's ingestion order).
  progress.start("reading predictions...");
  std::vector<datasets::grandf::Prediction> preds;
  preds.reserve(cap_gt.image_ids.size());
  std::vector<std::string> missing, duplicated;
  for (const std::string& id : cap_gt.image_ids) {
    std::optional<datasets::grandf::Prediction> found;
    for (const std::string& dir : o.pred_dirs) {
      auto p = datasets::grandf::load_prediction(dir, id);
      if (!p) continue;
      if (found) {
        duplicated.push_back(id);
        break;
      }
      found = std::move(p);
    }
    if (!found) {
      missing.push_back(id);
      datasets::grandf::Prediction empty;
      empty.image_id = id;
      found = std::move(empty);
    }
    preds.push_back(std::move(*found));
  }
  progress.done();
  for (std::string& w : datasets::take_duplicate_key_warnings()) warnings.push_back(std::move(w));
  auto list_ids = [](const std::vector<std::string>& ids) {
    std::string s;
    for (std::size_t k = 0; k < ids.size() && k < 20; ++k) s += (k ? ", " : "") + ids[k];
    if (ids.size() > 20) s += fmt::format(", ... ({} in all)", ids.size());
    return s;
  };
  if (!duplicated.empty()) {
    std::string dirs;
    for (const std::string& d : o.pred_dirs) dirs += (dirs.empty() ? "" : ", ") + d;
    throw InputError("", "--pred", fmt::format("{} image(s) have a prediction in more than one --pred folder: {} "
                                               "(folders: {})", duplicated.size(), list_ids(duplicated), dirs));
  }
  if (!missing.empty()) {
    if (!o.allow_missing)
      throw InputError(o.pred_dirs.front(), "",
                       fmt::format("{} of {} images have no prediction file (the official evaluation fails): {}. "
                                   "Pass --allow-missing to score them as empty predictions",
                                   missing.size(), cap_gt.image_ids.size(), list_ids(missing)));
    warnings.push_back(fmt::format("{} missing prediction file(s) scored as empty predictions (--allow-missing)",
                                   missing.size()));
  }

  // Detections as evaluate.py builds them: caption-GT image order, then pred_masks order, score 1.0, category 1.
  FailureBreakdown fb;
  fb.missing_prediction = missing.size();
  mask::CocoDetections dets;
  std::vector<std::vector<mask::Rle>> pred_rles(preds.size());
  for (std::size_t i = 0; i < preds.size(); ++i) {
    const auto& p = preds[i];
    const std::string pfile = (fs::path(o.pred_dirs.front()) / (p.image_id + ".json")).string();
    auto it = mask_image_index.find(p.image_id);
    if (it == mask_image_index.end() && !p.pred_masks.empty())
      throw InputError(pfile, "", "image " + p.image_id + " is not in the mask GT " + mask_file.string() +
                                      " (pycocotools' loadRes asserts)");
    if (p.caption.empty()) ++fb.empty_caption;
    if (p.pred_masks.empty()) ++fb.no_masks;
    if (p.pred_masks.size() < p.phrases.size()) ++fb.fewer_masks_than_phrases;
    if (p.pred_masks.size() > p.phrases.size()) ++fb.more_masks_than_phrases;
    for (std::size_t m = 0; m < p.pred_masks.size(); ++m) {
      const mask::CocoImage& img = mask_gt.images[it->second];
      mask::Rle rle;
      try {
        rle = mask::to_rle(p.pred_masks[m], img.height, img.width, false);
      } catch (const mask::RleError& e) {
        throw InputError(pfile, "pred_masks[" + std::to_string(m) + "]", e.what());
      }
      if ((img.height || img.width) && (rle.h != img.height || rle.w != img.width)) ++fb.wrong_size_mask;
      mask::CocoInstance d;
      d.id = static_cast<int64_t>(dets.results.size() + 1);
      d.image = it->second;
      d.category_id = 1;
      d.score = 1.0;
      d.area = mask::area(rle);
      if (d.area == 0) ++fb.empty_mask;
      d.box = mask::to_bbox(rle);
      d.rle = rle;
      pred_rles[i].push_back(rle);
      dets.results.push_back(std::move(d));
    }
  }

  // 1. AP (COCOeval segm, catIds = [1]).
  progress.start("Running per image evaluation (segm, catIds=[1])...");
  mask::CocoParams params = mask::default_params(mask_gt, mask::IouType::kSegm);
  params.cat_ids = {1};
  params.strict_gt_id_zero = strict;
  if (dets.results.empty())
    warnings.push_back("no predicted masks in the whole split: pycocotools' loadRes would crash (IndexError); AP is "
                       "0 where GT exists (docs/quirks.md, gcg)");
  mask::CocoEvaluation ev;
  mask::CocoAccumulation acc;
  std::vector<double> stats;
  try {
    ev = mask::evaluate(mask_gt, dets, params, threads);
    acc = mask::accumulate(ev);
    stats = mask::summarize(acc, ev.params);
  } catch (const std::invalid_argument& e) {
    throw InputError(mask_file.string(), "", e.what());
  }
  progress.done();

  if (meteor_loading) met = meteor_loading->finish(warnings);

  // 2. Captions (COCOEvalCap; image ids = images with a caption prediction, in GT order).
  caption::EvalCapInput cin;
  for (std::size_t i = 0; i < preds.size(); ++i) {
    const std::string& id = cap_gt.image_ids[i];
    auto c = caps_by_image.find(id);
    if (c == caps_by_image.end())
      throw InputError(cap_file.string(), "image " + id,
                       "has no caption annotation (pycocoevalcap's scorers need at least one reference)");
    cin.image_ids.push_back(cap_gt.image_ids_are_strings ? caption::ImageId::of(id)
                                                         : caption::ImageId::of(static_cast<int64_t>(std::stoll(id))));
    std::vector<std::string> refs;
    for (const auto* a : c->second) refs.push_back(a->caption);
    cin.refs.push_back(std::move(refs));
    cin.hyps.push_back(preds[i].caption);
  }
  caption::EvalCapOptions copt;
  copt.metrics.meteor = with_meteor;
  copt.line_breaks = strict ? ptb::LineBreakMode::kStrict : ptb::LineBreakMode::kReference;
  copt.meteor = met.scorer.get();
  copt.threads = threads;
  copt.progress = [&progress](const std::string& m) { progress.note(m); };
  const caption::EvalCapResult cap = caption::evaluate(cin, copt);
  warnings.insert(warnings.end(), cap.warnings.begin(), cap.warnings.end());
  if (fb.empty_caption == preds.size())
    warnings.push_back("every predicted caption is empty: the official pipeline dies in the tokenizer/METEOR pipe; "
                       "caption scores are what the formulas give for empty hypotheses");

  // 3. mIoU and 4. recall, per caption-GT image (parallel over images; results kept in image order).
  progress.start("computing mIoU and mask recall...");
  const std::size_t n = preds.size();
  std::vector<std::vector<mask::Rle>> gt_rles(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& id = cap_gt.image_ids[i];
    auto g = gt_by_image.find(id);
    if (g == gt_by_image.end()) continue;
    for (const auto* a : g->second) {
      if (!a->rle)
        throw InputError(mask_file.string(), "image " + id,
                         "GT segmentation is " + a->form +
                             ", not compressed RLE: GLaMM's mIoU decodes GT masks with maskUtils.decode (TypeError "
                             "in the official evaluation)");
      gt_rles[i].push_back(*a->rle);
    }
  }
  std::vector<mask::GcgImageMiou> miou_res(n);
  std::vector<mask::GcgImageRecall> recall_res(n);
  std::vector<std::string> errors(n);
  {  // BERT: embed every GT label and predicted phrase once, batched, before the parallel loop
    std::vector<std::string> phrases;
    for (std::size_t i = 0; i < n; ++i) {
      auto c = caps_by_image.find(cap_gt.image_ids[i]);
      if (c != caps_by_image.end()) phrases.insert(phrases.end(), c->second.front()->labels.begin(), c->second.front()->labels.end());
      phrases.insert(phrases.end(), preds[i].phrases.begin(), preds[i].phrases.end());
    }
    similarity.prepare(phrases);
  }
  parallel_for(n, threads, [&](std::size_t i) {
    const std::string& id = cap_gt.image_ids[i];
    const std::size_t P = pred_rles[i].size(), G = gt_rles[i].size();
    std::vector<double> ious;  // P × G
    try {
      ious = mask::dense_iou_matrix_fast(pred_rles[i], gt_rles[i]);
    } catch (const mask::RleError& e) {
      errors[i] = e.what();  // numpy's broadcast ValueError: the official mIoU fails the whole run
      return;
    }
    std::vector<double> t(ious.size());  // G × P for recall
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t g = 0; g < G; ++g) t[g * P + p] = ious[p * G + g];
    miou_res[i] = mask::gcg_image_miou_from_ious(std::move(ious), P, G, strict);
    const auto& pl = preds[i].phrases;
    const std::vector<std::string>& gl = caps_by_image.at(id).front()->labels;  // first caption annotation only
    auto sim = [&](std::size_t gi, std::size_t pj) { return similarity(gl[gi], pl[pj]); };
    recall_res[i] = mask::gcg_image_recall_from_ious(std::move(t), G, gl.size(), P, pl.size(), sim, 0.5, 0.5, strict);
  });
  if (std::string w = similarity.check_table_coverage(); !w.empty()) warnings.push_back(w);  // none covered: throws
  for (std::size_t i = 0; i < n; ++i)
    if (!errors[i].empty())
      throw InputError((fs::path(o.pred_dirs.front()) / (cap_gt.image_ids[i] + ".json")).string(),
                       "image " + cap_gt.image_ids[i], errors[i]);
  std::vector<double> mious;
  std::vector<std::string> recall_skipped;  // images whose recall the official script drops (one warning below)
  std::size_t tp = 0, positives = 0;
  json per = json::array();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& id = cap_gt.image_ids[i];
    json s;
    s["image_id"] = id;
    // Where the report's overlays find this image's predicted masks (GT masks and file names: inputs.mask_gt).
    s["prediction_file"] = (fs::path(o.pred_dirs.front()) / (id + ".json")).string();
    mious.push_back(miou_res[i].miou);
    s["miou"] = miou_res[i].miou;
    s["miou_pairs"] = miou_res[i].pairs;
    const mask::GcgImageRecall& rr = recall_res[i];
    positives += rr.positives;
    s["recall_positives"] = rr.positives;
    if (!rr.skipped.empty()) {
      s["recall_skipped"] = rr.skipped;
      recall_skipped.push_back(id);
    } else {
      tp += rr.matches.size();
    }
    json mm = json::array();
    for (const auto& [g, p] : rr.matches) mm.push_back({g, p});
    s["recall_matches"] = mm;
    per.push_back(std::move(s));
  }
  // One warning per cause, in the user's terms (the record's per-sample recall_skipped keeps the reference error).
  std::map<std::string, std::vector<std::string>> skipped_by_cause;
  for (const std::string& id : recall_skipped) {
    const std::string& why = recall_res[std::find(cap_gt.image_ids.begin(), cap_gt.image_ids.end(), id) -
                                        cap_gt.image_ids.begin()].skipped;
    std::string cause = "more predicted masks than phrases";
    if (why.rfind("ValueError", 0) == 0) cause = "predicted masks of another size than the GT masks";
    else if (why.find("axis 0") != std::string::npos) cause = "more GT masks than GT phrases";
    skipped_by_cause[cause].push_back(id);
  }
  for (const auto& [cause, ids] : skipped_by_cause) {
    const bool one = ids.size() == 1;
    warnings.push_back(fmt::format(
        "recall: {} image{} ({}) {} {}; the official evaluation pairs each mask with the phrase of the same index, "
        "fails there and drops {} recall matches (the GT phrases still count), and so does this run. --strict pairs "
        "only masks that have a phrase and keeps {}",
        ids.size(), one ? "" : "s", list_ids(ids), one ? "has" : "have", cause, one ? "its" : "their",
        one ? "it" : "them"));
  }
  const double miou = mious.empty() ? 0.0 : metrics::numpy_mean(mious);
  const double recall = positives > 0 ? static_cast<double>(tp) / static_cast<double>(positives) : 0.0;
  progress.done();

  // Output.
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  const auto items = mask::summary_items(ev.params);
  for (std::size_t j = 0; j < items.size(); ++j) std::cout << mask::summary_line(ev.params, items[j], stats[j]) << "\n";
  for (const auto& [name, value] : cap.metrics) std::cout << fmt::format("{}: {:.3f}\n", name, value);
  std::cout << fmt::format("Mean IoU (mIoU) across all images: {:.3f}\n", miou);
  std::cout << fmt::format("Recall: {:.3f}\n", recall);
  double meteor_v = 0, cider_v = 0;
  for (const auto& [name, value] : cap.metrics) {
    if (name == "METEOR") meteor_v = value;
    if (name == "CIDEr") cider_v = value;
  }
  std::cout << fmt::format("\nGCG {} ({} images{}): METEOR {} | CIDEr {:.3f} | AP50 {:.3f} | mIoU {:.3f} | "
                           "Recall {:.3f}\n",
                           o.split, preds.size(), strict ? ", --strict" : "",
                           with_meteor ? fmt::format("{:.3f}", meteor_v) : std::string("n/a"), cider_v, stats[1], miou,
                           recall);
  if (strict) std::cout << "strict: corrected GCG variants (docs/quirks.md q1-q7, q13); not comparable to the paper\n";
  std::cout.flush();

  Result r;
  r.task = "gcg";
  r.dataset = "grandf";
  r.split = o.split;
  r.label = o.common.label.empty() ? default_label(o.pred_dirs) : o.common.label;
  if (with_meteor) r.metrics.emplace_back("METEOR", meteor_v);
  r.metrics.insert(r.metrics.end(),
                   {{"CIDEr", cider_v}, {"AP50", stats[1]}, {"mIoU", miou}, {"Recall", recall}, {"AP", stats[0]}});
  for (const auto& kv : cap.metrics)
    if (kv.first != "METEOR" && kv.first != "CIDEr") r.metrics.push_back(kv);
  r.signature.set("metric", "glamm-gcg");
  r.signature.set("reference", "groundingLMM eval/gcg/evaluate.py + pycocotools-2.0.6 + pycocoevalcap");
  r.signature.set("split", o.split);
  r.signature.set("text_similarity", similarity.signature());
  r.signature.set("tokenizer", std::string("ptb-corenlp-3.4.1+pycocoevalcap-filter:") +
                                   (strict ? "strict" : "reference"));
  if (with_meteor) {
    sign_meteor(r.signature, met);
  } else {
    r.signature.set("meteor", "not-computed(no-resources)");
  }
  r.signature.set("strict", strict ? "on(miou_nan_as_1,miou_unmatched_count,recall_no_break,recall_no_nan,"
                                     "recall_label_coupling,recall_errors_fatal,gt_id_zero_matchable,"
                                     "gt_category1_noncrowd)"
                                   : "off");
  if (o.sample) r.signature.set("data", kSyntheticSampleData);
  r.signature.set("version", tool_version());
  r.add_input("caption_gt", cap_file);
  r.add_input("mask_gt", mask_file);
  if (similarity.input_key() == "text_sim") {
    r.add_input("text_sim", o.text_sim);
  } else {
    r.inputs["bert"] = similarity.input_path();  // weights checksum: in the text_similarity signature
  }
  if (o.sample) r.inputs["images"] = (fs::path(o.gt_dir) / "images").string();
  r.inputs["predictions"] = o.pred_dirs.front();
  for (std::size_t k = 1; k < o.pred_dirs.size(); ++k) r.inputs["predictions_" + std::to_string(k)] = o.pred_dirs[k];
  r.warnings = warnings;
  r.details["coco_stats"] = stats;
  r.details["num_images"] = preds.size();
  r.details["num_pred_masks"] = dets.results.size();
  r.details["num_gt_masks"] = mask_gt.annotations.size();
  r.details["recall_true_positives"] = tp;
  r.details["recall_actual_positives"] = positives;
  r.details["failure_breakdown"] = fb.to_json();
  if (similarity.input_key() == "text_sim") r.details["text_sim_coverage"] = similarity.table_coverage();
  {
    json bi = {{"testlen", cap.bleu_total.testlen}, {"reflen", cap.bleu_total.reflen},
               {"guess", cap.bleu_total.guess}, {"correct", cap.bleu_total.correct}, {"ratio", cap.bleu_ratio}};
    r.details["bleu_info"] = bi;
  }
  // Per image: mIoU pairs, recall matches, caption scores and sufficient statistics, COCOeval matches (area all).
  const std::size_t I = ev.num_images(), A = ev.params.area_rng.size();
  (void)I;
  std::unordered_map<std::string, std::size_t> eval_pos;
  for (std::size_t k = 0; k < I; ++k) {
    const auto& id = ev.params.img_ids[k];
    eval_pos[id.is_string ? id.text
                                                     : std::to_string(id.number)] = k;
  }
  for (std::size_t i = 0; i < preds.size(); ++i) {
    json& s = per[i];
    const caption::ImageEval& ce = cap.per_image[i];
    if (with_meteor) {
      s["METEOR"] = ce.meteor;
      s["meteor_stats"] = ce.meteor_stats.v;
    }
    s["CIDEr"] = ce.cider;
    s["ROUGE_L"] = ce.rouge_l;
    s["bleu_counts"] = {{"testlen", ce.bleu_counts.testlen}, {"reflen", ce.bleu_counts.reflen},
                        {"guess", ce.bleu_counts.guess}, {"correct", ce.bleu_counts.correct}};
    s["caption_tokenized"] = cap.hyps_tokenized[i];
    s["num_pred_masks"] = pred_rles[i].size();
    s["num_phrases"] = preds[i].phrases.size();
    auto pos = eval_pos.find(cap_gt.image_ids[i]);
    if (pos != eval_pos.end() && A > 0) {
      if (const mask::CocoImageEval* e = ev.eval_img(0, 0, pos->second)) {  // category 1, area all
        s["coco_dt_scores"] = e->dt_scores;
        s["coco_dt_matched"] = e->dt_matched;  // [T][D]
        s["coco_dt_ignore"] = e->dt_ignore;    // [T][D]
        std::size_t npig = 0;
        for (uint8_t g : e->gt_ignore) npig += g ? 0 : 1;
        s["coco_num_gt_not_ignored"] = npig;
      }
    }
  }
  r.per_sample = std::move(per);
  write_record(record_path(o, r.label), r);
}

void add_gcg(CLI::App& app) {
  auto opts = std::make_shared<GcgOptions>();
  CLI::App* sub = app.add_subcommand(
      "gcg",
      "Grounded Conversation Generation (GranD-f): METEOR, CIDEr, AP50, mIoU and mask recall exactly as GLaMM's "
      "eval/gcg/evaluate.py computes them (paper Table 3)");
  sub->add_option("--split", opts->split, "val or test")->capture_default_str();
  sub->add_option("--gt-dir", opts->gt_dir,
                  "Folder with {split}_gcg_coco_caption_gt.json and {split}_gcg_coco_mask_gt.json")
      ->capture_default_str();
  sub->add_option("--pred", opts->pred_dirs,
                  "Predictions folder(s) with one <image_id>.json each (as GLaMM's infer.py writes them); several "
                  "folders (shards) are merged and an image predicted twice is an error");
  sub->add_flag("--sample", opts->sample,
                "Evaluate the built-in synthetic GranD-f sample (no data, no BERT needed; METEOR only when its "
                "resources are found). Its files (annotations, predictions, images) are written to a folder next to "
                "the record, <record>.sample/, and kept so that `glamm-eval report <record>` can draw its overlays; "
                "the record's signature says data:synthetic (built-in sample)");
  sub->add_option("--text-sim", opts->text_sim,
                  "Phrase similarity table gt_label<TAB>pred_label<TAB>similarity used by mask recall instead of "
                  "BERT (a missing pair counts 0.0)");
  sub->add_option("--bert", opts->bert,
                  "bert-base-uncased folder (config.json, vocab.txt, model.safetensors or pytorch_model.bin) for the "
                  "recall's text similarity, as the official evaluation; default: env GLAMM_BERT");
  sub->add_flag("--allow-missing", opts->allow_missing,
                "Score a missing prediction file as an empty prediction (and report how many) instead of failing");
  sub->add_option("--meteor-resources", opts->meteor_resources,
                  "METEOR resources: folder with english.{synsets,exceptions,words,prefixes} or meteor-1.5.jar "
                  "(default: the copy built with glamm-eval)");
  sub->add_option("--meteor-paraphrase", opts->meteor_paraphrase,
                  "METEOR paraphrase table (paraphrase-en.gz); '-' or 'off': none (default: found as "
                  "docs/meteor-resources.md says)");
  add_common_options(sub, opts->common, kStrictHelp, "glamm-results/gcg_grandf_<split>_<label>.json");
  sub->callback([opts] { run_gcg(*opts); });
}

GLAMM_REGISTER_COMMAND(50, add_gcg);

}  // namespace
}  // namespace glamm::cli
