// glamm-eval imagecap through the Flickr30k (Karpathy) adapter reproduces the COCO val2017 leave-one-out golden
// (golden/captions/coco_val2017_loo_*): the GT file is converted to the Karpathy layout at test time (one image
// entry per GT image, filename "<id>.jpg", split "test", sentences[].raw = its captions in file order; 4–6 per
// image, so nothing assumes 5). METEOR paraphrase off, as the golden.
#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "datasets/refer_fixture.h"
#include "support/shared_data.h"

namespace fx = glamm::testing::refer_fixture;
using nlohmann::json;

TEST(ImagecapGolden, Flickr30kAdapterReproducesCocoLeaveOneOut) {
  GLAMM_REQUIRE_SHARED(gt_path, "golden/captions/coco_val2017_loo_gt.json");
  GLAMM_REQUIRE_SHARED(res_path, "golden/captions/coco_val2017_loo_results.json");
  GLAMM_REQUIRE_SHARED(exp_path, "golden/captions/coco_val2017_loo_expected.json");
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  const json gt = json::parse(std::ifstream(gt_path));
  std::map<int64_t, json> sentences;
  for (const auto& a : gt["annotations"]) sentences[a["image_id"].get<int64_t>()].push_back({{"raw", a["caption"]}});
  json images = json::array();
  for (const auto& im : gt["images"]) {
    const int64_t id = im["id"].get<int64_t>();
    images.push_back({{"filename", std::to_string(id) + ".jpg"}, {"imgid", images.size()}, {"split", "test"},
                      {"sentences", sentences[id]}});
  }
  // one training image: present in the file, never scored
  images.push_back({{"filename", "9.jpg"}, {"imgid", images.size()}, {"split", "train"},
                    {"sentences", {{{"raw", "a train image"}}}}});
  const auto dir = fx::temp_dir("imagecap_golden");
  fx::write(dir / "dataset_flickr30k.json", json({{"dataset", "flickr30k"}, {"images", images}}).dump());
  std::string out;
  ASSERT_EQ(fx::run(std::string(GLAMM_EVAL_BINARY) + " imagecap --dataset flickr30k --annotations '" +
                        (dir / "dataset_flickr30k.json").string() + "' --pred '" + res_path.string() +
                        "' --meteor-resources '" + meteor.string() + "' --meteor-paraphrase - -q --json '" +
                        (dir / "rec.json").string() + "'",
                    out),
            0)
      << out;
  const json r = json::parse(std::ifstream(dir / "rec.json"));
  const json e = json::parse(std::ifstream(exp_path));
  for (const auto& [name, value] : e["corpus"].items())
    EXPECT_NEAR(r["metrics"][name].get<double>(), value.get<double>(), 1e-12) << name;
  for (const char* k : {"testlen", "reflen", "guess", "correct"}) EXPECT_EQ(r["details"]["bleu_info"][k], e["bleu_info"][k]) << k;
  EXPECT_EQ(r["details"]["num_images"], e["num_images"]);
  EXPECT_EQ(r["details"]["images_per_split"]["train"], 1);
  EXPECT_GT(r["details"]["images_not_five_sentences"].get<int>(), 0);
  ASSERT_EQ(r["per_sample"].size(), 5000u);
  EXPECT_EQ(r["per_sample"][0]["meteor_stats"].size(), 23u);
  EXPECT_TRUE(r["per_sample"][0].contains("bleu_counts"));
  EXPECT_EQ(r["signature"]["spice"], "not-available");
  EXPECT_NE(out.find("SPICE: not available"), std::string::npos);
  std::filesystem::remove_all(dir);
}
