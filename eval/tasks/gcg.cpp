// GCG evaluation (groundingLMM eval/gcg/evaluate.py) on loaded inputs. See gcg.h.
#include "eval/tasks/gcg.h"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "common/error.h"
#include "datasets/coco_json.h"
#include "datasets/json_util.h"
#include "metrics/caption/coco_eval_cap.h"
#include "metrics/mask/glamm_metrics.h"
#include "metrics/mask/segmentation.h"
#include "metrics/numeric.h"
#include "metrics/parallel.h"

namespace glamm::tasks {

namespace fs = std::filesystem;
namespace grandf = datasets::grandf;
using nlohmann::json;

namespace {

// --- small helpers ---------------------------------------------------------------------------------------------

void stage(const GcgOptions& o, const std::string& what) {
  if (o.progress.stage) o.progress.stage(what);
}
void stage_done(const GcgOptions& o) {
  if (o.progress.stage_done) o.progress.stage_done();
}

/// Up to 20 ids, comma-separated, then "... (N in all)".
std::string list_ids(const std::vector<std::string>& ids) {
  std::string s;
  for (std::size_t k = 0; k < ids.size() && k < 20; ++k) s += (k ? ", " : "") + ids[k];
  if (ids.size() > 20) s += fmt::format(", ... ({} in all)", ids.size());
  return s;
}

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : ", ") + p;
  return s;
}

std::string id_text(const mask::ImageId& id) { return id.plain(); }

/// Look-ups of the loaded GT by image id text.
struct GtIndex {
  std::unordered_map<std::string, uint32_t> mask_image;  ///< mask-GT image position
  std::unordered_map<std::string, std::vector<const grandf::MaskGtAnnotation*>> masks;  ///< mIoU/recall GT
  std::unordered_map<std::string, std::vector<const grandf::CaptionAnnotation*>> captions;

  GtIndex(const GcgInputs& in, bool strict) {
    for (uint32_t k = 0; k < in.mask_gt.images.size(); ++k) mask_image[id_text(in.mask_gt.images[k].id)] = k;
    for (const auto& a : in.mask_annotations) {
      if (strict && (a.category_id != 1 || a.iscrowd)) continue;  // q13: the same GT as AP
      masks[a.image_id].push_back(&a);
    }
    for (const auto& a : in.caption_gt.annotations) captions[a.image_id].push_back(&a);
  }
};

// --- loading ---------------------------------------------------------------------------------------------------

/// Every caption-GT image's prediction, looked up in each folder; missing ones get an empty stand-in.
void read_predictions(GcgInputs& in) {
  const auto& ids = in.caption_gt.image_ids;
  in.predictions.reserve(ids.size());
  std::vector<std::string> duplicated;
  for (const std::string& id : ids) {
    std::optional<grandf::Prediction> found;
    for (const std::string& dir : in.files.pred_dirs) {
      auto p = grandf::load_prediction(dir, id);
      if (!p) continue;
      if (found) {
        duplicated.push_back(id);
        break;
      }
      found = std::move(p);
    }
    if (!found) {
      in.missing.push_back(id);
      found.emplace();
      found->image_id = id;
    }
    in.predictions.push_back(std::move(*found));
  }
  for (std::string& w : datasets::take_duplicate_key_warnings()) in.warnings.push_back(std::move(w));
  if (!duplicated.empty())
    throw InputError("", "--pred", fmt::format("{} image(s) have a prediction in more than one --pred folder: {} "
                                               "(folders: {})", duplicated.size(), list_ids(duplicated),
                                               join(in.files.pred_dirs)));
}

// --- scoring ---------------------------------------------------------------------------------------------------

/// The missing-prediction rule: an error listing them unless allow_missing (then one warning).
void check_missing(const GcgInputs& in, const GcgOptions& o, std::vector<std::string>& warnings) {
  if (in.missing.empty()) return;
  if (!o.allow_missing)
    throw InputError(join(in.files.pred_dirs), "",
                     fmt::format("{} of {} images have no prediction file (the official evaluation fails): {}. "
                                 "Pass --allow-missing to score them as empty predictions",
                                 in.missing.size(), in.caption_gt.image_ids.size(), list_ids(in.missing)));
  warnings.push_back(fmt::format("{} missing prediction file(s) scored as empty predictions (--allow-missing)",
                                 in.missing.size()));
}

struct Detections {
  mask::CocoDetections dets;
  std::vector<std::vector<mask::Rle>> pred_rles;  ///< [image][mask]
};

