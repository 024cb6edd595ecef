// SPICE-style corpus scores on the CLIPScore README example (golden/captions/clipscore_example_expected.json,
// published SPICE 0.4000 good / 0.1500 bad) with METEOR's english.synsets (data/meteor): within 0.05 of the
// published values and the same order. Also METEOR synset lookups as SPICE's SceneGraph.getSynSets does them.
#include <cmath>
#include <cstdio>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "metrics/meteor/meteor.h"
#include "metrics/spice/spice.h"
#include "support/shared_data.h"

namespace glamm::spice {
namespace {

bool share(const std::vector<int>& a, const std::vector<int>& b) {
  for (int x : a)
    for (int y : b)
      if (x == y) return true;
  return false;
}

TEST(SpiceCorpus, MeteorSynsetsFollowGetSynSetsAndStemSynSets) {
  GLAMM_REQUIRE_SHARED(dir, "data/meteor/english.synsets");
  auto res = std::make_shared<meteor::Resources>(meteor::Resources::load(dir.parent_path().string(), "-"));
  auto syn = meteor_synsets(res);
  EXPECT_FALSE(syn("dog").empty());
  EXPECT_TRUE(share(syn("dogs"), syn("dog")));          // morph: "s" → ""
  EXPECT_TRUE(share(syn("men"), syn("man")));           // english.exceptions
  EXPECT_TRUE(share(syn("car"), syn("automobile")));    // WordNet synonyms
  EXPECT_EQ(syn("Traffic Light"), syn("traffic_light"));  // lowercased, ' ' → '_'
  EXPECT_TRUE(syn("zzzqqq").empty());
}

TEST(SpiceCorpus, ClipscoreExampleWithinPointZeroFiveOfPublishedAndOrdered) {
  GLAMM_REQUIRE_SHARED(path, "golden/captions/clipscore_example_expected.json");
  GLAMM_REQUIRE_SHARED(mdir, "data/meteor/english.synsets");
  auto res = std::make_shared<meteor::Resources>(meteor::Resources::load(mdir.parent_path().string(), "-"));
  auto syn = meteor_synsets(res);
  LinkParser parser;
  auto j = nlohmann::json::parse(io::read_file(path));
  double got[2];
  int k = 0;
  for (const char* set : {"good", "bad"}) {
    const auto& tok = j[set]["tokenized"];
    std::vector<ImageInput> imgs;
    for (std::size_t i = 0; i < tok["cands"].size(); ++i)
      imgs.push_back({std::to_string(i), tok["cands"][i].get<std::string>(),
                      tok["refs"][i].get<std::vector<std::string>>()});
    auto s = score_corpus(parser, syn, imgs, 1);
    double published = j[set]["published_4dp"]["SPICE"].get<double>();
    std::printf("%s: %s %.4f, published SPICE %.4f\n", set, kMetricName, s.spice, published);
    EXPECT_NEAR(s.spice, published, 0.05) << set;
    EXPECT_EQ(s.counts.total(), 8);
    got[k++] = s.spice;
  }
  EXPECT_GT(got[0], got[1]);
}

}  // namespace
}  // namespace glamm::spice
