// glamm-eval imagecap through the binary: the SPICE-style score on the CLIPScore example
// (golden/captions/clipscore_example_expected.json: published SPICE 0.4000 good / 0.1500 bad). The Flickr30k adapter
// on the COCO val2017 leave-one-out golden runs in-process (tests/eval/tasks/caption_tasks_golden.cpp; SPICE-style off
// there: it would parse ~25,000 captions, ~85 s).
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "datasets/refer_fixture.h"
#include "tests/eval/imagecap/spice_reference.h"
#include "support/shared_data.h"

namespace fx = glamm::testing::refer_fixture;
using nlohmann::json;

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
