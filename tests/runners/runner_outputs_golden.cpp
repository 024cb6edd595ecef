// Golden: the runner's output files with a fake model answering the official scripts' golden outputs
// (shared golden/model/golden) are byte-identical to the files the official infer.py / region-caption merge wrote.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "runners/infer_driver.h"
#include "runners/outputs.h"
#include "runners/runner.h"
#include "support/shared_data.h"
#include "tests/runners/fake_model.h"

namespace fs = std::filesystem;
using namespace glamm::runners;
using glamm::runners::testing::FakeModel;

namespace {

fs::path fresh_dir(const std::string& name) { return glamm::runners::testing::fresh_test_dir("runner_golden", name); }
std::string slurp(const fs::path& p) { return glamm::io::read_file(p); }
RunOptions options(const fs::path& out, int k = 0, int n = 1) { return glamm::runners::testing::quiet_options(out, k, n); }

}  // namespace

TEST(RunnerGolden, GcgFilesAreByteIdenticalToTheOfficialInferPy) {
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden/gcg_output__surfer.json");
  const fs::path gdir = golden.parent_path();
  const fs::path images = fresh_dir("images");
  for (const char* stem : {"COCO_val2014_000000391895", "surfer"})
    std::ofstream(images / (std::string(stem) + ".jpg")) << "x";
  const ItemList list = gcg_items_from_folder(images);
  FakeModel fake;
  fake.answer = [&](const std::string& stem) {  // the golden caption, phrases and masks
    const nlohmann::json g = glamm::io::load_json(gdir / ("gcg_output__" + stem + ".json"));
    glamm::model::GlammOutput o;
    o.caption = g["caption"];
    o.phrases = g["phrases"].get<std::vector<std::string>>();
    for (const auto& m : g["pred_masks"]) o.masks.push_back({m["size"][0], m["size"][1], m["counts"]});
    return o;
  };
  const fs::path out = fresh_dir("out");
  std::ostringstream log;
  run_items(list, fake, options(out), log);
  for (const char* stem : {"COCO_val2014_000000391895", "surfer"})
    EXPECT_EQ(slurp(out / (std::string(stem) + ".json")), slurp(gdir / ("gcg_output__" + std::string(stem) + ".json")))
        << stem;
  // The case JSON stores the same string as official_output_json.
  const nlohmann::json c = glamm::io::load_json(gdir / "gcg__surfer.json");
  EXPECT_EQ(slurp(out / "surfer.json"), c["official_output_json"].get<std::string>());
}

TEST(RunnerGolden, RegionCaptionMergeIsByteIdenticalToTheOfficialResultFile) {
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden/regcap_output.json");
  const fs::path images = fresh_dir("images");
  ItemList list;
  list.task = Task::kRegcap;
  for (const char* id : {"COCO_val2014_000000391895", "COCO_val2014_000000391895__2boxes", "surfer", "surfer__2boxes"}) {
    WorkItem w;
    w.key = id;
    w.image = images / (std::string(id) + ".jpg");
    std::ofstream(w.image) << "x";
    w.instruction = kRegcapInstruction;
    w.boxes = {{10, 20, 110, 220}};
    w.image_id = id;
    list.items.push_back(w);
  }
  const fs::path out = fresh_dir("out");
  std::ostringstream log;
  for (int k = 0; k < 3; ++k) {  // three shards; the last one merges
    FakeModel fake;
    fake.answer = [](const std::string&) {
      glamm::model::GlammOutput o;
      o.caption = "The person is here.";
      return o;
    };
    const RunSummary s = run_items(list, fake, options(out, k, 3), log);
    EXPECT_EQ(s.complete, k == 2);
    for (const auto& b : fake.boxes) {
      ASSERT_EQ(b.size(), 1u);
      EXPECT_EQ(b[0].x2, 110);
    }
  }
  EXPECT_EQ(slurp(out / "predictions.json"), slurp(golden));
  EXPECT_EQ(slurp(out / "items" / "surfer.json"),
            "[\n  {\n    \"image_id\": \"surfer\",\n    \"caption\": \"The person is here.\"\n  }\n]");
}

