// End to end on the 79 COCO val2017 images of data/coco_mini with the tiny checkpoint (issue #8 acceptance):
// `glamm-eval infer gcg` is killed (SIGKILL) once about half of the images are done, resumed without redoing or
// corrupting the finished ones, and `glamm-eval gcg` then scores the predictions against a GranD-f-format ground
// truth built here from coco_mini's instances (compressed RLE masks, category names as labels, a synthetic caption),
// with the tiny BERT for the recall's phrase similarity.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "metrics/mask/rle.h"
#include "support/shared_data.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

void write_json(const fs::path& p, const json& j) { std::ofstream(p) << j.dump(); }

/// The 12-digit file stem GLaMM's infer.py uses as image id.
std::string stem_of(const json& image) { return fs::path(image.at("file_name").get<std::string>()).stem().string(); }

/// GranD-f GT from coco_mini: non-crowd instances as compressed RLE, their category names as labels (label i ↔
/// mask i, as the official metric assumes), and a synthetic caption naming the labels.
void build_grandf_gt(const fs::path& instances, const fs::path& gt_dir) {
  const json coco = read_json(instances);
  std::map<int64_t, std::string> cat_name;
  for (const auto& c : coco.at("categories")) cat_name[c.at("id").get<int64_t>()] = c.at("name").get<std::string>();
  std::map<int64_t, json> image_by_id;
  for (const auto& im : coco.at("images")) image_by_id[im.at("id").get<int64_t>()] = im;

  json cap_images = json::array(), mask_images = json::array(), cap_anns = json::array(), mask_anns = json::array();
  std::map<int64_t, std::vector<std::string>> labels;
  int64_t next_id = 1;
  for (const auto& a : coco.at("annotations")) {
    if (a.at("iscrowd").get<int>() != 0) continue;
    const json& im = image_by_id.at(a.at("image_id").get<int64_t>());
    const uint32_t h = im.at("height").get<uint32_t>(), w = im.at("width").get<uint32_t>();
    std::vector<glamm::mask::Rle> parts;
    for (const auto& poly : a.at("segmentation"))
      parts.push_back(glamm::mask::from_polygon(poly.get<std::vector<double>>(), h, w));
    const glamm::mask::Rle rle = glamm::mask::merge(parts, false);
    mask_anns.push_back({{"id", next_id++},
                         {"image_id", stem_of(im)},
                         {"category_id", a.at("category_id")},
                         {"segmentation", {{"size", {h, w}}, {"counts", glamm::mask::to_string(rle)}}},
                         {"area", glamm::mask::area(rle)},
                         {"bbox", a.at("bbox")},
                         {"iscrowd", 0}});
    labels[im.at("id").get<int64_t>()].push_back(cat_name.at(a.at("category_id").get<int64_t>()));
  }
  int64_t cap_id = 1;
  for (const auto& [id, im] : image_by_id) {
    const std::string stem = stem_of(im);
    json entry = {{"id", stem}, {"file_name", im.at("file_name")}, {"height", im.at("height")},
                  {"width", im.at("width")}};
    cap_images.push_back(entry);
    mask_images.push_back(entry);
    std::string caption = "A picture";
    const auto& l = labels[id];
    for (std::size_t k = 0; k < l.size(); ++k) caption += (k ? " and a " : " with a ") + l[k];
    cap_anns.push_back({{"id", cap_id++}, {"image_id", stem}, {"caption", caption + "."}, {"labels", l}});
  }
  json cats = json::array();
  for (const auto& [id, name] : cat_name) cats.push_back({{"id", id}, {"name", name}});
  write_json(gt_dir / "val_gcg_coco_caption_gt.json", {{"images", cap_images}, {"annotations", cap_anns}});
  write_json(gt_dir / "val_gcg_coco_mask_gt.json",
             {{"images", mask_images}, {"annotations", mask_anns}, {"categories", cats}});
}

/// Prediction files (not the manifest, not temporaries) in `out`, with their last-write times.
std::map<std::string, fs::file_time_type> finished(const fs::path& out) {
  std::map<std::string, fs::file_time_type> done;
  if (!fs::exists(out)) return done;
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name != "manifest.json" && name[0] != '.') done[name] = e.last_write_time();
  }
  return done;
}