/// Detections as evaluate.py builds them: caption-GT image order, then pred_masks order, score 1.0, category 1.
/// The masks are decoded on `threads` workers, one flat index per mask; an error is the one a serial loop meets
/// first (metrics::parallel_for reports the smallest failing index, and a prediction on an image missing from the
/// mask GT fails at its first mask, before that mask is decoded). Counts the failure breakdown on the way.
Detections build_detections(const GcgInputs& in, const GtIndex& gt, GcgFailureBreakdown& fb, int threads) {
  Detections d;
  d.pred_rles.resize(in.predictions.size());
  struct Slot {
    uint32_t prediction, mask;
  };
  std::vector<Slot> slots;
  for (std::size_t i = 0; i < in.predictions.size(); ++i) {
    const grandf::Prediction& p = in.predictions[i];
    if (p.caption.empty()) ++fb.empty_caption;
    if (p.pred_masks.empty()) ++fb.no_masks;
    if (p.pred_masks.size() < p.phrases.size()) ++fb.fewer_masks_than_phrases;
    if (p.pred_masks.size() > p.phrases.size()) ++fb.more_masks_than_phrases;
    d.pred_rles[i].resize(p.pred_masks.size());
    for (std::size_t m = 0; m < p.pred_masks.size(); ++m)
      slots.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(m)});
  }
  d.dets.results.resize(slots.size());
  metrics::parallel_for(
      slots.size(), threads,
      [&](std::size_t j) {
        const grandf::Prediction& p = in.predictions[slots[j].prediction];
        const std::size_t m = slots[j].mask;
        auto it = gt.mask_image.find(p.image_id);
        if (it == gt.mask_image.end()) {
          if (m == 0)
            throw InputError(p.file, "", "image " + p.image_id + " is not in the mask GT " +
                                             in.files.mask_gt_file().string() + " (pycocotools' loadRes asserts)");
          return;
        }
        const mask::CocoImage& img = in.mask_gt.images[it->second];
        mask::Rle rle;
        try {
          rle = mask::to_rle(p.pred_masks[m], img.height, img.width, false);
        } catch (const mask::RleError& e) {
          throw InputError(p.file, "pred_masks[" + std::to_string(m) + "]", e.what());
        }
        mask::CocoInstance& det = d.dets.results[j];
        det.id = static_cast<int64_t>(j + 1);
        det.image = it->second;
        det.category_id = 1;
        det.score = 1.0;
        det.area = mask::area(rle);
        det.box = mask::to_bbox(rle);
        d.pred_rles[slots[j].prediction][m] = rle;
        det.rle = std::move(rle);
      },
      64);
  for (const mask::CocoInstance& det : d.dets.results) {
    const mask::CocoImage& img = in.mask_gt.images[det.image];
    if ((img.height || img.width) && (det.rle.h != img.height || det.rle.w != img.width)) ++fb.wrong_size_mask;
    if (det.area == 0) ++fb.empty_mask;
  }
  return d;
}

/// 1. AP: COCOeval segm with catIds = [1].
mask::CocoEvaluation score_ap(const GcgInputs& in, const Detections& d, const GcgOptions& o, GcgReport& r) {
  stage(o, "Running per image evaluation (segm, catIds=[1])...");
  mask::CocoParams params = mask::default_params(in.mask_gt, mask::IouType::kSegm);
  params.cat_ids = {1};
  params.strict_gt_id_zero = o.strict;
  if (d.dets.results.empty())
    r.warnings.push_back("no predicted masks in the whole split: pycocotools' loadRes would crash (IndexError); AP "
                         "is 0 where GT exists (docs/quirks.md, gcg)");
  mask::CocoEvaluation ev;
  try {
    ev = mask::evaluate(in.mask_gt, d.dets, params, o.threads);
    r.coco_stats = mask::summarize(mask::accumulate(ev, o.threads), ev.params);
  } catch (const std::invalid_argument& e) {
    throw InputError(in.files.mask_gt_file().string(), "", e.what());
  }
  r.coco_params = ev.params;
  stage_done(o);
  return ev;
}

