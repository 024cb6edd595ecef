// glamm-eval imagecap through the Flickr30k (Karpathy) adapter reproduces the COCO val2017 leave-one-out golden
// (golden/captions/coco_val2017_loo_*): the GT file is converted to the Karpathy layout at test time (one image
// entry per GT image, filename "<id>.jpg", split "test", sentences[].raw = its captions in file order; 4–6 per
// image, so nothing assumes 5). METEOR paraphrase off, as the golden. That run uses --no-spice (SPICE-style would
// parse ~25,000 captions, ~85 s); the SPICE-style score is checked on the CLIPScore example instead
// (golden/captions/clipscore_example_expected.json: published SPICE 0.4000 good / 0.1500 bad).
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "datasets/refer_fixture.h"
#include "imagecap/spice_reference.h"
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
                        "' --meteor-resources '" + meteor.string() + "' --meteor-paraphrase - --no-spice -q --json '" +
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
  EXPECT_EQ(r["signature"]["spice"], "off(--no-spice)");
  EXPECT_FALSE(r["metrics"].contains(glamm::spice::kMetricName));
  std::filesystem::remove_all(dir);
}

// The CLIPScore example through the Flickr30k adapter (images 1 and 2, the golden's tokenized captions as raw text):
// SPICE-style 0.4143 (good) / 0.1548 (bad) at the time of writing, within 0.05 of the published SPICE 0.4000 / 0.1500,
// in the same order, and equal to the library's score of the same captions.
TEST(ImagecapGolden, SpiceStyleOnClipscoreExampleNearPublishedSpiceAndOrdered) {
  GLAMM_REQUIRE_SHARED(exp_path, "golden/captions/clipscore_example_expected.json");
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  const json e = json::parse(std::ifstream(exp_path));
  const auto dir = fx::temp_dir("imagecap_clip");
  double got[2];
  int k = 0;
  for (const char* set : {"good", "bad"}) {
    const json& tok = e[set]["tokenized"];
    json images = json::array();
    json preds = json::array();
    std::vector<std::vector<std::string>> refs;
    std::vector<std::string> cands;
    for (std::size_t i = 0; i < tok["cands"].size(); ++i) {
      json sents = json::array();
      for (const auto& c : tok["refs"][i]) sents.push_back({{"raw", c}});
      images.push_back({{"filename", std::to_string(i + 1) + ".jpg"}, {"imgid", i}, {"split", "test"},
                        {"sentences", sents}});
      preds.push_back({{"image_id", i + 1}, {"caption", tok["cands"][i]}});
      refs.push_back(tok["refs"][i].get<std::vector<std::string>>());
      cands.push_back(tok["cands"][i].get<std::string>());
    }
    fx::write(dir / "k.json", json({{"dataset", "flickr30k"}, {"images", images}}).dump());
    fx::write(dir / "pred.json", preds.dump());
    std::string out;
    ASSERT_EQ(fx::run(std::string(GLAMM_EVAL_BINARY) + " imagecap --dataset flickr30k --annotations '" +
                          (dir / "k.json").string() + "' --pred '" + (dir / "pred.json").string() +
                          "' --meteor-resources '" + meteor.string() + "' --meteor-paraphrase - -q --json '" +
                          (dir / "rec.json").string() + "'",
                      out),
              0)
        << out;
    const json r = json::parse(std::ifstream(dir / "rec.json"));
    const double v = r["metrics"][glamm::spice::kMetricName].get<double>();
    const double published = e[set]["published_4dp"]["SPICE"].get<double>();
    std::printf("%s: %s %.4f (published SPICE %.4f)\n", set, glamm::spice::kMetricName, v, published);
    EXPECT_NEAR(v, published, 0.05) << set;
    EXPECT_DOUBLE_EQ(v, glamm::testing::spice_reference::library_spice_style(refs, cands, meteor).spice) << set;
    // the other metrics still reproduce the golden
    EXPECT_NEAR(r["metrics"]["CIDEr"].get<double>(), e[set]["corpus"]["CIDEr"].get<double>(), 1e-12) << set;
    got[k++] = v;
  }
  EXPECT_GT(got[0], got[1]);
  std::filesystem::remove_all(dir);
}
