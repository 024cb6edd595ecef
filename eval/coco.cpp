// `glamm-eval coco`: COCOeval (segm / bbox) on a COCO instances file and a results list, printing pycocotools
// 2.0.6's summarize() lines. Wires datasets/coco_json → metrics/mask/cocoeval → Result record; no metric math here.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <malloc.h>

#include "common/error.h"
#include "common/output_guard.h"
#include "common/result.h"
#include "datasets/coco_json.h"
#include "datasets/coco_sample.h"
#include "eval/command.h"
#include "eval/progress.h"
#include "metrics/mask/cocoeval.h"

namespace glamm::cli {
namespace {

struct CocoOptions {
  CommonOptions common;
  std::string gt, dt;
  std::string iou_type = "segm";
  std::vector<int64_t> cat_ids;
  std::vector<std::string> img_ids;
  int use_cats = 1;
  std::vector<int> max_dets = {1, 10, 100};
  bool sample = false;
};

constexpr const char* kStrictHelp =
    "Fix exactly two pycocotools 2.0.6 quirks (docs/quirks.md q7, q8): a GT annotation with id 0 can "
    "be matched (2.0.6 counts its detections as false positives), and segm results that also carry a bbox keep "
    "their mask areas (2.0.6 loadRes takes the bbox branch and uses w*h)";

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

void run_coco(const CocoOptions& o) {
  const bool use_sample = o.sample || (o.gt.empty() && o.dt.empty());
  {
    io::OutputGuard guard;
    if (!use_sample) guard.add_input(o.gt, "--gt"), guard.add_input(o.dt, "--dt");
    guard.check_output(o.common.json_path, "--json");
  }
  if (!use_sample && (o.gt.empty() || o.dt.empty()))
    throw InputError("", "", "coco needs both --gt and --dt (or neither / --sample for the built-in sample)");
  if (o.iou_type != "segm" && o.iou_type != "bbox")
    throw InputError("", "--iou-type", "must be segm or bbox, got '" + o.iou_type + "'");
  if (o.use_cats != 0 && o.use_cats != 1) throw InputError("", "--use-cats", "must be 0 or 1");
  if (o.max_dets.size() < 3)
    throw InputError("", "--max-dets", "needs at least 3 values (summarize reads maxDets[0..2])");
  for (int m : o.max_dets)
    if (m <= 0) throw InputError("", "--max-dets", "values must be positive");

  // Tens of thousands of RLE count vectors are allocated by the decoding threads: one arena that grows in 32 MiB
  // steps avoids thousands of page-by-page heap extensions (mprotect) in per-thread arenas (about 40% less
  // system time on the 5000-image benchmark). Affects only this process's allocator tuning, not results.
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_TOP_PAD, 32 << 20);
  const mask::IouType iou_type = o.iou_type == "segm" ? mask::IouType::kSegm : mask::IouType::kBbox;
  const int threads = resolve_threads(o.common);
  datasets::CocoLoadOptions lo;
  lo.iou_type = iou_type;
  lo.strict = o.common.strict;
  lo.threads = threads;
  lo.result_boxes = iou_type == mask::IouType::kBbox;  // segm never reads result boxes
  std::vector<std::string> warnings;
  Progress progress(o.common.quiet);

  progress.start("loading annotations into memory...");
  mask::CocoGroundTruth gt;
  mask::CocoDetections dt;
  const std::string gt_name = use_sample ? "<built-in sample gt>" : o.gt;
  const std::string dt_name = use_sample ? "<built-in sample results>" : o.dt;
  if (use_sample) {
    datasets::CocoSample s = datasets::builtin_coco_sample();
    gt = datasets::parse_coco_gt(s.gt_json, gt_name, lo, warnings);
    dt = datasets::parse_coco_results(s.dt_json, dt_name, gt, lo, warnings);
  } else {
    gt = datasets::load_coco_gt(o.gt, lo, warnings);
    dt = datasets::load_coco_results(o.dt, gt, lo, warnings);
  }
  progress.done();

  mask::CocoParams params = mask::default_params(gt, iou_type);
  if (!o.cat_ids.empty()) params.cat_ids = o.cat_ids;
  if (!o.img_ids.empty()) {
    params.img_ids.clear();
    for (const auto& s : o.img_ids) params.img_ids.push_back(datasets::parse_image_id_like(s, gt));
  }
  params.use_cats = o.use_cats == 1;
  params.max_dets = o.max_dets;
  params.strict_gt_id_zero = o.common.strict;

