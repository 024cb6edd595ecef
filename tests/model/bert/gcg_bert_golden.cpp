// `glamm-eval gcg --bert DIR` end to end with the tiny golden BERT: the recall uses BERT cosines (a pair with
// cosine ≥ 0.5 is matched, one below is not), the signature names the weights, and the source options
// (--bert, GLAMM_BERT, --text-sim) combine as documented.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "metrics/mask/rle.h"
#include "model/text_similarity.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint32_t kH = 4, kW = 5;

json full_mask() {
  std::vector<uint8_t> m(kH * kW, 1);
  return {{"size", {kH, kW}}, {"counts", glamm::mask::to_string(glamm::mask::encode(m.data(), kH, kW))}};
}

/// Two images, one phrase each, predicted masks equal to the GT masks (IoU 1). Tiny-BERT cosines (golden
/// bert_golden.json pairs): "a man"/"a person" 0.828 (matched), "a dog"/"a cat" 0.227 (rejected) → recall 1/2.
struct GcgSet {
  fs::path dir;
  GcgSet() {
    dir = fs::path(::testing::TempDir()) / ("gcg_bert_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir);
    fs::create_directories(dir / "pred");
    const json images = json::array({{{"id", "i1"}, {"height", kH}, {"width", kW}}, {{"id", "i2"}, {"height", kH}, {"width", kW}}});
    const json cap = {{"images", images},
                      {"annotations",
                       {{{"id", 1}, {"image_id", "i1"}, {"caption", "A man waves."}, {"labels", {"a man"}}},
                        {{"id", 2}, {"image_id", "i2"}, {"caption", "A dog runs."}, {"labels", {"a dog"}}}}}};
    const json masks = {{"images", images},
                        {"categories", {{{"id", 1}, {"name", "object"}}}},
                        {"annotations",
                         {{{"id", 1}, {"image_id", "i1"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 20}, {"segmentation", full_mask()}},
                          {{"id", 2}, {"image_id", "i2"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 20}, {"segmentation", full_mask()}}}}};
    std::ofstream(dir / "val_gcg_coco_caption_gt.json") << cap.dump();
    std::ofstream(dir / "val_gcg_coco_mask_gt.json") << masks.dump();
    std::ofstream(dir / "pred" / "i1.json")
        << json({{"image_id", "i1"}, {"caption", "A person waves."}, {"phrases", {"a person"}}, {"pred_masks", {full_mask()}}}).dump();
    std::ofstream(dir / "pred" / "i2.json")
        << json({{"image_id", "i2"}, {"caption", "A cat runs."}, {"phrases", {"a cat"}}, {"pred_masks", {full_mask()}}}).dump();
    std::ofstream(dir / "sim.tsv") << "a man\ta person\t0.1\n";
  }
  int run(const std::string& options, std::string& out, json* rec = nullptr, const std::string& env = "") const {
    const fs::path log = dir / "log.txt", js = dir / "rec.json";
    fs::remove(js);
    std::string meteor;
    if (auto sd = glamm::testing::shared_dir()) meteor = " --meteor-resources " + (*sd / "data" / "meteor").string();
    const std::string cmd = env + " " + std::string(GLAMM_EVAL_BINARY) + " gcg -q --split val --gt-dir " + dir.string() +
                            " --pred " + (dir / "pred").string() + meteor + " --json " + js.string() + " " + options +
                            " > " + log.string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(log);
    out.assign(std::istreambuf_iterator<char>(in), {});
    if (rec && fs::exists(js)) *rec = json::parse(std::ifstream(js));
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
};

#define NEED_BERT_CLI(model_var)                                                                 \
  GLAMM_REQUIRE(glamm::model::torch_available(), "built without libtorch");                     \
  GLAMM_REQUIRE_SHARED(meteor_dir_, "data/meteor/english.synsets");                              \
  GLAMM_REQUIRE_SHARED(model_var, "golden/model/tiny-bert-uncased");                             \
  GLAMM_REQUIRE(fs::exists(fs::path(GLAMM_EVAL_BINARY).parent_path() / "libglamm_bert.so"),    \
                "libglamm_bert.so not built next to glamm-eval")

TEST(GcgBertCli, RecallUsesBertCosinesAndSignsTheWeights) {
  NEED_BERT_CLI(model);
  GcgSet s;
  std::string out;
  json rec;
  ASSERT_EQ(s.run("--bert " + model.string(), out, &rec), 0) << out;
  EXPECT_DOUBLE_EQ(rec["metrics"]["Recall"].get<double>(), 0.5) << out;
  EXPECT_EQ(rec["signature"]["text_similarity"].get<std::string>(),
            "bert:" + model.string() + " (sha256 " + glamm::io::sha256_file(model / "model.safetensors") + ")");
  EXPECT_EQ(rec["inputs"]["bert"], model.string());
  // The same through env GLAMM_BERT.
  json rec2;
  ASSERT_EQ(s.run("", out, &rec2, "GLAMM_BERT=" + model.string()), 0) << out;
  EXPECT_DOUBLE_EQ(rec2["metrics"]["Recall"].get<double>(), 0.5);
  // An explicit --text-sim beats GLAMM_BERT: the table scores "a man"/"a person" 0.1 → recall 0.
  json rec3;
  ASSERT_EQ(s.run("--text-sim " + (s.dir / "sim.tsv").string(), out, &rec3, "GLAMM_BERT=" + model.string()), 0) << out;
  EXPECT_DOUBLE_EQ(rec3["metrics"]["Recall"].get<double>(), 0.0);
  EXPECT_EQ(rec3["signature"]["text_similarity"].get<std::string>().rfind("table:", 0), 0u);
}

TEST(GcgBertCli, SourceErrorsExitWithStatus2) {
  NEED_BERT_CLI(model);
  GcgSet s;
  std::string out;
  EXPECT_EQ(s.run("--bert " + model.string() + " --text-sim " + (s.dir / "sim.tsv").string(), out), 2) << out;
  EXPECT_NE(out.find("not both"), std::string::npos) << out;
  EXPECT_EQ(s.run("--bert " + (s.dir / "no_such_bert").string(), out), 2) << out;
  EXPECT_NE(out.find("bert-base-uncased"), std::string::npos) << out;
  EXPECT_EQ(s.run("", out, nullptr, "GLAMM_BERT="), 2) << out;
  EXPECT_NE(out.find("--bert DIR"), std::string::npos) << out;
}

}  // namespace
