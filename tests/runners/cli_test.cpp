// `glamm-eval infer` / `run` / `gcg` from the command line: clear errors (missing plugin, bad --shard), and the GCG
// evaluator reading the prediction folders of several shards, reporting images missing or predicted twice.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "datasets/refer_fixture.h"
#include "metrics/mask/rle.h"
#include "runners/infer_driver.h"
#include "runners/runner.h"
#include "support/shared_data.h"
#include "tests/runners/fake_model.h"

namespace fs = std::filesystem;
using namespace glamm::runners;
using glamm::runners::testing::FakeModel;
using nlohmann::json;

namespace {

fs::path fresh_dir(const std::string& name) { return glamm::runners::testing::fresh_test_dir("runner_cli", name); }

int sh(const std::string& cmd, std::string& out) { return glamm::runners::testing::run_logged(cmd, out); }

constexpr uint32_t kH = 6, kW = 8;

glamm::model::PredictedMask rect(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
  std::vector<uint8_t> m(kH * kW, 0);
  for (uint32_t x = x0; x < x1; ++x)
    for (uint32_t y = y0; y < y1; ++y) m[x * kH + y] = 1;
  return {static_cast<int>(kH), static_cast<int>(kW), glamm::mask::to_string(glamm::mask::encode(m.data(), kH, kW))};
}

json rect_json(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
  const auto m = rect(x0, y0, x1, y1);
  return {{"size", {m.height, m.width}}, {"counts", m.counts}};
}

/// A 3-image GranD-f val set (GT files + dummy images).
fs::path grandf_fixture() {
  const fs::path d = fresh_dir("gt");
  json images = json::array();
  for (const char* id : {"img_a", "img_b", "img_c"}) {
    images.push_back({{"id", id}, {"height", kH}, {"width", kW}});
    std::ofstream(d / (std::string(id) + ".jpg")) << "x";
  }
  json cap = {{"images", images},
              {"annotations",
               {{{"id", 1}, {"image_id", "img_a"}, {"caption", "A dog sits."}, {"labels", {"a dog"}}},
                {{"id", 2}, {"image_id", "img_b"}, {"caption", "A kite above a bench."}, {"labels", {"a kite", "a bench"}}},
                {{"id", 3}, {"image_id", "img_c"}, {"caption", "A cat."}, {"labels", {"a cat"}}}}}};
  json mk = {{"images", images},
             {"categories", {{{"id", 1}, {"name", "object"}}}},
             {"annotations",
              {{{"id", 1}, {"image_id", "img_a"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 12}, {"segmentation", rect_json(0, 3, 4, 6)}},
               {{"id", 2}, {"image_id", "img_b"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 6}, {"segmentation", rect_json(1, 1, 4, 3)}},
               {{"id", 3}, {"image_id", "img_b"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 9}, {"segmentation", rect_json(4, 2, 7, 5)}},
               {{"id", 4}, {"image_id", "img_c"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 4}, {"segmentation", rect_json(6, 0, 8, 2)}}}}};
  std::ofstream(d / "val_gcg_coco_caption_gt.json") << cap.dump();
  std::ofstream(d / "val_gcg_coco_mask_gt.json") << mk.dump();
  std::ofstream(d / "sim.tsv") << "a dog\tdog\t0.9\na kite\tkite\t0.9\na bench\tbench\t0.8\na cat\tcat\t0.95\n";
  return d;
}

FakeModel fixture_model() {
  FakeModel f;
  f.answer = [](const std::string& stem) {
    glamm::model::GlammOutput o;
    if (stem == "img_a") o.caption = "A dog.", o.phrases = {"dog"}, o.masks = {rect(0, 3, 4, 6)};
    if (stem == "img_b") o.caption = "A kite and a bench.", o.phrases = {"kite", "bench"}, o.masks = {rect(1, 1, 4, 3), rect(4, 2, 7, 4)};
    if (stem == "img_c") o.caption = "A cat.", o.phrases = {"cat"}, o.masks = {rect(6, 0, 8, 1)};
    return o;
  };
  return f;
}

std::string eval_cmd(const fs::path& gt, const std::vector<fs::path>& preds, const fs::path& meteor, const fs::path& js) {
  std::string c = std::string(GLAMM_EVAL_BINARY) + " gcg -q --split val --gt-dir " + gt.string() + " --text-sim " +
                  (gt / "sim.tsv").string() + " --meteor-resources " + meteor.string() + " --json " + js.string();
  for (const auto& p : preds) c += " --pred " + p.string();
  return c;
}

}  // namespace

