// glamm-eval report on a real GCG record: page content, overlays from the record's paths, and the headless
// Chromium check (opens without console errors; the screenshot shows the table and the plots).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/io.h"
#include "reports/html_report.h"
#include "reports/record.h"
#include "support/shared_data.h"
#include "common/error.h"
#include "tests/reports/report_fixtures.h"

namespace {

using namespace glamm::reports;
using namespace glamm::reports_test;
namespace fs = std::filesystem;

// Gray stand-in images (binary PPM bytes; OpenCV reads by content, whatever the .jpg name) for every GT image.
int write_stand_in_images(const fs::path& mask_gt, const fs::path& dir) {
  fs::create_directories(dir);
  const auto j = read_json(mask_gt);
  int n = 0;
  for (const auto& im : j["images"]) {
    const int w = im["width"], h = im["height"];
    std::string ppm = "P6\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
    ppm.append(static_cast<std::size_t>(w) * h * 3, static_cast<char>(128));
    write_text(dir / im["file_name"].get<std::string>(), ppm);
    ++n;
  }
  return n;
}

class ReportGcg : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE_SHARED(gcg, "golden/gcg");
    GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
    gcg_ = gcg;
    dir_ = test_dir("report");
    rec_ = dir_ / "run.json";
    auto r = cached_gcg_record(gcg, meteor, gcg / "predictions_val", rec_, "GLaMM-GCG");
    ASSERT_EQ(r.code, 0) << r.output;
    ASSERT_EQ(write_stand_in_images(gcg / "val_gcg_coco_mask_gt.json", dir_ / "images"), 50);
  }
  fs::path gcg_, dir_, rec_;
};

TEST_F(ReportGcg, RecordStoresThePathsTheOverlaysNeed) {
  const auto j = read_json(rec_);
  EXPECT_EQ(j["inputs"]["mask_gt"], (gcg_ / "val_gcg_coco_mask_gt.json").string());
  for (const auto& s : j["per_sample"]) {
    ASSERT_TRUE(s.contains("prediction_file")) << s["image_id"];
    EXPECT_TRUE(fs::exists(s["prediction_file"].get<std::string>()));
  }
}

