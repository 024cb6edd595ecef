// Segmentation decoding of datasets/coco_json runs on metrics::parallel_for: with bad segmentations injected at two
// records, every thread count reports the same error, naming the first bad record, as a serial run does.
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "support/gzip.h"
#include "datasets/coco_json.h"

namespace glamm {
namespace {

using nlohmann::json;

json gt_with_bad_masks(std::size_t n, std::size_t bad1, std::size_t bad2) {
  json anns = json::array();
  for (std::size_t i = 0; i < n; ++i) {
    json seg = json::array({json::array({1.0, 1.0, 8.0, 1.0, 8.0, 8.0, 1.0, 8.0})});
    if (i == bad1 || i == bad2)  // counts sum to 99 on a 10x10 mask
      seg = {{"size", {10, 10}}, {"counts", {50, 49}}};
    anns.push_back({{"id", i + 1}, {"image_id", 1}, {"category_id", 1}, {"area", 49.0}, {"iscrowd", 0},
                    {"segmentation", seg}});
  }
  return {{"images", {{{"id", 1}, {"height", 10}, {"width", 10}}}},
          {"categories", {{{"id", 1}}}},
          {"annotations", anns}};
}

std::string load_error(const json& gt, int threads) {
  datasets::CocoLoadOptions lo;
  lo.threads = threads;
  std::vector<std::string> w;
  try {
    datasets::parse_coco_gt(gt.dump(), "gt.json", lo, w);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CocoJsonParallel, FirstBadSegmentationWinsForEveryThreadCount) {
  const json gt = gt_with_bad_masks(300, 150, 250);
  const std::string serial = load_error(gt, 1);
  EXPECT_NE(serial.find("gt.json"), std::string::npos) << serial;
  EXPECT_NE(serial.find("annotations[150] (id 151)"), std::string::npos) << serial;
  EXPECT_NE(serial.find("segmentation: "), std::string::npos) << serial;
  for (int threads : {2, 3, 8}) EXPECT_EQ(load_error(gt, threads), serial) << threads << " threads";
  // the later bad record alone is reported once the first is gone
  const std::string later = load_error(gt_with_bad_masks(300, 250, 250), 4);
  EXPECT_NE(later.find("annotations[250] (id 251)"), std::string::npos) << later;
}


/// A temporary folder with gt.json / dt.json written from JSON values (or raw text).
struct TwoFiles {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("glamm_load_coco_files_" + std::to_string(::getpid()));
  TwoFiles() { std::filesystem::create_directories(dir); }
  ~TwoFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  }
};

json results_for(std::size_t n) {
  json dt = json::array();
  for (std::size_t i = 0; i < n; ++i)
    dt.push_back({{"image_id", 1}, {"category_id", 1}, {"score", 0.5 + 0.001 * static_cast<double>(i)},
                  {"segmentation", {{"size", {10, 10}}, {"counts", ":b1X1"}}}});  // counts [10, 50, 40]
  return dt;
}

TEST(CocoJsonParallel, LoadingBothFilesAtOnceGivesWhatLoadingThemInTurnGives) {
  const TwoFiles f;
  const auto gt = f.write("gt.json", gt_with_bad_masks(200, 999, 999).dump());
  const auto dt = f.write("dt.json", results_for(300).dump());
  for (int threads : {1, 2, 4}) {
    datasets::CocoLoadOptions lo;
    lo.threads = threads;
    std::vector<std::string> w1, w2;
    const auto g1 = datasets::load_coco_gt(gt, lo, w1);
    const auto d1 = datasets::load_coco_results(dt, g1, lo, w1);
    const auto [g2, d2] = datasets::load_coco_files(gt, dt, lo, w2);
    EXPECT_EQ(w1, w2);
    ASSERT_EQ(g2.annotations.size(), g1.annotations.size());
    ASSERT_EQ(d2.results.size(), d1.results.size());
    for (std::size_t j = 0; j < d1.results.size(); ++j) {
      EXPECT_EQ(d2.results[j].rle.counts, d1.results[j].rle.counts) << j;
      EXPECT_EQ(d2.results[j].area, d1.results[j].area) << j;
      EXPECT_EQ(d2.results[j].score, d1.results[j].score) << j;
    }
    for (std::size_t j = 0; j < g1.annotations.size(); ++j)
      EXPECT_EQ(g2.annotations[j].rle.counts, g1.annotations[j].rle.counts) << j;
  }
}

TEST(CocoJsonParallel, MappedInputsGiveWhatReadInputsGiveAndGzipStillInflates) {
  // The command line maps its inputs (io::enable_file_mapping); a gzip file is read and inflated instead.
  const TwoFiles f;
  const std::string gt_text = gt_with_bad_masks(120, 999, 999).dump(), dt_text = results_for(150).dump();
  const auto gt = f.write("gt.json", gt_text);
  const auto dt = f.write("dt.json", dt_text);
  const auto gt_gz = f.write("gt.json.gz", testing::gzip(gt_text));
  const auto dt_gz = f.write("dt_gz.json", testing::gzip(dt_text));  // gzip whatever the name
  datasets::CocoLoadOptions lo;
  lo.threads = 2;
  std::vector<std::string> w_read, w_mapped, w_gz;
  const auto [g_read, d_read] = datasets::load_coco_files(gt, dt, lo, w_read);
  io::enable_file_mapping();
  const auto [g_mapped, d_mapped] = datasets::load_coco_files(gt, dt, lo, w_mapped);
  const auto [g_gz, d_gz] = datasets::load_coco_files(gt_gz, dt_gz, lo, w_gz);
  EXPECT_EQ(w_mapped, w_read);
  ASSERT_EQ(g_mapped.annotations.size(), 120u);
  ASSERT_EQ(d_mapped.results.size(), 150u);
  ASSERT_EQ(g_gz.annotations.size(), 120u);
  ASSERT_EQ(d_gz.results.size(), 150u);
  for (std::size_t j = 0; j < 120; ++j) {
    EXPECT_EQ(g_mapped.annotations[j].rle.counts, g_read.annotations[j].rle.counts) << j;
    EXPECT_EQ(g_gz.annotations[j].rle.counts, g_read.annotations[j].rle.counts) << j;
  }
  for (std::size_t j = 0; j < 150; ++j) {
    EXPECT_EQ(d_mapped.results[j].score, d_read.results[j].score) << j;
    EXPECT_EQ(d_gz.results[j].rle_facts.box, d_read.results[j].rle_facts.box) << j;
  }
}

TEST(CocoJsonParallel, LoadingBothFilesReportsTheGtErrorFirst) {
  const TwoFiles f;
  const auto good_gt = f.write("gt.json", gt_with_bad_masks(50, 999, 999).dump());
  const auto bad_gt = f.write("bad_gt.json", gt_with_bad_masks(50, 7, 7).dump());
  const auto good_dt = f.write("dt.json", results_for(20).dump());
  const auto bad_dt = f.write("bad_dt.json", "[{\"image_id\": 1,");
  const auto error = [](const std::filesystem::path& g, const std::filesystem::path& d, int threads) {
    datasets::CocoLoadOptions lo;
    lo.threads = threads;
    std::vector<std::string> w;
    try {
      datasets::load_coco_files(g, d, lo, w);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  for (int threads : {1, 2}) {
    const std::string both = error(bad_gt, bad_dt, threads);
    EXPECT_NE(both.find("annotations[7] (id 8)"), std::string::npos) << both;
    const std::string dt_only = error(good_gt, bad_dt, threads);
    EXPECT_NE(dt_only.find("bad_dt.json"), std::string::npos) << dt_only;
    const std::string missing_dt = error(good_gt, f.dir / "missing.json", threads);
    EXPECT_NE(missing_dt.find("missing.json"), std::string::npos) << missing_dt;
    EXPECT_EQ(error(good_gt, good_dt, threads), "no error");
  }
}

}  // namespace
}  // namespace glamm
