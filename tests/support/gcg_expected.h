// The GCG golden assertions, shared by the CLI golden (tests/eval/gcg) and the in-process one (tests/eval/tasks):
// a gcg results record against the official evaluation's expected_<split>.json (golden/gcg).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

namespace glamm::testing {

/// AP (12 stats, counts), caption metrics and BLEU info, mIoU and recall with their per-image values, at 1e-12.
inline void expect_gcg_record_matches(const nlohmann::json& rec, const nlohmann::json& exp) {
  ASSERT_EQ(rec["details"]["coco_stats"].size(), 12u);
  for (std::size_t k = 0; k < 12; ++k)
    EXPECT_NEAR(rec["details"]["coco_stats"][k].get<double>(), exp["ap"]["stats"][k].get<double>(), 1e-12) << k;
  EXPECT_EQ(rec["details"]["num_pred_masks"].get<int>(), exp["ap"]["num_predictions"].get<int>());
  EXPECT_EQ(rec["details"]["num_gt_masks"].get<int>(), exp["ap"]["num_gt_masks"].get<int>());
  EXPECT_NEAR(rec["metrics"]["AP50"].get<double>(), exp["ap"]["AP50"].get<double>(), 1e-12);
  EXPECT_NEAR(rec["metrics"]["AP"].get<double>(), exp["ap"]["AP"].get<double>(), 1e-12);

  for (const auto& [name, v] : exp["captions"]["corpus"].items())
    EXPECT_NEAR(rec["metrics"][name].get<double>(), v.get<double>(), 1e-12) << name;
  for (const char* f : {"testlen", "reflen", "guess", "correct"})
    EXPECT_EQ(rec["details"]["bleu_info"][f], exp["captions"]["bleu_info"][f]) << f;

  EXPECT_NEAR(rec["metrics"]["mIoU"].get<double>(), exp["miou"]["miou"].get<double>(), 1e-12);
  EXPECT_NEAR(rec["metrics"]["Recall"].get<double>(), exp["recall"]["recall"].get<double>(), 1e-12);
  EXPECT_EQ(rec["details"]["recall_true_positives"], exp["recall"]["true_positives"]);
  EXPECT_EQ(rec["details"]["recall_actual_positives"], exp["recall"]["actual_positives"]);
  const nlohmann::json& per = rec["per_sample"];
  ASSERT_EQ(per.size(), exp["miou"]["per_image"].size());
  for (std::size_t i = 0; i < per.size(); ++i) {
    const nlohmann::json& em = exp["miou"]["per_image"][i];
    const nlohmann::json& er = exp["recall"]["per_image"][i];
    SCOPED_TRACE(em["image_id"].get<std::string>());
    EXPECT_EQ(per[i]["image_id"], em["image_id"]);
    EXPECT_NEAR(per[i]["miou"].get<double>(), em["miou"].get<double>(), 1e-12);
    ASSERT_EQ(per[i]["miou_pairs"].size(), em["pairs"].size());
    for (std::size_t k = 0; k < em["pairs"].size(); ++k)
      EXPECT_NEAR(per[i]["miou_pairs"][k].get<double>(), em["pairs"][k].get<double>(), 1e-12);
    EXPECT_EQ(per[i]["recall_positives"], er["positives"]);
    EXPECT_EQ(per[i]["recall_matches"], er["matches"]);
    const nlohmann::json& ec = exp["captions"]["per_image"][i];
    EXPECT_NEAR(per[i]["METEOR"].get<double>(), ec["METEOR"].get<double>(), 1e-12);
    EXPECT_NEAR(per[i]["CIDEr"].get<double>(), ec["CIDEr"].get<double>(), 1e-12);
  }
}

}  // namespace glamm::testing