/// 2. Captions: COCOEvalCap over the caption-GT images in GT order, one hypothesis each.
caption::EvalCapResult score_captions(const GcgInputs& in, const GtIndex& gt, const GcgOptions& o,
                                      const meteor::Scorer* scorer, GcgReport& r) {
  caption::EvalCapInput cin;
  const grandf::CaptionGt& cg = in.caption_gt;
  for (std::size_t i = 0; i < in.predictions.size(); ++i) {
    const std::string& id = cg.image_ids[i];
    auto c = gt.captions.find(id);
    if (c == gt.captions.end())
      throw InputError(in.files.caption_gt_file().string(), "image " + id,
                       "has no caption annotation (pycocoevalcap's scorers need at least one reference)");
    cin.image_ids.push_back(cg.image_ids_are_strings ? caption::ImageId::of(id)
                                                     : caption::ImageId::of(static_cast<int64_t>(std::stoll(id))));
    std::vector<std::string> refs;
    for (const auto* a : c->second) refs.push_back(a->caption);
    cin.refs.push_back(std::move(refs));
    cin.hyps.push_back(in.predictions[i].caption);
  }
  caption::EvalCapOptions copt;
  copt.metrics.meteor = r.with_meteor;
  copt.line_breaks = o.strict ? ptb::LineBreakMode::kStrict : ptb::LineBreakMode::kReference;
  copt.meteor = scorer;
  copt.threads = std::max(o.threads, 1);
  if (o.progress.note) copt.progress = o.progress.note;
  caption::EvalCapResult cap = caption::evaluate(cin, copt);
  r.warnings.insert(r.warnings.end(), cap.warnings.begin(), cap.warnings.end());
  if (r.failures.empty_caption == in.predictions.size())
    r.warnings.push_back("every predicted caption is empty: the official pipeline dies in the tokenizer/METEOR "
                         "pipe; caption scores are what the formulas give for empty hypotheses");
  r.caption_metrics = cap.metrics;
  r.bleu_total = cap.bleu_total;
  r.bleu_ratio = cap.bleu_ratio;
  return cap;
}

/// The GT masks mIoU and recall compare with, per caption-GT image. Throws InputError for GT that is not compressed
/// RLE (the official code decodes with maskUtils.decode).
std::vector<std::vector<mask::Rle>> gt_masks_per_image(const GcgInputs& in, const GtIndex& gt) {
  std::vector<std::vector<mask::Rle>> out(in.caption_gt.image_ids.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::string& id = in.caption_gt.image_ids[i];
    auto g = gt.masks.find(id);
    if (g == gt.masks.end()) continue;
    for (const auto* a : g->second) {
      if (!a->rle)
        throw InputError(in.files.mask_gt_file().string(), "image " + id,
                         "GT segmentation is " + a->form +
                             ", not compressed RLE: GLaMM's mIoU decodes GT masks with maskUtils.decode (TypeError "
                             "in the official evaluation)");
      out[i].push_back(*a->rle);
    }
  }
  return out;
}

struct MaskScores {
  std::vector<mask::GcgImageMiou> miou;
  std::vector<mask::GcgImageRecall> recall;
};

/// 3. mIoU and 4. recall matching per image, on options.threads workers (results in image order), then the
/// similarity's coverage check (its warning appended to `warnings`). A size mismatch is numpy's broadcast
/// ValueError, which fails the official run: the first such image is reported, naming its prediction file.
MaskScores score_masks(const GcgInputs& in, const GtIndex& gt, const Detections& d,
                       const std::vector<std::vector<mask::Rle>>& gt_rles, const GcgOptions& o,
                       std::vector<std::string>& warnings) {
  const std::size_t n = in.predictions.size();
  const PhraseSimilarity& sim = *o.similarity;
  {  // BERT: embed every GT label and predicted phrase once, batched, before the parallel loop
    std::vector<std::string> phrases;
    for (std::size_t i = 0; i < n; ++i) {
      auto c = gt.captions.find(in.caption_gt.image_ids[i]);
      if (c != gt.captions.end())
        phrases.insert(phrases.end(), c->second.front()->labels.begin(), c->second.front()->labels.end());
      phrases.insert(phrases.end(), in.predictions[i].phrases.begin(), in.predictions[i].phrases.end());
    }
    o.similarity->prepare(phrases);
  }
  MaskScores s{std::vector<mask::GcgImageMiou>(n), std::vector<mask::GcgImageRecall>(n)};
  std::vector<std::string> errors(n);
  metrics::parallel_for(n, std::max(o.threads, 1), [&](std::size_t i) {
    const std::size_t P = d.pred_rles[i].size(), G = gt_rles[i].size();
    std::vector<double> ious;  // P × G
    try {
      ious = mask::dense_iou_matrix_fast(d.pred_rles[i], gt_rles[i]);
    } catch (const mask::RleError& e) {
      errors[i] = e.what();
      return;
    }
    std::vector<double> t(ious.size());  // G × P for recall
    for (std::size_t p = 0; p < P; ++p)
      for (std::size_t g = 0; g < G; ++g) t[g * P + p] = ious[p * G + g];
    s.miou[i] = mask::gcg_image_miou_from_ious(std::move(ious), P, G, o.strict);
    const auto& pl = in.predictions[i].phrases;
    const std::vector<std::string>& gl = gt.captions.at(in.caption_gt.image_ids[i]).front()->labels;  // 1st caption
    auto pair_sim = [&](std::size_t gi, std::size_t pj) { return sim.similarity(gl[gi], pl[pj]); };
    s.recall[i] = mask::gcg_image_recall_from_ious(std::move(t), G, gl.size(), P, pl.size(), pair_sim, 0.5, 0.5,
                                                   o.strict);
  });
  if (std::string w = sim.check_coverage(); !w.empty()) warnings.push_back(w);  // none covered: throws
  for (std::size_t i = 0; i < n; ++i)
    if (!errors[i].empty()) throw InputError(in.predictions[i].file, "image " + in.predictions[i].image_id, errors[i]);
  return s;
}

