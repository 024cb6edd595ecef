#include "eval/tasks/coco.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <unordered_set>

#include <fmt/format.h>

#include "common/error.h"
#include "datasets/coco_json.h"
#include "datasets/coco_sample.h"

namespace glamm::tasks {

namespace {

/// Up to 5 ids of `ids` as text ("1, 2, 3, ..."), for a warning.
template <class T, class Fn>
std::string some_ids(const std::vector<T>& ids, Fn&& text) {
  std::string s;
  for (std::size_t j = 0; j < ids.size() && j < 5; ++j) s += (j ? ", " : "") + text(ids[j]);
  if (ids.size() > 5) s += ", ...";
  return s;
}

/// A selection that holds no GT image, or (useCats=1) no GT category, gives -1 for every statistic, as pycocotools
/// prints it without a word: add a warning that says so and why (docs/input-rules.md, coco inputs). Also when the
/// selection is not empty but holds no GT annotation (every statistic -1 all the same).
void empty_selection_warning(const mask::CocoGroundTruth& gt, const mask::CocoEvaluation& ev, const std::string& gt_name,
                             bool img_ids_given, bool cat_ids_given, std::vector<std::string>& warnings) {
  const auto& p = ev.params;
  const std::unordered_set<mask::ImageId> selected(p.img_ids.begin(), p.img_ids.end());
  std::vector<bool> image_selected(gt.images.size());
  std::size_t images = 0, categories = 0;
  for (std::size_t i = 0; i < gt.images.size(); ++i)
    if (selected.count(gt.images[i].id)) image_selected[i] = true, ++images;
  for (int64_t c : p.cat_ids)
    categories += std::count(gt.category_ids.begin(), gt.category_ids.end(), c) > 0;
  std::vector<std::string> what, why;
  if (images == 0) {
    what.push_back("images");
    why.push_back(img_ids_given ? fmt::format("--img-ids {} match no image of the GT",
                                              some_ids(p.img_ids, [](const mask::ImageId& i) {
                                                return i.display();
                                              }))
                                : std::string("the GT has no 'images'"));
  }
  if (p.use_cats && categories == 0) {
    what.push_back("categories");
    why.push_back(cat_ids_given ? fmt::format("--cat-ids {} match no category of the GT",
                                              some_ids(p.cat_ids, [](int64_t c) { return std::to_string(c); }))
                                : std::string("the GT has no 'categories' (or an empty list)"));
  }
  if (!what.empty()) {
    warnings.push_back(fmt::format(
        "{}: no ground-truth {} selected: every statistic is -1 (pycocotools prints -1.000 there too); {}", gt_name,
        what.size() == 2 ? "images and categories" : what[0], why.size() == 2 ? why[0] + "; " + why[1] : why[0]));
    return;
  }
  const bool any_gt = std::any_of(gt.annotations.begin(), gt.annotations.end(), [&](const mask::CocoInstance& a) {
    return image_selected[a.image] &&
           (!p.use_cats || std::count(p.cat_ids.begin(), p.cat_ids.end(), a.category_id) > 0);
  });
  if (!any_gt)
    warnings.push_back(fmt::format(
        "{}: no ground-truth annotation in the selected images/categories: every statistic is -1 (pycocotools "
        "prints -1.000 there too)",
        gt_name));
}

/// COCOeval.params from the options (defaults from the GT).
mask::CocoParams coco_params(const mask::CocoGroundTruth& gt, const CocoOptions& o) {
  mask::CocoParams params = mask::default_params(gt, o.iou_type);
  if (!o.cat_ids.empty()) params.cat_ids = o.cat_ids;
  if (!o.img_ids.empty()) {
    params.img_ids.clear();
    for (const auto& s : o.img_ids) params.img_ids.push_back(datasets::parse_image_id_like(s, gt));
  }
  params.use_cats = o.use_cats == 1;
  params.max_dets = o.max_dets;
  params.strict_gt_id_zero = o.strict;
  return params;
}

}  // namespace

mask::IouType parse_iou_type(const std::string& text) {
  if (text == "segm") return mask::IouType::kSegm;
  if (text == "bbox") return mask::IouType::kBbox;
  throw InputError("", "--iou-type", "must be segm or bbox, got '" + text + "'");
}

void check_coco_options(const CocoOptions& o) {
  if (o.use_cats != 0 && o.use_cats != 1) throw InputError("", "--use-cats", "must be 0 or 1");
  if (o.max_dets.size() < 3)
    throw InputError("", "--max-dets", "needs at least 3 values (summarize reads maxDets[0..2])");
  for (int m : o.max_dets)
    if (m <= 0) throw InputError("", "--max-dets", "values must be positive");
}

CocoInputs load_coco_inputs(const CocoFiles& files, const CocoOptions& o) {
  datasets::CocoLoadOptions lo;
  lo.iou_type = o.iou_type;
  lo.strict = o.strict;
  lo.threads = o.threads;
  lo.result_boxes = o.iou_type == mask::IouType::kBbox;  // segm never reads result boxes
  CocoInputs in;
  in.sample = files.sample;
  if (files.sample) {
    in.gt_name = "<built-in sample gt>";
    in.dt_name = "<built-in sample results>";
    const datasets::CocoSample s = datasets::builtin_coco_sample();
    in.gt = datasets::parse_coco_gt(s.gt_json, in.gt_name, lo, in.warnings);
    in.dt = datasets::parse_coco_results(s.dt_json, in.dt_name, in.gt, lo, in.warnings);
  } else {
    in.gt_file = in.gt_name = files.gt;
    in.dt_file = in.dt_name = files.dt;
    std::tie(in.gt, in.dt) = datasets::load_coco_files(files.gt, files.dt, lo, in.warnings);
  }
  return in;
}

CocoReport evaluate_coco(const CocoInputs& in, const CocoOptions& o) {
  CocoReport r;
  const mask::CocoParams params = coco_params(in.gt, o);
  mask::CocoEvaluation ev;
  try {
    if (o.stage_started)
      o.stage_started(fmt::format("Running per image evaluation...\nEvaluate annotation type *{}*",
                                  mask::iou_type_name(o.iou_type)));
    ev = mask::evaluate(in.gt, in.dt, params, o.threads);
    if (o.stage_done) o.stage_done();
    if (o.stage_started) o.stage_started("Accumulating evaluation results...");
    const mask::CocoAccumulation acc = mask::accumulate(ev, o.threads);
    if (o.stage_done) o.stage_done();
    r.stats = mask::summarize(acc, ev.params);
  } catch (const std::invalid_argument& e) {  // parameters COCOeval rejects
    throw InputError("", "", e.what());
  }
  const auto items = mask::summary_items(ev.params);
  for (std::size_t j = 0; j < items.size(); ++j) r.summary_lines.push_back(mask::summary_line(ev.params, items[j], r.stats[j]));
  r.iou_type = o.iou_type;
  r.use_cats = o.use_cats;
  r.max_dets = ev.params.max_dets;
  r.num_images = ev.params.img_ids.size();
  r.num_categories = ev.eval_cat_ids.size();
  r.num_gt = in.gt.annotations.size();
  r.num_dt = in.dt.results.size();
  r.warnings = in.warnings;
  empty_selection_warning(in.gt, ev, in.gt_name, !o.img_ids.empty(), !o.cat_ids.empty(), r.warnings);
  r.strict = o.strict;
  r.sample = in.sample;
  r.gt_file = in.gt_file;
  r.dt_file = in.dt_file;
  r.evaluation = std::make_shared<const mask::CocoEvaluation>(std::move(ev));
  return r;
}

Result to_record(const CocoReport& r, const std::string& label) {
  Result out;
  out.task = "coco";
  out.dataset = r.sample ? "builtin-sample" : "coco";
  out.label = label;
  const auto& names = mask::stat_names();
  for (std::size_t j = 0; j < r.stats.size(); ++j) out.metrics.emplace_back(names[j], r.stats[j]);
  out.signature.set("metric", "cocoeval");
  out.signature.set("reference", "pycocotools-2.0.6");
  out.signature.set("iouType", mask::iou_type_name(r.iou_type));
  out.signature.set("useCats", std::to_string(r.use_cats));
  std::string md;
  for (int m : r.max_dets) md += (md.empty() ? "" : ",") + std::to_string(m);
  out.signature.set("maxDets", md);
  out.signature.set("strict", coco_quirks().signature_value(r.strict));
  if (r.sample) out.signature.set("data", kSyntheticSampleData);
  out.signature.set("version", tool_version());
  if (!r.sample) {
    out.add_input("gt", r.gt_file);
    out.add_input("dt", r.dt_file);
  }
  out.warnings = r.warnings;
  out.details["stats"] = r.stats;
  out.details["iou_type"] = mask::iou_type_name(r.iou_type);
  out.details["num_images"] = r.num_images;
  out.details["num_categories"] = r.num_categories;
  out.details["num_gt"] = r.num_gt;
  out.details["num_dt"] = r.num_dt;
  return out;
}

const QuirkTable& coco_quirks() {
  static const QuirkTable table{
      "coco",
      "GT id 0 can be matched; segm results with a bbox keep their mask areas",
      {{"q7", "gt_id_zero_matchable",
        "a detection may match a GT annotation with id 0 (pycocotools 2.0.6 reads id 0 as unmatched and counts the "
        "detection as a false positive)"},
       {"q8", "segm_results_keep_mask_area",
        "segm results that also carry a bbox keep their mask areas (2.0.6 loadRes takes its bbox branch and uses "
        "w*h)"}},
      ""};
  return table;
}

}  // namespace glamm::tasks