TEST(InferCli, MissingPluginIsAClearError) {
  const fs::path d = fresh_dir("d");
  std::ofstream(d / "a.jpg") << "x";
  std::string out;
  const int rc = sh("GLAMM_RUNNER_PLUGIN=" + (d / "no_such_plugin.so").string() + " " + GLAMM_EVAL_BINARY +
                        " infer gcg --checkpoint " + d.string() + " --clip " + d.string() + " --images " + d.string() +
                        " --out " + (d / "out").string(),
                    out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("GLaMM runner plugin not found"), std::string::npos) << out;
  EXPECT_NE(out.find("GLAMM_WITH_TORCH"), std::string::npos) << out;
}

TEST(InferCli, BadShardTextIsAClearError) {
  const fs::path d = fresh_dir("d");
  std::ofstream(d / "a.jpg") << "x";
  std::string out;
  const int rc = sh(std::string(GLAMM_EVAL_BINARY) + " infer gcg --checkpoint " + d.string() + " --clip " + d.string() +
                        " --images " + d.string() + " --out " + (d / "out").string() + " --shard 2/2",
                    out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--shard: '2/2'"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(d / "out"));
}

TEST(GcgShards, EvaluatorMergesShardFoldersAndReportsMissingOrDuplicated) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const fs::path gt = grandf_fixture();
  const ItemList list = gcg_items_from_grandf(gt / "val_gcg_coco_caption_gt.json", gt);
  // One folder per shard (e.g. node-local disks), and a single-folder reference run.
  const fs::path s0 = fresh_dir("shard0"), s1 = fresh_dir("shard1"), all = fresh_dir("all");
  std::ostringstream log;
  for (int k = 0; k < 2; ++k) {
    FakeModel f = fixture_model();
    RunOptions o;
    o.out = k == 0 ? s0 : s1;
    o.shard.index = k;
    o.shard.count = 2;
    o.quiet = true;
    run_items(list, f, o, log);
  }
  {
    FakeModel f = fixture_model();
    RunOptions o;
    o.out = all;
    o.quiet = true;
    run_items(list, f, o, log);
  }
  EXPECT_TRUE(fs::exists(s0 / "img_a.json") && fs::exists(s0 / "img_b.json") && fs::exists(s1 / "img_c.json"));
  std::string out;
  ASSERT_EQ(sh(eval_cmd(gt, {all}, meteor, gt / "all.json"), out), 0) << out;
  ASSERT_EQ(sh(eval_cmd(gt, {s0, s1}, meteor, gt / "shards.json"), out), 0) << out;
  const json a = glamm::io::load_json(gt / "all.json"), b = glamm::io::load_json(gt / "shards.json");
  EXPECT_EQ(a["metrics"], b["metrics"]);
  EXPECT_EQ(b["details"]["num_images"], 3);
  // Shard 1 missing: img_c has no prediction.
  EXPECT_EQ(sh(eval_cmd(gt, {s0}, meteor, gt / "x.json"), out), 2);
  EXPECT_NE(out.find("1 of 3 images have no prediction file"), std::string::npos) << out;
  EXPECT_NE(out.find("img_c"), std::string::npos) << out;
  // The same image produced by two shards (overlapping runs): an error naming it.
  fs::copy_file(s0 / "img_b.json", s1 / "img_b.json");
  EXPECT_EQ(sh(eval_cmd(gt, {s0, s1}, meteor, gt / "x.json"), out), 2);
  EXPECT_NE(out.find("more than one --pred folder: img_b"), std::string::npos) << out;
}

