// What a first run shows a newcomer: records made from the built-in synthetic sample say so wherever they appear
// (table marker and footnote, never bold, compare and report headers), tables' notes carry no absolute path, raw
// signature or HTML-in-LaTeX, the histogram's y ticks are distinct integers, PR curves are told apart, the sample's
// report embeds one overlay per listed image, the record path is printed under -q, compare names only the differing
// signature fields and ranks by the metric that dropped, and `datasets` refuses a data root that does not exist.
// Fixtures are built here (in-memory records, `gcg --sample`); no shared data needed.
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/error.h"
#include "common/io.h"
#include "common/result.h"
#include "reports/compare.h"
#include "reports/paper_tables.h"
#include "reports/record.h"
#include "reports/svg_plot.h"
#include "reports/table.h"
#include "support/shared_data.h"
#include "tests/reports/report_fixtures.h"

namespace {

namespace fs = std::filesystem;
using namespace glamm::reports;
using namespace glamm::reports_test;
using nlohmann::json;

const std::string kSection = "\xC2\xB6";  // ¶ (the synthetic-data marker)

/// A GCG record for Table 3 (no per-sample data) with the given label, metrics and optional "data" field.
json gcg_record(const std::string& label, double cider, bool synthetic) {
  json sig = {{"metric", "glamm-gcg"}, {"split", "val"}, {"text_similarity", "table:/somewhere/abs/sim.tsv"},
              {"meteor_resources_sha256", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}};
  std::string ss = "metric:glamm-gcg|split:val|text_similarity:table:/somewhere/abs/sim.tsv|meteor_resources_sha256:"
                   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  if (synthetic) {
    sig["data"] = glamm::kSyntheticSampleData;
    ss += std::string("|data:") + glamm::kSyntheticSampleData;
  }
  return {{"schema_version", 1},
          {"task", "gcg"},
          {"dataset", "grandf"},
          {"split", "val"},
          {"label", label},
          {"metrics", {{"METEOR", 0.40}, {"CIDEr", cider}, {"AP50", 0.60}, {"mIoU", 0.80}, {"Recall", 0.70}}},
          {"metric_order", {"METEOR", "CIDEr", "AP50", "mIoU", "Recall"}},
          {"signature", sig},
          {"signature_string", ss},
          {"tool_version", "glamm-eval 0.1.0"},
          {"per_sample", json::array()}};
}

// The Markdown table line whose first cell starts with `name`.
std::string md_line(const std::string& md, const std::string& name) {
  const std::size_t p = md.find("| " + name);
  return p == std::string::npos ? "" : md.substr(p, md.find('\n', p) - p);
}

TEST(FirstRunTable, SyntheticRecordIsMarkedFootnotedAndNeverBoldBesidePublishedRows) {
  const PaperTables& pt = builtin_paper_tables();
  // CIDEr 1.313 beats every published CIDEr of Table 3 (best 47.2 ×100): bold for a real run, never for the sample.
  std::vector<RunRecord> runs = {record_from_json(gcg_record("builtin-sample", 1.313, true), "/abs/dir/sample.json")};
  TableOptions opt;
  opt.with_paper = true;
  const std::string md = render_table(pt.table("3"), pt, runs, opt);
  const std::string row = md_line(md, "builtin-sample " + kSection);
  ASSERT_FALSE(row.empty()) << md;
  EXPECT_NE(row.find("131.3"), std::string::npos) << row;
  EXPECT_EQ(row.find("<b>"), std::string::npos) << "synthetic run bolded: " << row;
  EXPECT_NE(md.find("- " + kSection + " builtin-sample: synthetic (built-in sample) data, not the benchmark"),
            std::string::npos)
      << md;
  // The same values from real data are bold (the rule the synthetic row is exempt from).
  std::vector<RunRecord> real = {record_from_json(gcg_record("model-x", 1.313, false), "/abs/dir/x.json")};
  const std::string md2 = render_table(pt.table("3"), pt, real, opt);
  EXPECT_NE(md_line(md2, "model-x").find("<b>131.3</b>"), std::string::npos) << md2;
  EXPECT_EQ(md2.find(kSection), std::string::npos) << md2;
  // Synthetic and real runs never share a column: their metric variants differ in "data".
  std::vector<RunRecord> both = {record_from_json(gcg_record("model-x", 1.0, false), "x.json"),
                                 record_from_json(gcg_record("builtin-sample", 1.313, true), "s.json")};
  EXPECT_THROW(render_table(pt.table("3"), pt, both, opt), glamm::InputError);
}

TEST(FirstRunTable, NotesHaveNoAbsolutePathsNoRawSignatureAndLatexNotesAreLatex) {
  const PaperTables& pt = builtin_paper_tables();
  std::vector<RunRecord> runs = {record_from_json(gcg_record("builtin-sample", 1.313, true), "/abs/dir/sample.json")};
  TableOptions opt;
  opt.with_paper = true;
  const std::string md = render_table(pt.table("3"), pt, runs, opt);
  const std::string notes = md.substr(md.find("\nNotes:"));
  EXPECT_EQ(notes.find("/abs/dir"), std::string::npos) << notes;
  EXPECT_EQ(notes.find("/somewhere"), std::string::npos) << notes;
  EXPECT_EQ(notes.find("metric:glamm-gcg|"), std::string::npos) << "raw signature in the notes:\n" << notes;
  EXPECT_NE(notes.find("(sample.json); metric variant: metric = glamm-gcg; text_similarity = table; "
                       "meteor_resources_sha256 = 0123456789ab\xE2\x80\xA6; data = synthetic (built-in sample)"),
            std::string::npos)
      << notes;

  opt.format = TableFormat::kLatex;
  const std::string tex = render_table(pt.table("3"), pt, runs, opt);
  const std::string tnotes = tex.substr(tex.find("\\par\\smallskip"));
  EXPECT_EQ(tnotes.find("<b>"), std::string::npos) << tnotes;
  EXPECT_NE(tnotes.find("\\textbf{...} = bold in the paper"), std::string::npos) << tnotes;
  // Every '|' in the LaTeX notes is escaped (a bare one prints as an em dash in the default font encoding).
  for (std::size_t p = tnotes.find('|'); p != std::string::npos; p = tnotes.find('|', p + 1))
    ADD_FAILURE() << "unescaped | at " << tnotes.substr(p > 30 ? p - 30 : 0, 60);
  EXPECT_NE(tex.find("builtin-sample \\P{}"), std::string::npos) << tex;
  EXPECT_NE(tnotes.find("\\P{} builtin-sample: synthetic (built-in sample) data"), std::string::npos) << tnotes;
}

TEST(FirstRunPlots, HistogramTicksAreDistinctIntegers) {
  EXPECT_EQ(integer_ticks(3), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(integer_ticks(1), (std::vector<int>{0, 1}));
  EXPECT_EQ(integer_ticks(0), (std::vector<int>{0, 1}));
  EXPECT_EQ(integer_ticks(5), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(integer_ticks(6), (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(integer_ticks(12), (std::vector<int>{0, 5, 10, 15}));
  EXPECT_EQ(integer_ticks(230), (std::vector<int>{0, 50, 100, 150, 200, 250}));
  // 6 images, at most 3 in one bin: the rendered axis reads 0 1 2 3 (it used to read 0, 1, 1, 2, 2, 3).
  const std::string svg = svg_histogram("h", {0.05, 0.55, 0.56, 0.57, 0.95, 1.0}, 10, "#2ca02c", "mIoU");
  std::vector<std::string> ticks;
  const std::regex re("class=\"ytick\"[^>]*>([^<]*)</text>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it)
    ticks.push_back((*it)[1]);
  EXPECT_EQ(ticks, (std::vector<std::string>{"0", "1", "2", "3"})) << svg;
}

TEST(FirstRunPlots, LineSeriesAreToldApartByDashAndMarkerInPlotAndLegend) {
  std::vector<std::pair<double, double>> pts;  // 11 points: markers at 0 and 10 (first series), 5 (second)
  for (int k = 0; k <= 10; ++k) pts.emplace_back(k / 10.0, 1.0 - k / 20.0);
  std::vector<SvgSeries> s = {{pts, "#d62728", "IoU 0.50", "", "circle"}, {pts, "#1f77b4", "IoU 0.75", "7 5", "square"}};
  const std::string svg = svg_line_plot("pr", s, "recall", "precision");
  // The dashed curve and its legend line.
  std::size_t dashes = 0;
  for (std::size_t p = svg.find("stroke-dasharray=\"7 5\""); p != std::string::npos;
       p = svg.find("stroke-dasharray=\"7 5\"", p + 1))
    ++dashes;
  EXPECT_EQ(dashes, 2u) << svg;
  // Markers: every tenth curve point, the second series offset by five (so equal curves show both), + legend.
  std::size_t circles = 0, squares = 0;
  for (std::size_t p = svg.find("<circle class=\"marker\""); p != std::string::npos; p = svg.find("<circle class=\"marker\"", p + 1)) ++circles;
  for (std::size_t p = svg.find("<rect class=\"marker\""); p != std::string::npos; p = svg.find("<rect class=\"marker\"", p + 1)) ++squares;
  EXPECT_EQ(circles, 3u) << svg;
  EXPECT_EQ(squares, 2u) << svg;
  EXPECT_NE(svg.find(">IoU 0.50</text></g>"), std::string::npos);
  EXPECT_NE(svg.find(">IoU 0.75</text></g>"), std::string::npos);
}

TEST(FirstRunCompare, DifferentSignaturesListOnlyTheDifferingFields) {
  json a = gcg_record("a", 1.0, false), b = gcg_record("b", 1.0, false);
  b["signature"]["meteor_resources_sha256"] = "ffff";
  b["signature_string"] = "metric:glamm-gcg|split:val|text_similarity:table:/elsewhere/sim.tsv|meteor_resources_sha256:ffff";
  b["signature"]["text_similarity"] = "table:/elsewhere/sim.tsv";  // a location only: not a difference
  const RunRecord ra = record_from_json(a, "a.json"), rb = record_from_json(b, "b.json");
  EXPECT_EQ(variant_differences(ra, rb),
            "  meteor_resources_sha256:\n    A: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
            "    B: ffff\n");
  try {
    check_comparable(ra, rb, false);
    FAIL() << "no error";
  } catch (const glamm::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("meteor_resources_sha256"), std::string::npos) << m;
    EXPECT_EQ(m.find("metric:glamm-gcg"), std::string::npos) << "whole signature printed:\n" << m;
    EXPECT_EQ(m.find("text_similarity"), std::string::npos) << m;
  }
  EXPECT_EQ(variant_differences(ra, ra), "");
}

// ---- end to end with the built-in sample -------------------------------------------------------------------------

class SampleRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_dir("first_run");
    rec_ = dir_ / "sample.json";
    const CliResult r = run_cli("gcg --sample -q --json " + q(rec_));
    ASSERT_EQ(r.code, 0) << r.output;
    output_ = r.output;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  fs::path dir_, rec_;
  std::string output_;
};

TEST_F(SampleRun, QuietRunSaysWhereTheRecordWentAndRecordIsSyntheticWithNoTemporaryPath) {
  // -q: only the stdout summary and one stderr line naming the record.
  EXPECT_NE(output_.find("results record: " + rec_.string() + "\n"), std::string::npos) << output_;
  const json j = json::parse(glamm::io::read_file(rec_));
  EXPECT_EQ(j["signature"]["data"], "synthetic (built-in sample)");
  const std::string text = j.dump();
  EXPECT_EQ(text.find(fs::temp_directory_path().string() + "/glamm-gcg-sample"), std::string::npos);
  // The sample's files are kept next to the record and the record points at them.
  const fs::path data = dir_ / "sample.sample";
  EXPECT_EQ(j["inputs"]["mask_gt"], (data / "val_gcg_coco_mask_gt.json").string());
  EXPECT_EQ(j["inputs"]["images"], (data / "images").string());
  EXPECT_TRUE(fs::is_regular_file(data / "images" / "sa_200001.bmp"));
  EXPECT_EQ(fs::file_size(data / "images" / "sa_200001.bmp"), 54u + 64u * 48u * 3u);
}

TEST_F(SampleRun, RecallSkipIsOneWarningInTheUsersTerms) {
  // sa_200002 has 2 masks and 1 phrase: the official script's mask/phrase index coupling drops its recall matches.
  const CliResult r = run_cli("gcg --sample --json " + q(dir_ / "again.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("IndexError"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("out of bounds"), std::string::npos) << r.output;
  const std::string w = "warning: recall: 1 image (sa_200002) has more predicted masks than phrases; the official evaluation "
                        "pairs each mask with the phrase of the same index, fails there and drops its recall matches";
  const std::size_t p = r.output.find(w);
  EXPECT_NE(p, std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("warning: recall:", p + 1), std::string::npos) << "more than one recall warning";
  EXPECT_NE(r.output.find("--strict pairs only masks that have a phrase and keeps it\n"), std::string::npos);
}

TEST_F(SampleRun, TableMarksTheSampleAndNeverBoldsIt) {
  const CliResult r = run_cli("table --table 3 --with-paper " + q(rec_));
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string row = md_line(r.output, "builtin-sample " + kSection);
  ASSERT_FALSE(row.empty()) << r.output;
  EXPECT_EQ(row.find("<b>"), std::string::npos) << row;
  EXPECT_NE(r.output.find(kSection + " builtin-sample: synthetic (built-in sample) data"), std::string::npos);
  EXPECT_EQ(r.output.find(dir_.string()), std::string::npos) << "absolute path in the table:\n" << r.output;
}

TEST_F(SampleRun, CompareHeaderSaysSyntheticAndRanksByTheMetricThatDropped) {
  // B: the sample with two images' mIoU lowered (per-sample values; CIDEr untouched).
  json b = json::parse(glamm::io::read_file(rec_));
  b["label"] = "worse";
  b["per_sample"][0]["miou"] = 0.1;
  b["per_sample"][1]["miou"] = 0.2;
  write_text(dir_ / "b.json", b.dump());
  const CliResult r = run_cli("compare --resamples 20 " + q(rec_) + " " + q(dir_ / "b.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("[data: synthetic (built-in sample)]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("most regressed samples by per-sample mIoU"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sa_200003"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("none\n"), std::string::npos) << r.output;
}

TEST_F(SampleRun, ReportHasTheSyntheticBannerAndOneOverlayPerListedImage) {
  const fs::path plugin = fs::path(GLAMM_EVAL_BINARY).parent_path() / "libglamm_overlay.so";
  if (!fs::exists(plugin)) {
    if (glamm::testing::running_in_ci()) FAIL() << "overlay plugin missing under CI: " << plugin;
    GTEST_SKIP() << "overlay plugin not built (target glamm_overlay): " << plugin;
  }
  const fs::path out = dir_ / "r.html";
  const CliResult r = run_cli("report " + q(rec_) + " --out " + q(out));  // no --images: the record's own
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string html = glamm::io::read_file(out);
  EXPECT_NE(html.find("id=\"synthetic-data\""), std::string::npos);
  std::size_t figures = 0, overlays = 0;
  for (std::size_t p = html.find("<figure class=\"sample\">"); p != std::string::npos;
       p = html.find("<figure class=\"sample\">", p + 1))
    ++figures;
  for (std::size_t p = html.find("src=\"data:image/jpeg;base64,"); p != std::string::npos;
       p = html.find("src=\"data:image/jpeg;base64,", p + 1))
    ++overlays;
  EXPECT_EQ(figures, 6u);  // the sample's 6 images (fewer than --worst 8)
  EXPECT_EQ(overlays, 6u) << html.substr(html.find("<h2>Worst"), 2000);
  EXPECT_EQ(html.find("no overlay"), std::string::npos);
}

TEST_F(SampleRun, ReportRendersInHeadlessChromiumWithOverlaysVisible) {
  const fs::path plugin = fs::path(GLAMM_EVAL_BINARY).parent_path() / "libglamm_overlay.so";
  std::string chromium;
  for (const char* c : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (fs::exists(c)) chromium = c;
  if (const char* e = std::getenv("GLAMM_CHROMIUM"); e && *e) chromium = e;
  if (chromium.empty() || !fs::exists(plugin)) {
    if (glamm::testing::running_in_ci()) FAIL() << "chromium or the overlay plugin missing under CI";
    GTEST_SKIP() << "needs chromium (or GLAMM_CHROMIUM) and the overlay plugin (target glamm_overlay)";
  }
  const fs::path out = dir_ / "r.html", shot = dir_ / "shot.png", log = dir_ / "chromium.log";
  ASSERT_EQ(run_cli("report " + q(rec_) + " --out " + q(out)).code, 0);
  const std::string cmd = "timeout 120 " + q(chromium) +
                          " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
                          " --disable-background-networking --disable-component-update --no-first-run"
                          " --user-data-dir=" + q(dir_ / "profile") + " --enable-logging=stderr --v=0"
                          " --window-size=1280,1600 --screenshot=" + q(shot) + " " +
                          q("file://" + fs::absolute(out).string()) + " > " + q(log) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string text = glamm::io::read_file(log);
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("glamm-report: rendered 2 plots"), std::string::npos) << text;
  for (const char* bad : {"Uncaught", "Failed to load resource", "ERR_"})
    EXPECT_EQ(text.find(bad), std::string::npos) << bad << "\n" << text;
  const cv::Mat img = cv::imread(shot.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  // The overlays' ground-truth outlines (BGR 60, 220, 60) are on screen; nothing else on the page has that colour.
  int green = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const cv::Vec3b& px = img.at<cv::Vec3b>(y, x);
      green += std::abs(px[0] - 60) <= 30 && std::abs(px[1] - 220) <= 30 && std::abs(px[2] - 60) <= 30;
    }
  EXPECT_GT(green, 5000) << "overlay outlines not visible in " << shot;
}

TEST(FirstRunDatasets, MissingDataRootIsAnErrorNotTwentyThreeMissingLines) {
  const CliResult r = run_cli("datasets --data-root /nonexistent/glamm-data-root");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("error: /nonexistent/glamm-data-root: --data-root: the data root itself does not exist"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("[missing]"), std::string::npos) << r.output;
}

TEST(FirstRunHelp, TaskCommandsSayWhereTheRecordGoes) {
  for (const char* cmd : {"gcg", "refseg", "regcap", "imagecap"}) {
    const CliResult r = run_cli(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.output.find(std::string("glamm-results/") + cmd + "_"), std::string::npos) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find("one line on stderr says where"), std::string::npos) << cmd;
  }
  const CliResult rs = run_cli("refseg --help");
  EXPECT_NE(rs.output.find("refclef"), std::string::npos) << rs.output;
}

}  // namespace
