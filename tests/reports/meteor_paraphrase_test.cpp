// METEOR paraphrase state in `table` and `compare`: METEOR cells of runs without pycocoevalcap's official
// paraphrase table are marked "§" with a "not comparable to published rows" note (Markdown and LaTeX, Tables 3
// and 5), and `compare` refuses runs whose paraphrase states differ unless --force. Hand-made records.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/reports/markdown_rows.h"
#include "common/error.h"
#include "reports/compare.h"
#include "reports/meteor_paraphrase.h"
#include "reports/paper_tables.h"
#include "reports/record.h"
#include "reports/table.h"
#include "tests/reports/report_fixtures.h"

namespace {
using glamm::testing::md_row_named;

using namespace glamm::reports;
using namespace glamm::reports_test;
using nlohmann::json;

const std::string kSect = "\xC2\xA7";  // §

json caption_record(const std::string& task, const std::string& dataset, const std::string& split,
                    const std::string& label, const std::string& paraphrase, json metrics) {
  json order = json::array();
  for (auto it = metrics.begin(); it != metrics.end(); ++it) order.push_back(it.key());
  json sig = {{"metric", "glamm-" + task}, {"meteor", "1.5-coco(-l en -norm)"}};
  if (!paraphrase.empty()) sig["meteor_paraphrase"] = paraphrase;
  return {{"schema_version", 1}, {"task", task},       {"dataset", dataset},  {"split", split},
          {"label", label},      {"metrics", metrics}, {"metric_order", order}, {"signature", sig},
          {"signature_string", ""}, {"per_sample", json::array()}};
}


TEST(MeteorParaphraseState, NormalisesNewAndOlderSignatures) {
  auto state = [](const std::string& v) {
    return meteor_paraphrase_of(record_from_json(caption_record("regcap", "refcocog", "val", "x", v, {{"METEOR", 0.1}}), "r.json"));
  };
  EXPECT_EQ(state("official"), "official");
  EXPECT_EQ(state("off"), "off");
  EXPECT_EQ(state("other:0123456789ab"), "other:0123456789ab");
  EXPECT_EQ(state("on(/x/paraphrase-en.gz)"), "unidentified");  // records before the table was identified
  EXPECT_EQ(state(""), "");                                      // no METEOR in the run
}

TEST(MeteorParaphraseTable, Table5MarksMeteorCellsOfRunsWithoutTheOfficialTable) {
  const PaperTables& pt = builtin_paper_tables();
  const PaperTable& t5 = pt.table("5");
  std::vector<RunRecord> runs = {
      record_from_json(caption_record("regcap", "refcocog", "val", "ours-off", "off", {{"METEOR", 0.40}, {"CIDEr", 1.0}}),
                       "off.json"),
      record_from_json(caption_record("regcap", "vg", "val", "ours-other", "other:0123456789ab",
                                      {{"METEOR", 0.17}, {"CIDEr", 1.2}}),
                       "other.json")};
  TableOptions opt;
  opt.with_paper = true;
  opt.delta_vs_paper = true;
  const std::string md = render_table(t5, pt, runs, opt);
  // 40.0 beats every published METEOR but is not bold: it is another metric variant. CIDEr is not marked.
  EXPECT_EQ(md_row_named(md, "ours-off"), (std::vector<std::string>{"ours-off", "40.0" + kSect, "100.0", "-", "-"}))
      << md;
  EXPECT_EQ(md_row_named(md, "ours-other"), (std::vector<std::string>{"ours-other", "-", "-", "17.0" + kSect, "120.0"}))
      << md;
  // The Δ cell of a marked METEOR cell carries the marker too.
  const std::vector<std::string> delta = md_row_named(md, "Δ ours-off vs GLaMM (ZS)");
  ASSERT_EQ(delta.size(), 5u) << md;
  EXPECT_EQ(delta[1].substr(delta[1].size() - kSect.size()), kSect) << md;
  EXPECT_EQ(delta[2].find(kSect), std::string::npos) << md;
  EXPECT_NE(md.find("- " + kSect + " ours-off (refCOCOg METEOR): not comparable to published rows: METEOR without "
                               "paraphrase matching."),
            std::string::npos)
      << md;
  EXPECT_NE(md.find(kSect + " ours-other (Visual Genome METEOR): not comparable to published rows: METEOR with another "
                            "paraphrase table (other:0123456789ab)."),
            std::string::npos)
      << md;
  // A run with the official table: no marker, no note. (Runs with different paraphrase states never share a
  // column: their metric variants differ.)
  const std::string md_official = render_table(
      t5, pt,
      {record_from_json(
          caption_record("regcap", "refcocog", "val", "ours-official", "official", {{"METEOR", 0.15}, {"CIDEr", 1.1}}),
          "official.json")},
      opt);
  EXPECT_EQ(md_row_named(md_official, "ours-official"),
            (std::vector<std::string>{"ours-official", "15.0", "<b>110.0</b>", "-", "-"}))
      << md_official;
  EXPECT_EQ(md_official.find(kSect), std::string::npos) << md_official;
  // LaTeX: \S in the cell and the note.
  opt.format = TableFormat::kLatex;
  const std::string tex = render_table(t5, pt, runs, opt);
  EXPECT_NE(tex.find("ours-off & 40.0\\S{} & 100.0"), std::string::npos) << tex;
  EXPECT_NE(tex.find("\\S{} ours-off (refCOCOg METEOR): not comparable to published rows: METEOR without paraphrase "
                     "matching."),
            std::string::npos)
      << tex;
}

TEST(MeteorParaphraseTable, Table3MarksBothMeteorColumnsOfAGcgRunAndOlderRecords) {
  const PaperTables& pt = builtin_paper_tables();
  std::vector<RunRecord> runs = {
      record_from_json(caption_record("gcg", "grandf", "val", "ours", "off", {{"METEOR", 0.16}, {"CIDEr", 0.5}}), "v.json"),
      record_from_json(caption_record("gcg", "grandf", "test", "ours", "off", {{"METEOR", 0.15}, {"CIDEr", 0.4}}), "t.json")};
  const std::string md = render_table(pt.table("3"), pt, runs, TableOptions{});
  const std::vector<std::string> row = md_row_named(md, "ours");
  ASSERT_EQ(row.size(), 11u) << md;
  // Without published rows a lone run is the best of its column: bold, marked or not.
  EXPECT_EQ(row[1], "<b>16.0" + kSect + "</b>");
  EXPECT_EQ(row[2], "<b>50.0</b>");
  EXPECT_EQ(row[6], "<b>15.0" + kSect + "</b>");
  EXPECT_NE(md.find(kSect + " ours (Validation Set M, Test Set M): not comparable to published rows: METEOR without "
                            "paraphrase matching."),
            std::string::npos)
      << md;
  const std::string md_old = render_table(
      pt.table("3"), pt,
      {record_from_json(caption_record("gcg", "grandf", "val", "old", "on(/x/paraphrase-en.gz)", {{"METEOR", 0.16}}),
                        "old.json")},
      TableOptions{});
  EXPECT_EQ(md_row_named(md_old, "old")[1], "<b>16.0" + kSect + "</b>") << md_old;
  EXPECT_NE(md_old.find(kSect + " old (Validation Set M): not comparable to published rows: METEOR paraphrase table "
                                "not identified (older record)."),
            std::string::npos)
      << md_old;
}

json refseg_like(const std::string& paraphrase) {
  json per = json::array();
  for (int k = 0; k < 4; ++k)
    per.push_back({{"sent_id", k}, {"image_id", 7}, {"intersection", 1.0 + k}, {"union", 5.0}, {"iou", (1.0 + k) / 5}});
  json sig = {{"metric", "glamm-refseg"}};
  if (!paraphrase.empty()) sig["meteor_paraphrase"] = paraphrase;
  return {{"schema_version", 1}, {"task", "refseg"}, {"dataset", "refcoco"}, {"split", "val"}, {"label", "x"},
          {"metrics", {{"cIoU", 0.5}, {"gIoU", 0.5}}}, {"metric_order", {"cIoU", "gIoU"}}, {"signature", sig},
          {"signature_string", ""}, {"per_sample", per}};
}

TEST(MeteorParaphraseCompare, DifferentParaphraseIsRefusedUnlessForced) {
  const RunRecord a = record_from_json(refseg_like("official"), "a.json");
  const RunRecord b = record_from_json(refseg_like("off"), "b.json");
  try {
    check_comparable(a, b, false);
    FAIL() << "expected InputError";
  } catch (const glamm::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("a.json"), std::string::npos) << m;
    EXPECT_NE(m.find("b.json"), std::string::npos) << m;
    EXPECT_NE(m.find("'official'"), std::string::npos) << m;
    EXPECT_NE(m.find("'off'"), std::string::npos) << m;
    EXPECT_NE(m.find("--force"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(check_comparable(a, b, true));
  CompareOptions opt;
  opt.force = true;
  opt.resamples = 10;
  const Comparison c = compare_runs(a, b, opt);
  bool noted = false;
  for (const auto& n : c.notes) noted = noted || n.find("METEOR paraphrase differs (A: official, B: off)") == 0;
  EXPECT_TRUE(noted);
  // Older records: "on(...)" is not known to be the official table.
  const RunRecord old = record_from_json(refseg_like("on(/x/paraphrase-en.gz)"), "old.json");
  EXPECT_THROW(check_comparable(a, old, false), glamm::InputError);
  EXPECT_NO_THROW(check_comparable(b, record_from_json(refseg_like("off"), "c.json"), false));
}

TEST(MeteorParaphraseCompare, CommandExitsTwoWithoutForce) {
  const fs::path dir = test_dir("meteor_paraphrase");
  std::ofstream(dir / "a.json") << refseg_like("official").dump();
  std::ofstream(dir / "b.json") << refseg_like("other:0123456789ab").dump();
  CliResult r = run_cli("compare " + q(dir / "a.json") + " " + q(dir / "b.json"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("METEOR paraphrase differs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("other:0123456789ab"), std::string::npos) << r.output;
  r = run_cli("compare --force --resamples 20 " + q(dir / "a.json") + " " + q(dir / "b.json"));
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("note: METEOR paraphrase differs"), std::string::npos) << r.output;
}

}  // namespace
