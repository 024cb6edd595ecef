// The caption tasks in-process on the COCO val2017 leave-one-out golden (golden/captions/coco_val2017_loo_*,
// pycocoevalcap's numbers; METEOR paraphrase off, as the golden): `captions` directly, `imagecap` through the
// Flickr30k (Karpathy) adapter, and `regcap` on a region-caption GT made from it. The CLI keeps its own tests
// (tests/metrics/caption/pipeline_golden.cpp: locale independence; tests/imagecap: SPICE-style through the binary).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "eval/tasks/captions.h"
#include "eval/tasks/imagecap.h"
#include "eval/tasks/regcap.h"
#include "support/shared_data.h"
#include "support/test_dir.h"
#include "tests/eval/tasks/caption_task_fixture.h"

namespace glamm::tasks {
namespace {

namespace fs = std::filesystem;
using glamm::testing::TaskMeteor;
using glamm::testing::write_text;
using nlohmann::json;

constexpr double kTol = 1e-12;

TEST(CaptionsTaskGolden, LeaveOneOutRecordMatchesPycocoevalcap) {
  GLAMM_REQUIRE_SHARED(gt_path, "golden/captions/coco_val2017_loo_gt.json");
  GLAMM_REQUIRE_SHARED(res_path, "golden/captions/coco_val2017_loo_results.json");
  GLAMM_REQUIRE_SHARED(exp_path, "golden/captions/coco_val2017_loo_expected.json");
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  const json e = json::parse(io::read_file(exp_path));
  const TaskMeteor met(meteor);
  CaptionsOptions opt;
  opt.meteor = met.meteor;
  opt.threads = 2;
  const CaptionsReport rep = evaluate_captions(load_captions_inputs({gt_path.string(), res_path.string()}), opt);
  const json r = to_record(rep, "golden").to_json();
  for (const auto& [name, value] : e.at("corpus").items())
    EXPECT_NEAR(r.at("metrics").at(name).get<double>(), value.get<double>(), kTol) << name;
  for (const char* k : {"testlen", "reflen", "guess", "correct"})
    EXPECT_EQ(r.at("details").at("bleu_info").at(k), e.at("bleu_info").at(k)) << k;
  EXPECT_EQ(r.at("details").at("num_images"), e.at("num_images"));
  ASSERT_EQ(r.at("per_sample").size(), 5000u);
  const json& first = r.at("per_sample").at(0);
  EXPECT_EQ(first.at("image_id").get<std::int64_t>(), 397133);
  EXPECT_EQ(first.at("bleu_counts").at("testlen").get<int>(), 8);
  EXPECT_EQ(first.at("meteor_stats").size(), 23u);
  EXPECT_EQ(r.at("signature").at("tokenizer"), "ptb-corenlp-3.4.1+pycocoevalcap-filter:reference");
  EXPECT_EQ(r.at("signature").at("strict"), "off");
  // every per-sample record reads back into the same typed sample
  for (std::size_t i : {std::size_t{0}, std::size_t{2500}, std::size_t{4999}})
    EXPECT_EQ(CaptionSample::from_json(r.at("per_sample").at(i), "record", i).to_json(), r.at("per_sample").at(i));
}

// Moved in-process from tests/eval/imagecap/imagecap_golden.cpp (same assertions): the GT file converted to the Karpathy
// layout (one image entry per GT image, filename "<id>.jpg", split "test", sentences[].raw = its captions in file
// order; 4–6 per image, so nothing assumes 5) plus one training image that is never scored.
TEST(ImagecapTaskGolden, Flickr30kAdapterReproducesCocoLeaveOneOut) {
  GLAMM_REQUIRE_SHARED(gt_path, "golden/captions/coco_val2017_loo_gt.json");
  GLAMM_REQUIRE_SHARED(res_path, "golden/captions/coco_val2017_loo_results.json");
  GLAMM_REQUIRE_SHARED(exp_path, "golden/captions/coco_val2017_loo_expected.json");
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  const json gt = json::parse(io::read_file(gt_path));
  std::map<int64_t, json> sentences;
  for (const auto& a : gt["annotations"]) sentences[a["image_id"].get<int64_t>()].push_back({{"raw", a["caption"]}});
  json images = json::array();
  for (const auto& im : gt["images"]) {
    const int64_t id = im["id"].get<int64_t>();
    images.push_back({{"filename", std::to_string(id) + ".jpg"}, {"imgid", images.size()}, {"split", "test"},
                      {"sentences", sentences[id]}});
  }
  images.push_back({{"filename", "9.jpg"}, {"imgid", images.size()}, {"split", "train"},
                    {"sentences", {{{"raw", "a train image"}}}}});
  const fs::path dir = glamm::testing::per_test_dir("imagecap_task_golden");
  write_text(dir / "dataset_flickr30k.json", json({{"dataset", "flickr30k"}, {"images", images}}).dump());
  const TaskMeteor met(meteor);
  ImagecapOptions opt;
  opt.spice = false;
  opt.meteor = met.meteor;
  opt.threads = 2;
  const ImagecapInputs in =
      load_imagecap_inputs({"flickr30k", (dir / "dataset_flickr30k.json").string(), "", res_path.string()});
  const json r = to_record(evaluate_imagecap(in, opt), "golden").to_json();
  const json e = json::parse(io::read_file(exp_path));
  for (const auto& [name, value] : e["corpus"].items())
    EXPECT_NEAR(r["metrics"][name].get<double>(), value.get<double>(), kTol) << name;
  for (const char* k : {"testlen", "reflen", "guess", "correct"})
    EXPECT_EQ(r["details"]["bleu_info"][k], e["bleu_info"][k]) << k;
  EXPECT_EQ(r["details"]["num_images"], e["num_images"]);
  EXPECT_EQ(r["details"]["images_per_split"]["train"], 1);
  EXPECT_GT(r["details"]["images_not_five_sentences"].get<int>(), 0);
  ASSERT_EQ(r["per_sample"].size(), 5000u);
  EXPECT_EQ(r["per_sample"][0]["meteor_stats"].size(), 23u);
  EXPECT_TRUE(r["per_sample"][0].contains("bleu_counts"));
  EXPECT_EQ(r["signature"]["spice"], "off(--no-spice)");
  EXPECT_FALSE(r["metrics"].contains(glamm::spice::kMetricName));
  fs::remove_all(dir);
}

// regcap on a region-caption GT made from the golden (one region per image entry, its box paired by id, the
// image's first caption as the only reference): the same numbers as COCOEvalCap on those pairs.
TEST(RegcapTaskGolden, LeaveOneOutRegionsScoreAsTheCaptionPipeline) {
  GLAMM_REQUIRE_SHARED(gt_path, "golden/captions/coco_val2017_loo_gt.json");
  GLAMM_REQUIRE_SHARED(res_path, "golden/captions/coco_val2017_loo_results.json");
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  const json gt = json::parse(io::read_file(gt_path));
  std::map<int64_t, std::string> first;
  for (const auto& a : gt["annotations"]) first.emplace(a["image_id"].get<int64_t>(), a["caption"].get<std::string>());
  json images = json::array(), anns = json::array(), coco_anns = json::array();
  for (const auto& im : gt["images"]) {
    const int64_t id = im["id"].get<int64_t>();
    images.push_back({{"id", id}, {"file_name", std::to_string(id) + ".jpg"}, {"height", 100}, {"width", 100}});
    anns.push_back({{"id", id}, {"image_id", id}, {"bbox", {1.0, 2.0, 30.0, 40.0}}, {"area", 1200.0},
                    {"caption", first.at(id)}});
    coco_anns.push_back({{"id", id}, {"image_id", id}, {"caption", first.at(id)}});
  }
  const fs::path dir = glamm::testing::per_test_dir("regcap_task_golden");
  write_text(dir / "test_caption.json", json({{"images", images}, {"annotations", anns}}).dump());
  write_text(dir / "coco.json", json({{"images", images}, {"annotations", coco_anns}}).dump());
  const TaskMeteor met(meteor);
  RegcapOptions opt;
  opt.meteor = met.meteor;
  opt.threads = 2;
  const RegcapReport rep =
      evaluate_regcap(load_regcap_inputs({"vg", (dir / "test_caption.json").string(), res_path.string()}), opt);
  CaptionsOptions copt;
  copt.meteor = met.meteor;
  copt.threads = 2;
  const CaptionsReport cap =
      evaluate_captions(load_captions_inputs({(dir / "coco.json").string(), res_path.string()}), copt);
  ASSERT_EQ(rep.eval.metrics.size(), 7u);
  for (std::size_t k = 0; k < cap.metrics.size(); ++k)
    EXPECT_EQ(rep.eval.metrics[k], cap.metrics[k]) << cap.metrics[k].first;
  const Result r = to_record(rep, "golden");
  ASSERT_EQ(r.per_sample.size(), 5000u);
  EXPECT_EQ(r.details.at("num_missing"), 0);
  EXPECT_EQ(r.details.at("images_without_paired_box"), 0);
  EXPECT_EQ(r.details.at("regions_layout"), "one region per image entry");
  for (const json& s : r.per_sample) ASSERT_EQ(s.at("predicted"), true);
  EXPECT_EQ(r.per_sample.at(0).at("CIDEr"), cap.samples.at(0).scores.cider);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace glamm::tasks
