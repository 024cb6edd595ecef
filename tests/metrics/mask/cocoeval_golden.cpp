// COCOeval parity with pycocotools 2.0.6 on the shared goldens: the COCO 2014 100-image set (segm + bbox stats and
// IoU matrices) and every hand-built vector's `expected.cocoeval` (golden/masks/README.md; tolerance 1e-12, the
// 2014 stats 1e-15).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "datasets/coco_json.h"
#include "metrics/mask/cocoeval.h"
#include "support/shared_data.h"

namespace glamm::mask {
namespace {

using nlohmann::json;

struct EvalRun {
  CocoGroundTruth gt;
  CocoDetections dt;
  CocoEvaluation ev;
  CocoAccumulation acc;
  std::vector<double> stats;
  std::vector<std::string> warnings;
};

EvalRun run_files(const std::filesystem::path& gt, const std::filesystem::path& dt, IouType type, int threads = 2) {
  EvalRun r;
  datasets::CocoLoadOptions lo;
  lo.iou_type = type;
  lo.threads = threads;
  r.gt = datasets::load_coco_gt(gt, lo, r.warnings);
  r.dt = datasets::load_coco_results(dt, r.gt, lo, r.warnings);
  r.ev = evaluate(r.gt, r.dt, default_params(r.gt, type), threads);
  r.acc = accumulate(r.ev);
  r.stats = summarize(r.acc, r.ev.params);
  return r;
}

/// Image position of `id` in the evaluated params (-1 when absent).
long image_pos(const CocoEvaluation& ev, const ImageId& id) {
  auto it = std::lower_bound(ev.params.img_ids.begin(), ev.params.img_ids.end(), id);
  return (it != ev.params.img_ids.end() && *it == id) ? it - ev.params.img_ids.begin() : -1;
}

long cat_pos(const CocoEvaluation& ev, int64_t cat) {
  auto it = std::find(ev.eval_cat_ids.begin(), ev.eval_cat_ids.end(), cat);
  return it == ev.eval_cat_ids.end() ? -1 : it - ev.eval_cat_ids.begin();
}

ImageId json_image_id(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  return j.get<int64_t>();
}

void check_coco2014(const char* type_name, IouType type, const char* results_file) {
  GLAMM_REQUIRE_SHARED(expected_path, "golden/masks/coco2014_100_expected.json");
  GLAMM_REQUIRE_SHARED(gt_path, "data/coco2014_100/instances_val2014_100.json");
  GLAMM_REQUIRE_SHARED(dt_path, std::string("data/coco2014_100/") + results_file);
  const json expected = io::load_json(expected_path)[type_name];
  EvalRun r = run_files(gt_path, dt_path, type);
  const auto want = expected["stats"].get<std::vector<double>>();
  ASSERT_EQ(r.stats.size(), 12u);
  double max_delta = 0;
  for (std::size_t j = 0; j < 12; ++j) {
    EXPECT_NEAR(r.stats[j], want[j], 1e-15) << type_name << " stats[" << j << "]";
    max_delta = std::max(max_delta, std::fabs(r.stats[j] - want[j]));
  }
  ::testing::Test::RecordProperty("max_abs_delta_stats", std::to_string(max_delta));
  std::printf("[coco2014_100 %s] max |stats - pycocotools| = %.3g\n", type_name, max_delta);
  EXPECT_EQ(r.ev.params.img_ids.size(), expected["num_evaluated_images"].get<std::size_t>());
  EXPECT_EQ(r.ev.eval_cat_ids.size(), expected["num_categories"].get<std::size_t>());

  double max_iou_delta = 0;
  for (const auto& m : expected["iou_matrices"]) {
    const long i = image_pos(r.ev, json_image_id(m["image_id"]));
    const long k = cat_pos(r.ev, m["category_id"].get<int64_t>());
    ASSERT_GE(i, 0);
    ASSERT_GE(k, 0);
    const CocoIouMatrix* got = r.ev.ious(static_cast<std::size_t>(k), static_cast<std::size_t>(i));
    ASSERT_NE(got, nullptr) << "image " << m["image_id"] << " cat " << m["category_id"];
    EXPECT_EQ(got->dt_ids, m["dt_ids"].get<std::vector<int64_t>>());
    EXPECT_EQ(got->gt_ids, m["gt_ids"].get<std::vector<int64_t>>());
    const auto& rows = m["ious"];
    if (rows.empty()) {
      EXPECT_TRUE(got->dt_ids.empty() || got->gt_ids.empty());
      continue;
    }
    const std::size_t G = got->gt_ids.size();
    ASSERT_EQ(rows.size(), got->dt_ids.size());
    for (std::size_t d = 0; d < rows.size(); ++d)
      for (std::size_t g = 0; g < G; ++g) {
        double w = rows[d][g].get<double>(), v = got->values[d * G + g];
        EXPECT_NEAR(v, w, 1e-12) << "image " << m["image_id"] << " cat " << m["category_id"] << " d" << d << " g"
                                 << g;
        max_iou_delta = std::max(max_iou_delta, std::fabs(v - w));
      }
  }
  std::printf("[coco2014_100 %s] max |iou - pycocotools| = %.3g\n", type_name, max_iou_delta);
}

TEST(CocoEvalGolden, Coco2014SegmStatsAndIousMatchPycocotools) {
  check_coco2014("segm", IouType::kSegm, "instances_val2014_fakesegm100_results.json");
}

TEST(CocoEvalGolden, Coco2014BboxStatsAndIousMatchPycocotools) {
  check_coco2014("bbox", IouType::kBbox, "instances_val2014_fakebbox100_results.json");
}

TEST(CocoEvalGolden, Coco2014SegmStatsDoNotDependOnThreads) {
  GLAMM_REQUIRE_SHARED(gt_path, "data/coco2014_100/instances_val2014_100.json");
  GLAMM_REQUIRE_SHARED(dt_path, "data/coco2014_100/instances_val2014_fakesegm100_results.json");
  EvalRun one = run_files(gt_path, dt_path, IouType::kSegm, 1);
  EvalRun four = run_files(gt_path, dt_path, IouType::kSegm, 4);
  for (std::size_t j = 0; j < 12; ++j) EXPECT_EQ(one.stats[j], four.stats[j]);
  EXPECT_EQ(one.acc.precision, four.acc.precision);
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-built vectors

struct VectorRun : EvalRun {
  json expected;
};

CocoParams params_from_json(const CocoGroundTruth& gt, const json& jp) {
  CocoParams p = default_params(gt, IouType::kSegm);
  if (jp.contains("catIds")) p.cat_ids = jp["catIds"].get<std::vector<int64_t>>();
  if (jp.contains("imgIds")) {
    p.img_ids.clear();
    for (const auto& id : jp["imgIds"]) p.img_ids.push_back(json_image_id(id));
  }
  if (jp.contains("maxDets")) p.max_dets = jp["maxDets"].get<std::vector<int>>();
  if (jp.contains("useCats")) p.use_cats = jp["useCats"].get<int>() != 0;
  if (jp.contains("iouThrs")) p.iou_thrs = jp["iouThrs"].get<std::vector<double>>();
  if (jp.contains("areaRng")) {
    p.area_rng.clear();
    for (const auto& a : jp["areaRng"]) p.area_rng.push_back({a[0].get<double>(), a[1].get<double>()});
  }
  if (jp.contains("areaRngLbl")) p.area_rng_lbl = jp["areaRngLbl"].get<std::vector<std::string>>();
  return p;
}

VectorRun run_vector(const std::string& name, bool strict = false) {
  VectorRun r;
  auto dir = testing::shared_dir();
  const json v = io::load_json(*dir / "golden/masks/vectors" / (name + ".json"));
  r.expected = v["expected"];
  datasets::CocoLoadOptions lo;
  lo.strict = strict;
  r.gt = datasets::parse_coco_gt(v["input"]["gt"].dump(), name + ".json:input.gt", lo, r.warnings);
  r.dt = datasets::parse_coco_results(v["input"]["dt"].dump(), name + ".json:input.dt", r.gt, lo, r.warnings);
  CocoParams p = params_from_json(r.gt, v["input"].value("params", json::object()));
  p.strict_gt_id_zero = strict;
  r.ev = evaluate(r.gt, r.dt, p, 2);
  r.acc = accumulate(r.ev);
  r.stats = summarize(r.acc, r.ev.params);
  return r;
}

constexpr double kTol = 1e-12;

void expect_vec_near(const std::vector<double>& got, const json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t j = 0; j < got.size(); ++j) EXPECT_NEAR(got[j], want[j].get<double>(), kTol) << what << "[" << j << "]";
}

template <class T>
std::vector<int64_t> to_i64(const std::vector<T>& v) {
  return std::vector<int64_t>(v.begin(), v.end());
}

void check_vector(const std::string& name) {
  SCOPED_TRACE(name);
  VectorRun r = run_vector(name);
  const json& e = r.expected["cocoeval"];
  expect_vec_near(r.stats, e["stats"], "stats");

  // ious: "imgId,catId" -> D x G
  for (const auto& [key, rows] : e["ious"].items()) {
    const auto comma = key.find(',');
    const std::string img = key.substr(0, comma);
    const ImageId id = r.gt.images.empty() || !r.gt.images[0].id.is_string
                           ? ImageId{static_cast<int64_t>(std::stoll(img))}
                           : ImageId{img};
    const long i = image_pos(r.ev, id);
    const long k = r.ev.params.use_cats ? cat_pos(r.ev, std::stoll(key.substr(comma + 1))) : 0;
    ASSERT_GE(i, 0) << key;
    ASSERT_GE(k, 0) << key;
    const CocoIouMatrix* m = r.ev.ious(static_cast<std::size_t>(k), static_cast<std::size_t>(i));
    if (rows.empty()) {
      EXPECT_TRUE(m == nullptr || m->values.empty()) << key;
      continue;
    }
    ASSERT_NE(m, nullptr) << key;
    const std::size_t G = m->gt_ids.size();
    ASSERT_EQ(rows.size(), m->dt_ids.size()) << key;
    for (std::size_t d = 0; d < rows.size(); ++d) {
      ASSERT_EQ(rows[d].size(), G) << key;
      for (std::size_t g = 0; g < G; ++g)
        EXPECT_NEAR(m->values[d * G + g], rows[d][g].get<double>(), kTol) << key << " d" << d << " g" << g;
    }
  }

  // recall [T][K][A][M]
  const json& rec = e["recall"];
  ASSERT_EQ(rec.size(), r.acc.T);
  for (std::size_t t = 0; t < r.acc.T; ++t) {
    ASSERT_EQ(rec[t].size(), r.acc.K);
    for (std::size_t k = 0; k < r.acc.K; ++k)
      for (std::size_t a = 0; a < r.acc.A; ++a)
        for (std::size_t m = 0; m < r.acc.M; ++m)
          EXPECT_NEAR(r.acc.recall_at(t, k, a, m), rec[t][k][a][m].get<double>(), kTol)
              << "recall t" << t << " k" << k << " a" << a << " m" << m;
  }

  // precision at IoU .50 / .75, area all, maxDets 100: [K][R]
  const std::size_t m100 = static_cast<std::size_t>(
      std::find(r.ev.params.max_dets.begin(), r.ev.params.max_dets.end(), 100) - r.ev.params.max_dets.begin());
  for (auto [key, thr] : {std::pair<const char*, double>{"precision_iou50_all_100", .5}, {"precision_iou75_all_100", .75}}) {
    const std::size_t t = static_cast<std::size_t>(
        std::find(r.ev.params.iou_thrs.begin(), r.ev.params.iou_thrs.end(), thr) - r.ev.params.iou_thrs.begin());
    ASSERT_LT(t, r.acc.T);
    const json& pk = e[key];
    ASSERT_EQ(pk.size(), r.acc.K);
    for (std::size_t k = 0; k < r.acc.K; ++k)
      for (std::size_t q = 0; q < r.acc.R; ++q)
        EXPECT_NEAR(r.acc.precision_at(t, q, k, 0, m100), pk[k][q].get<double>(), kTol) << key << " k" << k << " r" << q;
  }

  // loadRes areas and boxes, in result-id order
  const json& areas = e["loadRes_areas"];
  const json& boxes = e["loadRes_bboxes"];
  ASSERT_EQ(areas.size(), r.dt.results.size());
  for (std::size_t j = 0; j < r.dt.results.size(); ++j) {
    EXPECT_EQ(r.dt.results[j].id, static_cast<int64_t>(j + 1));
    EXPECT_NEAR(r.dt.results[j].area, areas[j].get<double>(), kTol) << "area " << j;
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(r.dt.results[j].box[c], boxes[j][c].get<double>(), kTol) << "bbox " << j;
  }

  // evalImgs for area 'all'
  if (e.contains("evalImgs_area_all")) {
    std::size_t present = 0;
    for (std::size_t k = 0; k < r.acc.K; ++k)
      for (std::size_t i = 0; i < r.ev.num_images(); ++i) present += r.ev.eval_img(k, 0, i) != nullptr;
    EXPECT_EQ(present, e["evalImgs_area_all"].size());
    for (const auto& x : e["evalImgs_area_all"]) {
      const long i = image_pos(r.ev, json_image_id(x["image_id"]));
      const long k = r.ev.params.use_cats ? cat_pos(r.ev, x["category_id"].get<int64_t>()) : 0;
      ASSERT_GE(i, 0);
      ASSERT_GE(k, 0);
      const CocoImageEval* ei = r.ev.eval_img(static_cast<std::size_t>(k), 0, static_cast<std::size_t>(i));
      ASSERT_NE(ei, nullptr) << x["image_id"];
      EXPECT_EQ(ei->dt_ids, x["dtIds"].get<std::vector<int64_t>>());
      EXPECT_EQ(ei->gt_ids, x["gtIds"].get<std::vector<int64_t>>());
      const std::size_t D = ei->dt_ids.size(), G = ei->gt_ids.size();
      std::vector<int64_t> dtm, gtm, dti;
      for (const auto& row : x["dtMatches"]) for (const auto& v : row) dtm.push_back(v.get<int64_t>());
      for (const auto& row : x["gtMatches"]) for (const auto& v : row) gtm.push_back(v.get<int64_t>());
      for (const auto& row : x["dtIgnore"]) for (const auto& v : row) dti.push_back(v.get<int64_t>());
      EXPECT_EQ(ei->dt_matches, dtm);
      EXPECT_EQ(ei->gt_matches, gtm);
      EXPECT_EQ(to_i64(ei->dt_ignore), dti);
      EXPECT_EQ(to_i64(ei->gt_ignore), x["gtIgnore"].get<std::vector<int64_t>>());
      EXPECT_EQ(dtm.size(), r.acc.T * D);
      EXPECT_EQ(gtm.size(), r.acc.T * G);
    }
  }
}

class CocoEvalVector : public ::testing::TestWithParam<std::string> {};

TEST_P(CocoEvalVector, MatchesPycocotools) {
  GLAMM_REQUIRE_SHARED(path, "golden/masks/vectors/" + GetParam() + ".json");
  check_vector(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Vectors, CocoEvalVector,
                         ::testing::Values("basic", "crowd_gt", "empty_predictions", "no_gt_image", "duplicates",
                                           "score_ties_a", "score_ties_b", "borders_odd_size", "polygons",
                                           "area_boundaries", "maxdets_two_cats", "gt_id_zero", "glamm_recall"),
                         [](const auto& info) { return info.param; });

std::string fmt_3(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

TEST(CocoEvalGolden, ScoreTiesOrderWithinImageChangesApAsPycocotools) {
  GLAMM_REQUIRE_SHARED(a_path, "golden/masks/vectors/score_ties_a.json");
  VectorRun a = run_vector("score_ties_a");
  VectorRun b = run_vector("score_ties_b");
  EXPECT_NEAR(a.stats[0], 0.6666666666666666, kTol);
  EXPECT_NEAR(b.stats[0], 0.8349834983498348, kTol);
  EXPECT_EQ(fmt_3(a.stats[0]), "0.667");
  EXPECT_EQ(fmt_3(b.stats[0]), "0.835");
}

TEST(CocoEvalGolden, GtIdZeroIsUnmatchedByDefaultAndMatchableUnderStrict) {
  GLAMM_REQUIRE_SHARED(path, "golden/masks/vectors/gt_id_zero.json");
  VectorRun def = run_vector("gt_id_zero", false);
  EXPECT_NEAR(def.stats[0], 0.2524752475247525, kTol);
  VectorRun strict = run_vector("gt_id_zero", true);
  // Both detections now match (ids 0 and 5): precision 1 at every recall, AP 1.
  EXPECT_EQ(strict.stats[0], 1.0);
  EXPECT_EQ(strict.stats[8], 1.0);
  const CocoImageEval* e = strict.ev.eval_img(0, 0, 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->dt_matches[0], 0);  // the stored id is still 0 ...
  EXPECT_EQ(e->dt_matched[0], 1);  // ... but it counts as a match
}

}  // namespace
}  // namespace glamm::mask
