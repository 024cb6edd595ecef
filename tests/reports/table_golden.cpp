// glamm-eval table against the paper's printed Tables 3–6 (shared paper/glamm-paper.md) and with real GCG records.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/io.h"
#include "reports/paper_tables.h"
#include "reports/record.h"
#include "reports/table.h"
#include "support/shared_data.h"
#include "tests/reports/report_fixtures.h"

namespace {

using namespace glamm::reports;
using namespace glamm::reports_test;

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string s = line;
  auto trim = [](std::string x) {
    const auto b = x.find_first_not_of(' ');
    if (b == std::string::npos) return std::string();
    return x.substr(b, x.find_last_not_of(' ') - b + 1);
  };
  std::size_t pos = 1;
  while (pos < s.size()) {
    const std::size_t bar = s.find('|', pos);
    if (bar == std::string::npos) break;
    cells.push_back(trim(s.substr(pos, bar - pos)));
    pos = bar + 1;
  }
  return cells;
}

bool is_separator(const std::vector<std::string>& cells) {
  for (const auto& c : cells)
    if (c.find_first_not_of('-') != std::string::npos) return false;
  return true;
}

// The table rows (cells) of the Markdown table whose first line starts with `header_prefix`; separator skipped.
std::vector<std::vector<std::string>> md_table(const std::string& text, const std::string& header_prefix) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line.rfind(header_prefix, 0) == 0) inside = true;
    if (!inside) continue;
    if (line.empty() || line[0] != '|') break;
    auto cells = split_cells(line);
    if (!is_separator(cells)) rows.push_back(cells);
  }
  return rows;
}

struct PaperCase {
  const char* id;
  const char* header;  // first header line's start in the paper (also our first cell)
};

// Readable parameter in ctest names and failure messages (gtest would print the struct's raw bytes).
void PrintTo(const PaperCase& c, std::ostream* os) { *os << "Table " << c.id; }

class PaperTableTest : public ::testing::TestWithParam<PaperCase> {};

TEST_P(PaperTableTest, PublishedTableMatchesThePrintedOneCellForCell) {
  GLAMM_REQUIRE_SHARED(paper_md, "paper/glamm-paper.md");
  const std::string paper = glamm::io::read_file(paper_md);
  const auto expected = md_table(paper, GetParam().header);
  ASSERT_GE(expected.size(), 4u) << "table not found in the paper text";
  const CliResult r = run_cli(std::string("table --table ") + GetParam().id);
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string first = expected[0][0];
  const auto got = md_table(r.output, "| " + first);
  ASSERT_EQ(got.size(), expected.size()) << r.output;
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "row " << i;
}

INSTANTIATE_TEST_SUITE_P(Tables, PaperTableTest,
                         ::testing::Values(PaperCase{"3", "| Model         | Validation Set"},
                                           PaperCase{"4", "| Method         | refCOCO "},
                                           PaperCase{"5", "| Model         | refCOCOg"},
                                           PaperCase{"6", "| Model            | NoCap"}),
                         [](const auto& info) { return std::string("Table") + info.param.id; });

class GcgRecords : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE_SHARED(gcg, "golden/gcg");
    GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
    dir_ = test_dir("table");
    val_ = dir_ / "val.json";
    test_ = dir_ / "test.json";
    auto a = cached_gcg_record(gcg, meteor, gcg / "predictions_val", val_, "GLaMM-GCG", "val");
    ASSERT_EQ(a.code, 0) << a.output;
    auto b = cached_gcg_record(gcg, meteor, gcg / "predictions_test", test_, "GLaMM-GCG", "test");
    ASSERT_EQ(b.code, 0) << b.output;
  }
  std::filesystem::path dir_, val_, test_;
};

