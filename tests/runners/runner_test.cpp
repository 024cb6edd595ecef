// The inference loop with a fake model (runners/runner.h, runners/infer_driver.h): sharding covers every image
// once, resume skips finished items and recomputes broken ones, failures are reported and retried, output files
// refseg chats and records (the byte-identity with the official files is in runner_outputs_golden.cpp).
#include <csignal>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "metrics/mask/rle.h"
#include "runners/infer_driver.h"
#include "runners/interrupt.h"
#include "runners/outputs.h"
#include "runners/runner.h"
#include "tests/runners/fake_model.h"

namespace fs = std::filesystem;
using namespace glamm::runners;
using glamm::runners::testing::FakeModel;
using nlohmann::ordered_json;

namespace {

fs::path fresh_dir(const std::string& name) { return glamm::runners::testing::fresh_test_dir("runner", name); }

/// `n` dummy image files img_00.jpg … (the fake model never opens them).
fs::path image_folder(const std::string& name, int n) {
  const fs::path d = fresh_dir(name);
  for (int i = 0; i < n; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "img_%02d.jpg", i);
    std::ofstream(d / buf) << "not really a jpeg";
  }
  return d;
}

std::string slurp(const fs::path& p) { return glamm::io::read_file(p); }

RunOptions options(const fs::path& out, int k = 0, int n = 1) { return glamm::runners::testing::quiet_options(out, k, n); }

}  // namespace

TEST(Runner, ShardsTogetherComputeEveryImageExactlyOnce) {
  const fs::path images = image_folder("images", 10);
  const ItemList list = gcg_items_from_folder(images);
  ASSERT_EQ(list.items.size(), 10u);
  for (int N : {1, 2, 3, 7}) {
    const fs::path out = fresh_dir("out" + std::to_string(N));
    FakeModel fake;
    std::ostringstream log;
    std::size_t computed = 0;
    for (int k = 0; k < N; ++k) {
      const RunSummary s = run_items(list, fake, options(out, k, N), log);
      computed += s.computed;
      EXPECT_TRUE(fs::exists(manifest_path(out, s.manifest.empty() ? Shard{} : options(out, k, N).shard)));
      EXPECT_EQ(s.complete, k == N - 1) << "N " << N << " k " << k;  // the last shard completes the list
    }
    EXPECT_EQ(computed, 10u);
    EXPECT_EQ(fake.total_calls, 10);
    for (const auto& w : list.items) {
      EXPECT_EQ(fake.calls[w.key], 1) << w.key << " N " << N;
      EXPECT_TRUE(item_output_valid(Task::kGcg, out / (w.key + ".json")));
    }
  }
}

TEST(Runner, ShardManifestsNameTheShard) {
  const fs::path images = image_folder("images", 5);
  const ItemList list = gcg_items_from_folder(images);
  const fs::path out = fresh_dir("out");
  FakeModel fake;
  std::ostringstream log;
  const RunSummary s = run_items(list, fake, options(out, 1, 3), log);
  EXPECT_EQ(s.manifest, out / "manifest.shard-1-of-3.json");
  const nlohmann::json m = glamm::io::load_json(s.manifest);
  EXPECT_EQ(m["status"], "finished");
  EXPECT_EQ(m["task"], "gcg");
  EXPECT_EQ(m["shard"]["index"], 1);
  EXPECT_EQ(m["shard"]["count"], 3);
  EXPECT_EQ(m["shard"]["items"], nlohmann::json({2, 4}));  // 5 items: [0,2) [2,4) [4,5)
  EXPECT_EQ(m["items_total"], 5);
  EXPECT_EQ(m["computed"], 2);
  EXPECT_EQ(m["model"]["model"], "fake");
  EXPECT_DOUBLE_EQ(m["component_seconds"]["llm"].get<double>(), 1.0);
  EXPECT_EQ(run_items(list, fake, options(out, 0, 1), log).manifest, out / "manifest.json");
}