TEST(RunCli, EvaluatesFinishedGcgPredictionsWithTheGcgCommandAndPassesUnknownOptionsOn) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const fs::path gt = grandf_fixture();
  const fs::path out = fresh_dir("out");
  {  // inference already done (e.g. by a Slurm array): `run` loads no model and goes straight to the evaluation
    FakeModel f = fixture_model();
    RunOptions o;
    o.out = out;
    o.quiet = true;
    std::ostringstream log;
    run_items(gcg_items_from_grandf(gt / "val_gcg_coco_caption_gt.json", gt), f, o, log);
  }
  std::string text;
  const std::string common = std::string(GLAMM_EVAL_BINARY) + " run gcg --checkpoint " + gt.string() + " --clip " +
                             gt.string() + " --images " + gt.string() + " --out " + out.string() + " --gt-dir " +
                             gt.string() + " --gcg-split val -q";
  ASSERT_EQ(sh(common + " --text-sim " + (gt / "sim.tsv").string() + " --meteor-resources " + meteor.string() +
                   " --json " + (gt / "run.json").string(),
               text),
            0)
      << text;
  EXPECT_NE(text.find("3 already done"), std::string::npos) << text;
  ASSERT_EQ(sh(eval_cmd(gt, {out}, meteor, gt / "direct.json"), text), 0) << text;
  EXPECT_EQ(glamm::io::load_json(gt / "run.json")["metrics"], glamm::io::load_json(gt / "direct.json")["metrics"]);
  EXPECT_EQ(sh(common + " --no-such-option 1", text), 2);
  EXPECT_NE(text.find("--no-such-option"), std::string::npos) << text;
}

TEST(RefsegOutput, TheRefsegEvaluatorScoresTheRunnerFile) {
  namespace fx = glamm::testing::refer_fixture;
  const fs::path root = fresh_dir("data");
  fx::write_refer(root, "refcoco", "unc", fx::spec_refs(), fx::spec_instances());
  const fs::path images = fresh_dir("images");
  std::ofstream(images / "COCO_train2014_000000000042.jpg") << "x";
  const ItemList list = refseg_items(root / "Refer_Segm" / "refcoco", "refcoco", "", "testA", images, false);
  ASSERT_EQ(list.items.size(), 1u);
  ASSERT_EQ(list.items[0].sentences.size(), 3u);
  EXPECT_EQ(list.split_by, "unc");
  FakeModel f;
  f.tf_masks = {{6, 8, "724000g0"}, {6, 8, "=3300000;"}, {6, 8, "`1"}};  // the dataset-formats.md §4.7 example predictions
  RunOptions o;
  o.out = fresh_dir("out");
  o.quiet = true;
  std::ostringstream log;
  const RunSummary s = run_items(list, f, o, log);
  ASSERT_TRUE(s.complete) << log.str();
  ASSERT_EQ(f.chats.size(), 1u);
  EXPECT_EQ(f.chats[0][1].user, "Can you segment the guy in red shirt in this image?");
  std::string text;
  const fs::path rec = o.out / "rec.json";
  ASSERT_EQ(sh(std::string(GLAMM_EVAL_BINARY) + " refseg -q --dataset refcoco --split testA --data-root " +
                   root.string() + " --pred " + s.predictions.string() + " --json " + rec.string(),
               text),
            0)
      << text;
  const json r = glamm::io::load_json(rec);
  EXPECT_NEAR(r["metrics"]["gIoU"].get<double>(), 0.4285694, 2e-7);  // the values of the spec example
  EXPECT_NEAR(r["metrics"]["cIoU"].get<double>(), 0.3448276, 2e-7);
}