  mask::CocoEvaluation ev;
  mask::CocoAccumulation acc;
  std::vector<double> stats;
  try {
    progress.start(fmt::format("Running per image evaluation...\nEvaluate annotation type *{}*", o.iou_type));
    ev = mask::evaluate(gt, dt, params, threads);
    progress.done();
    progress.start("Accumulating evaluation results...");
    acc = mask::accumulate(ev);
    progress.done();
    stats = mask::summarize(acc, ev.params);
  } catch (const std::invalid_argument& e) {
    throw InputError("", "", e.what());
  }

  empty_selection_warning(gt, ev, gt_name, !o.img_ids.empty(), !o.cat_ids.empty(), warnings);
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  if (use_sample)
    std::cout << "glamm-eval coco: built-in sample (12 synthetic images, 3 categories; no input files), iouType="
              << o.iou_type << "\n";
  if (o.common.strict)
    std::cout << "strict: GT id 0 can be matched; segm results with a bbox keep their mask areas (docs/quirks.md q7, q8)\n";
  const auto items = mask::summary_items(ev.params);
  for (std::size_t j = 0; j < items.size(); ++j) std::cout << mask::summary_line(ev.params, items[j], stats[j]) << "\n";
  std::cout.flush();

  if (!o.common.json_path.empty()) {
    Result r;
    r.task = "coco";
    r.dataset = use_sample ? "builtin-sample" : "coco";
    r.label = o.common.label;
    const auto& names = mask::stat_names();
    for (std::size_t j = 0; j < stats.size(); ++j) r.metrics.emplace_back(names[j], stats[j]);
    r.signature.set("metric", "cocoeval");
    r.signature.set("reference", "pycocotools-2.0.6");
    r.signature.set("iouType", o.iou_type);
    r.signature.set("useCats", std::to_string(o.use_cats));
    std::string md;
    for (int m : ev.params.max_dets) md += (md.empty() ? "" : ",") + std::to_string(m);
    r.signature.set("maxDets", md);
    r.signature.set("strict", o.common.strict ? "on(gt_id_zero_matchable,segm_results_keep_mask_area)" : "off");
    if (use_sample) r.signature.set("data", kSyntheticSampleData);
    r.signature.set("version", tool_version());
    if (!use_sample) {
      r.add_input("gt", o.gt);
      r.add_input("dt", o.dt);
    }
    r.warnings = warnings;
    r.details["stats"] = stats;
    r.details["iou_type"] = o.iou_type;
    r.details["num_images"] = ev.params.img_ids.size();
    r.details["num_categories"] = ev.eval_cat_ids.size();
    r.details["num_gt"] = gt.annotations.size();
    r.details["num_dt"] = dt.results.size();
    write_record(o.common.json_path, r);
  }
}

void add_coco(CLI::App& app) {
  auto opts = std::make_shared<CocoOptions>();
  CLI::App* sub = app.add_subcommand(
      "coco",
      "COCOeval (pycocotools 2.0.6, iouType segm or bbox) on a COCO instances file and a results list; prints the "
      "12 summarize() lines. Without --gt/--dt it runs a built-in synthetic sample.");
  sub->add_option("--gt", opts->gt, "COCO instances JSON (images, annotations with area/iscrowd, categories)");
  sub->add_option("--dt", opts->dt, "Results JSON list (image_id, category_id, score, segmentation or bbox)");
  sub->add_option("--iou-type", opts->iou_type, "segm (masks) or bbox (boxes)")
      ->check(CLI::IsMember({"segm", "bbox"}))
      ->capture_default_str();
  sub->add_option("--cat-ids", opts->cat_ids, "params.catIds, comma-separated (default: all GT categories)")
      ->delimiter(',');
  sub->add_option("--img-ids", opts->img_ids, "params.imgIds, comma-separated (default: all GT images)")
      ->delimiter(',');
  sub->add_option("--use-cats", opts->use_cats, "params.useCats (0 or 1)")->capture_default_str();
  sub->add_option("--max-dets", opts->max_dets, "params.maxDets, comma-separated, at least 3 (default 1,10,100)")
      ->delimiter(',');
  sub->add_flag("--sample", opts->sample, "Evaluate the built-in synthetic sample (also the default with no --gt/--dt)");
  add_common_options(sub, opts->common, kStrictHelp);
  sub->callback([opts] { run_coco(*opts); });
}

GLAMM_REGISTER_COMMAND(10, add_coco);

}  // namespace
}  // namespace glamm::cli