TEST(Runner, ResumeAfterAKilledRunRecomputesOnlyUnfinishedOrBrokenItems) {
  const fs::path images = image_folder("images", 10);
  const ItemList list = gcg_items_from_folder(images);
  const fs::path out = fresh_dir("out");
  std::ostringstream log;
  {
    FakeModel fake;
    fake.die_after = 5;  // the process "dies" during the 6th image
    EXPECT_THROW(run_items(list, fake, options(out), log), std::runtime_error);
    EXPECT_EQ(fake.total_calls, 5);
    const nlohmann::json m = glamm::io::load_json(out / "manifest.json");
    EXPECT_EQ(m["status"], "stopped");
    EXPECT_NE(m["error"].get<std::string>().find("img_05"), std::string::npos);
  }
  std::vector<std::string> before;
  for (int i = 0; i < 5; ++i) before.push_back(slurp(out / ("img_0" + std::to_string(i) + ".json")));
  EXPECT_FALSE(fs::exists(out / "img_05.json"));  // nothing half-written for the killed item
  // Debris of a crash: a stale temporary file of the atomic writer and a truncated output of another writer.
  std::ofstream(out / ".img_06.json.tmp12345") << "{\"image_id\": \"img_06\", \"capt";
  std::ofstream(out / "img_07.json") << "{\"image_id\": \"img_07\", \"caption\": \"trunc";
  FakeModel fake;
  const RunSummary s = run_items(list, fake, options(out), log);
  EXPECT_EQ(s.resumed, 5u);
  EXPECT_EQ(s.computed, 5u);
  EXPECT_EQ(fake.total_calls, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fake.calls["img_0" + std::to_string(i)], 0) << i;  // not recomputed
  for (int i = 5; i < 10; ++i) EXPECT_EQ(fake.calls["img_0" + std::to_string(i)], 1) << i;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(slurp(out / ("img_0" + std::to_string(i) + ".json")), before[i]);
  for (const auto& w : list.items) EXPECT_TRUE(item_output_valid(Task::kGcg, out / (w.key + ".json"))) << w.key;
  EXPECT_TRUE(s.complete);
  // A third run finds everything done and computes nothing.
  FakeModel idle;
  const RunSummary again = run_items(list, idle, options(out), log);
  EXPECT_EQ(again.resumed, 10u);
  EXPECT_EQ(idle.total_calls, 0);
}

TEST(Runner, AnUnreadableImageIsReportedAndTheRunGoesOn) {
  const fs::path images = image_folder("images", 4);
  fs::remove(images / "img_02.jpg");  // missing on disk: reported without calling the model
  const ItemList list = gcg_items_from_folder(image_folder("images_all", 4));
  ItemList l2 = list;
  l2.items[2].image = images / "img_02.jpg";
  const fs::path out = fresh_dir("out");
  FakeModel fake;
  fake.unreadable = {"img_01"};
  std::ostringstream log;
  const RunSummary s = run_items(l2, fake, options(out), log);
  ASSERT_EQ(s.failures.size(), 2u);
  EXPECT_EQ(s.failures[0].key, "img_01");
  EXPECT_NE(s.failures[0].message.find("cannot decode"), std::string::npos);
  EXPECT_EQ(s.failures[1].key, "img_02");
  EXPECT_NE(s.failures[1].message.find("image file not found"), std::string::npos);
  EXPECT_EQ(fake.calls.count("img_02"), 0u);
  EXPECT_EQ(s.computed, 2u);
  EXPECT_FALSE(s.complete);
  EXPECT_EQ(s.missing, 2u);
  EXPECT_FALSE(fs::exists(out / "img_01.json"));
  EXPECT_NE(log.str().find("item img_01"), std::string::npos);
  const nlohmann::json m = glamm::io::load_json(out / "manifest.json");
  EXPECT_EQ(m["status"], "finished with failures");
  EXPECT_EQ(m["failures"].size(), 2u);
  // The next run retries only the failed items.
  FakeModel fixed;
  const RunSummary r = run_items(list, fixed, options(out), log);
  EXPECT_EQ(fixed.total_calls, 2);
  EXPECT_EQ(r.resumed, 2u);
  EXPECT_TRUE(r.complete);
}

