// `glamm-eval gcg` on small hand-built GranD-f folders: official behaviour on awkward predictions and clear errors on
// bad input. Fixtures are written to a temporary folder by each test.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "metrics/mask/rle.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint32_t kH = 6, kW = 8;

/// Compressed RLE of the rectangle rows [y0, y1) × columns [x0, x1) on a kH × kW image.
json rect(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, uint32_t h = kH, uint32_t w = kW) {
  std::vector<uint8_t> m(static_cast<std::size_t>(h) * w, 0);
  for (uint32_t x = x0; x < x1; ++x)
    for (uint32_t y = y0; y < y1; ++y) m[x * h + y] = 1;
  return {{"size", {h, w}}, {"counts", glamm::mask::to_string(glamm::mask::encode(m.data(), h, w))}};
}

struct Fixture {
  fs::path dir;
  json cap_gt, mask_gt;
  std::vector<std::pair<std::string, json>> preds;
  std::string sim = "gt_label\tpred_label\tsimilarity\na kite\tkite\t0.9\na bench\tbench\t0.8\nthe dog\tdog\t0.95\n";

  Fixture() {
    dir = fs::path(::testing::TempDir()) / ("gcg_cli_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "pred");
    json images = json::array({{{"id", "img_b"}, {"height", kH}, {"width", kW}},
                               {{"id", "img_a"}, {"height", kH}, {"width", kW}}});
    cap_gt = {{"images", images},
              {"annotations",
               {{{"id", 1}, {"image_id", "img_b"}, {"caption", "A kite flies above a bench."},
                 {"labels", {"a kite", "a bench"}}},
                {{"id", 2}, {"image_id", "img_a"}, {"caption", "The dog sits."}, {"labels", {"the dog"}}}}}};
    mask_gt = {{"images", images},
               {"categories", {{{"id", 1}, {"name", "object"}}}},
               {"annotations",
                {{{"id", 1}, {"image_id", "img_b"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 6},
                  {"segmentation", rect(1, 1, 4, 3)}},
                 {{"id", 2}, {"image_id", "img_b"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 9},
                  {"segmentation", rect(4, 2, 7, 5)}},
                 {{"id", 3}, {"image_id", "img_a"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 12},
                  {"segmentation", rect(0, 3, 4, 6)}}}}};
    preds = {{"img_b", {{"image_id", "img_b"}, {"caption", "A kite above a bench."}, {"phrases", {"kite", "bench"}},
                        {"pred_masks", {rect(1, 1, 4, 3), rect(4, 2, 7, 4)}}}},
             {"img_a", {{"image_id", "img_a"}, {"caption", "A dog."}, {"phrases", {"dog"}},
                        {"pred_masks", {rect(0, 3, 4, 6)}}}}};
  }
  void write() const {
    std::ofstream(dir / "val_gcg_coco_caption_gt.json") << cap_gt.dump();
    std::ofstream(dir / "val_gcg_coco_mask_gt.json") << mask_gt.dump();
    for (const auto& [id, p] : preds) std::ofstream(dir / "pred" / (id + ".json")) << p.dump();
    std::ofstream(dir / "sim.tsv") << sim;
  }
  /// Run the CLI; returns the exit status and fills `out` with stdout+stderr and `rec` with the record if written.
  int run(std::string& out, json* rec = nullptr, const std::string& extra = "") const {
    write();
    const fs::path log = dir / "log.txt", js = dir / "rec.json";
    fs::remove(js);
    const std::string meteor = " --meteor-resources " + glamm::testing::meteor_resources_dir().string();
    const std::string cmd = std::string(GLAMM_EVAL_BINARY) + " gcg -q --split val --gt-dir " + dir.string() +
                            " --pred " + (dir / "pred").string() + " --text-sim " + (dir / "sim.tsv").string() +
                            meteor + " --json " + js.string() + " " + extra + " > " + log.string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(log);
    out.assign(std::istreambuf_iterator<char>(in), {});
    if (rec && fs::exists(js)) *rec = json::parse(std::ifstream(js));
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
};

#define NEED_METEOR()                                                                                   \
  GLAMM_REQUIRE(fs::exists(glamm::testing::meteor_resources_dir() / "english.synsets"),                 \
                "the build's METEOR resources are missing (build target glamm_meteor_data)")

}  // namespace

TEST(GcgCli, HandComputedSmallSet) {
  NEED_METEOR();
  Fixture f;
  std::string out;
  json rec;
  ASSERT_EQ(f.run(out, &rec), 0) << out;
  // img_b: kite exact (IoU 1), bench pred rows 2-3 vs GT rows 2-4 over columns 4-6: 6/9; img_a exact.
  EXPECT_DOUBLE_EQ(rec["metrics"]["mIoU"].get<double>(), ((1.0 + 6.0 / 9.0) / 2 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(rec["metrics"]["Recall"].get<double>(), 1.0);  // 3 of 3 phrases matched (IoU ≥ .5, sim ≥ .5)
  EXPECT_EQ(rec["details"]["recall_actual_positives"], 3);
  EXPECT_DOUBLE_EQ(rec["metrics"]["AP50"].get<double>(), 1.0);
  EXPECT_EQ(rec["label"], "pred");
}

TEST(GcgCli, MissingPredictionFileIsAnErrorListingIdsUnlessAllowed) {
  NEED_METEOR();
  Fixture f;
  f.preds.pop_back();  // img_a has no file
  std::string out;
  EXPECT_EQ(f.run(out), 2);
  EXPECT_NE(out.find("img_a"), std::string::npos) << out;
  EXPECT_NE(out.find("--allow-missing"), std::string::npos) << out;
  json rec;
  ASSERT_EQ(f.run(out, &rec, "--allow-missing"), 0) << out;
  EXPECT_EQ(rec["details"]["failure_breakdown"]["missing_prediction"], 1);
  EXPECT_DOUBLE_EQ(rec["per_sample"][1]["miou"].get<double>(), 0.0);
}

TEST(GcgCli, PredictionWithoutPredMasksNamesTheFile) {
  NEED_METEOR();
  Fixture f;
  f.preds[0].second.erase("pred_masks");
  std::string out;
  EXPECT_EQ(f.run(out), 2);
  EXPECT_NE(out.find("img_b.json"), std::string::npos) << out;
  EXPECT_NE(out.find("pred_masks"), std::string::npos) << out;
}

// A prediction nested under two keys ({"a": {...}, "b": {...}}): ambiguous, exit 2 naming the file and the second
// key (evaluate.py would use the first silently); the prediction file stays as written.
TEST(GcgCli, PredictionNestedUnderTwoKeysIsExit2NamingTheFile) {
  NEED_METEOR();
  Fixture f;
  const json flat = f.preds[0].second;
  f.preds[0].second = {{"first", flat}, {"second", flat}};
  std::string out;
  EXPECT_EQ(f.run(out), 2) << out;
  EXPECT_NE(out.find((f.dir / "pred" / "img_b.json").string()), std::string::npos) << out;
  EXPECT_NE(out.find("second nested prediction record (besides 'first')"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(f.dir / "rec.json"));
  std::ifstream in(f.dir / "pred" / "img_b.json");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), f.preds[0].second.dump());
  // Nested under a single key it is scored as before.
  f.preds[0].second = {{"first", flat}};
  json rec;
  ASSERT_EQ(f.run(out, &rec), 0) << out;
  EXPECT_DOUBLE_EQ(rec["metrics"]["Recall"].get<double>(), 1.0);
}

TEST(GcgCli, WrongSizeMaskIsAClearError) {
  NEED_METEOR();
  Fixture f;
  f.preds[1].second["pred_masks"] = {rect(0, 0, 2, 2, 10, 10)};
  std::string out;
  EXPECT_EQ(f.run(out), 2);
  EXPECT_NE(out.find("img_a"), std::string::npos) << out;
  EXPECT_NE(out.find("sizes differ"), std::string::npos) << out;
}

TEST(GcgCli, MoreMasksThanPhrasesFollowsTheOfficialIndexErrorSkip) {
  NEED_METEOR();
  Fixture f;
  // two masks, one phrase; the best IoU is at mask index 1 → IndexError in the reference: image skipped from
  // recall (its 1 positive stays counted), mIoU unaffected.
  f.preds[1].second["pred_masks"] = {rect(6, 0, 8, 1), rect(0, 3, 4, 6)};
  std::string out;
  json rec;
  ASSERT_EQ(f.run(out, &rec), 0) << out;
  EXPECT_EQ(rec["details"]["recall_true_positives"], 2);
  EXPECT_EQ(rec["details"]["recall_actual_positives"], 3);
  EXPECT_NE(rec["per_sample"][1]["recall_skipped"].get<std::string>().find("IndexError"), std::string::npos);
  EXPECT_EQ(rec["details"]["failure_breakdown"]["more_masks_than_phrases"], 1);
  json strict;
  ASSERT_EQ(f.run(out, &strict, "--strict"), 0) << out;
  EXPECT_FALSE(strict["per_sample"][1].contains("recall_skipped"));
}

TEST(GcgCli, PolygonGroundTruthIsRefusedLikeTheOfficialDecode) {
  NEED_METEOR();
  Fixture f;
  f.mask_gt["annotations"][2]["segmentation"] = json::array({{0, 3, 4, 3, 4, 6, 0, 6}});
  std::string out;
  EXPECT_EQ(f.run(out), 2);
  EXPECT_NE(out.find("not compressed RLE"), std::string::npos) << out;
}

TEST(GcgCli, EmptySplitFileIsAnError) {
  NEED_METEOR();
  Fixture f;
  f.cap_gt["images"] = json::array();
  std::string out;
  EXPECT_EQ(f.run(out), 2);
  EXPECT_NE(out.find("val_gcg_coco_caption_gt.json"), std::string::npos) << out;
}

TEST(GcgCli, AllCaptionsEmptyStillScoresWithAWarning) {
  NEED_METEOR();
  Fixture f;
  for (auto& [id, p] : f.preds) p["caption"] = "";
  std::string out;
  json rec;
  ASSERT_EQ(f.run(out, &rec), 0) << out;
  EXPECT_EQ(rec["metrics"]["METEOR"].get<double>(), 0.0);
  EXPECT_EQ(rec["metrics"]["CIDEr"].get<double>(), 0.0);
  EXPECT_NE(out.find("every predicted caption is empty"), std::string::npos) << out;
}

TEST(GcgCli, NoPredictedMasksInTheSplitGivesZeroAPAndAWarning) {
  NEED_METEOR();
  Fixture f;
  for (auto& [id, p] : f.preds) {
    p["pred_masks"] = json::array();
    p["phrases"] = json::array();
  }
  std::string out;
  json rec;
  ASSERT_EQ(f.run(out, &rec), 0) << out;
  for (double v : rec["details"]["coco_stats"].get<std::vector<double>>()) EXPECT_TRUE(v == 0.0 || v == -1.0) << v;
  EXPECT_EQ(rec["metrics"]["AP50"].get<double>(), 0.0);
  EXPECT_EQ(rec["metrics"]["mIoU"].get<double>(), 0.0);
  EXPECT_EQ(rec["metrics"]["Recall"].get<double>(), 0.0);
  EXPECT_NE(out.find("no predicted masks"), std::string::npos) << out;
}

// A mistyped --pred folder is an error naming it, even with --allow-missing or beside a real folder (it used to read
// as "every image has no prediction" or be ignored).
TEST(GcgCli, NonexistentPredFolderIsAnErrorNamingIt) {
  NEED_METEOR();
  Fixture f;
  const std::string typo = (f.dir / "no_such_folder").string();
  for (const std::string extra : {"--pred " + typo, "--pred " + typo + " --allow-missing"}) {
    std::string out;
    EXPECT_EQ(f.run(out, nullptr, extra), 2) << extra << "\n" << out;
    EXPECT_NE(out.find(typo), std::string::npos) << out;
    EXPECT_NE(out.find("no such predictions folder"), std::string::npos) << out;
  }
}

// --text-sim tables that cannot give real similarities: exit 2 naming the table (and line), never Recall 0, exit 0.
TEST(GcgCli, EmptyHeaderOnlyOrFolderTextSimIsExit2) {
  Fixture f;
  std::string out;
  const std::string table = (f.dir / "sim.tsv").string();
  for (const std::string& text : {std::string(), std::string("gt_label\tpred_label\tsimilarity\n")}) {
    f.sim = text;
    EXPECT_EQ(f.run(out), 2) << out;
    EXPECT_NE(out.find(table + ": the similarity table " + (text.empty() ? "is empty" : "has no gt_label")),
              std::string::npos)
        << out;
    std::ifstream in(table, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), text);  // left as it was
  }
  Fixture g;
  fs::create_directories(g.dir / "sim.tsv");  // write() cannot replace a folder
  EXPECT_EQ(g.run(out), 2) << out;
  EXPECT_NE(out.find((g.dir / "sim.tsv").string() + ": is a folder, not a similarity table file"), std::string::npos)
      << out;
}

TEST(GcgCli, NonFiniteOrConflictingSimilaritiesNameTheLine) {
  Fixture f;
  std::string out;
  const std::string table = (f.dir / "sim.tsv").string();
  const std::string head = "gt_label\tpred_label\tsimilarity\na kite\tkite\t0.9\n";
  for (const char* bad : {"inf", "nan", "-inf", "1e400"}) {
    f.sim = head + "the dog\tdog\t" + bad + "\n";
    EXPECT_EQ(f.run(out), 2) << bad << "\n" << out;
    EXPECT_NE(out.find(table + ": line 3: similarity '" + bad + "' is "), std::string::npos) << out;
  }
  f.sim = head + "the dog\tdog\t0.95\na kite\tkite\t0.3\n";
  EXPECT_EQ(f.run(out), 2) << out;
  EXPECT_NE(out.find(table + ": line 4: pair 'a kite' / 'kite' listed again with 0.3 (line 2 has another value)"),
            std::string::npos)
      << out;
}

TEST(GcgCli, TextSimCoveringNoNeededPairIsExit2) {
  Fixture f;
  f.sim = "gt_label\tpred_label\tsimilarity\na cat\tcat\t0.9\n";
  std::string out;
  EXPECT_EQ(f.run(out), 2) << out;
  // img_b: 2 GT labels × 2 phrases, img_a: 1 × 1.
  EXPECT_NE(out.find((f.dir / "sim.tsv").string() +
                     ": --text-sim: the table lists none of the 5 (gt_label, pred_label) pairs the mask recall needs"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(f.dir / "rec.json"));
}

TEST(GcgCli, PartialTextSimCoverageIsAWarningWithCounts) {
  NEED_METEOR();
  Fixture f;  // lists 3 of the 5 pairs (the matching ones); a repeated identical row is fine
  f.sim += "a kite\tkite\t0.9\n";
  std::string out;
  json rec;
  ASSERT_EQ(f.run(out, &rec), 0) << out;
  const std::string w = "--text-sim table " + (f.dir / "sim.tsv").string() +
                        " lists 3 of the 5 (gt_label, pred_label) pairs the mask recall looked up; the other 2 count "
                        "similarity 0.0";
  EXPECT_NE(out.find("warning: " + w), std::string::npos) << out;
  EXPECT_NE(std::find(rec["warnings"].begin(), rec["warnings"].end(), w), rec["warnings"].end()) << rec["warnings"];
  EXPECT_EQ(rec["details"]["text_sim_coverage"], json({{"needed", 5}, {"covered", 3}}));
  EXPECT_DOUBLE_EQ(rec["metrics"]["Recall"].get<double>(), 1.0);
  // A table listing all 5 pairs: no warning.
  f.sim += "a kite\tbench\t0.1\na bench\tkite\t0.2\n";
  ASSERT_EQ(f.run(out, &rec), 0) << out;
  EXPECT_EQ(out.find("--text-sim table"), std::string::npos) << out;
  EXPECT_EQ(rec["details"]["text_sim_coverage"], json({{"needed", 5}, {"covered", 5}}));
}

namespace {
std::string le32(uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
}
std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
/// A valid 24-bit BMP of kW × kH grey pixels.
std::string small_bmp() {
  const uint32_t row = kW * 3, data = row * kH;
  std::string s = "BM" + le32(54 + data) + le32(0) + le32(54) + le32(40) + le32(kW) + le32(kH) +
                  std::string("\x01\x00\x18\x00", 4) + le32(0) + le32(data) + le32(2835) + le32(2835) + le32(0) +
                  le32(0);
  return s + std::string(data, '\x80');
}
}  // namespace

// A decompression bomb among the report's images (IHDR claims 30000 × 30000) is refused from its header: the report
// is written with the other overlay and a warning naming the refused image; a nonexistent --images folder is exit 2.
TEST(GcgCli, ReportRefusesAnImageAboveThePixelLimitAndWritesTheRest) {
  NEED_METEOR();
  Fixture f;
  std::string out;
  ASSERT_EQ(f.run(out), 0) << out;
  const fs::path images = f.dir / "images";
  fs::create_directories(images);
  const std::string bomb = std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + be32(30000) + be32(30000) +
                           std::string("\x08\x02\x00\x00\x00", 5) + be32(0);
  std::ofstream(images / "img_b.jpg", std::ios::binary) << bomb;
  std::ofstream(images / "img_a.jpg", std::ios::binary) << small_bmp();
  const fs::path html = f.dir / "report.html", log = f.dir / "report.log";
  auto report = [&](const std::string& extra) {
    const std::string cmd = std::string(GLAMM_EVAL_BINARY) + " report " + (f.dir / "rec.json").string() + " --out " +
                            html.string() + " " + extra + " > " + log.string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(log);
    out.assign(std::istreambuf_iterator<char>(in), {});
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(report("--images " + images.string()), 0) << out;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 20.0);
  const std::string refused = (images / "img_b.jpg").string() +
                              ": image of 30000 x 30000 = 900000000 pixels is above the overlay limit of 100000000 "
                              "pixels";
  EXPECT_NE(out.find("warning: no overlay for img_b: " + refused), std::string::npos) << out;
  EXPECT_EQ(out.find("WARN"), std::string::npos) << out;  // no raw OpenCV log lines
  std::ifstream in(html);
  const std::string page(std::istreambuf_iterator<char>(in), {});
  std::size_t overlays = 0;
  for (std::size_t p = 0; (p = page.find("data:image/jpeg;base64,", p)) != std::string::npos; ++p) ++overlays;
  EXPECT_EQ(overlays, 1u);  // img_a
  EXPECT_NE(page.find("no overlay: " + refused), std::string::npos);
  {
    std::ifstream b(images / "img_b.jpg", std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(b), {}), bomb);
  }
  // The limit can be raised; then OpenCV decodes and finds no image data in this header-only file.
  ASSERT_EQ(report("--images " + images.string() + " --max-image-pixels 1000000000"), 0) << out;
  EXPECT_EQ(out.find("above the overlay limit"), std::string::npos) << out;
  EXPECT_NE(out.find("warning: no overlay for img_b: " + (images / "img_b.jpg").string() + ": cannot read the image"),
            std::string::npos)
      << out;
  // A folder that does not exist: one clear error, exit 2, no page.
  fs::remove(html);
  EXPECT_EQ(report("--images " + (f.dir / "nonexistent").string()), 2) << out;
  EXPECT_NE(out.find((f.dir / "nonexistent").string() + ": --images: no such folder"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(html));
}
