// `glamm-eval gcg` (the command line, end to end) on the GranD-f-format golden val set (derived from real COCO masks
// and results): every COCOeval stat, the caption metrics, per-image mIoU pairs and recall matches at the README's
// 1e-12. The test split and the schema run in-process: tests/eval/tasks/gcg_golden.cpp.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/gcg_expected.h"
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

  glamm::testing::expect_gcg_record_matches(rec, exp);
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