TEST(Runner, RegionCaptionBoxesAreConvertedFromXywh) {
  const fs::path d = fresh_dir("data");
  std::ofstream(d / "gt.json") << R"({"images": [
   {"id": 1, "file_name": "2301.jpg", "height": 6, "width": 8},
   {"id": 3, "file_name": "2417.jpg", "height": 6, "width": 8}],
 "annotations": [
   {"id": 1, "image_id": 1, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "red kite in the sky"},
   {"id": 3, "image_id": 3, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "caption": "white dog"}]})";
  const ItemList l = regcap_items(d / "gt.json", d / "img");
  ASSERT_EQ(l.items.size(), 2u);
  EXPECT_EQ(l.items[0].key, "1");
  EXPECT_EQ(l.items[0].image_id, 1);  // integer, as in the GT
  EXPECT_EQ(l.items[0].image, d / "img" / "2301.jpg");
  ASSERT_EQ(l.items[0].boxes.size(), 1u);
  EXPECT_EQ(l.items[0].boxes[0].x1, 1.0);
  EXPECT_EQ(l.items[0].boxes[0].y1, 1.0);
  EXPECT_EQ(l.items[0].boxes[0].x2, 4.0);
  EXPECT_EQ(l.items[0].boxes[0].y2, 3.0);
  EXPECT_EQ(l.items[1].boxes[0].y2, 6.0);
  EXPECT_EQ(l.items[0].instruction,
            "Can you provide me with a detailed description of the region in the picture marked by <bbox>?");
  const std::string rec = caption_list_text({caption_record(l.items[0].image_id, "a kite")});
  EXPECT_EQ(rec, "[\n  {\n    \"image_id\": 1,\n    \"caption\": \"a kite\"\n  }\n]");
}

TEST(Runner, RefsegTeacherForcedChatsOfAtMostThreeRoundsAndOneRecordPerSentence) {
  const fs::path images = fresh_dir("images");
  std::ofstream(images / "42.jpg") << "x";
  ItemList list;
  list.task = Task::kRefseg;
  list.dataset = "refcoco";
  list.split_by = "unc";
  list.split = "testA";
  WorkItem w;
  w.key = "42";
  w.image = images / "42.jpg";
  w.image_id = 42;
  w.refer_image_id = 42;
  for (int k = 0; k < 5; ++k) w.sentences.push_back({7001 + k, 501 + k / 2, "thing " + std::to_string(k)});
  list.items.push_back(w);
  const fs::path out = fresh_dir("out");
  FakeModel fake;
  std::ostringstream log;
  const RunSummary s = run_items(list, fake, options(out), log);
  ASSERT_TRUE(s.complete) << log.str();
  ASSERT_EQ(fake.chats.size(), 2u);  // 5 sentences → 3 + 2 rounds
  ASSERT_EQ(fake.chats[0].size(), 3u);
  ASSERT_EQ(fake.chats[1].size(), 2u);
  EXPECT_EQ(fake.chats[0][0].user, "Can you segment the thing 0 in this image?");
  EXPECT_EQ(fake.chats[0][0].assistant, "Sure, [SEG].");
  EXPECT_EQ(fake.chats[1][1].user, "Can you segment the thing 4 in this image?");
  EXPECT_EQ(s.predictions, out / "predictions.jsonl");
  const std::string jl = slurp(s.predictions);
  EXPECT_EQ(jl.substr(0, jl.find('\n')),
            R"({"dataset":"refcoco","split_by":"unc","split":"testA","sent_id":7001,"ref_id":501,"image_id":42,)"
            R"("mask":{"size":[4,6],"counts":"h0"},"sentence":"thing 0"})");  // 24 zeros = "h0" (as 48 zeros = "`1", dataset-formats.md §4.7)
  EXPECT_EQ(std::count(jl.begin(), jl.end(), '\n'), 5);

  // Generative mode: one "Please segment {x} in this image." per sentence, first mask, empty mask when none.
  list.refseg_generate = true;
  FakeModel gen;
  gen.answer = [](const std::string&) {
    glamm::model::GlammOutput o;
    o.image_height = 4;
    o.image_width = 6;
    return o;  // no [SEG]
  };
  const std::string text = compute_item(list, list.items[0], gen);
  EXPECT_EQ(gen.instructions.front(), "Please segment thing 0 in this image.");
  EXPECT_EQ(gen.instructions.size(), 5u);
  EXPECT_NE(text.find(R"("counts":"h0")"), std::string::npos);  // no [SEG]: the empty 4x6 mask
}

