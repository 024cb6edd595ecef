// Table 6's SPICE columns with our records: a record's "SPICE-style (Link Grammar parser)" value fills them ×100
// with a "‡" marker and a note saying it is SPICE-style (Link Grammar parser), not the Java SPICE; never bold beside
// the published (Java SPICE) rows; published rows unchanged; a plain "SPICE" metric keeps the old route; end to end
// from an `imagecap` record through `glamm-eval table`.
#include <filesystem>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/reports/markdown_rows.h"
#include "metrics/spice/spice.h"
#include "reports/paper_tables.h"
#include "reports/record.h"
#include "reports/table.h"
#include "support/shared_data.h"
#include "tests/reports/report_fixtures.h"

namespace {
using glamm::testing::md_row_named;
namespace fs = std::filesystem;

using namespace glamm::reports;
using namespace glamm::reports_test;
using nlohmann::json;

const std::string kDagger2 = "\xE2\x80\xA1";  // ‡

json imagecap_record(const std::string& dataset, const std::string& split, json metrics) {
  json order = json::array();
  for (auto it = metrics.begin(); it != metrics.end(); ++it) order.push_back(it.key());
  return {{"schema_version", 1},
          {"task", "imagecap"},
          {"dataset", dataset},
          {"split", split},
          {"label", "GLaMM-ours"},
          {"metrics", metrics},
          {"metric_order", order},
          {"signature", {{"metric", "glamm-imagecap"}, {"spice", glamm::spice::kMetricName}}},
          {"signature_string", std::string("metric:glamm-imagecap|spice:") + glamm::spice::kMetricName},
          {"per_sample", json::array()}};
}


TEST(SpiceStyleTable, RecordValueFillsSpiceColumnsWithMarkerAndNoteNotBoldBesidePublished) {
  const PaperTables& pt = builtin_paper_tables();
  const PaperTable& t6 = pt.table("6");
  std::vector<RunRecord> runs = {
      record_from_json(imagecap_record("nocaps", "val", {{"CIDEr", 1.2}, {glamm::spice::kMetricName, 0.1612}}), "n.json"),
      record_from_json(imagecap_record("flickr30k", "test", {{"CIDEr", 0.9}, {glamm::spice::kMetricName, 0.2049}}),
                       "f.json")};
  TableOptions opt;
  opt.with_paper = true;
  opt.delta_vs_paper = true;
  const std::string md = render_table(t6, pt, runs, opt);
  // NoCap CIDEr, NoCap SPICE, Flickr30k CIDEr, Flickr30k SPICE: 16.1 beats the published 15.8 but is not bold.
  EXPECT_EQ(md_row_named(md, "GLaMM-ours"),
            (std::vector<std::string>{"GLaMM-ours", "120.0", "16.1" + kDagger2, "90.0",
                                      "20.5" + kDagger2}))
      << md;
  EXPECT_EQ(md_row_named(md, "Δ GLaMM-ours vs GLaMM"),
            (std::vector<std::string>{"Δ GLaMM-ours vs GLaMM", "+13.2", "+0.3" + kDagger2, "-5.3", "+1.7" + kDagger2}))
      << md;
  const std::string note = kDagger2 + " GLaMM-ours (NoCap SPICE, Flickr30k SPICE) is SPICE-style (Link Grammar parser)";
  EXPECT_NE(md.find(note), std::string::npos) << md;
  EXPECT_NE(md.find("Not the Java SPICE 1.0 behind the paper's SPICE values"), std::string::npos) << md;
  // Published rows exactly as printed.
  for (const PaperRow& row : t6.rows) {
    std::vector<std::string> want{row.name};
    want.insert(want.end(), row.cells.begin(), row.cells.end());
    EXPECT_EQ(md_row_named(md, row.name), want) << row.name;
  }
  // LaTeX: the marker as a superscript double dagger, in the cell and the note.
  opt.format = TableFormat::kLatex;
  const std::string tex = render_table(t6, pt, runs, opt);
  EXPECT_NE(tex.find("16.1\\textsuperscript{\\ddag}"), std::string::npos) << tex;
  EXPECT_NE(tex.find("\\textsuperscript{\\ddag} GLaMM-ours (NoCap SPICE, Flickr30k SPICE) is SPICE-style"),
            std::string::npos)
      << tex;
}

TEST(SpiceStyleTable, WithoutPublishedRowsTheBestRunIsBoldAndPlainSpiceHasNoMarker) {
  const PaperTables& pt = builtin_paper_tables();
  json a = imagecap_record("flickr30k", "test", {{"CIDEr", 0.9}, {glamm::spice::kMetricName, 0.2049}});
  json b = imagecap_record("flickr30k", "test", {{"CIDEr", 0.8}, {glamm::spice::kMetricName, 0.1900}});
  b["label"] = "other";
  const std::vector<RunRecord> runs = {record_from_json(a, "a.json"), record_from_json(b, "b.json")};
  const std::string md = render_table(pt.table("6"), pt, runs, TableOptions{});
  EXPECT_EQ(md_row_named(md, "GLaMM-ours"),
            (std::vector<std::string>{"GLaMM-ours", "-", "-", "<b>90.0</b>", "<b>20.5" + kDagger2 + "</b>"}))
      << md;
  EXPECT_EQ(md_row_named(md, "other")[4], "19.0" + kDagger2);
  EXPECT_NE(md.find(kDagger2 + " other (Flickr30k SPICE) is SPICE-style"), std::string::npos) << md;

  // A record that carries a plain "SPICE" metric (e.g. the Java SPICE imported) is shown as such, without the marker.
  json c = imagecap_record("flickr30k", "test", {{"CIDEr", 0.9}, {"SPICE", 0.188}});
  c["signature"]["spice"] = "spice-1.0-jar";
  c["signature_string"] = "metric:glamm-imagecap|spice:spice-1.0-jar";
  const std::string md2 = render_table(pt.table("6"), pt, {record_from_json(c, "c.json")}, TableOptions{});
  EXPECT_EQ(md_row_named(md2, "GLaMM-ours")[4], "<b>18.8</b>") << md2;
  EXPECT_EQ(md2.find(kDagger2), std::string::npos) << md2;

  // A record without either (imagecap --no-spice): "n/a", no note.
  json d = imagecap_record("flickr30k", "test", {{"CIDEr", 0.9}});
  d["signature"]["spice"] = "off(--no-spice)";
  d["signature_string"] = "metric:glamm-imagecap|spice:off(--no-spice)";
  const std::string md3 = render_table(pt.table("6"), pt, {record_from_json(d, "d.json")}, TableOptions{});
  EXPECT_EQ(md_row_named(md3, "GLaMM-ours")[4], "n/a") << md3;
  EXPECT_EQ(md3.find("SPICE-style"), std::string::npos) << md3;
}

// End to end: `glamm-eval imagecap` (SPICE-style on by default) → `glamm-eval table --table 6 --with-paper`.
TEST(SpiceStyleTable, ImagecapRecordThroughTheTableCommand) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const auto dir = test_dir("spice_table");
  write_text(dir / "k.json", R"({"dataset": "flickr30k", "images": [
    {"filename": "1.jpg", "imgid": 0, "split": "test", "sentences": [{"raw": "A brown dog runs on the sand."}]},
    {"filename": "2.jpg", "imgid": 1, "split": "test", "sentences": [{"raw": "Two cats sleep on a red sofa."}]}]})");
  write_text(dir / "pred.json", R"([{"image_id": 1, "caption": "a dog runs on the beach"},
    {"image_id": 2, "caption": "two cats on a sofa"}])");
  const CliResult rec = run_cli("imagecap -q --dataset flickr30k --annotations " + q(dir / "k.json") + " --pred " +
                                q(dir / "pred.json") + " --meteor-resources " + q(meteor) +
                                " --meteor-paraphrase - --label ours --json " + q(dir / "rec.json"));
  ASSERT_EQ(rec.code, 0) << rec.output;
  const RunRecord r = load_record(dir / "rec.json");
  double v = 0;
  ASSERT_TRUE(r.metric(glamm::spice::kMetricName, v));
  char cell[32];
  std::snprintf(cell, sizeof cell, "%.1f", v * 100.0);
  const CliResult t = run_cli("table --table 6 --with-paper " + q(dir / "rec.json"));
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_EQ(md_row_named(t.output, "ours")[4], std::string(cell) + kDagger2) << t.output;
  EXPECT_NE(t.output.find(kDagger2 + " ours (Flickr30k SPICE) is SPICE-style (Link Grammar parser)"),
            std::string::npos)
      << t.output;
  EXPECT_EQ(md_row_named(t.output, "GLaMM")[4], "<b>18.8</b>");
}

}  // namespace
