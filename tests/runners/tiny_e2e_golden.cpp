// End-to-end `glamm-eval infer` with the real model code on the tiny random-weight checkpoint
// (golden/model/tiny-glamm + tiny-clip-vit-patch14-336) against the official scripts' output files.
// Needs model/glamm.cpp (load_glamm) in the plugin libglamm_runner.so (built with libtorch); CPU, about 20 s each.
// Tolerance (golden/model/README.md): caption, phrases, ids exact; masks exact after decoding or at most 0.02 % of
// the pixels different per mask (mask logits near 0 are summation-order sensitive); both cases are reported.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "datasets/refer_fixture.h"
#include "metrics/mask/rle.h"
#include "support/shared_data.h"
#include "tests/runners/fake_model.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path fresh_dir(const std::string& name) { return glamm::runners::testing::fresh_test_dir("runner_e2e", name); }

int sh(const std::string& cmd, std::string& out) { return glamm::runners::testing::run_logged(cmd, out); }

const char* const kStems[] = {"COCO_val2014_000000391895", "surfer"};

/// The two golden images in a folder of their own.
fs::path golden_images(const fs::path& shared) {
  const fs::path d = fresh_dir("images");
  for (const char* stem : kStems) fs::create_symlink(shared / "data" / "images" / (std::string(stem) + ".jpg"),
                                                     d / (std::string(stem) + ".jpg"));
  return d;
}

/// The tests need the libtorch plugin next to glamm-eval (absent in a GLAMM_WITH_TORCH=OFF build).
bool plugin_built() {
  const char* env = std::getenv("GLAMM_RUNNER_PLUGIN");
  return (env && *env) || fs::exists(fs::path(GLAMM_EVAL_BINARY).parent_path() / "libglamm_runner.so");
}
#define REQUIRE_RUNNER_PLUGIN() \
  GLAMM_REQUIRE(plugin_built(), "libglamm_runner.so not built (no libtorch): nothing to run the model with")

std::string model_args(const fs::path& shared) {
  return " --checkpoint " + (shared / "golden/model/tiny-glamm").string() + " --clip " +
         (shared / "golden/model/tiny-clip-vit-patch14-336").string() + " --device cpu --dtype fp32 -q";
}

}  // namespace

TEST(TinyCheckpoint, GcgFilesMatchTheOfficialInferPy) {
  REQUIRE_RUNNER_PLUGIN();
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden/gcg_output__surfer.json");
  const fs::path shared = golden.parent_path().parent_path().parent_path().parent_path();
  const fs::path images = golden_images(shared), out = fresh_dir("out");
  std::string log;
  ASSERT_EQ(sh(std::string(GLAMM_EVAL_BINARY) + " infer gcg" + model_args(shared) + " --images " + images.string() +
                   " --out " + out.string(),
               log),
            0)
      << log;
  for (const char* stem : kStems) {
    const std::string mine = glamm::io::read_file(out / (std::string(stem) + ".json"));
    const std::string ref = glamm::io::read_file(golden.parent_path() / ("gcg_output__" + std::string(stem) + ".json"));
    if (mine == ref) continue;  // byte-identical
    const json a = json::parse(mine), b = json::parse(ref);
    EXPECT_EQ(a["image_id"], b["image_id"]) << stem;
    EXPECT_EQ(a["caption"], b["caption"]) << stem;
    EXPECT_EQ(a["phrases"], b["phrases"]) << stem;
    ASSERT_EQ(a["pred_masks"].size(), b["pred_masks"].size()) << stem;
    for (std::size_t m = 0; m < a["pred_masks"].size(); ++m) {
      const json& x = a["pred_masks"][m];
      const json& y = b["pred_masks"][m];
      ASSERT_EQ(x["size"], y["size"]) << stem << " mask " << m;
      const uint32_t h = y["size"][0], w = y["size"][1];
      const auto dx = glamm::mask::decode(glamm::mask::from_string(x["counts"].get<std::string>(), h, w));
      const auto dy = glamm::mask::decode(glamm::mask::from_string(y["counts"].get<std::string>(), h, w));
      std::size_t diff = 0;
      for (std::size_t i = 0; i < dx.size(); ++i) diff += dx[i] != dy[i];
      EXPECT_LE(static_cast<double>(diff), 2e-4 * static_cast<double>(dx.size())) << stem << " mask " << m;
      std::cout << stem << " mask " << m << ": " << diff << " of " << dx.size() << " pixels differ from the golden\n";
    }
  }
}