TEST(Runner, RefsegChatWithTooFewMasksIsAnItemError) {
  class FewMasks : public FakeModel {
    glamm::model::GlammOutput teacher_forced(const fs::path&, const std::vector<glamm::model::ChatRound>&) override {
      glamm::model::GlammOutput o;
      o.masks = {empty_mask(2, 2)};
      return o;
    }
  } fake;
  ItemList list;
  list.task = Task::kRefseg;
  WorkItem w;
  w.key = "1";
  w.sentences = {{1, 1, "a"}, {2, 1, "b"}};
  list.items.push_back(w);
  try {
    compute_item(list, list.items[0], fake);
    FAIL() << "no error";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("2 [SEG] answers but the model returned 1 masks"), std::string::npos) << e.what();
  }
}

TEST(InferDriver, BadOptionsFailBeforeTheModelIsLoaded) {
  InferRequest r;
  r.task = "gcg";
  r.images = image_folder("images", 3);
  r.out = fresh_dir("out");
  r.quiet = true;
  int loads = 0;
  ModelFactory factory = [&](const glamm::model::GlammOptions&) {
    ++loads;
    return std::make_unique<FakeModel>();
  };
  auto env = [](const char*) -> const char* { return nullptr; };
  std::ostringstream log;
  r.shard = "3/3";
  EXPECT_THROW(run_inference(r, factory, env, log), glamm::InputError);
  r.shard = "";
  r.task = "regcap";
  r.dataset = "coco";
  EXPECT_THROW(run_inference(r, factory, env, log), glamm::InputError);
  r.task = "gcg";
  r.images = r.out / "nope";
  EXPECT_THROW(run_inference(r, factory, env, log), glamm::InputError);
  EXPECT_EQ(loads, 0);
}

TEST(InferDriver, EnvironmentShardAndDeviceReachTheModel) {
  InferRequest r;
  r.task = "gcg";
  r.images = image_folder("images", 7);
  r.out = fresh_dir("out");
  r.device = "cuda";
  r.quiet = true;
  std::string device;
  ModelFactory factory = [&](const glamm::model::GlammOptions& o) {
    device = o.device;
    return std::make_unique<FakeModel>();
  };
  auto env = [](const char* n) -> const char* {
    const std::string k = n;
    if (k == "RANK") return "2";
    if (k == "WORLD_SIZE") return "3";
    if (k == "LOCAL_RANK") return "1";
    return nullptr;
  };
  std::ostringstream log;
  const RunSummary s = run_inference(r, factory, env, log);
  EXPECT_EQ(device, "cuda:1");
  EXPECT_EQ(s.shard_begin, 5u);  // 7 items over 3: [0,3) [3,5) [5,7)
  EXPECT_EQ(s.shard_end, 7u);
  EXPECT_EQ(s.computed, 2u);
  // Rerun: all done → the model is not even loaded.
  device.clear();
  const RunSummary again = run_inference(r, factory, env, log);
  EXPECT_EQ(device, "");
  EXPECT_EQ(again.resumed, 2u);
  const nlohmann::json m = glamm::io::load_json(again.manifest);
  EXPECT_EQ(m["shard"]["source"], "torchrun");
  EXPECT_EQ(m["request"]["device"], "cuda");
}

TEST(InferDriver, LimitTakesTheFirstItemsBeforeSharding) {
  InferRequest r;
  r.task = "gcg";
  r.images = image_folder("images", 9);
  r.out = fresh_dir("out");
  r.limit = 4;
  r.shard = "1/2";
  r.quiet = true;
  ModelFactory factory = [&](const glamm::model::GlammOptions&) {
    return std::unique_ptr<glamm::model::InferenceModel>(new FakeModel());
  };
  std::ostringstream log;
  const RunSummary s = run_inference(r, factory, [](const char*) -> const char* { return nullptr; }, log);
  EXPECT_EQ(s.total, 4u);
  EXPECT_EQ(s.shard_begin, 2u);
  EXPECT_EQ(s.shard_end, 4u);
  EXPECT_TRUE(fs::exists(r.out / "img_03.json"));
  EXPECT_FALSE(fs::exists(r.out / "img_04.json"));
}

