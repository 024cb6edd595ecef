// glamm-eval imagecap on the dataset-formats.md §8.2/§8.3 examples: NoCaps per-domain scores, NoCaps test →
// submission file and exit 3, Flickr30k predictions outside the split (warned, ignored) and unknown ids (error),
// SPICE reported as not available; and `glamm-eval datasets` on a partial data root.
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "datasets/refer_fixture.h"
#include "support/shared_data.h"

namespace fx = glamm::testing::refer_fixture;
using nlohmann::json;

namespace {
const char* kNocaps = R"({"licenses": [], "info": {"version": "0.1"},
 "images": [{"id": 0, "file_name": "00aa11bb22cc33dd.jpg", "domain": "out-domain"},
            {"id": 1, "file_name": "0123456789abcdef.jpg", "domain": "near-domain"},
            {"id": 2, "file_name": "0123456789abcdee.jpg", "domain": "near-domain"}],
 "annotations": [{"image_id": 0, "id": 0, "caption": "A red lantern hangs outside."},
                 {"image_id": 0, "id": 1, "caption": "A lantern on a wall."},
                 {"image_id": 1, "id": 2, "caption": "A man rides a bicycle."},
                 {"image_id": 2, "id": 3, "caption": "A woman rides a horse."}]})";
const char* kFlickr = R"({"dataset": "flickr30k", "images": [
  {"filename": "9000001.jpg", "imgid": 0, "split": "test", "sentences": [{"raw": "A dog runs on sand."}, {"raw": "The brown dog is running."}]},
  {"filename": "9000002.jpg", "imgid": 1, "split": "train", "sentences": [{"raw": "Two men talk."}]},
  {"filename": "9000003.jpg", "imgid": 2, "split": "test", "sentences": [{"raw": "A cat sleeps."}]}]})";

int eval(const std::string& args, const std::filesystem::path& meteor, std::string& out) {
  return fx::run(std::string(GLAMM_EVAL_BINARY) + " imagecap " + args + " --meteor-resources '" + meteor.string() +
                     "' --meteor-paraphrase -",
                 out);
}
}  // namespace

TEST(ImagecapCli, NocapsValOverallAndPerDomain) {
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  const auto dir = fx::temp_dir("imagecap");
  fx::write(dir / "val.json", kNocaps);
  fx::write(dir / "pred.json", R"([{"image_id": 0, "caption": "a lantern hangs on a wall"},
    {"image_id": 1, "caption": "a man rides a bicycle"}, {"image_id": 2, "caption": "a woman on a horse"}])");
  std::string out;
  ASSERT_EQ(eval("--dataset nocaps --annotations '" + (dir / "val.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "' --json '" + (dir / "rec.json").string() + "'",
                 meteor, out),
            0)
      << out;
  const json r = json::parse(std::ifstream(dir / "rec.json"));
  EXPECT_EQ(r["split"], "val");
  EXPECT_EQ(r["details"]["domains"]["near-domain"]["num_images"], 2);
  EXPECT_EQ(r["details"]["domains"]["out-domain"]["num_images"], 1);
  EXPECT_TRUE(r["metrics"].contains("near-domain/CIDEr"));
  EXPECT_EQ(r["per_sample"][2]["domain"], "near-domain");
  EXPECT_NE(out.find("[near-domain] 2 images:"), std::string::npos) << out;
  EXPECT_NE(out.find("SPICE: not available"), std::string::npos) << out;
  // the single out-domain image is scored on its own: its BLEU equals the overall per-image BLEU of that image
  EXPECT_DOUBLE_EQ(r["details"]["domains"]["out-domain"]["Bleu_1"].get<double>(), r["per_sample"][0]["Bleu_1"].get<double>());
  std::filesystem::remove_all(dir);
}

TEST(ImagecapCli, NocapsTestWritesSubmissionAndRefusesToScore) {
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  const auto dir = fx::temp_dir("imagecap");
  json t = json::parse(kNocaps);
  t.erase("annotations");
  fx::write(dir / "test.json", t.dump());
  fx::write(dir / "pred.json", R"([{"image_id": 0, "caption": "a lantern"}, {"image_id": 1, "caption": "a man"},
    {"image_id": 2, "caption": "a horse"}])");
  std::string out;
  EXPECT_EQ(eval("--dataset nocaps --annotations '" + (dir / "test.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "' --submission '" + (dir / "sub.json").string() + "'",
                 meteor, out),
            3)
      << out;
  const json s = json::parse(std::ifstream(dir / "sub.json"));
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1]["caption"], "a man");
  EXPECT_NE(out.find("nothing is scored"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST(ImagecapCli, Flickr30kScoresOnlyTheSplitAndWarnsAboutOthers) {
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  const auto dir = fx::temp_dir("imagecap");
  fx::write(dir / "k.json", kFlickr);
  fx::write(dir / "pred.json", R"([{"image_id": 9000001, "caption": "a dog runs"},
    {"image_id": 9000002, "caption": "two men"}, {"image_id": 9000003, "caption": "a cat"}])");
  std::string out;
  ASSERT_EQ(eval("--dataset flickr30k --annotations '" + (dir / "k.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "' --json '" + (dir / "rec.json").string() + "'",
                 meteor, out),
            0)
      << out;
  const json r = json::parse(std::ifstream(dir / "rec.json"));
  EXPECT_EQ(r["details"]["num_images"], 2);
  EXPECT_EQ(r["details"]["num_predictions_outside_split"], 1);
  EXPECT_NE(out.find("predictions cover 1 image(s) of other splits"), std::string::npos) << out;
  fx::write(dir / "pred.json", R"([{"image_id": 9000001, "caption": "a dog runs"}, {"image_id": 42, "caption": "x"},
    {"image_id": 9000003, "caption": "a cat"}])");
  EXPECT_EQ(eval("--dataset flickr30k --annotations '" + (dir / "k.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "'",
                 meteor, out),
            2);
  EXPECT_NE(out.find("[1] (image_id 42): image_id 42 is not an image of the annotations"), std::string::npos) << out;
  fx::write(dir / "pred.json", R"([{"image_id": 9000001, "caption": "a dog runs"}])");
  EXPECT_EQ(eval("--dataset flickr30k --annotations '" + (dir / "k.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "'",
                 meteor, out),
            2);
  EXPECT_NE(out.find("1 of 2 samples have no prediction: image_id 9000003"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST(DatasetsCli, ListsFoundAndMissingFiles) {
  const auto dir = fx::temp_dir("datasets");
  fx::write(dir / "Refer_Segm" / "refcoco" / "instances.json", "{}");
  std::filesystem::create_directories(dir / "coco_2014" / "train2014");
  std::string out;
  ASSERT_EQ(fx::run(std::string(GLAMM_EVAL_BINARY) + " datasets --data-root '" + dir.string() + "' --json '" +
                        (dir / "list.json").string() + "'",
                    out),
            0)
      << out;
  EXPECT_NE(out.find("[found  ] refcoco    Refer_Segm/refcoco/instances.json"), std::string::npos) << out;
  EXPECT_NE(out.find("[missing] refcoco    Refer_Segm/refcoco/refs(unc).p"), std::string::npos) << out;
  EXPECT_NE(out.find("Refer_Segm/coco_2014/train2014/  (at "), std::string::npos) << out;  // the docs' location
  const json j = json::parse(std::ifstream(dir / "list.json"));
  EXPECT_EQ(j["entries"][0]["found"], true);
  std::filesystem::remove_all(dir);
}
