// `glamm-eval gcg` with the predictions split over three --pred folders (sharded inference): every error names the
// file in the folder it came from, every per_sample.prediction_file is that file, and `glamm-eval report` draws the
// overlays of images from all three folders.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/grandf_fixture.h"
#include "support/shared_data.h"
#include "support/test_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;
using glamm::testing::GrandfFixture;

namespace {

struct GcgRun {
  int rc = -1;
  std::string out;
  json rec;
};

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

int shell(const std::string& cmd, const fs::path& log, std::string& out) {
  const int rc = std::system((cmd + " > " + q(log) + " 2>&1").c_str());
  std::ifstream in(log);
  out.assign(std::istreambuf_iterator<char>(in), {});
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/// `glamm-eval gcg` on the fixture with --pred for each of its folders; the record is read when written.
GcgRun run_gcg(const GrandfFixture& f, const std::string& extra = "") {
  f.write();
  const fs::path js = f.dir / "rec.json";
  fs::remove(js);
  std::string cmd = std::string(GLAMM_EVAL_BINARY) + " gcg -q --split val --gt-dir " + q(f.dir) + " --text-sim " +
                    q(f.dir / "sim.tsv") + " --meteor-resources " + q(glamm::testing::meteor_resources_dir()) +
                    " --json " + q(js) + " " + extra;
  for (const fs::path& d : f.pred_dirs()) cmd += " --pred " + q(d);
  GcgRun r;
  r.rc = shell(cmd, f.dir / "log.txt", r.out);
  if (fs::exists(js)) r.rec = json::parse(std::ifstream(js));
  return r;
}

#define NEED_METEOR()                                                                                   \
  GLAMM_REQUIRE(fs::exists(glamm::testing::meteor_resources_dir() / "english.synsets"),                 \
                "the build's METEOR resources are missing (build target glamm_meteor_data)")

/// The message names folder 3's file and no other folder's path for it.
void expect_names_folder3_file(const GrandfFixture& f, const std::string& out) {
  EXPECT_NE(out.find((f.dir / "pred3" / "img_c.json").string()), std::string::npos) << out;
  EXPECT_EQ(out.find((f.dir / "pred1" / "img_c.json").string()), std::string::npos) << out;
}

}  // namespace

TEST(GcgShards, PerSamplePredictionFileIsTheFileOfEachFolder) {
  NEED_METEOR();
  const GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_shards"));
  const GcgRun r = run_gcg(f);
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_EQ(r.rec["per_sample"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const json& s = r.rec["per_sample"][i];
    EXPECT_EQ(s["image_id"], f.images[i].id);
    EXPECT_EQ(s["prediction_file"], f.prediction_file(f.images[i]).string());
    EXPECT_TRUE(fs::exists(s["prediction_file"].get<std::string>()));
  }
  EXPECT_EQ(r.rec["inputs"]["predictions"], (f.dir / "pred1").string());
  EXPECT_EQ(r.rec["inputs"]["predictions_1"], (f.dir / "pred2").string());
  EXPECT_EQ(r.rec["inputs"]["predictions_2"], (f.dir / "pred3").string());
  // img_b: kite exact, bench 6/9; img_a and img_c exact.
  EXPECT_DOUBLE_EQ(r.rec["metrics"]["mIoU"].get<double>(), ((1.0 + 6.0 / 9.0) / 2 + 1.0 + 1.0) / 3);
  EXPECT_DOUBLE_EQ(r.rec["metrics"]["Recall"].get<double>(), 1.0);
}

TEST(GcgShards, BadMaskInTheThirdFolderNamesThatFile) {
  NEED_METEOR();
  GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_shards"));
  // An RLE whose counts cover fewer pixels than its size (refused when the detections are built).
  f.images[2].prediction["pred_masks"] = {{{"size", {6, 8}}, {"counts", "12"}}};
  GcgRun r = run_gcg(f);
  EXPECT_EQ(r.rc, 2) << r.out;
  expect_names_folder3_file(f, r.out);
  EXPECT_NE(r.out.find("pred_masks[0]"), std::string::npos) << r.out;
  // A mask of another size than the GT (numpy's broadcast error in mIoU).
  f.images[2].prediction["pred_masks"] = {glamm::testing::grandf_rect(0, 0, 2, 2, 10, 10)};
  r = run_gcg(f);
  EXPECT_EQ(r.rc, 2) << r.out;
  expect_names_folder3_file(f, r.out);
  EXPECT_NE(r.out.find("sizes differ"), std::string::npos) << r.out;
}

TEST(GcgShards, PredictionForAnImageWithoutMaskGtNamesItsFile) {
  NEED_METEOR();
  GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_shards"));
  f.images[2].in_mask_gt = false;  // img_c is in the caption GT only
  const GcgRun r = run_gcg(f);
  EXPECT_EQ(r.rc, 2) << r.out;
  expect_names_folder3_file(f, r.out);
  EXPECT_NE(r.out.find("is not in the mask GT"), std::string::npos) << r.out;
}

TEST(GcgShards, ReportDrawsOverlaysForImagesOfEveryFolder) {
  NEED_METEOR();
  const GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_shards"));
  const GcgRun r = run_gcg(f);
  ASSERT_EQ(r.rc, 0) << r.out;
  fs::create_directories(f.dir / "images");
  for (const auto& im : f.images) std::ofstream(f.dir / "images" / (im.id + ".jpg"), std::ios::binary)
                                      << glamm::testing::grandf_grey_bmp();
  const fs::path html = f.dir / "report.html";
  std::string out;
  ASSERT_EQ(shell(std::string(GLAMM_EVAL_BINARY) + " report " + q(f.dir / "rec.json") + " --out " + q(html) +
                      " --images " + q(f.dir / "images") + " --worst 3",
                  f.dir / "report.log", out),
            0)
      << out;
  EXPECT_EQ(out.find("no overlay"), std::string::npos) << out;
  std::ifstream in(html);
  const std::string page(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(page.find("no overlay:"), std::string::npos);
  for (const auto& im : f.images)  // one overlay per image, whichever folder its prediction is in
    EXPECT_NE(page.find("<img alt=\"" + im.id + "\" src=\"data:image/jpeg;base64,"), std::string::npos) << im.id;
}
