// glamm::Result is written and read back by the same code: a round trip keeps every field, the metric order and the
// signature order (JSON objects come back sorted).
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "common/result.h"

namespace glamm {
namespace {

Result example() {
  Result r;
  r.task = "gcg";
  r.dataset = "grandf";
  r.split = "val";
  r.label = "run-a";
  r.metrics = {{"METEOR", 0.25}, {"CIDEr", 1.5}, {"AP50", 0.5}, {"mIoU", std::nan("")}};
  r.signature.set("metric", "glamm-gcg");
  r.signature.set("split", "val");
  r.signature.set("text_similarity", "table:sim.tsv|sha256:ab");  // a value holding '|' and ':'
  r.signature.set("strict", "off");
  r.inputs["caption_gt"] = "val_gcg_coco_caption_gt.json";
  r.input_sha256["caption_gt"] = "00ff";
  r.warnings = {"first", "second"};
  r.details["coco_stats"] = {0.1, 0.2};
  r.per_sample = nlohmann::json::array({{{"image_id", "a"}, {"miou", 0.5}}});
  return r;
}

TEST(Result, RoundTripKeepsFieldsAndOrder) {
  const Result a = example();
  const nlohmann::json j = nlohmann::json::parse(a.to_json().dump());  // as a file would hold it
  const Result b = Result::from_json(j, "rec.json");
  EXPECT_EQ(b.task, a.task);
  EXPECT_EQ(b.dataset, a.dataset);
  EXPECT_EQ(b.split, a.split);
  EXPECT_EQ(b.label, a.label);
  ASSERT_EQ(b.metrics.size(), 4u);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(b.metrics[k], a.metrics[k]);
  EXPECT_EQ(b.metrics[3].first, "mIoU");
  EXPECT_TRUE(std::isnan(b.metrics[3].second));  // written as null
  EXPECT_EQ(b.signature.fields, a.signature.fields);
  EXPECT_EQ(b.signature.str(), a.signature.str());
  EXPECT_EQ(b.inputs, a.inputs);
  EXPECT_EQ(b.input_sha256, a.input_sha256);
  EXPECT_EQ(b.warnings, a.warnings);
  EXPECT_EQ(b.details, a.details);
  EXPECT_EQ(b.per_sample, a.per_sample);
  EXPECT_EQ(b.written_by, tool_version());
  EXPECT_EQ(b.timestamp.size(), 20u);  // 2026-12-07T16:00:00Z
  double v = 0;
  EXPECT_TRUE(b.metric("CIDEr", v));
  EXPECT_EQ(v, 1.5);
  EXPECT_FALSE(b.metric("Recall", v));
  EXPECT_EQ(b.signature.value("text_similarity"), "table:sim.tsv|sha256:ab");
}

TEST(Result, ReadingRefusesWhatIsNotARecord) {
  nlohmann::json j = example().to_json();
  j.erase("per_sample");
  EXPECT_THROW(Result::from_json(j, "rec.json"), InputError);
  j = example().to_json();
  j["schema_version"] = 2;
  try {
    Result::from_json(j, "rec.json");
    FAIL() << "schema version 2 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("rec.json"), std::string::npos);
  }
  j = example().to_json();
  j["metrics"]["CIDEr"] = "high";
  EXPECT_THROW(Result::from_json(j, "rec.json"), InputError);
}

}  // namespace
}  // namespace glamm