TEST(TinyCheckpoint, RegionCaptionsMatchTheOfficialList) {
  REQUIRE_RUNNER_PLUGIN();
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden/regcap_output.json");
  const fs::path gdir = golden.parent_path();
  const fs::path shared = gdir.parent_path().parent_path().parent_path();
  const fs::path images = golden_images(shared), out = fresh_dir("out"), data = fresh_dir("data");
  // A region-caption GT (RefCOCOg layout) with the golden cases' one-box prompts.
  json gt = {{"images", json::array()}, {"annotations", json::array()}};
  int id = 1;
  for (const char* stem : kStems) {
    const json c = glamm::io::load_json(gdir / ("regcap1__" + std::string(stem) + ".json"));
    const auto& b = c["boxes_xyxy_pixels"][0];
    const double x1 = b[0], y1 = b[1], x2 = b[2], y2 = b[3];
    gt["images"].push_back({{"id", id}, {"file_name", std::string(stem) + ".jpg"},
                            {"height", c["original_size_hw"][0]}, {"width", c["original_size_hw"][1]}});
    gt["annotations"].push_back({{"id", id}, {"image_id", id}, {"bbox", {x1, y1, x2 - x1, y2 - y1}},
                                 {"area", (x2 - x1) * (y2 - y1)}, {"caption", "reference"}});
    ++id;
  }
  std::ofstream(data / "gt.json") << gt.dump();
  std::string log;
  ASSERT_EQ(sh(std::string(GLAMM_EVAL_BINARY) + " infer regcap --dataset refcocog --annotations " +
                   (data / "gt.json").string() + model_args(shared) + " --images " + images.string() + " --out " +
                   out.string(),
               log),
            0)
      << log;
  const json mine = glamm::io::load_json(out / "predictions.json");
  const json ref = glamm::io::load_json(golden);  // entries 0 and 2 are the one-box cases
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0]["image_id"], 1);
  EXPECT_EQ(mine[0]["caption"], ref[0]["caption"]);
  EXPECT_EQ(mine[1]["caption"], ref[2]["caption"]);
}

TEST(TinyCheckpoint, RunRefsegInfersTeacherForcedAndScoresWithRefseg) {
  REQUIRE_RUNNER_PLUGIN();
  namespace fx = glamm::testing::refer_fixture;
  GLAMM_REQUIRE_SHARED(image, "data/images/COCO_val2014_000000391895.jpg");
  const fs::path shared = image.parent_path().parent_path().parent_path();
  const fs::path root = fresh_dir("data"), out = fresh_dir("out");
  // The §4.8 REFER example with image 42 standing for the 640×360 COCO image.
  json inst = fx::spec_instances();
  inst["images"][0]["file_name"] = image.filename().string();
  inst["images"][0]["height"] = 360;
  inst["images"][0]["width"] = 640;
  fx::write_refer(root, "refcoco", "unc", fx::spec_refs(), inst);
  std::string log;
  const fs::path rec = out / "rec.json";
  ASSERT_EQ(sh(std::string(GLAMM_EVAL_BINARY) + " run refseg --dataset refcoco --split testA --data-root " +
                   root.string() + " --images " + image.parent_path().string() + model_args(shared) + " --out " +
                   out.string() + " --json " + rec.string(),
               log),
            0)
      << log;
  const std::string jl = glamm::io::read_file(out / "predictions.jsonl");
  EXPECT_EQ(std::count(jl.begin(), jl.end(), '\n'), 3);
  EXPECT_NE(jl.find(R"("size":[360,640])"), std::string::npos) << jl;
  const json r = glamm::io::load_json(rec);
  EXPECT_EQ(r["per_sample"].size(), 3u);
  const double giou = r["metrics"]["gIoU"];
  EXPECT_GE(giou, 0.0);
  EXPECT_LE(giou, 1.0);
  const json m = glamm::io::load_json(out / "manifest.json");
  EXPECT_EQ(m["refseg"]["mode"], "teacher-forced");
}

TEST(TinyCheckpoint, ImageCaptionsOfAFolderGoOnPastACorruptImageAndResume) {
  REQUIRE_RUNNER_PLUGIN();
  GLAMM_REQUIRE_SHARED(golden, "golden/model/tiny-glamm/config.json");
  const fs::path shared = golden.parent_path().parent_path().parent_path().parent_path();
  const fs::path images = golden_images(shared), out = fresh_dir("out");
  std::ofstream(images / "broken.jpg") << "not an image";  // sorts between the COCO image and surfer
  const std::string cmd = std::string(GLAMM_EVAL_BINARY) + " infer imagecap --limit 2" + model_args(shared) +
                          " --images " + images.string() + " --out " + out.string();
  std::string log;
  ASSERT_EQ(sh(cmd, log), 2) << log;  // the corrupt image fails, the run goes on
  EXPECT_NE(log.find("failed: broken: "), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(out / "items" / "COCO_val2014_000000391895.json"));
  EXPECT_FALSE(fs::exists(out / "predictions.json"));  // incomplete: not merged
  EXPECT_NE(log.find("predictions.json NOT written: 1 item(s) of the list have no output"), std::string::npos) << log;
  EXPECT_NE(log.find("Fix the unreadable images"), std::string::npos) << log;
  EXPECT_EQ(glamm::io::load_json(out / "manifest.json")["failures"][0]["key"], "broken");
  fs::remove(images / "broken.jpg");
  ASSERT_EQ(sh(std::string(GLAMM_EVAL_BINARY) + " infer imagecap --limit 1" + model_args(shared) + " --images " +
                   images.string() + " --out " + out.string(),
               log),
            0)
      << log;
  EXPECT_NE(log.find("0 computed, 1 already done"), std::string::npos) << log;
  // Nothing loaded this time: the manifest keeps the model record of the run that computed the outputs.
  const json m = glamm::io::load_json(out / "manifest.json");
  EXPECT_EQ(m["model_loaded"], false);
  EXPECT_EQ(m["model"]["checkpoint"], (shared / "golden/model/tiny-glamm").string()) << m["model"];
  EXPECT_EQ(m["model_run"]["computed"], 1);
  const json p = glamm::io::load_json(out / "predictions.json");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0]["image_id"], "COCO_val2014_000000391895");
  EXPECT_TRUE(p[0]["caption"].is_string());
  EXPECT_EQ(p[0].size(), 2u);
}
