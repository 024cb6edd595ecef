// `glamm-eval gcg` (the command line, end to end) on the GranD-f-format golden val set (derived from real COCO masks
// and results): every COCOeval stat, the caption metrics, per-image mIoU pairs and recall matches at the README's
// 1e-12. The test split and the schema run in-process: tests/eval/tasks/gcg_golden.cpp.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.h"

using nlohmann::json;

namespace {

json load(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

/// Run `glamm-eval gcg` on one golden split (official mode unless `extra` adds flags) and return its record.
json run_gcg(const std::filesystem::path& gold, const std::filesystem::path& shared, const std::string& split,
             const std::string& extra = "") {
  // One file per test: ctest runs the tests of this file in parallel processes.
  const std::string out = ::testing::TempDir() + "gcg_golden_" + split + "_" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json";
  const std::string cmd = std::string(GLAMM_EVAL_BINARY) + " gcg -q --split " + split + " --gt-dir " + gold.string() +
                          " --pred " + (gold / ("predictions_" + split)).string() + " --text-sim " +
                          (gold / (split + "_text_similarity.tsv")).string() + " --meteor-resources " +
                          (shared / "data" / "meteor").string() + " --json " + out + " " + extra + " > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return load(out);
}

void check_split(const std::string& split) {
  GLAMM_REQUIRE_SHARED(gold, "golden/gcg");
  const std::filesystem::path shared = gold.parent_path().parent_path();
  const json exp = load(gold / ("expected_" + split + ".json"));
  const json rec = run_gcg(gold, shared, split);

  // AP: all 12 COCOeval stats
  ASSERT_EQ(rec["details"]["coco_stats"].size(), 12u);
  for (std::size_t k = 0; k < 12; ++k)
    EXPECT_NEAR(rec["details"]["coco_stats"][k].get<double>(), exp["ap"]["stats"][k].get<double>(), 1e-12) << k;
  EXPECT_EQ(rec["details"]["num_pred_masks"].get<int>(), exp["ap"]["num_predictions"].get<int>());
  EXPECT_EQ(rec["details"]["num_gt_masks"].get<int>(), exp["ap"]["num_gt_masks"].get<int>());
  EXPECT_NEAR(rec["metrics"]["AP50"].get<double>(), exp["ap"]["AP50"].get<double>(), 1e-12);
  EXPECT_NEAR(rec["metrics"]["AP"].get<double>(), exp["ap"]["AP"].get<double>(), 1e-12);

  // captions
  for (const auto& [name, v] : exp["captions"]["corpus"].items())
    EXPECT_NEAR(rec["metrics"][name].get<double>(), v.get<double>(), 1e-12) << name;
  for (const char* f : {"testlen", "reflen", "guess", "correct"})
    EXPECT_EQ(rec["details"]["bleu_info"][f], exp["captions"]["bleu_info"][f]) << f;

  // mIoU and recall, per image
  EXPECT_NEAR(rec["metrics"]["mIoU"].get<double>(), exp["miou"]["miou"].get<double>(), 1e-12);
  EXPECT_NEAR(rec["metrics"]["Recall"].get<double>(), exp["recall"]["recall"].get<double>(), 1e-12);
  EXPECT_EQ(rec["details"]["recall_true_positives"], exp["recall"]["true_positives"]);
  EXPECT_EQ(rec["details"]["recall_actual_positives"], exp["recall"]["actual_positives"]);
  const json& per = rec["per_sample"];
  ASSERT_EQ(per.size(), exp["miou"]["per_image"].size());
  for (std::size_t i = 0; i < per.size(); ++i) {
    const json& em = exp["miou"]["per_image"][i];
    const json& er = exp["recall"]["per_image"][i];
    SCOPED_TRACE(em["image_id"].get<std::string>());
    EXPECT_EQ(per[i]["image_id"], em["image_id"]);
    EXPECT_NEAR(per[i]["miou"].get<double>(), em["miou"].get<double>(), 1e-12);
    ASSERT_EQ(per[i]["miou_pairs"].size(), em["pairs"].size());
    for (std::size_t k = 0; k < em["pairs"].size(); ++k)
      EXPECT_NEAR(per[i]["miou_pairs"][k].get<double>(), em["pairs"][k].get<double>(), 1e-12);
    EXPECT_EQ(per[i]["recall_positives"], er["positives"]);
    EXPECT_EQ(per[i]["recall_matches"], er["matches"]);
    const json& ec = exp["captions"]["per_image"][i];
    EXPECT_NEAR(per[i]["METEOR"].get<double>(), ec["METEOR"].get<double>(), 1e-12);
    EXPECT_NEAR(per[i]["CIDEr"].get<double>(), ec["CIDEr"].get<double>(), 1e-12);
  }
}

}  // namespace

TEST(GcgGolden, ValSplitMatchesOfficialEvaluation) { check_split("val"); }

TEST(GcgGolden, StrictModeIsNamedInTheSignature) {
  GLAMM_REQUIRE_SHARED(gold, "golden/gcg");
  const json rec = run_gcg(gold, gold.parent_path().parent_path(), "val", "--strict");
  EXPECT_NE(rec["signature"]["strict"].get<std::string>().find("recall_no_break"), std::string::npos);
  // the corrected recall can only find more matches than the one that stops at the first rejected pair
  EXPECT_GE(rec["details"]["recall_true_positives"].get<int>(), 126);
}