TEST(RunCli, EvaluatesFinishedRegionCaptionsWithTheRegcapCommand) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const fs::path d = fresh_dir("data"), images = fresh_dir("images"), out = fresh_dir("out");
  std::ofstream(d / "gt.json") << R"({"images": [
   {"id": 1, "file_name": "2301.jpg", "height": 6, "width": 8},
   {"id": 2, "file_name": "2301.jpg", "height": 6, "width": 8},
   {"id": 3, "file_name": "2417.jpg", "height": 6, "width": 8}],
 "annotations": [
   {"id": 1, "image_id": 1, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "red kite in the sky"},
   {"id": 2, "image_id": 2, "bbox": [4.0, 2.0, 3.0, 3.0], "area": 9.0, "caption": "a wooden bench"},
   {"id": 3, "image_id": 3, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "caption": "white dog"}]})";
  std::ofstream(images / "2301.jpg") << "x";
  std::ofstream(images / "2417.jpg") << "x";
  {
    FakeModel f;  // every region of photo 2301 gets "caption of 2301"
    RunOptions o;
    o.out = out;
    o.quiet = true;
    std::ostringstream log;
    const RunSummary s = run_items(regcap_items(d / "gt.json", images), f, o, log);
    ASSERT_TRUE(s.complete);
    EXPECT_EQ(f.total_calls, 3);
  }
  EXPECT_EQ(glamm::io::read_file(out / "predictions.json").substr(0, 62),
            "[\n  {\n    \"image_id\": 1,\n    \"caption\": \"caption of 2301\"\n  },");
  std::string text;
  const fs::path rec = out / "rec.json";
  ASSERT_EQ(sh(std::string(GLAMM_EVAL_BINARY) + " run regcap --dataset refcocog --annotations " +
                   (d / "gt.json").string() + " --images " + images.string() + " --out " + out.string() +
                   " --checkpoint " + d.string() + " --clip " + d.string() + " -q --meteor-resources " +
                   meteor.string() + " --json " + rec.string(),
               text),
            0)
      << text;
  const json r = glamm::io::load_json(rec);
  EXPECT_EQ(r["details"]["num_samples"], 3);
  EXPECT_EQ(r["task"], "regcap");
}

namespace {

/// `glamm-eval infer gcg` over folder `d` (images and fake model folders) into d/out, without any launcher
/// variables and with a plugin path that does not exist (so a test fails loudly if the model would be loaded).
std::string infer_cmd(const fs::path& d, const std::string& env = "") {
  return "env -u RANK -u WORLD_SIZE -u LOCAL_RANK -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT "
         "-u SLURM_ARRAY_TASK_MIN -u SLURM_ARRAY_TASK_STEP GLAMM_RUNNER_PLUGIN=" +
         (d / "no_such_plugin.so").string() + " " + env + " " + GLAMM_EVAL_BINARY + " infer gcg --checkpoint " +
         d.string() + " --clip " + d.string() + " --images " + d.string() + " --out " + (d / "out").string();
}

}  // namespace