/// One warning per cause of skipped recall, in the user's terms (per_sample.recall_skipped keeps the reference
/// error).
void recall_skip_warnings(const std::vector<GcgSample>& samples, std::vector<std::string>& warnings) {
  std::map<std::string, std::vector<std::string>> by_cause;
  for (const GcgSample& s : samples) {
    if (s.recall_skipped.empty()) continue;
    std::string cause = "more predicted masks than phrases";
    if (s.recall_skipped.rfind("ValueError", 0) == 0) cause = "predicted masks of another size than the GT masks";
    else if (s.recall_skipped.find("axis 0") != std::string::npos) cause = "more GT masks than GT phrases";
    by_cause[cause].push_back(s.image_id);
  }
  for (const auto& [cause, ids] : by_cause) {
    const bool one = ids.size() == 1;
    warnings.push_back(fmt::format(
        "recall: {} image{} ({}) {} {}; the official evaluation pairs each mask with the phrase of the same index, "
        "fails there and drops {} recall matches (the GT phrases still count), and so does this run. --strict pairs "
        "only masks that have a phrase and keeps {}",
        ids.size(), one ? "" : "s", list_ids(ids), one ? "has" : "have", cause, one ? "its" : "their",
        one ? "it" : "them"));
  }
}

/// COCOeval's record of each caption-GT image (category 1, area all), when it scored the image.
std::vector<std::optional<GcgCocoMatches>> coco_matches(const GcgInputs& in, const mask::CocoEvaluation& ev) {
  std::unordered_map<std::string, std::size_t> pos;
  for (std::size_t k = 0; k < ev.num_images(); ++k) pos[id_text(ev.params.img_ids[k])] = k;
  std::vector<std::optional<GcgCocoMatches>> out(in.caption_gt.image_ids.size());
  if (ev.params.area_rng.empty()) return out;
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto p = pos.find(in.caption_gt.image_ids[i]);
    if (p == pos.end()) continue;
    if (const mask::CocoImageEval* e = ev.eval_img(0, 0, p->second)) {
      GcgCocoMatches c;
      c.dt_scores = e->dt_scores;
      c.dt_matched = e->dt_matched;
      c.dt_ignore = e->dt_ignore;
      for (uint8_t g : e->gt_ignore) c.num_gt_not_ignored += g ? 0 : 1;
      out[i] = std::move(c);
    }
  }
  return out;
}

/// The per-sample records and the mIoU / recall totals.
void build_samples(const GcgInputs& in, const Detections& d, MaskScores&& m, const caption::EvalCapResult& cap,
                   const mask::CocoEvaluation& ev, GcgReport& r) {
  auto coco = coco_matches(in, ev);
  std::vector<double> mious;
  for (std::size_t i = 0; i < in.predictions.size(); ++i) {
    GcgSample s;
    s.image_id = in.caption_gt.image_ids[i];
    s.prediction_file = in.predictions[i].file;  // where the report's overlays find the predicted masks
    s.miou = m.miou[i].miou;
    s.miou_pairs = std::move(m.miou[i].pairs);
    mious.push_back(s.miou);
    mask::GcgImageRecall& rr = m.recall[i];
    s.recall_positives = rr.positives;
    r.recall_actual_positives += rr.positives;
    s.recall_skipped = rr.skipped;
    if (rr.skipped.empty()) r.recall_true_positives += rr.matches.size();
    s.recall_matches = std::move(rr.matches);
    s.caption = CaptionSampleScores::from_eval(cap.per_image[i], cap.hyps_tokenized[i], false, r.with_meteor);
    s.num_pred_masks = d.pred_rles[i].size();
    s.num_phrases = in.predictions[i].phrases.size();
    s.coco = std::move(coco[i]);
    r.samples.push_back(std::move(s));
  }
  r.miou = mious.empty() ? 0.0 : metrics::numpy_mean(mious);
  r.recall = r.recall_actual_positives > 0
                 ? static_cast<double>(r.recall_true_positives) / static_cast<double>(r.recall_actual_positives)
                 : 0.0;
}

}  // namespace