TEST_F(ReportGcg, PageHasMetricsFailuresPlotsAndOverlays) {
  const auto out = dir_ / "report.html";
  const CliResult r = run_cli("report " + q(rec_) + " --out " + q(out) + " --images " + q(dir_ / "images") + " --worst 4");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string html = glamm::io::read_file(out);
  for (const char* must : {"<table id=\"metrics\">", "<td class=\"name\">AP50</td><td>0.4216</td><td>42.2</td>",
                           "<table id=\"failures\">", "<td class=\"name\">no [SEG] / no mask</td><td>0</td>",
                           "<svg id=\"pr-curve\"", "<svg id=\"miou-histogram\"", "Worst 4 images by mIoU",
                           "data:image/jpeg;base64,/9j/"})
    EXPECT_NE(html.find(must), std::string::npos) << must;
  EXPECT_EQ(html.find("no overlay:"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg")) << "no external resources";
  // Four overlays.
  std::size_t n = 0, p = 0;
  while ((p = html.find("data:image/jpeg;base64,", p)) != std::string::npos) ++n, ++p;
  EXPECT_EQ(n, 4u);
  // Histogram: 50 images in 10 bins.
  EXPECT_NE(html.find("per-image mIoU (50 images)"), std::string::npos);
}

TEST_F(ReportGcg, WithoutImagesThePageSaysHowToGetOverlays) {
  const RunRecord rec = load_record(rec_);
  ReportOptions opt;
  const std::string html = render_html_report(rec, opt);
  EXPECT_NE(html.find("Overlays need the images: pass --images DIR."), std::string::npos);
  EXPECT_EQ(html.find("data:image/jpeg"), std::string::npos);
  opt.images_dir = (dir_ / "nowhere").string();
  opt.worst = 2;
  EXPECT_THROW(render_html_report(rec, opt), glamm::InputError);  // no such folder
  fs::create_directories(dir_ / "nowhere");                      // a folder without the images
  std::vector<std::string> warnings;
  const std::string missing = render_html_report(rec, opt, &warnings);
  EXPECT_NE(missing.find("no overlay:"), std::string::npos);
  EXPECT_NE(missing.find("no such image file"), std::string::npos);
  EXPECT_EQ(warnings.size(), 2u);
}

std::string find_chromium() {
  if (const char* e = std::getenv("GLAMM_CHROMIUM"); e && *e) return e;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  std::size_t pos = 0;
  while (pos <= p.size()) {
    std::size_t colon = p.find(':', pos);
    const std::string dir = p.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    for (const char* name : {"chromium", "chromium-browser"}) {
      const fs::path c = fs::path(dir) / name;
      if (!dir.empty() && fs::exists(c)) return c.string();
    }
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  return "";
}

// Pixels within ±12 per channel of a BGR colour.
int count_color(const cv::Mat& img, int b, int g, int r) {
  int n = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const cv::Vec3b& px = img.at<cv::Vec3b>(y, x);
      if (std::abs(px[0] - b) <= 12 && std::abs(px[1] - g) <= 12 && std::abs(px[2] - r) <= 12) ++n;
    }
  return n;
}

TEST_F(ReportGcg, OpensInHeadlessChromiumWithoutConsoleErrorsAndShowsTableAndPlots) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    if (glamm::testing::running_in_ci()) FAIL() << "chromium is not installed under CI (scripts/setup.sh installs it)";
    GTEST_SKIP() << "chromium not installed (apt-get install chromium, or set GLAMM_CHROMIUM); headless check skipped";
  }
  const auto out = dir_ / "report.html";
  ASSERT_EQ(run_cli("report " + q(rec_) + " --out " + q(out) + " --images " + q(dir_ / "images")).code, 0);
  const fs::path profile = dir_ / "chromium-profile";  // a fresh --user-data-dir
  fs::remove_all(profile);
  fs::create_directories(profile);
  const fs::path shot = dir_ / "shot.png", log = dir_ / "chromium.log";
  const std::string cmd = "timeout 120 " + q(chromium) +
                          " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
                          " --disable-background-networking --disable-component-update --no-first-run"
                          " --user-data-dir=" + q(profile) + " --enable-logging=stderr --v=0"
                          " --window-size=1280,1400 --screenshot=" + q(shot) + " " +
                          q("file://" + fs::absolute(out).string()) + " > " + q(log) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string text = glamm::io::read_file(log);
  ASSERT_EQ(rc, 0) << cmd << "\n" << text;
  // The page's own console line shows that console output is captured; nothing else may come from the page.
  EXPECT_NE(text.find("glamm-report: rendered 2 plots"), std::string::npos) << text;
  std::size_t p = 0;
  while ((p = text.find("CONSOLE", p)) != std::string::npos) {
    const std::string line = text.substr(p, text.find('\n', p) - p);
    EXPECT_NE(line.find("glamm-report: rendered"), std::string::npos) << "console message: " << line;
    ++p;
  }
  for (const char* bad : {"Uncaught", "Failed to load resource", "ERR_"})
    EXPECT_EQ(text.find(bad), std::string::npos) << bad << "\n" << text;
  const cv::Mat img = cv::imread(shot.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty()) << "no screenshot at " << shot;
  EXPECT_GT(count_color(img, 138, 92, 43), 2000) << "metrics table (header/borders #2b5c8a) not visible";
  EXPECT_GT(count_color(img, 40, 39, 214), 150) << "PR curve (IoU 0.50, #d62728) not visible";
  EXPECT_GT(count_color(img, 44, 160, 44), 1000) << "mIoU histogram (#2ca02c) not visible";
  fs::remove_all(profile);
}

}  // namespace