namespace {

/// A gcg request over `n` dummy images with a fake checkpoint folder (config.json, tokenizer.model) and CLIP folder.
InferRequest fake_request(int n) {
  InferRequest r;
  r.task = "gcg";
  r.images = image_folder("images", n);
  r.out = fresh_dir("out");
  r.checkpoint = fresh_dir("ckpt");
  r.clip = fresh_dir("clip");
  std::ofstream(r.checkpoint / "config.json") << R"({"model_type": "llava"})";
  std::ofstream(r.checkpoint / "tokenizer.model") << "spm";
  std::ofstream(r.clip / "config.json") << R"({"model_type": "clip"})";
  r.quiet = true;
  return r;
}

const char* no_env(const char*) { return nullptr; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const glamm::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(InferDriver, ARerunWithAnotherModelOrOptionsIsRefusedBeforeLoadingListingTheFields) {
  InferRequest r = fake_request(4);
  r.limit = 2;  // half the list: a rerun would compute the rest
  int loads = 0;
  ModelFactory factory = [&](const glamm::model::GlammOptions&) {
    ++loads;
    return std::make_unique<FakeModel>();
  };
  std::ostringstream log;
  run_inference(r, factory, no_env, log);
  ASSERT_EQ(loads, 1);
  const nlohmann::json id = glamm::io::load_json(r.out / "manifest.json")["identity"];
  EXPECT_EQ(id["task"], "gcg");
  EXPECT_EQ(id["max_new_tokens"], 512);
  EXPECT_EQ(id["legacy_tokenizer"], true);
  EXPECT_EQ(id["checkpoint"], fs::absolute(r.checkpoint).lexically_normal().string());
  EXPECT_EQ(id["checkpoint_config_sha256"], glamm::io::sha256_file(r.checkpoint / "config.json"));
  EXPECT_TRUE(id["checkpoint_added_tokens_sha256"].is_null());  // absent file
  const std::string manifest_before = slurp(r.out / "manifest.json");

  InferRequest other = r;
  other.limit = 0;
  other.max_new_tokens = 64;
  const std::string e1 = error_of([&] { run_inference(other, factory, no_env, log); });
  EXPECT_NE(e1.find("max_new_tokens: recorded 512, now 64"), std::string::npos) << e1;
  EXPECT_NE(e1.find("use a new --out"), std::string::npos) << e1;
  EXPECT_EQ(e1.find("\n  checkpoint"), std::string::npos) << e1;  // only the differing field is listed

  other = r;
  other.limit = 0;
  other.checkpoint = fresh_dir("ckpt2");
  std::ofstream(other.checkpoint / "config.json") << R"({"model_type": "llava", "vocab_size": 7})";
  const std::string e2 = error_of([&] { run_inference(other, factory, no_env, log); });
  EXPECT_NE(e2.find("checkpoint: recorded"), std::string::npos) << e2;
  EXPECT_NE(e2.find("checkpoint_config_sha256"), std::string::npos) << e2;
  EXPECT_NE(e2.find("checkpoint_tokenizer_model_sha256: recorded \""), std::string::npos) << e2;  // now null

  // Same folder, same path, but the checkpoint's config.json was replaced (another model copied over it).
  std::ofstream(r.checkpoint / "config.json") << R"({"model_type": "llava", "hidden_size": 8})";
  other = r;
  other.limit = 0;
  const std::string e3 = error_of([&] { run_inference(other, factory, no_env, log); });
  EXPECT_NE(e3.find("checkpoint_config_sha256"), std::string::npos) << e3;
  EXPECT_EQ(loads, 1);                                   // never loaded
  EXPECT_EQ(slurp(r.out / "manifest.json"), manifest_before);  // nothing written
  EXPECT_FALSE(fs::exists(r.out / "img_02.json"));
  std::ofstream(r.checkpoint / "config.json") << R"({"model_type": "llava"})";

  // The same setup resumes (also from another shard count: shard manifests are checked as well).
  other = r;
  other.limit = 0;
  other.shard = "1/2";
  const RunSummary s = run_inference(other, factory, no_env, log);
  EXPECT_EQ(s.resumed, 0u);
  EXPECT_EQ(s.computed, 2u);
  other.shard = "";
  other.task = "gcg";
  other.max_new_tokens = 100;
  const std::string e4 = error_of([&] { run_inference(other, factory, no_env, log); });
  EXPECT_NE(e4.find("max_new_tokens"), std::string::npos) << e4;
}

TEST(InferDriver, ARerunThatLoadsNoModelKeepsTheModelRecordOfTheManifest) {
  InferRequest r = fake_request(3);
  ModelFactory factory = [&](const glamm::model::GlammOptions&) { return std::make_unique<FakeModel>(); };
  std::ostringstream log;
  run_inference(r, factory, no_env, log);
  const nlohmann::json first = glamm::io::load_json(r.out / "manifest.json");
  EXPECT_EQ(first["model_loaded"], true);
  ASSERT_EQ(first["model"]["model"], "fake");
  for (int rerun = 0; rerun < 2; ++rerun) {  // twice: the kept record is kept again
    const RunSummary s = run_inference(r, factory, no_env, log);
    EXPECT_EQ(s.resumed, 3u);
    const nlohmann::json m = glamm::io::load_json(r.out / "manifest.json");
    EXPECT_EQ(m["model_loaded"], false);
    EXPECT_EQ(m["model"], first["model"]);
    EXPECT_EQ(m["model_run"]["manifest"], "manifest.json");
    EXPECT_EQ(m["model_run"]["started"], first["started"]);
    EXPECT_EQ(m["model_run"]["computed"], 3);
    EXPECT_DOUBLE_EQ(m["component_seconds"]["llm"].get<double>(), 1.5);  // 3 items x 0.5 s of the fake
    EXPECT_EQ(m["status"], "finished");
  }
  // A shard manifest of a rerun that finds its block done takes the record from the folder's other manifest.
  r.shard = "1/3";
  run_inference(r, factory, no_env, log);
  const nlohmann::json sm = glamm::io::load_json(r.out / "manifest.shard-1-of-3.json");
  EXPECT_EQ(sm["model_loaded"], false);
  EXPECT_EQ(sm["model"]["model"], "fake");
  EXPECT_EQ(sm["model_run"]["manifest"], "manifest.json");
}

TEST(Runner, ASignalStopsAfterTheCurrentItemAndTheManifestSaysInterrupted) {
  const fs::path images = image_folder("images", 5);
  const ItemList list = gcg_items_from_folder(images);
  const fs::path out = fresh_dir("out");
  std::ostringstream log;
  {
    const InterruptGuard guard;
    FakeModel fake;
    auto plain = fake.answer;
    fake.answer = [&](const std::string& stem) {
      if (stem == "img_01") std::raise(SIGTERM);  // e.g. Slurm's time limit while img_01 runs
      return plain(stem);
    };
    const RunSummary s = run_items(list, fake, options(out), log);
    EXPECT_EQ(s.interrupted, SIGTERM);
    EXPECT_EQ(fake.total_calls, 2);  // img_01 is finished and written, img_02 never starts
    EXPECT_EQ(s.computed, 2u);
    EXPECT_TRUE(fs::exists(out / "img_01.json"));
    EXPECT_FALSE(fs::exists(out / "img_02.json"));
    EXPECT_EQ(s.missing, 3u);
    EXPECT_FALSE(s.complete);
    const nlohmann::json m = glamm::io::load_json(out / "manifest.json");
    EXPECT_EQ(m["status"], "interrupted");
    EXPECT_NE(m["error"].get<std::string>().find("SIGTERM"), std::string::npos) << m["error"];
  }
  EXPECT_EQ(pending_interrupt(), SIGTERM);  // recorded until the next guard / clear
  clear_interrupt();
  FakeModel fake;
  const RunSummary again = run_items(list, fake, options(out), log);
  EXPECT_EQ(again.interrupted, 0);
  EXPECT_EQ(again.resumed, 2u);
  EXPECT_EQ(again.computed, 3u);
  EXPECT_EQ(glamm::io::load_json(out / "manifest.json")["status"], "finished");
}

TEST(InferDriver, AnAnnotationFileWithoutUsableItemsIsAnError) {
  const fs::path d = fresh_dir("data");
  std::ofstream(d / "gt.json") << R"({"images": [{"id": 1, "file_name": "2301.jpg", "height": 6, "width": 8}],
 "annotations": [{"id": 7, "image_id": 1, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "a kite"}]})";
  InferRequest r;
  r.task = "regcap";
  r.dataset = "refcocog";
  r.annotations = d / "gt.json";
  r.images = d;
  const std::string e = error_of([&] { build_items(r); });
  EXPECT_NE(e.find("gt.json: no usable items"), std::string::npos) << e;
  EXPECT_NE(e.find("without an annotation whose id equals the image id"), std::string::npos) << e;  // the reason

