// Re-aggregation from per-sample data on small hand-made records (refseg-like and caption-like).
#include <cmath>
#include <numeric>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "metrics/caption/bleu.h"
#include "reports/aggregate.h"
#include "reports/compare.h"
#include "reports/record.h"

namespace {

using namespace glamm::reports;
using nlohmann::json;

json refseg_record(const std::vector<std::array<double, 2>>& iu, const std::string& label) {
  json per = json::array();
  double si = 0, su = 0, giou = 0;
  for (std::size_t k = 0; k < iu.size(); ++k) {
    per.push_back({{"sent_id", static_cast<int>(k)}, {"image_id", 7}, {"intersection", iu[k][0]}, {"union", iu[k][1]},
                   {"iou", iu[k][0] / iu[k][1]}});
    si += iu[k][0];
    su += iu[k][1];
    giou += iu[k][0] / iu[k][1];
  }
  return {{"schema_version", 1}, {"task", "refseg"}, {"dataset", "refcoco"}, {"split", "val"}, {"label", label},
          {"metrics", {{"cIoU", si / su}, {"gIoU", giou / iu.size()}}}, {"metric_order", {"cIoU", "gIoU"}},
          {"signature", {{"metric", "glamm-refseg"}}}, {"signature_string", "metric:glamm-refseg"}, {"per_sample", per}};
}

TEST(Aggregate, RefsegCiouIsRatioOfSumsAndGiouTheMeanPerSentence) {
  const RunRecord r = record_from_json(refseg_record({{{1, 4}}, {{3, 4}}, {{0, 2}}}, "a"), "a.json");
  Aggregator agg(r);
  ASSERT_EQ(agg.metrics(), (std::vector<std::string>{"cIoU", "gIoU"}));
  EXPECT_EQ(agg.sample_ids(), (std::vector<std::string>{"0", "1", "2"}));  // sent_id, not the shared image_id
  EXPECT_DOUBLE_EQ(agg.compute({0, 1, 2})[0], 4.0 / 10.0);
  EXPECT_DOUBLE_EQ(agg.compute({0, 1, 2})[1], (0.25 + 0.75 + 0.0) / 3);
  EXPECT_DOUBLE_EQ(agg.compute({1, 1, 2})[0], 6.0 / 10.0);  // repeats count twice
  double v = 0;
  ASSERT_TRUE(agg.sample_score("cIoU", 1, v));
  EXPECT_DOUBLE_EQ(v, 0.75);
}

TEST(Aggregate, BleuFromSummedCountsAndLeftOutMetricsAreNoted) {
  json per = json::array();
  glamm::caption::BleuCounts total;
  for (int k = 0; k < 3; ++k) {
    glamm::caption::BleuCounts c;
    c.testlen = 5 + k;
    c.reflen = 6;
    c.guess = {c.testlen, c.testlen - 1, c.testlen - 2, c.testlen - 3};
    c.correct = {4, 2 + k % 2, 1, k};
    total += c;
    per.push_back({{"image_id", "im" + std::to_string(k)},
                   {"bleu_counts", {{"testlen", c.testlen}, {"reflen", c.reflen}, {"guess", c.guess}, {"correct", c.correct}}}});
  }
  json j = {{"schema_version", 1}, {"task", "captions"}, {"split", ""}, {"label", "x"},
            {"metrics", {{"Bleu_4", 0.1}, {"SPICE", 0.2}}}, {"metric_order", {"Bleu_4", "SPICE"}},
            {"signature", json::object()}, {"per_sample", per}};
  Aggregator agg(record_from_json(j, "c.json"));
  ASSERT_EQ(agg.metrics(), std::vector<std::string>{"Bleu_4"});
  EXPECT_EQ(agg.compute_all()[0], glamm::caption::bleu_from_counts(total)[3]);
  ASSERT_EQ(agg.notes().size(), 1u);
  EXPECT_EQ(agg.notes()[0], "SPICE: left out (the record stores no per-sample data to re-aggregate it from)");
  per[1]["bleu_counts"]["guess"] = {1, 2};
  j["per_sample"] = per;
  try {
    Aggregator bad(record_from_json(j, "c.json"));
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_EQ(std::string(e.what()), "c.json: per_sample[1] (im1).bleu_counts: needs 4 orders");
  }
}

TEST(Aggregate, PairedBootstrapOnRefsegSeesTheDropAndIsSeedStable) {
  std::vector<std::array<double, 2>> good, worse;
  for (int k = 0; k < 40; ++k) {
    good.push_back({{80.0 + k % 7, 100.0}});
    worse.push_back({{k % 4 == 0 ? 20.0 : 80.0 + k % 7, 100.0}});
  }
  const RunRecord a = record_from_json(refseg_record(good, "good"), "a.json");
  const RunRecord b = record_from_json(refseg_record(worse, "worse"), "b.json");
  CompareOptions opt;
  const Comparison c = compare_runs(a, b, opt);
  ASSERT_EQ(c.metrics.size(), 2u);
  EXPECT_LT(c.metrics[0].ci_high, 0.0);
  // Sentences k = 0, 4, …, 36 drop from 80 + k mod 7 to 20 pixels: Σ (60 + k mod 7) = 626 of 4000.
  EXPECT_NEAR(c.metrics[0].delta, -626.0 / 4000.0, 1e-12);
  EXPECT_EQ(c.rank_metric, "cIoU");
  ASSERT_EQ(c.regressed.size(), 10u);
  EXPECT_EQ(compare_runs(a, b, opt).to_json().dump(), c.to_json().dump());
}

}  // namespace