fs::path GcgFiles::caption_gt_file() const { return fs::path(gt_dir) / (split + "_gcg_coco_caption_gt.json"); }
fs::path GcgFiles::mask_gt_file() const { return fs::path(gt_dir) / (split + "_gcg_coco_mask_gt.json"); }

void validate_gcg_files(const GcgFiles& f) {
  if (f.split != "val" && f.split != "test")
    throw InputError("", "--split", "GCG has only the splits val and test (got '" + f.split + "')");
  if (f.pred_dirs.empty()) throw InputError("", "--pred", "give the predictions folder (one <image_id>.json each)");
  for (const std::string& dir : f.pred_dirs)
    if (!fs::is_directory(dir))
      throw InputError(dir, "--pred", fs::exists(dir) ? "not a folder (give the folder of <image_id>.json files)"
                                                      : "no such predictions folder");
}

GcgInputs load_gcg_inputs(const GcgFiles& files, const GcgOptions& o) {
  validate_gcg_files(files);
  GcgInputs in;
  in.files = files;
  stage(o, "loading GranD-f " + files.split + " ground truth...");
  in.caption_gt = grandf::load_caption_gt(files.caption_gt_file());
  datasets::CocoLoadOptions lo;
  lo.iou_type = mask::IouType::kSegm;
  lo.threads = std::max(o.threads, 1);
  in.mask_gt = datasets::load_coco_gt(files.mask_gt_file(), lo, in.warnings);
  in.mask_annotations = grandf::load_mask_gt_annotations(files.mask_gt_file());
  stage_done(o);
  stage(o, "reading predictions...");
  read_predictions(in);
  stage_done(o);
  return in;
}

GcgReport evaluate_gcg(const GcgInputs& in, const GcgOptions& o) {
  if (!o.similarity) throw std::invalid_argument("evaluate_gcg: options.similarity is required");
  if (in.predictions.size() != in.caption_gt.image_ids.size())
    throw std::invalid_argument("evaluate_gcg: one prediction per caption-GT image expected");
  GcgReport r;
  r.files = in.files;
  r.strict = o.strict;
  r.with_meteor = static_cast<bool>(o.meteor);
  if (!r.with_meteor) r.warnings.push_back("METEOR not computed: " + o.meteor_unavailable);
  r.warnings.insert(r.warnings.end(), in.warnings.begin(), in.warnings.end());
  check_missing(in, o, r.warnings);
  const GtIndex gt(in, o.strict);
  r.failures.missing_prediction = in.missing.size();
  const Detections d = build_detections(in, gt, r.failures, o.threads);
  const mask::CocoEvaluation ev = score_ap(in, d, o, r);
  const meteor::Scorer* scorer = nullptr;
  if (r.with_meteor) {
    GcgMeteor m = o.meteor(r.warnings);
    scorer = m.scorer;
    r.meteor_signature = std::move(m.signature);
  }
  const caption::EvalCapResult cap = score_captions(in, gt, o, scorer, r);
  stage(o, "computing mIoU and mask recall...");
  MaskScores masks = score_masks(in, gt, d, gt_masks_per_image(in, gt), o, r.warnings);
  build_samples(in, d, std::move(masks), cap, ev, r);
  recall_skip_warnings(r.samples, r.warnings);
  stage_done(o);
  r.num_images = in.predictions.size();
  r.num_pred_masks = d.dets.results.size();
  r.num_gt_masks = in.mask_gt.annotations.size();
  r.similarity_signature = o.similarity->signature();
  r.similarity_role = o.similarity->input_role();
  r.similarity_path = o.similarity->input_path();
  r.similarity_coverage = o.similarity->coverage();
  return r;
}

GcgReport run_gcg_task(const GcgFiles& files, const GcgOptions& options) {
  return evaluate_gcg(load_gcg_inputs(files, options), options);
}

double GcgReport::caption_metric(const std::string& name) const {
  for (const auto& [k, v] : caption_metrics)
    if (k == name) return v;
  return 0.0;
}

}  // namespace glamm::tasks
