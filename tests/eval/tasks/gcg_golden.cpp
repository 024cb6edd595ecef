// GCG task layer on the GranD-f-format golden sets (val and test, derived from real COCO masks and results), called
// in-process (run_gcg_task + to_record, as `glamm-eval gcg --text-sim ... --meteor-resources <shared>/data/meteor`
// does): every COCOeval stat, the caption metrics, per-image mIoU pairs and recall matches at the README's 1e-12.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "eval/tasks/gcg.h"
#include "metrics/meteor/discovery.h"
#include "metrics/meteor/meteor.h"
#include "support/gcg_expected.h"
#include "support/shared_data.h"

using nlohmann::json;
namespace fs = std::filesystem;
namespace tasks = glamm::tasks;

namespace {

json load(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

/// METEOR from `dir` with the paraphrase table the CLI would find for `--meteor-resources dir` (none, unless one
/// is installed or named by GLAMM_METEOR_PARAPHRASE).
struct Meteor {
  std::shared_ptr<const glamm::meteor::Resources> resources;
  std::unique_ptr<glamm::meteor::Scorer> scorer;
  explicit Meteor(const fs::path& dir) {
    glamm::meteor::DiscoveryOptions d;
    d.resources_cli = dir.string();
    const glamm::meteor::Discovery found = glamm::meteor::discover(d);
    resources = std::make_shared<const glamm::meteor::Resources>(
        glamm::meteor::Resources::load(dir.string(), found.paraphrase.found() ? found.paraphrase.path : "-"));
    glamm::meteor::Config cfg;
    cfg.paraphrase = resources->paraphrase != nullptr;
    scorer = std::make_unique<glamm::meteor::Scorer>(resources, cfg);
  }
};

/// Score one golden split in-process (official mode unless `strict`) and return its record as JSON.
json run_gcg(const fs::path& gold, const fs::path& shared, const std::string& split, bool strict = false) {
  Meteor meteor(shared / "data" / "meteor");
  tasks::GcgOptions opt;
  opt.strict = strict;
  opt.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  opt.similarity = tasks::TableSimilarity::load((gold / (split + "_text_similarity.tsv")).string());
  opt.meteor = [&](std::vector<std::string>&) { return tasks::GcgMeteor{meteor.scorer.get(), {}}; };
  const tasks::GcgFiles files{split, gold.string(), {(gold / ("predictions_" + split)).string()}};
  return tasks::to_record(tasks::run_gcg_task(files, opt), {}).to_json();
}

void check_split(const std::string& split) {
  GLAMM_REQUIRE_SHARED(gold, "golden/gcg");
  const fs::path shared = gold.parent_path().parent_path();
  const json exp = load(gold / ("expected_" + split + ".json"));
  const json rec = run_gcg(gold, shared, split);

  glamm::testing::expect_gcg_record_matches(rec, exp);
}

}  // namespace

TEST(GcgTaskGolden, ValSplitMatchesOfficialEvaluation) { check_split("val"); }
TEST(GcgTaskGolden, TestSplitMatchesOfficialEvaluation) { check_split("test"); }

TEST(GcgTaskGolden, StrictModeIsNamedInTheSignature) {
  GLAMM_REQUIRE_SHARED(gold, "golden/gcg");
  const json rec = run_gcg(gold, gold.parent_path().parent_path(), "val", true);
  EXPECT_NE(rec["signature"]["strict"].get<std::string>().find("recall_no_break"), std::string::npos);
  // the corrected recall can only find more matches than the one that stops at the first rejected pair
  EXPECT_GE(rec["details"]["recall_true_positives"].get<int>(), 126);
}

// The per-sample schema reads back what the task wrote, for every image of the golden split.
TEST(GcgTaskGolden, PerSampleSchemaRoundTrips) {
  GLAMM_REQUIRE_SHARED(gold, "golden/gcg");
  const json rec = run_gcg(gold, gold.parent_path().parent_path(), "val");
  ASSERT_EQ(rec["per_sample"].size(), 50u);
  for (std::size_t i = 0; i < rec["per_sample"].size(); ++i) {
    const json& s = rec["per_sample"][i];
    EXPECT_EQ(tasks::GcgSample::from_json(s, "rec.json", i).to_json(), s) << i;
  }
  const auto fb = tasks::GcgFailureBreakdown::from_json(rec["details"]["failure_breakdown"], "rec.json");
  EXPECT_EQ(fb.to_json(), rec["details"]["failure_breakdown"]);
}
