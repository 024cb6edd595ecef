// COCOeval behaviour on small inline fixtures: §3.9 empty results, string image ids, strict items 7/8, loadAnns with
// repeated ids, useCats=0, summarize formatting and NumPy-exact means, and loader errors that name file and record.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "datasets/coco_json.h"
#include "datasets/coco_sample.h"
#include "metrics/mask/cocoeval.h"
#include "metrics/numeric.h"

namespace glamm::mask {
namespace {

using nlohmann::json;

/// Compressed RLE (JSON) of the axis-aligned box of pixels x0..x0+w-1, y0..y0+h-1 on an H×W image.
json box_rle(uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t H = 100, uint32_t W = 100) {
  std::vector<uint8_t> m(static_cast<std::size_t>(H) * W, 0);
  for (uint32_t x = x0; x < x0 + w; ++x)
    for (uint32_t y = y0; y < y0 + h; ++y) m[static_cast<std::size_t>(x) * H + y] = 1;
  Rle r = encode(m.data(), H, W);
  return {{"size", {H, W}}, {"counts", to_string(r)}};
}

/// A GT file (vectors, not braced json, so that a one-element list stays a list).
json gt_file(const std::vector<json>& images, const std::vector<json>& anns,
             const std::vector<json>& cats = {json{{"id", 1}}}) {
  json j;
  j["images"] = images;
  j["annotations"] = anns;
  j["categories"] = cats;
  return j;
}

json image(const json& id) { return {{"id", id}, {"height", 100}, {"width", 100}}; }

json gt_ann(int64_t id, const json& img, const json& seg, double area, int cat = 1, int crowd = 0) {
  return {{"id", id}, {"image_id", img}, {"category_id", cat}, {"segmentation", seg}, {"area", area}, {"iscrowd", crowd}};
}

json result(const json& img, const json& seg, double score, int cat = 1) {
  return {{"image_id", img}, {"category_id", cat}, {"segmentation", seg}, {"score", score}};
}

struct Outcome {
  CocoGroundTruth gt;
  CocoDetections dt;
  CocoEvaluation ev;
  CocoAccumulation acc;
  std::vector<double> stats;
  std::vector<std::string> warnings;
};

Outcome run(const json& gt, const json& dt, bool strict = false, int threads = 1,
            IouType type = IouType::kSegm, bool use_cats = true) {
  Outcome o;
  datasets::CocoLoadOptions lo;
  lo.iou_type = type;
  lo.strict = strict;
  lo.threads = threads;
  o.gt = datasets::parse_coco_gt(gt.dump(), "gt.json", lo, o.warnings);
  o.dt = datasets::parse_coco_results(dt.dump(), "dt.json", o.gt, lo, o.warnings);
  CocoParams p = default_params(o.gt, type);
  p.strict_gt_id_zero = strict;
  p.use_cats = use_cats;
  o.ev = evaluate(o.gt, o.dt, p, threads);
  o.acc = accumulate(o.ev);
  o.stats = summarize(o.acc, o.ev.params);
  return o;
}

bool has_warning(const Outcome& o, const std::string& needle) {
  return std::any_of(o.warnings.begin(), o.warnings.end(),
                     [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

// ---------------------------------------------------------------------------------------------------------------

TEST(CocoEval, EmptyResultListScoresZeroWhereGtExistsAndMinusOneElsewhereWithWarning) {
  // Two small GT objects (area 100): 'all' and 'small' have GT, 'medium' and 'large' none (mask-metrics.md §3.9).
  json gt = gt_file({image(1), image(2)},
                    {gt_ann(1, 1, box_rle(10, 10, 10, 10), 100), gt_ann(2, 2, box_rle(50, 50, 10, 10), 100)});
  Outcome o = run(gt, json::array());
  const std::vector<double> want = {0, 0, 0, 0, -1, -1, 0, 0, 0, 0, -1, -1};
  EXPECT_EQ(o.stats, want);
  EXPECT_TRUE(has_warning(o, "result list is empty"));
  EXPECT_TRUE(o.dt.results.empty());
}

TEST(CocoEval, StringImageIdsAreOrderedLexicographicallyForTiedScores) {
  // "img10" < "img9" as strings: the tied FP of img10 comes before the TP of img9 in the PR curve.
  json gt = gt_file({image("img9"), image("img10")}, {gt_ann(1, "img9", box_rle(10, 10, 10, 10), 100),
                                                      gt_ann(2, "img10", box_rle(10, 10, 10, 10), 100)});
  json dt = json::array({result("img9", box_rle(10, 10, 10, 10), 1.0), result("img10", box_rle(60, 60, 10, 10), 1.0)});
  Outcome o = run(gt, dt);
  ASSERT_EQ(o.ev.params.img_ids.size(), 2u);
  EXPECT_EQ(o.ev.params.img_ids[0].text, "img10");
  EXPECT_EQ(o.ev.params.img_ids[1].text, "img9");
  // FP then TP: precision 0.5 up to recall 0.5, then 0 → AP = (51 * 0.5 * 10) / 1010 exactly.
  EXPECT_EQ(o.stats[0], 255.0 / 1010.0);

  // The same with integer ids 10 and 9: numeric order puts the TP (image 9) first and AP rises.
  json gt_int = gt_file({image(9), image(10)},
                        {gt_ann(1, 9, box_rle(10, 10, 10, 10), 100), gt_ann(2, 10, box_rle(10, 10, 10, 10), 100)});
  json dt_int = json::array({result(9, box_rle(10, 10, 10, 10), 1.0), result(10, box_rle(60, 60, 10, 10), 1.0)});
  Outcome n = run(gt_int, dt_int);
  EXPECT_EQ(n.ev.params.img_ids[0].number, 9);
  EXPECT_GT(n.stats[0], 0.5);
}

TEST(CocoEval, SegmResultWithBboxTakesBoxAreaByDefaultAndMaskAreaUnderStrict) {
  // A high-scoring FP whose mask is small (100 px) but whose bbox is 40x40 (1600: medium), then the TP.
  json gt = gt_file({image(1)}, {gt_ann(1, 1, box_rle(10, 10, 10, 10), 100)});
  json fp = result(1, box_rle(60, 50, 10, 10), 0.9);
  fp["bbox"] = {55, 45, 40, 40};
  json tp = result(1, box_rle(10, 10, 10, 10), 0.8);
  tp["bbox"] = {10, 10, 10, 10};
  json dt = json::array({fp, tp});

  Outcome def = run(gt, dt, false);
  EXPECT_EQ(def.dt.results[0].area, 1600.0);  // loadRes bbox branch: w*h
  EXPECT_EQ(def.dt.results[1].area, 100.0);
  EXPECT_TRUE(has_warning(def, "carry both 'bbox' and 'segmentation'"));
  // 'small': the FP (area 1600, unmatched) is ignored, only the TP counts.
  EXPECT_NEAR(def.stats[3], 1.0, 1e-15);
  EXPECT_EQ(def.stats[4], -1.0);  // no medium GT

  Outcome strict = run(gt, dt, true);
  EXPECT_EQ(strict.dt.results[0].area, 100.0);  // mask pixel count (segm branch)
  EXPECT_EQ(strict.dt.results[0].box[2], 40.0);  // the given bbox is kept
  // 'small': FP first, then TP → precision 0.5 at every recall threshold.
  EXPECT_EQ(strict.stats[3], 0.5);
  EXPECT_EQ(def.stats[0], strict.stats[0]);  // 'all' sees the FP either way
}

TEST(CocoEval, GtIdZeroCountsAsUnmatchedUnlessStrict) {
  json gt = gt_file({image(1)}, {gt_ann(0, 1, box_rle(10, 10, 10, 10), 100)});
  json dt = json::array({result(1, box_rle(10, 10, 10, 10), 0.9)});
  Outcome def = run(gt, dt, false);
  EXPECT_EQ(def.stats[0], 0.0);
  EXPECT_EQ(def.stats[8], 0.0);
  Outcome strict = run(gt, dt, true);
  EXPECT_NEAR(strict.stats[0], 1.0, 1e-15);
  EXPECT_EQ(strict.stats[8], 1.0);
}

TEST(CocoEval, RepeatedGtIdsLoadTheLastAnnotationLikePycocotools) {
  // Two annotations share id 7 (image 1 and image 2). getAnnIds finds both; loadAnns returns the LAST for each
  // hit, so image 2 gets it twice and image 1 none: the exact detection on image 1 is a false positive.
  json gt = gt_file({image(1), image(2)},
                    {gt_ann(7, 1, box_rle(10, 10, 10, 10), 100), gt_ann(7, 2, box_rle(50, 50, 10, 10), 100)});
  json dt = json::array({result(1, box_rle(10, 10, 10, 10), 0.9)});
  Outcome o = run(gt, dt);
  EXPECT_TRUE(has_warning(o, "repeat an earlier annotation id"));
  const CocoIouMatrix* img2 = o.ev.ious(0, 1);
  ASSERT_NE(img2, nullptr);
  EXPECT_EQ(img2->gt_ids, (std::vector<int64_t>{7, 7}));
  const CocoImageEval* e1 = o.ev.eval_img(0, 0, 0);
  ASSERT_NE(e1, nullptr);
  EXPECT_TRUE(e1->gt_ids.empty());
  EXPECT_EQ(o.stats[8], 0.0);
}

TEST(CocoEval, UseCatsZeroMatchesAcrossCategories) {
  std::vector<json> cats = {json{{"id", 1}}, json{{"id", 2}}};
  json gt = gt_file({image(1)}, {gt_ann(1, 1, box_rle(10, 10, 10, 10), 100, 1)}, cats);
  json dt = json::array({result(1, box_rle(10, 10, 10, 10), 0.9, 2)});
  Outcome with_cats = run(gt, dt, false, 1, IouType::kSegm, true);
  EXPECT_EQ(with_cats.stats[8], 0.0);  // category 1 has the GT, category 2 only an FP
  Outcome no_cats = run(gt, dt, false, 1, IouType::kSegm, false);
  EXPECT_EQ(no_cats.ev.eval_cat_ids, (std::vector<int64_t>{-1}));
  EXPECT_EQ(no_cats.stats[8], 1.0);
}

TEST(CocoEval, CrowdGtAbsorbsSeveralDetectionsWithoutCountingThem) {
  // A crowd region (uncompressed RLE) and two detections inside it: matched to the crowd → ignored, not FPs.
  Rle crowd = from_bbox({0, 0, 50, 50}, 100, 100);
  json gt = gt_file({image(1)}, {gt_ann(1, 1, box_rle(60, 60, 10, 10), 100),
                                 gt_ann(2, 1, {{"size", {100, 100}}, {"counts", crowd.counts}}, 2500, 1, 1)});
  json dt = json::array({result(1, box_rle(5, 5, 10, 10), 0.95), result(1, box_rle(20, 20, 10, 10), 0.94),
                         result(1, box_rle(60, 60, 10, 10), 0.5)});
  Outcome o = run(gt, dt);
  const CocoImageEval* e = o.ev.eval_img(0, 0, 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->gt_ids, (std::vector<int64_t>{1, 2}));  // crowd (ignored) last
  EXPECT_EQ(e->dt_matches[0], 2);
  EXPECT_EQ(e->dt_matches[1], 2);
  EXPECT_EQ(e->dt_ignore[0], 1);
  EXPECT_NEAR(o.stats[0], 1.0, 1e-15);
}

/// cocoeval.py's evaluateImg matching loop written out literally over computeIoU's matrix (no shortcuts), for
/// the property test below: fills dt_matches, gt_matches and dt_ignore ([T][D], [T][G], [T][D]; gts in
/// `_ignore`-mergesort order) of one cell and area range.
void reference_evaluate_img(const CocoIouMatrix& mat, const std::vector<const CocoInstance*>& g_by_col,
                            const std::vector<const CocoInstance*>& d_by_row, const CocoParams& p,
                            const std::array<double, 2>& rng, std::vector<int64_t>& dtm, std::vector<int64_t>& gtm,
                            std::vector<uint8_t>& dt_ig) {
  const std::size_t G = g_by_col.size(), D = d_by_row.size(), T = p.iou_thrs.size();
  std::vector<int> gt_ig(G);
  for (std::size_t g = 0; g < G; ++g)
    gt_ig[g] = g_by_col[g]->iscrowd || g_by_col[g]->area < rng[0] || g_by_col[g]->area > rng[1];
  std::vector<std::size_t> gtind;
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t g = 0; g < G; ++g)
      if (gt_ig[g] == pass) gtind.push_back(g);
  dtm.assign(T * D, 0);
  gtm.assign(T * G, 0);
  dt_ig.assign(T * D, 0);
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t d = 0; d < D; ++d) {
      double iou = std::min(p.iou_thrs[t], 1 - 1e-10);
      long m = -1;
      for (std::size_t gi = 0; gi < G; ++gi) {
        const std::size_t g = gtind[gi];
        if (gtm[t * G + gi] > 0 && !g_by_col[g]->iscrowd) continue;
        if (m > -1 && gt_ig[gtind[static_cast<std::size_t>(m)]] == 0 && gt_ig[g] == 1) break;
        if (mat.values[d * G + g] < iou) continue;
        iou = mat.values[d * G + g];
        m = static_cast<long>(gi);
      }
      if (m == -1) continue;
      const std::size_t mg = gtind[static_cast<std::size_t>(m)];
      dt_ig[t * D + d] = static_cast<uint8_t>(gt_ig[mg]);
      dtm[t * D + d] = g_by_col[mg]->id;
      gtm[t * G + static_cast<std::size_t>(m)] = d_by_row[d]->id;
    }
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t d = 0; d < D; ++d)
      if (dtm[t * D + d] == 0 && (d_by_row[d]->area < rng[0] || d_by_row[d]->area > rng[1])) dt_ig[t * D + d] = 1;
}

TEST(CocoEval, MatchingEqualsTheLiteralEvaluateImgLoopOnRandomCells) {
  // Random bbox cells with IoU ties (coarse grid), crowds, areas on both sides of every range, and boxes so
  // large that their IoU is NaN (inf/inf): evaluate() must give what the unshortened loop gives.
  uint64_t state = 12345;
  auto next = [&state](uint32_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>((state >> 33) % n);
  };
  CocoGroundTruth gt;
  CocoDetections dt;
  gt.category_ids = {1, 2};
  const double areas[] = {10, 32 * 32, 1500, 96 * 96, 20000, 1e10};
  // One random instance on image i, numbered after the `list` it joins; boxes on a coarse grid (ties), or
  // huge (NaN IoUs).
  auto add = [&](std::vector<CocoInstance>& list, uint32_t i, bool is_gt) {
    CocoInstance a;
    a.id = static_cast<int64_t>(list.size()) + 1;
    a.image = i;
    a.category_id = 1 + next(2);
    a.area = areas[next(6)];
    if (is_gt) a.iscrowd = next(6) == 0;
    else a.score = 0.1 * next(10);
    if (next(8) == 0) {
      a.box = {0, 0, 1e308, 1e308};
    } else {
      a.box = {5.0 * next(6), 5.0 * next(6), 5.0 * (1 + next(5)), 5.0 * (1 + next(5))};
    }
    list.push_back(a);
  };
  for (uint32_t i = 0; i < 150; ++i) {
    gt.images.push_back({ImageId(int64_t{i} + 1), 100, 100});
    const uint32_t ng = next(7), nd = next(9);
    for (uint32_t j = 0; j < ng; ++j) add(gt.annotations, i, true);
    for (uint32_t j = 0; j < nd; ++j) add(dt.results, i, false);
  }
  const CocoParams p = default_params(gt, IouType::kBbox);
  const CocoEvaluation ev = evaluate(gt, dt, p, 2);
  std::size_t cells = 0, nan_cells = 0, matches = 0;
  for (std::size_t k = 0; k < ev.eval_cat_ids.size(); ++k)
    for (std::size_t i = 0; i < ev.num_images(); ++i) {
      const CocoIouMatrix* mat = ev.ious(k, i);
      if (!mat) continue;
      std::vector<const CocoInstance*> g_by_col, d_by_row;
      for (int64_t id : mat->gt_ids) g_by_col.push_back(&gt.annotations[static_cast<std::size_t>(id - 1)]);
      for (int64_t id : mat->dt_ids) d_by_row.push_back(&dt.results[static_cast<std::size_t>(id - 1)]);
      nan_cells += std::any_of(mat->values.begin(), mat->values.end(), [](double v) { return std::isnan(v); });
      for (std::size_t a = 0; a < p.area_rng.size(); ++a) {
        std::vector<int64_t> dtm, gtm;
        std::vector<uint8_t> dt_ig;
        reference_evaluate_img(*mat, g_by_col, d_by_row, ev.params, ev.params.area_rng[a], dtm, gtm, dt_ig);
        const CocoImageEval* e = ev.eval_img(k, a, i);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->dt_matches, dtm) << "k " << k << " image " << i << " area " << a;
        EXPECT_EQ(e->gt_matches, gtm) << "k " << k << " image " << i << " area " << a;
        EXPECT_EQ(e->dt_ignore, dt_ig) << "k " << k << " image " << i << " area " << a;
        matches += static_cast<std::size_t>(std::count_if(dtm.begin(), dtm.end(), [](int64_t v) { return v != 0; }));
      }
      ++cells;
    }
  // The fixture exercises what it is meant to: many cells, NaN IoUs, and matches.
  EXPECT_GT(cells, 150u);
  EXPECT_GT(nan_cells, 3u);
  EXPECT_GT(matches, 500u);
}

TEST(CocoEval, ResultsDoNotDependOnThreadCount) {
  datasets::CocoSample s = datasets::builtin_coco_sample();
  json gt = json::parse(s.gt_json), dt = json::parse(s.dt_json);
  Outcome one = run(gt, dt, false, 1);
  Outcome three = run(gt, dt, false, 3);
  EXPECT_EQ(one.stats, three.stats);
  EXPECT_EQ(one.acc.precision, three.acc.precision);
  EXPECT_EQ(one.acc.recall, three.acc.recall);
}

TEST(CocoEval, BuiltinSampleIsDeterministicAndExercisesEveryForm) {
  datasets::CocoSample a = datasets::builtin_coco_sample(), b = datasets::builtin_coco_sample();
  EXPECT_EQ(a.gt_json, b.gt_json);
  EXPECT_EQ(a.dt_json, b.dt_json);
  json gt = json::parse(a.gt_json);
  int polygons = 0, compressed = 0, uncompressed = 0, crowd = 0;
  for (const auto& ann : gt["annotations"]) {
    const auto& s = ann["segmentation"];
    if (s.is_array()) ++polygons;
    else if (s["counts"].is_string()) ++compressed;
    else ++uncompressed;
    crowd += ann["iscrowd"].get<int>();
  }
  EXPECT_GT(polygons, 0);
  EXPECT_GT(compressed, 0);
  EXPECT_GT(uncompressed, 0);
  EXPECT_EQ(crowd, 2);
  EXPECT_EQ(gt["images"].size(), 12u);
  Outcome o = run(gt, json::parse(a.dt_json));
  for (double v : o.stats) EXPECT_TRUE(v == -1.0 || (v >= 0 && v <= 1));
  EXPECT_GT(o.stats[0], 0.0);
}

// ---------------------------------------------------------------------------------------------------------------
// Params, summarize

TEST(CocoEvalParams, DefaultThresholdsAreNumpyLinspace) {
  CocoParams p = default_params(CocoGroundTruth{}, IouType::kSegm);
  ASSERT_EQ(p.iou_thrs.size(), 10u);
  ASSERT_EQ(p.rec_thrs.size(), 101u);
  EXPECT_EQ(p.iou_thrs[0], 0.5);
  EXPECT_EQ(p.iou_thrs[5], 0.75);  // summarize selects it with ==
  EXPECT_EQ(p.iou_thrs[9], 0.95);
  EXPECT_EQ(p.iou_thrs[1], 0.45 / 9 + 0.5);  // i * step + start, step = (0.95 - 0.5) / 9
  EXPECT_EQ(p.rec_thrs[7], 7 * 0.01);
  EXPECT_EQ(p.rec_thrs[100], 1.0);
  EXPECT_EQ(p.area_rng[2][0], 1024.0);
  EXPECT_EQ(p.area_rng[2][1], 9216.0);
}

TEST(CocoEvalSummarize, LinesUsePycocotoolsFormat) {
  CocoParams p = default_params(CocoGroundTruth{}, IouType::kSegm);
  auto items = summary_items(p);
  EXPECT_EQ(summary_line(p, items[0], 0.3195452758576433),
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.320");
  EXPECT_EQ(summary_line(p, items[1], 0.5622883972521636),
            " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.562");
  EXPECT_EQ(summary_line(p, items[4], -1),
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000");
  EXPECT_EQ(summary_line(p, items[6], 0.2682297225711534),
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.268");
}

TEST(CocoEvalSummarize, FirstStatUsesLiteralMaxDets100) {
  // summarizeDets: stats[0] = _summarize(1) with maxDets=100, the others maxDets[2].
  CocoParams p = default_params(CocoGroundTruth{}, IouType::kSegm);
  p.max_dets = {1, 10, 50};
  auto items = summary_items(p);
  EXPECT_EQ(items[0].max_dets, 100);
  EXPECT_EQ(items[1].max_dets, 50);
  p.max_dets = {1, 10};
  EXPECT_THROW(summary_items(p), std::invalid_argument);
}

TEST(CocoEvalSummarize, MeanAddsInNumpyBlocksOf8192) {
  // np.mean of 20000 values (numpy 1.24.2): 0.5059535168032379; one pairwise sum over all gives ...377.
  std::vector<double> a(20000);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>((i * 7919) % 10007) / 10007.0 + 1e-3 * (i % 13);
  EXPECT_EQ(metrics::numpy_mean(a), 0.5059535168032379);
}

// ---------------------------------------------------------------------------------------------------------------
// Loader errors name the file and the record

template <class Fn>
std::string input_error(Fn fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

const json kGt = gt_file({image(1)}, {gt_ann(1, 1, box_rle(10, 10, 10, 10), 100)});

std::string load_results_error(const std::string& text, IouType type = IouType::kSegm) {
  return input_error([&] {
    std::vector<std::string> w;
    datasets::CocoLoadOptions lo;
    lo.iou_type = type;
    auto gt = datasets::parse_coco_gt(kGt.dump(), "gt.json", lo, w);
    datasets::parse_coco_results(text, "dt.json", gt, lo, w);
  });
}

std::string load_gt_error(const json& gt, IouType type = IouType::kSegm) {
  return input_error([&] {
    std::vector<std::string> w;
    datasets::CocoLoadOptions lo;
    lo.iou_type = type;
    datasets::parse_coco_gt(gt.dump(), "gt.json", lo, w);
  });
}

json good_result() { return result(1, box_rle(10, 10, 10, 10), 0.5); }

json without(json j, const char* key) {
  j.erase(key);
  return j;
}

TEST(CocoLoaderErrors, MalformedJsonNamesTheFile) {
  EXPECT_NE(load_results_error("[{\"image_id\": 1,").find("dt.json: invalid JSON at line 1, column 17 (byte 16)"), std::string::npos);
  EXPECT_NE(input_error([] {
              std::vector<std::string> w;
              datasets::parse_coco_gt("{\"images\": [}", "gt.json", {}, w);
            }).find("gt.json: invalid JSON at"),
            std::string::npos);
}

TEST(CocoLoaderErrors, MissingResultFieldsNameTheRecord) {
  for (const char* key : {"image_id", "category_id", "score", "segmentation"}) {
    json dt = json::array({good_result(), without(good_result(), key)});
    std::string e = load_results_error(dt.dump());
    EXPECT_NE(e.find("dt.json: results[1]"), std::string::npos) << e;
    EXPECT_NE(e.find(key), std::string::npos) << e;
  }
}

TEST(CocoLoaderErrors, ResultOnImageAbsentFromGtIsRejected) {
  json dt = json::array({good_result(), result(42, box_rle(1, 1, 2, 2), 0.1)});
  std::string e = load_results_error(dt.dump());
  EXPECT_NE(e.find("dt.json: results[1]: image_id 42 is not an image of the ground truth"), std::string::npos) << e;
  json dt_str = json::array({result("1", box_rle(1, 1, 2, 2), 0.1)});  // "1" is not 1
  EXPECT_NE(load_results_error(dt_str.dump()).find("image_id \"1\""), std::string::npos);
}

TEST(CocoLoaderErrors, BadResultsShapeAndMasks) {
  EXPECT_NE(load_results_error("{\"image_id\": 1}").find("must be a JSON array"), std::string::npos);
  json bad_rle = good_result();
  bad_rle["segmentation"]["counts"] = "~~~";
  std::string e = load_results_error(json::array({good_result(), bad_rle}).dump());
  EXPECT_NE(e.find("dt.json: results[1]: segmentation:"), std::string::npos) << e;
  json no_branch = {{"image_id", 1}, {"category_id", 1}, {"score", 1.0}};
  EXPECT_NE(load_results_error(json::array({no_branch}).dump()).find("neither a non-empty 'bbox' nor a 'segmentation'"),
            std::string::npos);
  json bbox_first = {{"image_id", 1}, {"category_id", 1}, {"score", 1.0}, {"bbox", {1, 2, 3, 4}}};
  std::string e2 = load_results_error(json::array({bbox_first, good_result()}).dump());  // bbox branch, segm eval
  EXPECT_NE(e2.find("dt.json: results[1]: missing field 'bbox'"), std::string::npos) << e2;
}

TEST(CocoLoaderErrors, MissingGtFieldsNameTheAnnotation) {
  for (const char* key : {"area", "segmentation", "image_id", "category_id", "iscrowd", "id"}) {
    json gt = kGt;
    gt["annotations"][0].erase(key);
    std::string e = load_gt_error(gt);
    EXPECT_NE(e.find("gt.json: annotations[0]"), std::string::npos) << e;
    EXPECT_NE(e.find(key), std::string::npos) << e;
  }
  json gt = kGt;
  gt["annotations"][0]["area"] = "big";
  EXPECT_NE(load_gt_error(gt).find("gt.json: annotations[0] (id 1): field 'area' must be a number"), std::string::npos);
  json no_box = kGt;  // bbox evaluation needs GT boxes
  EXPECT_NE(load_gt_error(no_box, IouType::kBbox).find("missing field 'bbox'"), std::string::npos);
}

TEST(CocoLoaderErrors, MixedImageIdTypesAreRejected) {
  json gt = gt_file({image(1), image("2")}, {});
  EXPECT_NE(load_gt_error(gt).find("gt.json: images[1]: image ids mix integers and strings"), std::string::npos);
}

TEST(CocoLoader, LoadResAssignsIdsAreasAndBoxes) {
  json dt = json::array({good_result(), result(1, box_rle(0, 0, 3, 5), 0.7)});
  std::vector<std::string> w;
  datasets::CocoLoadOptions lo;
  auto gt = datasets::parse_coco_gt(kGt.dump(), "gt.json", lo, w);
  auto res = datasets::parse_coco_results(dt.dump(), "dt.json", gt, lo, w);
  ASSERT_EQ(res.results.size(), 2u);
  EXPECT_EQ(res.results[1].id, 2);
  EXPECT_EQ(res.results[1].area, 15.0);
  EXPECT_EQ(res.results[1].box, (Box{0, 0, 3, 5}));
  EXPECT_FALSE(res.results[1].iscrowd);
  EXPECT_TRUE(w.empty());

  // bbox branch for segm: box polygon as the mask when segmentation is absent, area = w*h.
  json boxes = json::array({{{"image_id", 1}, {"category_id", 1}, {"score", 0.3}, {"bbox", {10, 10, 10, 10}}}});
  auto rb = datasets::parse_coco_results(boxes.dump(), "dt.json", gt, lo, w);
  EXPECT_EQ(rb.results[0].area, 100.0);
  EXPECT_EQ(area(rb.results[0].rle), 100u);
}

}  // namespace
}  // namespace glamm::mask
