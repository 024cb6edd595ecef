// table / compare / report / table --paper on hostile JSON: a number beyond the double range (1e400) and 100,000
// nested arrays give exit 2 with the file (and the JSON pointer) named; the inputs are left byte-identical.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "tests/reports/report_fixtures.h"

namespace {

namespace fs = std::filesystem;
using glamm::reports_test::q;
using glamm::reports_test::run_cli;
using glamm::reports_test::test_dir;
using glamm::reports_test::write_text;
using nlohmann::json;

std::string record_text(const std::string& miou) {
  json j = {{"schema_version", 1}, {"task", "gcg"}, {"dataset", "grandf"}, {"split", "val"}, {"label", "x"},
            {"metrics", {{"mIoU", 0.5}}}, {"metric_order", {"mIoU"}},
            {"signature", {{"metric", "glamm-gcg"}, {"split", "val"}}},
            {"signature_string", "metric:glamm-gcg|split:val"},
            {"per_sample", json::array({{{"image_id", "a"}, {"miou", 0.5}}})}};
  std::string s = j.dump(1);
  const std::string from = "\"mIoU\": 0.5";
  s.replace(s.find(from), from.size(), "\"mIoU\": " + miou);
  return s;
}

}  // namespace

TEST(HostileInput, NumberBeyondDoubleRangeInARecordIsExit2NamingFileAndKey) {
  const fs::path d = test_dir("hostile");
  const fs::path good = d / "good.json", big = d / "big.json";
  write_text(good, record_text("0.5"));
  const std::string text = record_text("1e400");
  write_text(big, text);
  for (const std::string& cmd : {"table --table 3 " + q(big), "compare " + q(good) + " " + q(big),
                                 "report " + q(big) + " --out " + q(d / "r.html")}) {
    const auto r = run_cli(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find(big.string() + ": /metrics/mIoU: number 1e400"), std::string::npos) << cmd << "\n"
                                                                                                << r.output;
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  }
  EXPECT_EQ(glamm::io::read_file(big), text);
  EXPECT_FALSE(fs::exists(d / "r.html"));
}

TEST(HostileInput, NumberBeyondDoubleRangeInThePaperFileIsExit2) {
  const fs::path d = test_dir("hostile");
  // A numeric field anywhere in the file, and a cell text that strtod would read as inf.
  const fs::path num = d / "paper_num.json", cell = d / "paper_cell.json";
  write_text(num, "{\"tables\": [], \"x\": [0, 1e400]}");
  json p = {{"tables",
             {{{"id", "3"}, {"task", "gcg"}, {"caption", "c"}, {"row_header", "Model"},
               {"groups", {{{"name", "g"}, {"columns", {{{"name", "mIoU"}, {"metric", "mIoU"}}}}}}},
               {"rows", {{{"name", "GLaMM"}, {"cells", {"1e400"}}}}}}}}};
  write_text(cell, p.dump());
  auto r = run_cli("table --table 3 --paper " + q(num));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(num.string() + ": /x/1: number 1e400"), std::string::npos) << r.output;
  r = run_cli("table --table 3 --paper " + q(cell));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(cell.string() + ": table 3 row GLaMM cell 1: '1e400' is not a finite number"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(glamm::io::read_file(num), "{\"tables\": [], \"x\": [0, 1e400]}");
}

TEST(HostileInput, DeeplyNestedRecordIsExit2NamingTheFile) {
  const fs::path d = test_dir("hostile");
  const fs::path deep = d / "deep.json";
  const std::string text = std::string(100000, '[') + std::string(100000, ']');
  write_text(deep, text);
  for (const std::string& cmd : {"table --table 3 " + q(deep), "compare " + q(deep) + " " + q(deep)}) {
    const auto r = run_cli(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find(deep.string() + ": JSON arrays/objects nested deeper than 1024 levels"),
              std::string::npos)
        << r.output;
  }
  EXPECT_EQ(glamm::io::read_file(deep), text);
}