TEST(InferCli, NegativeLimitIsRefusedAndZeroMeansAll) {
  const fs::path d = fresh_dir("d");
  std::ofstream(d / "a.jpg") << "x";
  std::string out;
  EXPECT_EQ(sh(infer_cmd(d) + " --limit -1", out), 2) << out;
  EXPECT_NE(out.find("--limit"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(d / "out"));
  ASSERT_EQ(sh(std::string(GLAMM_EVAL_BINARY) + " infer --help", out), 0);
  EXPECT_NE(out.find("0 = all (the default)"), std::string::npos) << out;
}

TEST(InferCli, HalfALauncherPairIsAnErrorAndTheShardSourceIsPrinted) {
  const fs::path d = fresh_dir("d");
  std::ofstream(d / "a.jpg") << "x";
  std::string out;
  EXPECT_EQ(sh(infer_cmd(d, "RANK=1"), out), 2) << out;
  EXPECT_NE(out.find("$WORLD_SIZE: not set, but $RANK is"), std::string::npos) << out;
  EXPECT_EQ(sh(infer_cmd(d, "SLURM_ARRAY_TASK_ID=4"), out), 2) << out;
  EXPECT_NE(out.find("$SLURM_ARRAY_TASK_COUNT: not set"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(d / "out"));
  // Both launchers: the Slurm array chooses, and says so (even with -q); then the (missing) plugin stops the run.
  EXPECT_EQ(sh(infer_cmd(d, "SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=2 RANK=1 WORLD_SIZE=2") + " -q", out), 2);
  EXPECT_NE(out.find("shard 0/2 (chosen by the Slurm array"), std::string::npos) << out;
  EXPECT_NE(out.find("Slurm array variables take precedence"), std::string::npos) << out;
}

TEST(InferCli, HelpSaysWhereCudaStandsAndWhatBf16Is) {
  for (const char* cmd : {"infer", "run"}) {
    std::string out;
    ASSERT_EQ(sh(std::string(GLAMM_EVAL_BINARY) + " " + cmd + " --help", out), 0) << out;
    EXPECT_NE(out.find("the GPU path is not yet verified on a GPU"), std::string::npos) << cmd << out;
    EXPECT_NE(out.find("bf16 = the official evaluation's precision"), std::string::npos) << cmd << out;
    EXPECT_NE(out.find("--batch-size"), std::string::npos) << cmd << out;
    EXPECT_NE(out.find("the Slurm array wins when both are set"), std::string::npos) << cmd << out;
  }
}

TEST(InferCli, ARerunIntoAFolderOfAnotherSetupExitsTwoBeforeLoading) {
  const fs::path d = fresh_dir("d");
  for (const char* f : {"a.jpg", "b.jpg"}) std::ofstream(d / f) << "x";
  std::ofstream(d / "config.json") << "{}";
  {  // inference done earlier with the default options
    InferRequest r;
    r.task = "gcg";
    r.checkpoint = d;
    r.clip = d;
    r.images = d;
    const ItemList list = build_items(r);
    RunOptions o;
    o.out = d / "out";
    o.quiet = true;
    o.identity = run_identity(r, list, model_options(r, Shard{}));
    FakeModel f;
    std::ostringstream log;
    ASSERT_TRUE(run_items(list, f, o, log).complete);
  }
  std::string out;
  EXPECT_EQ(sh(infer_cmd(d) + " --max-new-tokens 64", out), 2) << out;
  EXPECT_NE(out.find("max_new_tokens: recorded 512, now 64"), std::string::npos) << out;
  EXPECT_NE(out.find("use a new --out folder"), std::string::npos) << out;
  EXPECT_EQ(out.find("plugin"), std::string::npos) << out;
  // The same setup: everything is done, nothing is loaded, exit 0.
  EXPECT_EQ(sh(infer_cmd(d) + " -q", out), 0) << out;
  EXPECT_NE(out.find("2 already done"), std::string::npos) << out;
}

TEST(RunCli, BadEvaluatorOptionsFailBeforeInference) {
  const fs::path gt = grandf_fixture();
  const fs::path out = fresh_dir("out");
  fs::remove_all(out);
  const std::string common = "env -u GLAMM_BERT -u RANK -u WORLD_SIZE -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT "
                             "GLAMM_RUNNER_PLUGIN=" + (gt / "no_such_plugin.so").string() + " " + GLAMM_EVAL_BINARY +
                             " run gcg --checkpoint " + gt.string() + " --clip " + gt.string() + " --images " +
                             gt.string() + " --out " + out.string() + " --gt-dir " + gt.string() + " --gcg-split val -q";
  std::string text;
  EXPECT_EQ(sh(common + " --text-sim " + (gt / "sim.tsv").string() + " --bogus-opt 1", text), 2) << text;
  EXPECT_NE(text.find("evaluator options"), std::string::npos) << text;
  EXPECT_NE(text.find("--bogus-opt"), std::string::npos) << text;
  EXPECT_EQ(text.find("plugin"), std::string::npos) << text;  // inference never started
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(sh(common, text), 2) << text;  // neither --bert nor --text-sim
  EXPECT_NE(text.find("run gcg needs phrase similarities"), std::string::npos) << text;
  EXPECT_EQ(sh(common + " --text-sim " + (gt / "no_such.tsv").string(), text), 2) << text;
  EXPECT_NE(text.find("no_such.tsv: --text-sim: no such file"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(out));
  // A header-only table is refused before inference too.
  { std::ofstream(gt / "header_only.tsv") << "gt_label\tpred_label\tsimilarity\n"; }
  EXPECT_EQ(sh(common + " --text-sim " + (gt / "header_only.tsv").string(), text), 2) << text;
  EXPECT_NE(text.find("header_only.tsv: the similarity table has no gt_label"), std::string::npos) << text;
  EXPECT_EQ(text.find("plugin"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(out));
}
