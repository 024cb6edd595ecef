// `glamm-eval gcg --sample`: the built-in synthetic GranD-f set runs end to end with no data and no BERT; values of
// one image derived by hand from the sample's rectangles.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using nlohmann::json;

TEST(GcgSample, RunsEndToEndAndMatchesHandDerivedValues) {
  const std::string out = ::testing::TempDir() + "gcg_sample.json";
  const std::string cmd = std::string(GLAMM_EVAL_BINARY) + " gcg --sample -q --json " + out + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const json rec = json::parse(std::ifstream(out));
  EXPECT_EQ(rec["task"], "gcg");
  EXPECT_EQ(rec["label"], "builtin-sample");
  ASSERT_EQ(rec["per_sample"].size(), 6u);
  // sa_200003: pred 0 equals the man (IoU 1); pred 1 [16,46)x[18,42) vs horse [14,46)x[18,40): 660 / 764;
  // pred 2 [0,64)x[34,48) vs beach [0,64)x[36,48): 768 / 896. Greedy order 1, 660/764, 768/896.
  const json& s0 = rec["per_sample"][0];
  EXPECT_EQ(s0["image_id"], "sa_200003");
  ASSERT_EQ(s0["miou_pairs"].size(), 3u);
  EXPECT_DOUBLE_EQ(s0["miou_pairs"][0].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(s0["miou_pairs"][1].get<double>(), 660.0 / 764.0);
  EXPECT_DOUBLE_EQ(s0["miou_pairs"][2].get<double>(), 768.0 / 896.0);
  EXPECT_DOUBLE_EQ(s0["miou"].get<double>(), ((1.0 + 660.0 / 764.0) + 768.0 / 896.0) / 3.0);
  EXPECT_EQ(s0["recall_matches"], json::parse("[[0,0],[1,1],[2,2]]"));
  // sa_200004 has no prediction at all (empty caption, no masks): mIoU 0, its 2 phrases still count.
  const json& s4 = rec["per_sample"][4];
  EXPECT_EQ(s4["image_id"], "sa_200004");
  EXPECT_EQ(s4["miou"].get<double>(), 0.0);
  EXPECT_EQ(s4["recall_positives"], 2);
  const json& fb = rec["details"]["failure_breakdown"];
  EXPECT_EQ(fb["empty_caption"], 1);
  EXPECT_EQ(fb["no_masks"], 1);
  EXPECT_EQ(fb["more_masks_than_phrases"], 1);  // sa_200002: 2 masks, 1 phrase
  EXPECT_EQ(rec["details"]["recall_actual_positives"], 14);
  // The sample's files are kept next to the record (<record>.sample/) for the report's overlays.
  const std::string kept = ::testing::TempDir() + "gcg_sample.sample";
  EXPECT_EQ(rec["inputs"]["images"], kept + "/images");
  std::filesystem::remove_all(kept);
  std::filesystem::remove(out);
}