TEST_F(GcgRecords, RunRowFillsBothSplitsTimes100WithBoldAndDeltas) {
  const CliResult r = run_cli("table --table 3 --with-paper --delta-vs-paper " + q(val_) + " " + q(test_));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto rows = md_table(r.output, "| Model");
  ASSERT_EQ(rows.size(), 2u + 5u + 2u);
  // Golden val/test: METEOR .3329/.3356, CIDEr 3.2023/3.1558, AP50 .4216/.4797, mIoU .7041/.7065, recall .4884/.6024.
  // METEOR ran without a paraphrase table (none in the shared data): marked "§", not bold beside the published rows.
  const std::string sect = "\xC2\xA7";
  const std::vector<std::string> run = {"GLaMM-GCG",       "33.3" + sect, "<b>320.2</b>", "<b>42.2</b>", "<b>70.4</b>",
                                        "<b>48.8</b>",     "33.6" + sect, "<b>315.6</b>", "<b>48.0</b>", "<b>70.7</b>",
                                        "<b>60.2</b>"};
  EXPECT_EQ(rows[7], run);
  const std::vector<std::string> delta = {"Δ GLaMM-GCG vs GLaMM", "+17.1" + sect, "+273.0", "+11.4", "+4.1", "+7.0",
                                          "+17.8" + sect, "+272.1", "+18.8", "+5.1", "+19.4"};
  EXPECT_EQ(rows[8], delta);
  EXPECT_NE(r.output.find(sect + " GLaMM-GCG (Validation Set M, Test Set M): not comparable to published rows: METEOR "
                                 "without paraphrase matching."),
            std::string::npos)
      << r.output;
  // Published bold marks are kept even where the run beats them.
  EXPECT_EQ(rows[6][2], "<b>47.2</b>");
  EXPECT_NE(r.output.find("metric variant: metric = glamm-gcg; "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("split val"), std::string::npos);
  EXPECT_NE(r.output.find("glamm-eval 0.1.0"), std::string::npos);
}

TEST_F(GcgRecords, RunNotBoldWhereAPublishedRowIsBetter) {
  // Without the published rows the run is alone; with a much better fake published row it is not bold.
  PaperTables pt = builtin_paper_tables();
  PaperTable t = pt.table("3");
  t.rows = {{"Oracle", {"99.9", "999.9", "99.9", "99.9", "99.9", "-", "-", "-", "-", "-"}}};
  std::vector<RunRecord> runs = {load_record(val_)};
  TableOptions opt;
  opt.with_paper = true;
  const std::string md = render_table(t, pt, runs, opt);
  const auto rows = md_table(md, "| Model");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3][1], "33.3\xC2\xA7");  // METEOR without paraphrase table: marked
  EXPECT_EQ(rows[3][2], "320.2");
}

TEST_F(GcgRecords, RefusesDifferentMetricVariantsInOneColumn) {
  nlohmann::json j = read_json(val_);
  j["label"] = "strict-run";
  j["signature"]["strict"] = "on(miou_nan_as_1)";
  const auto other = dir_ / "strict.json";
  write_text(other, j.dump());
  const CliResult r = run_cli("table --table 3 " + q(val_) + " " + q(other));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("refusing to put runs with different metric variants"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("strict:on(miou_nan_as_1)"), std::string::npos) << r.output;
}

TEST_F(GcgRecords, TableOfAnotherTaskAndMixedTasksAreClearErrors) {
  const CliResult r = run_cli("table --table 4 " + q(val_));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("is a 'gcg' record; Table 4 shows 'refseg' runs"), std::string::npos) << r.output;
  nlohmann::json j = read_json(val_);
  j["task"] = "refseg";
  const auto other = dir_ / "refseg.json";
  write_text(other, j.dump());
  const CliResult m = run_cli("table --table 3 " + q(val_) + " " + q(other));
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.output.find("mixes tasks"), std::string::npos) << m.output;
}

