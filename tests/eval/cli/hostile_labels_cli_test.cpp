// Hostile run labels and output paths: a --label becomes part of the default record's file name only after path
// separators and leading dots are replaced (the record keeps the label as given), and a label with '|' or a line
// break cannot break the Markdown table of `glamm-eval table`.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "support/test_dir.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;

namespace {

class HostileLabelsCli : public ::testing::Test {
 protected:
  fs::path dir_, work_;
  std::string out_;
  void SetUp() override {
    GLAMM_REQUIRE(fs::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
    dir_ = glamm::testing::per_test_dir("glamm_hostile_labels");
    work_ = dir_ / "a" / "b";
    fs::create_directories(work_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }
  /// Run glamm-eval with `args` (shell words) in work_; stdout+stderr go to out_.
  int run(const std::string& args) {
    const fs::path log = dir_ / "log.txt";
    const int rc = std::system(("cd '" + work_.string() + "' && '" + GLAMM_EVAL_BINARY + "' " + args + " > '" +
                                log.string() + "' 2>&1")
                                   .c_str());
    out_ = glamm::io::read_file(log);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  /// Every regular file under dir_ (relative paths, sorted), the log excluded.
  std::string listing() const {
    std::vector<std::string> v;
    for (const auto& e : fs::recursive_directory_iterator(dir_))
      if (e.is_regular_file() && e.path().filename() != "log.txt") v.push_back(fs::relative(e.path(), dir_).string());
    std::sort(v.begin(), v.end());
    std::string s;
    for (const auto& x : v) s += x + "\n";
    return s;
  }
};

TEST_F(HostileLabelsCli, DotDotLabelStaysInsideGlammResults) {
  ASSERT_EQ(run("gcg -q --sample --label '../../x'"), 0) << out_;
  const fs::path rec = work_ / "glamm-results" / "gcg_grandf_val____.._x.json";
  ASSERT_TRUE(fs::is_regular_file(rec)) << listing() << out_;
  EXPECT_EQ(nlohmann::json::parse(glamm::io::read_file(rec))["label"], "../../x");
  EXPECT_FALSE(fs::exists(dir_ / "x.json"));
  EXPECT_FALSE(fs::exists(dir_ / "glamm-results"));
  EXPECT_FALSE(fs::exists(dir_ / "a" / "glamm-results"));
  for (const auto& e : fs::recursive_directory_iterator(dir_))  // nothing written outside work_/glamm-results
    if (e.is_regular_file() && e.path().filename() != "log.txt")
      EXPECT_EQ(e.path().string().rfind((work_ / "glamm-results").string(), 0), 0u) << e.path();
}

TEST_F(HostileLabelsCli, SlashLabelCreatesNoFolder) {
  ASSERT_EQ(run("gcg -q --sample --label 'run/one'"), 0) << out_;
  EXPECT_TRUE(fs::is_regular_file(work_ / "glamm-results" / "gcg_grandf_val_run_one.json")) << listing();
  EXPECT_FALSE(fs::exists(work_ / "glamm-results" / "gcg_grandf_val_run"));
  EXPECT_EQ(nlohmann::json::parse(glamm::io::read_file(work_ / "glamm-results" / "gcg_grandf_val_run_one.json"))["label"],
            "run/one");
}

TEST_F(HostileLabelsCli, PipeAndNewlineInLabelKeepTheMarkdownTable) {
  // printf in the shell: a label "A|B<newline>C" as one argument.
  ASSERT_EQ(run("gcg -q --sample --json rec.json --label \"$(printf 'A|B\\nC')\""), 0) << out_;
  const std::string rec_before = glamm::io::read_file(work_ / "rec.json");
  ASSERT_EQ(nlohmann::json::parse(rec_before)["label"], "A|B\nC");
  ASSERT_EQ(run("table --table 3 --format md rec.json"), 0) << out_;
  EXPECT_EQ(glamm::io::read_file(work_ / "rec.json"), rec_before);
  // The run's row: one line, the '|' escaped, as many unescaped cell separators as the header row.
  std::istringstream in(out_);
  std::string line, header, row;
  while (std::getline(in, line)) {
    if (header.empty() && line.rfind("|", 0) == 0) header = line;
    if (line.find("A\\|B C") != std::string::npos) row = line;
  }
  ASSERT_FALSE(row.empty()) << out_;
  auto separators = [](const std::string& s) {
    int n = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (s[i] == '|' && (i == 0 || s[i - 1] != '\\')) ++n;
    return n;
  };
  EXPECT_EQ(separators(row), separators(header)) << out_;
}

}  // namespace

namespace {

// The record's folder cannot be created (its parent is a regular file; this holds for root too): refused before
// any work, exit 2, naming the path; the inputs stay byte-identical.
TEST_F(HostileLabelsCli, UnwritableRecordPathIsRefusedBeforeWork) {
  std::ofstream(work_ / "somefile.txt") << "not a folder\n";
  fs::create_directories(work_ / "pred");
  const std::string pred = R"({"image_id": "img_a", "caption": "A dog.", "phrases": [], "pred_masks": []})";
  std::ofstream(work_ / "pred" / "img_a.json") << pred;
  std::ofstream(work_ / "sim.tsv") << "gt_label\tpred_label\tsimilarity\n";
  ASSERT_EQ(run("gcg -q --split val --gt-dir . --pred pred --text-sim sim.tsv --json somefile.txt/rec.json"), 2)
      << out_;
  EXPECT_NE(out_.find("somefile.txt/rec.json"), std::string::npos) << out_;
  EXPECT_NE(out_.find("not a folder"), std::string::npos) << out_;
  EXPECT_EQ(glamm::io::read_file(work_ / "somefile.txt"), "not a folder\n");
  EXPECT_EQ(glamm::io::read_file(work_ / "pred" / "img_a.json"), pred);
  // --sample: refused before its sample folder is written next to the record.
  ASSERT_EQ(run("gcg -q --sample --json somefile.txt/rec.json"), 2) << out_;
  EXPECT_NE(out_.find("somefile.txt/rec.json: --json: cannot write the record"), std::string::npos) << out_;
  EXPECT_EQ(out_.find("rec.sample"), std::string::npos) << out_;
  EXPECT_EQ(glamm::io::read_file(work_ / "somefile.txt"), "not a folder\n");
}

}  // namespace