  // Default annotation paths are named; a dataset without one says so.
  r.annotations.clear();
  r.data_root = d / "root";
  const std::string def = error_of([&] { build_items(r); });
  const std::string want = (d / "root" / "RefCoco_Reg" / "mdetr_annotations" / "finetune_refcocog_val_captions.json").string();
  EXPECT_EQ(def, want + ": default annotation file not found (under --data-root; pass --annotations FILE)");
  r.task = "imagecap";
  r.dataset = "flickr30k";
  const std::string none = error_of([&] { build_items(r); });
  EXPECT_NE(none.find("--annotations: give the annotation file: --dataset flickr30k has no default path"),
            std::string::npos)
      << none;
}

TEST(Runner, AMergedCaptionFileOfAnEarlierSmallerRunIsRemovedWhenTheListIsIncomplete) {
  const fs::path d = fresh_dir("data"), images = fresh_dir("images"), out = fresh_dir("out");
  std::ofstream(d / "gt.json") << R"({"images": [
   {"id": 1, "file_name": "a.jpg", "height": 6, "width": 8},
   {"id": 2, "file_name": "b.jpg", "height": 6, "width": 8},
   {"id": 3, "file_name": "c.jpg", "height": 6, "width": 8}],
 "annotations": [
   {"id": 1, "image_id": 1, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "x"},
   {"id": 2, "image_id": 2, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "y"},
   {"id": 3, "image_id": 3, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "z"}]})";
  for (const char* f : {"a.jpg", "b.jpg", "c.jpg"}) std::ofstream(images / f) << "x";
  const ItemList list = regcap_items(d / "gt.json", images);
  std::ostringstream log;
  RunOptions o = options(out);
  o.limit = 2;
  FakeModel fake;
  ASSERT_TRUE(run_items(list, fake, o, log).complete);
  EXPECT_EQ(glamm::io::load_json(out / "predictions.json").size(), 2u);
  // The whole list, with c.jpg unreadable: the 2-item file must not stay as if it were the result.
  FakeModel bad;
  bad.unreadable = {"c"};
  const RunSummary s = run_items(list, bad, options(out), log);
  EXPECT_FALSE(s.complete);
  EXPECT_TRUE(s.removed_stale_predictions);
  EXPECT_FALSE(fs::exists(out / "predictions.json"));
  // Fixed: the rerun computes only c and writes all 3.
  FakeModel good;
  const RunSummary r = run_items(list, good, options(out), log);
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.removed_stale_predictions);
  EXPECT_EQ(good.total_calls, 1);
  EXPECT_EQ(glamm::io::load_json(out / "predictions.json").size(), 3u);
  // A smaller rerun rewrites it to its own item set.
  o = options(out);
  o.limit = 1;
  run_items(list, good, o, log);
  EXPECT_EQ(glamm::io::load_json(out / "predictions.json").size(), 1u);
}

