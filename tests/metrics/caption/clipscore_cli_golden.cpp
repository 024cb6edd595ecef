// Golden: `glamm-eval captions --spice` on the CLIPScore example (shared golden/captions).
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "metrics/spice/spice.h"
#include "support/shared_data.h"
#include "tests/metrics/caption/captions_cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using glamm::testing::CaptionsCli;

// Golden: the CLIPScore example (golden/captions/clipscore_example_expected.json; its tokenized captions written as
// a COCO GT file and results lists): SPICE-style 0.4143 (good) / 0.1548 (bad) at the time of writing, within 0.05
// of the published SPICE 0.4000 / 0.1500 and in the same order; METEOR on the same run still matches the golden.
TEST_F(CaptionsCli, SpiceStyleOnClipscoreExampleNearPublishedSpiceAndOrdered) {
  GLAMM_REQUIRE_SHARED(exp_path, "golden/captions/clipscore_example_expected.json");
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const auto e = nlohmann::json::parse(glamm::io::read_file(exp_path));
  double got[2];
  int k = 0;
  for (const char* set : {"good", "bad"}) {
    const auto& tok = e.at(set).at("tokenized");
    nlohmann::json gt = {{"images", nlohmann::json::array()}, {"annotations", nlohmann::json::array()}};
    nlohmann::json res = nlohmann::json::array();
    for (std::size_t i = 0; i < tok.at("cands").size(); ++i) {
      gt["images"].push_back({{"id", i}});
      for (const auto& c : tok.at("refs").at(i)) gt["annotations"].push_back({{"image_id", i}, {"caption", c}});
      res.push_back({{"image_id", i}, {"caption", tok.at("cands").at(i)}});
    }
    const auto gt_path = write("gt.json", gt.dump());
    const auto res_path = write("res.json", res.dump());
    ASSERT_EQ(run(files(gt_path, res_path, "bleu,meteor,rouge,cider") + " --spice --meteor-resources \"" +
                  meteor.string() + "\" --meteor-paraphrase - --json \"" + (tmp_ / "r.json").string() + "\""),
              0)
        << err_;
    const auto r = nlohmann::json::parse(glamm::io::read_file(tmp_ / "r.json"));
    const double v = r.at("metrics").at(glamm::spice::kMetricName).get<double>();
    const double published = e.at(set).at("published_4dp").at("SPICE").get<double>();
    std::printf("%s: %s %.4f (published SPICE %.4f)\n", set, glamm::spice::kMetricName, v, published);
    EXPECT_NEAR(v, published, 0.05) << set;
    EXPECT_NEAR(r.at("metrics").at("METEOR").get<double>(), e.at(set).at("corpus").at("METEOR").get<double>(), 1e-12);
    EXPECT_NE(r.at("signature_string").get<std::string>().find("spice:SPICE-style (Link Grammar parser)"),
              std::string::npos);
    got[k++] = v;
  }
  EXPECT_GT(got[0], got[1]);
}

}  // namespace