TEST(CocoMiniEndToEnd, InferIsKilledResumedAndScored) {
  GLAMM_REQUIRE_SHARED(model_dir, "golden/model");
  GLAMM_REQUIRE_SHARED(coco_mini, "data/coco_mini");
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  const fs::path work = fs::temp_directory_path() / ("glamm_coco_mini_e2e_" + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::create_directories(work / "gt");
  const fs::path out = work / "pred";
  const fs::path images = coco_mini / "val2017";
  const std::size_t n_images = std::distance(fs::directory_iterator(images), fs::directory_iterator{});
  ASSERT_EQ(n_images, 79u);

  const std::vector<std::string> args = {GLAMM_EVAL_BINARY, "infer", "gcg",
                                         "--checkpoint", (model_dir / "tiny-glamm").string(),
                                         "--clip", (model_dir / "tiny-clip-vit-patch14-336").string(),
                                         "--images", images.string(), "--out", out.string(), "--quiet"};
  // 1. Start, wait until about half of the images are written, kill -9.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(20);
  int status = 0;
  bool exited = false;
  while (finished(out).size() < n_images / 2 && std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(exited) << "infer ended before it was killed (status " << status << ")";
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  const auto before = finished(out);
  ASSERT_GE(before.size(), n_images / 2);
  ASSERT_LT(before.size(), n_images);
  for (const auto& [name, _] : before) EXPECT_NO_THROW(read_json(out / name)) << name << " is not valid JSON";

  // 2. Resume: the finished images are not redone (files untouched), the rest is computed.
  std::string cmd;
  for (const auto& a : args) cmd += "'" + a + "' ";
  const fs::path log = work / "resume.log";
  ASSERT_EQ(std::system((cmd + "> '" + log.string() + "' 2>&1").c_str()), 0) << cmd;
  std::ifstream log_in(log);
  const std::string log_text((std::istreambuf_iterator<char>(log_in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log_text.find(std::to_string(before.size()) + " already done"), std::string::npos) << log_text;
  const auto after = finished(out);
  EXPECT_EQ(after.size(), n_images);
  for (const auto& [name, time] : before) {
    ASSERT_TRUE(after.count(name)) << name;
    EXPECT_EQ(after.at(name), time) << name << " was rewritten on resume";
  }
  for (const auto& e : fs::directory_iterator(out))
    EXPECT_NE(e.path().filename().string().find(".tmp"), 0u) << "temporary file left: " << e.path();
  for (const auto& [name, _] : after) {
    const json p = read_json(out / name);
    EXPECT_EQ(p.at("image_id").get<std::string>() + ".json", name);
    EXPECT_EQ(p.at("pred_masks").size(), 2u) << name;  // the tiny model's chain has two [SEG]
    EXPECT_EQ(p.at("caption").get<std::string>(), "A man on a road .") << name;
  }

  // 3. Score with the GCG evaluator against a GranD-f GT built from coco_mini's instances.
  build_grandf_gt(coco_mini / "annotations" / "instances_val2017.json", work / "gt");
  const fs::path record = work / "gcg.json";
  const std::string eval_cmd = std::string("'") + GLAMM_EVAL_BINARY + "' gcg --split val --gt-dir '" +
                               (work / "gt").string() + "' --pred '" + out.string() + "' --bert '" +
                               (model_dir / "tiny-bert-uncased").string() + "' --meteor-resources '" +
                               meteor.string() + "' --json '" + record.string() + "' --quiet > /dev/null";
  ASSERT_EQ(std::system(eval_cmd.c_str()), 0) << eval_cmd;
  const json r = read_json(record);
  ASSERT_TRUE(r.contains("metrics") && r.at("metrics").is_object()) << r.dump();
  EXPECT_GE(r.at("metrics").size(), 4u) << r.dump();
  for (const auto& [name, value] : r.at("metrics").items()) {
    ASSERT_TRUE(value.is_number()) << name << " is not a number: " << value.dump();
    EXPECT_TRUE(std::isfinite(value.get<double>()) && value.get<double>() >= 0.0) << name << " = " << value.dump();
    std::printf("[coco_mini e2e] %s = %.6f\n", name.c_str(), value.get<double>());
  }
  fs::remove_all(work);
}

}  // namespace
