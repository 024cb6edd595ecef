// glamm-eval compare on real GCG records from the golden set: identical runs, degraded predictions, determinism,
// re-aggregation equal to the stored values, refusals.
#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "common/io.h"
#include "reports/aggregate.h"
#include "reports/compare.h"
#include "reports/record.h"
#include "support/shared_data.h"
#include "tests/reports/report_fixtures.h"

namespace {

using namespace glamm::reports;
using namespace glamm::reports_test;

class CompareGcg : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE_SHARED(gcg, "golden/gcg");
    GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
    gcg_ = gcg;
    meteor_ = meteor;
    dir_ = test_dir("compare");
    a_ = dir_ / "a.json";
    a2_ = dir_ / "a2.json";
    bad_ = dir_ / "bad.json";
    ASSERT_EQ(cached_gcg_record(gcg, meteor, gcg / "predictions_val", a_, "base").code, 0);
    ASSERT_EQ(cached_gcg_record(gcg, meteor, gcg / "predictions_val", a2_, "again").code, 0);
    // Degraded predictions: one folder per test process (the record is cached with it).
    const auto degraded =
        std::filesystem::path(::testing::TempDir()) / ("glamm_reports_degraded_" + std::to_string(::getpid()));
    if (!std::filesystem::exists(degraded)) {
      remove_at_exit(degraded);
      ASSERT_EQ(degrade_predictions(gcg / "predictions_val", degraded), 25);
    }
    auto r = cached_gcg_record(gcg, meteor, degraded, bad_, "degraded");
    ASSERT_EQ(r.code, 0) << r.output;
  }
  std::filesystem::path gcg_, meteor_, dir_, a_, a2_, bad_;
};

TEST_F(CompareGcg, ReaggregatedMetricsEqualTheStoredOnes) {
  const RunRecord r = load_record(a_);
  Aggregator agg(r);
  const std::vector<std::string> expect = {"METEOR", "CIDEr", "AP50", "mIoU", "Recall", "AP",
                                           "Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L"};
  ASSERT_EQ(agg.metrics(), expect);
  EXPECT_TRUE(agg.notes().empty());
  const auto v = agg.compute_all();
  for (std::size_t k = 0; k < expect.size(); ++k) {
    double stored = 0;
    ASSERT_TRUE(r.metric(expect[k], stored));
    EXPECT_NEAR(v[k], stored, 1e-12) << expect[k];
  }
  // Golden values (golden/gcg/README.md).
  EXPECT_NEAR(v[2], 0.4215780261249714, 1e-12);
  EXPECT_NEAR(v[5], 0.18728417925379745, 1e-12);
  EXPECT_NEAR(v[3], 0.7040893868065442, 1e-12);
  EXPECT_NEAR(v[4], 126.0 / 258.0, 1e-15);
}