namespace {

/// Records the size of every batch; with `drift`, a batched answer differs from the lone one for image img_01
/// (another token from step 2, one more mask pixel), as a batch-dependent model would.
class BatchFake : public FakeModel {
 public:
  std::vector<std::size_t> batch_sizes;
  bool drift = false;
  std::vector<glamm::model::GenerateResult> generate_batch(
      const std::vector<glamm::model::GenerateRequest>& requests) override {
    batch_sizes.push_back(requests.size());
    std::vector<glamm::model::GenerateResult> r = FakeModel::generate_batch(requests);
    for (std::size_t i = 0; i < r.size(); ++i)
      if (drift && requests.size() > 1 && requests[i].image.stem() == "img_01" && !r[i].error) {
        r[i].output.generated_ids = {5, 6, 9};
        std::vector<uint8_t> px(24, 0);
        px[9] = 1;  // one pixel set of the 4×6 mask
        r[i].output.masks[0].counts = glamm::mask::to_string(glamm::mask::encode(px.data(), 4, 6));
      }
    return r;
  }
};

}  // namespace

TEST(Runner, BatchedRunWritesTheSameFilesAndFailsOnlyTheBadItems) {
  const ItemList all = gcg_items_from_folder(image_folder("images", 7));
  ItemList list = all;
  list.items[4].image = list.items[4].image.parent_path() / "gone.jpg";  // missing on disk: never sent to the model
  auto answer = [](const std::string& stem) {
    glamm::model::GlammOutput o;
    o.caption = "caption of " + stem;
    o.phrases = {stem};
    o.masks = {empty_mask(4, 6)};
    o.image_height = 4;
    o.image_width = 6;
    o.generated_ids = {5, 6, static_cast<int64_t>(stem.back())};
    return o;
  };
  const fs::path one = fresh_dir("one"), three = fresh_dir("three");
  std::ostringstream log;
  FakeModel a;
  a.answer = answer;
  a.unreadable = {"img_02"};
  const RunSummary s1 = run_items(list, a, options(one), log);
  BatchFake b;
  b.answer = answer;
  b.unreadable = {"img_02"};
  RunOptions o = options(three);
  o.batch_size = 3;
  const RunSummary s3 = run_items(list, b, o, log);
  EXPECT_EQ(b.batch_sizes, (std::vector<std::size_t>{3, 3}));  // img_04 left out (missing), 6 requests
  EXPECT_EQ(s3.computed, s1.computed);
  EXPECT_EQ(s3.computed, 5u);
  ASSERT_EQ(s3.failures.size(), 2u);
  EXPECT_EQ(s3.failures[0].key, "img_02");
  EXPECT_NE(s3.failures[0].message.find("cannot decode"), std::string::npos);
  EXPECT_EQ(s3.failures[1].key, "img_04");
  EXPECT_NE(s3.failures[1].message.find("image file not found"), std::string::npos);
  for (const auto& w : list.items) {
    const fs::path p1 = item_output_path(list.task, w, one), p3 = item_output_path(list.task, w, three);
    ASSERT_EQ(fs::exists(p1), fs::exists(p3)) << w.key;
    if (fs::exists(p1)) EXPECT_EQ(slurp(p1), slurp(p3)) << w.key;
  }
  EXPECT_EQ(s3.invariance.items, 0u);  // not asked for
  // Resume in batches: only the two failed items are computed again, in one batch.
  BatchFake c;
  c.answer = answer;
  RunOptions o2 = options(three);
  o2.batch_size = 4;
  const RunSummary r = run_items(all, c, o2, log);
  EXPECT_EQ(c.batch_sizes, (std::vector<std::size_t>{2}));
  EXPECT_EQ(r.resumed, 5u);
  EXPECT_TRUE(r.complete);
}

