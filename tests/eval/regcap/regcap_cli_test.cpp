// glamm-eval regcap on the dataset-formats.md §6.2 example: coverage guard (missing → error, --allow-missing,
// --only-present = GLaMM's behaviour and equal to `glamm-eval captions` on the same files), GLaMM's results folder
// (merged.json and metrics.txt skipped), duplicates and unknown ids, and the region layout report.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "datasets/refer_fixture.h"
#include "support/shared_data.h"

namespace fx = glamm::testing::refer_fixture;
#include "tests/eval/tasks/caption_task_fixture.h"

using nlohmann::json;

namespace {
namespace fs = std::filesystem;
const char* const kGt = glamm::testing::kRegcapGt;
const char* const kRes = glamm::testing::kRegcapRes;

struct Fixture {
  std::filesystem::path dir = fx::temp_dir("regcap");
  std::string meteor;
  explicit Fixture(const std::filesystem::path& m) : meteor(m.string()) {
    fx::write(dir / "test_caption.json", kGt);
    fx::write(dir / "res.json", kRes);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  int run(const std::string& pred, const std::string& extra, std::string& out, json* rec = nullptr) {
    std::filesystem::remove(dir / "rec.json");
    const int rc = fx::run(std::string(GLAMM_EVAL_BINARY) + " regcap --dataset vg --annotations '" +
                               (dir / "test_caption.json").string() + "' --pred '" + pred + "' --meteor-resources '" +
                               meteor + "' --meteor-paraphrase - --json '" + (dir / "rec.json").string() + "' " + extra,
                           out);
    if (rc == 0 && rec) *rec = json::parse(std::ifstream(dir / "rec.json"));
    return rc;
  }
};
}  // namespace

TEST(RegcapCli, MissingPredictionsFailByDefault) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  Fixture f(meteor);
  std::string out;
  EXPECT_EQ(f.run((f.dir / "res.json").string(), "", out), 2);
  EXPECT_NE(out.find("1 of 3 samples have no prediction: image_id 2"), std::string::npos) << out;
}

TEST(RegcapCli, OnlyPresentEqualsTheReferenceScoringAndIsSigned) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  Fixture f(meteor);
  std::string out;
  json r;
  ASSERT_EQ(f.run((f.dir / "res.json").string(), "--only-present", out, &r), 0) << out;
  EXPECT_EQ(r["signature"]["coverage"], "only-present");
  EXPECT_EQ(r["details"]["num_missing"], 1);
  EXPECT_EQ(r["details"]["regions_layout"], "one region per image entry");
  EXPECT_NE(out.find("ONLY PRESENT"), std::string::npos) << out;
  EXPECT_NE(out.find("one region per image entry"), std::string::npos) << out;
  // GLaMM's evaluate.py: COCOEvalCap on the images that have a result = `glamm-eval captions` on the same files
  std::string out2;
  ASSERT_EQ(fx::run(std::string(GLAMM_EVAL_BINARY) + " captions --gt '" + (f.dir / "test_caption.json").string() +
                        "' --res '" + (f.dir / "res.json").string() + "' --meteor-resources '" + f.meteor +
                        "' --meteor-paraphrase - --json '" + (f.dir / "cap.json").string() + "'",
                    out2),
            0)
      << out2;
  const json c = json::parse(std::ifstream(f.dir / "cap.json"));
  for (const auto& [k, v] : c["metrics"].items()) EXPECT_EQ(r["metrics"][k], v) << k;
  ASSERT_EQ(r["per_sample"].size(), 2u);
  EXPECT_EQ(r["per_sample"][1]["image_id"], 3);
  EXPECT_EQ(r["per_sample"][1]["meteor_stats"].size(), 23u);
}

TEST(RegcapCli, AllowMissingScoresEmptyCaptions) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  Fixture f(meteor);
  std::string out;
  json r;
  ASSERT_EQ(f.run((f.dir / "res.json").string(), "--allow-missing", out, &r), 0) << out;
  ASSERT_EQ(r["per_sample"].size(), 3u);
  EXPECT_EQ(r["per_sample"][1]["predicted"], false);
  EXPECT_EQ(r["per_sample"][1]["CIDEr"], 0.0);
  EXPECT_EQ(r["signature"]["coverage"], "allow-missing");
  EXPECT_NE(out.find("scored as empty captions"), std::string::npos) << out;
}

TEST(RegcapCli, ResultsFolderDuplicatesAndUnknownIds) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  Fixture f(meteor);
  const auto rd = f.dir / "results";
  fx::write(rd / "ckpt_vg_0.json", R"([{"image_id": 1, "caption": "a red kite"}, {"image_id": 2, "caption": "a bench"}])");
  fx::write(rd / "ckpt_vg_1.json", R"([{"image_id": 3, "caption": "a dog"}])");
  fx::write(rd / "merged.json", R"([{"image_id": 1, "caption": "a red kite"}])");
  fx::write(rd / "metrics.txt", "CIDEr: 0.100\n");
  std::string out;
  json r;
  ASSERT_EQ(f.run(rd.string(), "", out, &r), 0) << out;
  EXPECT_EQ(r["details"]["num_predictions"], 3);
  fx::write(rd / "ckpt_vg_2.json", R"([{"image_id": 3, "caption": "a dog again"}])");  // DDP padding duplicate
  EXPECT_EQ(f.run(rd.string(), "", out), 2);
  EXPECT_NE(out.find("ckpt_vg_2.json: [0] (image_id 3): duplicate prediction for image_id 3"), std::string::npos) << out;
  fx::write(rd / "ckpt_vg_2.json", R"([{"image_id": 17, "caption": "?"}])");
  EXPECT_EQ(f.run(rd.string(), "", out), 2);
  EXPECT_NE(out.find("image_id 17 is not an image of the annotations"), std::string::npos) << out;
}

// Two runs' predictions.json files (as `infer regcap` names them) get different default labels — their folders —
// so evaluating one after the other does not overwrite the first default record.
TEST(RegcapCli, DefaultLabelOfAGenericPredictionsFileIsItsFolder) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  Fixture f(meteor);
  std::filesystem::create_directories(f.dir / "runA");
  fx::write(f.dir / "runA" / "predictions.json", kRes);
  std::string out;
  json r;
  ASSERT_EQ(f.run((f.dir / "runA" / "predictions.json").string(), "--only-present", out, &r), 0) << out;
  EXPECT_EQ(r["label"], "runA");
  ASSERT_EQ(f.run((f.dir / "res.json").string(), "--only-present", out, &r), 0) << out;
  EXPECT_EQ(r["label"], "res");  // a specific file name stays the label
}
