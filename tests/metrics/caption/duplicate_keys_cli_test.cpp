// `glamm-eval captions` with repeated JSON keys (docs/input-rules.md, "Duplicate keys"): the last value counts, as
// in pycocoevalcap's json.load, and one warning per file is printed and recorded.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "tests/metrics/caption/captions_cli_fixture.h"

namespace {

using glamm::testing::CaptionsCli;

const char* kGt = R"({"images": [{"id": 1}, {"id": 2}],
 "annotations": [{"image_id": 1, "caption": "A dog runs on the grass."}, {"image_id": 1, "caption": "A brown dog."},
                 {"image_id": 2, "caption": "Two cats sleep on a sofa."}]})";
const char* kResLast = R"([{"image_id": 2, "caption": "Two cats on a sofa."}, {"image_id": 1, "caption": "A dog runs."}])";
const char* kResFirst = R"([{"image_id": 2, "caption": "zebra"}, {"image_id": 1, "caption": "violin"}])";
const char* kResDup = R"([{"image_id": 2, "caption": "zebra", "caption": "Two cats on a sofa."},
                          {"image_id": 1, "caption": "violin", "caption": "A dog runs."}])";

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST_F(CaptionsCli, DuplicatedCaptionKeyScoresTheLastCaption) {
  const auto gt = write("gt.json", kGt);
  ASSERT_EQ(run(files(gt, write("last.json", kResLast))), 0) << err_;
  const std::string last = out_;
  ASSERT_NE(last.find("Bleu_1: 0.882"), std::string::npos) << last;
  EXPECT_EQ(count(err_, "duplicate JSON key"), 0u) << err_;
  ASSERT_EQ(run(files(gt, write("first.json", kResFirst))), 0) << err_;
  ASSERT_NE(out_, last);  // the two captions score differently, so the test tells them apart

  const auto dup = write("dup.json", kResDup);
  const auto rec = tmp_ / "rec.json";
  ASSERT_EQ(run(files(gt, dup) + " --json \"" + rec.string() + "\""), 0) << err_;
  EXPECT_EQ(out_, last);
  EXPECT_EQ(count(err_, "duplicate JSON key"), 1u) << err_;
  EXPECT_NE(err_.find("dup.json (first: 'caption' in results[0] (image_id 2))"), std::string::npos) << err_;
  const auto j = nlohmann::json::parse(glamm::io::read_file(rec));
  std::size_t recorded = 0;
  for (const auto& w : j.at("warnings")) recorded += count(w.get<std::string>(), "duplicate JSON key");
  EXPECT_EQ(recorded, 1u) << j.at("warnings").dump();
}

TEST_F(CaptionsCli, DuplicatedKeysInTheGroundTruthTakeTheLastValue) {
  const auto res = write("res.json", kResLast);
  ASSERT_EQ(run(files(write("gt.json", kGt), res)), 0) << err_;
  const std::string plain = out_;
  const auto gt_dup = write("gt_dup.json", R"({"images": [{"id": 1}, {"id": 2}],
 "annotations": [{"image_id": 1, "caption": "nothing alike", "caption": "A dog runs on the grass."},
                 {"image_id": 1, "caption": "A brown dog."},
                 {"image_id": 1, "image_id": 2, "caption": "Two cats sleep on a sofa."}]})");
  ASSERT_EQ(run(files(gt_dup, res)), 0) << err_;
  EXPECT_EQ(out_, plain);
  EXPECT_EQ(count(err_, "duplicate JSON key"), 1u) << err_;
  EXPECT_NE(err_.find("'caption' in annotations[0]"), std::string::npos) << err_;
}

}  // namespace