TEST(Runner, BatchInvarianceCheckReportsTokensAndMaskDifferences) {
  const ItemList list = gcg_items_from_folder(image_folder("images", 4));
  const fs::path out = fresh_dir("out");
  BatchFake m;
  m.answer = [](const std::string& stem) {
    glamm::model::GlammOutput o;
    o.masks = {empty_mask(4, 6)};
    o.image_height = 4;
    o.image_width = 6;
    o.generated_ids = {5, 6, 7};
    (void)stem;
    return o;
  };
  m.drift = true;
  RunOptions o = options(out);
  o.batch_size = 2;
  o.check_batch_invariance = 3;
  std::ostringstream log;
  const RunSummary s = run_items(list, m, o, log);
  EXPECT_EQ(s.invariance.items, 3u);
  EXPECT_EQ(s.invariance.sequences, 3u);
  EXPECT_EQ(s.invariance.tokens_identical, 2u);
  EXPECT_EQ(s.invariance.masks, 3u);
  EXPECT_EQ(s.invariance.masks_identical, 2u);
  EXPECT_DOUBLE_EQ(s.invariance.min_mask_iou, 0.0);  // empty vs one pixel
  ASSERT_EQ(s.invariance.differences.size(), 1u);
  EXPECT_NE(s.invariance.differences[0].find("img_01: tokens differ from step 2"), std::string::npos)
      << s.invariance.differences[0];
  EXPECT_NE(s.invariance.differences[0].find("1 pixels differ"), std::string::npos) << s.invariance.differences[0];
  EXPECT_NE(log.str().find("2/3 sequences with identical tokens"), std::string::npos) << log.str();
  const nlohmann::json man = glamm::io::load_json(out / "manifest.json");
  EXPECT_EQ(man["batch_invariance"]["tokens_identical"], 2);
  EXPECT_EQ(man["batch_invariance"]["differences"].size(), 1u);
}