TEST_F(GcgRecords, LatexHasBooktabsStructureAndConsistentColumns) {
  const CliResult r = run_cli("table --table 3 --format latex --with-paper --delta-vs-paper " + q(val_));
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string& tex = r.output;
  for (const char* must : {"\\begin{table}", "\\begin{tabular}{lcccccccccc}", "\\toprule", "\\midrule",
                           "\\bottomrule", "\\end{tabular}", "\\end{table}", "\\multicolumn{5}{c}{Validation Set}",
                           "\\cmidrule(lr){2-6}", "\\textbf{47.2}", "GLaMM\\textsuperscript{\\dag}",
                           "\\textbf{320.2}", "33.3\\S{}", "\\S{} GLaMM-GCG (Validation Set M): not comparable",
                           "$\\Delta$ GLaMM-GCG vs GLaMM"})
    EXPECT_NE(tex.find(must), std::string::npos) << must << "\n" << tex;
  EXPECT_EQ(tex.find("\\begin{tabular}{lcccccccccc}"), tex.find("\\begin{tabular}")) << "l + 10 data columns";
  // Every body row has 10 column separators (multicolumn spans counted).
  std::istringstream in(tex);
  std::string line;
  int rows = 0;
  bool body = false;
  while (std::getline(in, line)) {
    if (line.rfind("\\toprule", 0) == 0) body = true;
    if (line.rfind("\\bottomrule", 0) == 0) body = false;
    if (!body || line.size() < 2 || line.compare(line.size() - 2, 2, "\\\\") != 0) continue;
    int cols = 1;
    for (std::size_t k = 0; k < line.size(); ++k)
      if (line[k] == '&' && (k == 0 || line[k - 1] != '\\')) ++cols;
    std::size_t p = 0;
    while ((p = line.find("\\multicolumn{", p)) != std::string::npos) {
      cols += std::stoi(line.substr(p + 13)) - 1;
      p += 13;
    }
    EXPECT_EQ(cols, 11) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 2 + 5 + 2);
  // Braces balance.
  int depth = 0;
  for (std::size_t k = 0; k < tex.size(); ++k) {
    if (tex[k] == '\\' && k + 1 < tex.size()) {
      ++k;
      continue;
    }
    depth += tex[k] == '{' ? 1 : tex[k] == '}' ? -1 : 0;
    ASSERT_GE(depth, 0);
  }
  EXPECT_EQ(depth, 0);
}

TEST(PaperTables, Table5DeltaRowFollowsTheCheckpointLabel) {
  const PaperTable& t = builtin_paper_tables().table("5");
  EXPECT_EQ(delta_row_for(t, "GLaMM-RegCap-RefCOCOg", ""), "GLaMM (FT)");
  EXPECT_EQ(delta_row_for(t, "GLaMM-GranD-pretrained", ""), "GLaMM (ZS)");
  EXPECT_EQ(delta_row_for(t, "GLaMM-RegCap-VG", "GLaMM (ZS)"), "GLaMM (ZS)");
  EXPECT_THROW(delta_row_for(t, "x", "GLaMM (XX)"), glamm::InputError);
}

TEST(PaperTables, EveryNamedBaselineIsPresentAsPrinted) {
  const PaperTables& pt = builtin_paper_tables();
  std::vector<std::string> names;
  for (const auto& t : pt.tables)
    for (const auto& r : t.rows) names.push_back(r.name);
  for (const char* n : {"BuboGPT [47]", "Kosmos-2 [27]", "LISA* [16]", "GLaMM†", "CRIS [36]", "LAVT [39]", "GRES [21]",
                        "X-Decoder [49]", "SEEM [50]", "LISA-7B [16]", "GRIT [37]", "GPT4RoI [46]", "VinVLM [44]",
                        "LEMON [9]", "SimVLM [35]", "CoCa [43]", "BLIP [18]", "BLIP-2 [19]", "InstructBLIP [5]",
                        "Shikra-13B [4]", "Kosmos-1 [10]", "GLaMM (ZS)", "GLaMM (FT)"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  double v = 0;
  EXPECT_TRUE(parse_cell("<b>180.5</b>", v));
  EXPECT_DOUBLE_EQ(v, 180.5);
  EXPECT_FALSE(parse_cell("-", v));
}

}  // namespace