TEST_F(CompareGcg, SamePredictionsGiveZeroDeltasAndIntervalsContainingZero) {
  const CliResult r = run_cli("compare " + q(a_) + " " + q(a2_) + " --json " + q(dir_ / "cmp.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = read_json(dir_ / "cmp.json");
  EXPECT_EQ(j["samples"], 50);
  EXPECT_EQ(j["resamples"], 1000);
  ASSERT_EQ(j["metrics"].size(), 11u);
  for (const auto& m : j["metrics"]) {
    EXPECT_EQ(m["delta"].get<double>(), 0.0) << m["metric"];
    EXPECT_LE(m["ci_low"].get<double>(), 0.0) << m["metric"];
    EXPECT_GE(m["ci_high"].get<double>(), 0.0) << m["metric"];
    EXPECT_EQ(m["p_value"].get<double>(), 1.0) << m["metric"];
  }
  EXPECT_TRUE(j["regressed"].empty());
}

TEST_F(CompareGcg, DegradedPredictionsShowASignificantDrop) {
  const RunRecord a = load_record(a_), b = load_record(bad_);
  CompareOptions opt;
  const Comparison c = compare_runs(a, b, opt);
  for (const char* name : {"mIoU", "Recall", "METEOR", "CIDEr"}) {
    const auto it = std::find_if(c.metrics.begin(), c.metrics.end(), [&](const auto& m) { return m.metric == name; });
    ASSERT_NE(it, c.metrics.end()) << name;
    EXPECT_LT(it->delta, 0) << name;
    EXPECT_LT(it->ci_high, 0) << name << ": interval [" << it->ci_low << ", " << it->ci_high << "]";
    EXPECT_LE(it->p_value, 2.0 / 1001.0 + 1e-12) << name;
    EXPECT_LE(it->ci_low, it->delta);
  }
  // Half the images lost every mask: mIoU halves exactly where those images had mIoU, recall loses their matches.
  const auto miou = std::find_if(c.metrics.begin(), c.metrics.end(), [](const auto& m) { return m.metric == "mIoU"; });
  EXPECT_LT(miou->b_re, 0.5 * miou->a_re + 0.05);
  // Most regressed: ids of degraded images, largest drop first.
  ASSERT_FALSE(c.regressed.empty());
  EXPECT_EQ(c.rank_metric, "mIoU");  // default: the metric with the largest relative drop (half the images lost every mask)
  for (std::size_t k = 1; k < c.regressed.size(); ++k) EXPECT_GE(c.regressed[k - 1].drop, c.regressed[k].drop);
  // Ranking by mIoU: every listed sample lost all its masks (mIoU 0).
  opt.rank_metric = "mIoU";
  const Comparison cm = compare_runs(a, b, opt);
  ASSERT_EQ(cm.regressed.size(), 10u);
  for (const auto& s : cm.regressed) {
    EXPECT_EQ(s.b, 0.0) << s.id;
    EXPECT_GT(s.drop, 0.0);
  }
  // The failure breakdown of the degraded record counts the emptied images.
  EXPECT_EQ(b.details["failure_breakdown"]["no_masks"], 25);
}

TEST_F(CompareGcg, BootstrapIsDeterministicForASeed) {
  const RunRecord a = load_record(a_), b = load_record(bad_);
  CompareOptions opt;
  opt.seed = 7;
  opt.resamples = 200;
  const auto x = compare_runs(a, b, opt).to_json(), y = compare_runs(a, b, opt).to_json();
  EXPECT_EQ(x.dump(), y.dump());
  opt.seed = 8;
  const auto z = compare_runs(a, b, opt).to_json();
  EXPECT_NE(x["metrics"][0]["ci_low"], z["metrics"][0]["ci_low"]);
  // CLI: same seed, same output.
  const CliResult r1 = run_cli("compare --seed 3 --resamples 300 " + q(a_) + " " + q(bad_));
  const CliResult r2 = run_cli("compare --seed 3 --resamples 300 " + q(a_) + " " + q(bad_));
  ASSERT_EQ(r1.code, 0) << r1.output;
  EXPECT_EQ(r1.output, r2.output);
  EXPECT_NE(r1.output.find("most regressed samples"), std::string::npos);
}

TEST_F(CompareGcg, RefusesDifferentSplitsOrVariantsUnlessForced) {
  ASSERT_EQ(cached_gcg_record(gcg_, meteor_, gcg_ / "predictions_test", dir_ / "test.json", "t", "test").code, 0);
  const CliResult r = run_cli("compare " + q(a_) + " " + q(dir_ / "test.json"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("refusing to compare different splits"), std::string::npos) << r.output;
  const CliResult f = run_cli("compare --force " + q(a_) + " " + q(dir_ / "test.json"));
  EXPECT_EQ(f.code, 2) << "no shared samples between val and test";
  EXPECT_NE(f.output.find("no sample id in common"), std::string::npos) << f.output;

  nlohmann::json j = read_json(a2_);
  j["signature"]["tokenizer"] = "whitespace";
  write_text(dir_ / "variant.json", j.dump());
  const CliResult v = run_cli("compare " + q(a_) + " " + q(dir_ / "variant.json"));
  EXPECT_EQ(v.code, 2);
  EXPECT_NE(v.output.find("metric variants differ"), std::string::npos) << v.output;
  EXPECT_EQ(run_cli("compare --force --resamples 10 " + q(a_) + " " + q(dir_ / "variant.json")).code, 0);
}

TEST_F(CompareGcg, BadRecordsAreClearErrors) {
  const std::string text = glamm::io::read_file(a_);
  write_text(dir_ / "truncated.json", text.substr(0, text.size() / 2));
  const CliResult t = run_cli("compare " + q(a_) + " " + q(dir_ / "truncated.json"));
  EXPECT_EQ(t.code, 2);
  EXPECT_NE(t.output.find("truncated.json: not valid JSON (truncated or corrupt results record?)"), std::string::npos)
      << t.output;
  nlohmann::json j = read_json(a_);
  j["schema_version"] = 2;
  write_text(dir_ / "v2.json", j.dump());
  const CliResult v = run_cli("compare " + q(a_) + " " + q(dir_ / "v2.json"));
  EXPECT_EQ(v.code, 2);
  EXPECT_NE(v.output.find("record has schema version 2; this glamm-eval reads version 1 only"), std::string::npos)
      << v.output;
  j["schema_version"] = 1;
  j["task"] = "captions";
  write_text(dir_ / "captions.json", j.dump());
  const CliResult m = run_cli("compare " + q(a_) + " " + q(dir_ / "captions.json"));
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.output.find("mixes tasks: 'captions' here but 'gcg'"), std::string::npos) << m.output;
  for (const char* sub : {"table --table 3", "report --out x.html"}) {
    const CliResult e = run_cli(std::string(sub) + " " + q(dir_ / "v2.json"));
    EXPECT_EQ(e.code, 2) << sub;
    EXPECT_NE(e.output.find("schema version 2"), std::string::npos) << sub << ": " << e.output;
  }
}

}  // namespace
