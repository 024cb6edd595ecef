// OutputGuard: an output that resolves to an input (same path, another spelling, a symlink, a hard link) or that
// would land in an input folder under a name read from it is refused before any work, naming option and input.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/output_guard.h"

namespace fs = std::filesystem;
using glamm::InputError;
using glamm::io::OutputGuard;

namespace {

class OutputGuardTest : public ::testing::Test {
 protected:
  fs::path dir_;
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("glamm_output_guard_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
            "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "pred");
    std::ofstream(dir_ / "gt.json") << "{}";
    std::ofstream(dir_ / "pred" / "img1.json") << "{}";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  /// The InputError message for `out`, or "" when accepted.
  std::string refusal(const OutputGuard& g, const fs::path& out) {
    try {
      g.check_output(out, "--json");
      return "";
    } catch (const InputError& e) {
      EXPECT_EQ(e.record(), "--json");
      return e.what();
    }
  }
};

TEST_F(OutputGuardTest, TheSameFileUnderAnySpellingIsRefused) {
  OutputGuard g;
  g.add_input(dir_ / "gt.json", "--gt");
  EXPECT_NE(refusal(g, dir_ / "gt.json").find("is the input --gt"), std::string::npos);
  EXPECT_NE(refusal(g, dir_ / "pred" / ".." / "gt.json"), "");
  fs::create_symlink(dir_ / "gt.json", dir_ / "link.json");
  EXPECT_NE(refusal(g, dir_ / "link.json"), "");
  fs::create_hard_link(dir_ / "gt.json", dir_ / "hard.json");
  EXPECT_NE(refusal(g, dir_ / "hard.json"), "");
  EXPECT_EQ(refusal(g, dir_ / "record.json"), "");  // a new file
  std::ofstream(dir_ / "other.json") << "{}";
  EXPECT_EQ(refusal(g, dir_ / "other.json"), "");  // an existing file that is no input
  EXPECT_EQ(refusal(g, ""), "");
}

TEST_F(OutputGuardTest, AFileTheInputFolderIsReadForIsRefused) {
  OutputGuard g;
  g.add_input_folder(dir_ / "pred", "--pred");
  EXPECT_NE(refusal(g, dir_ / "pred" / "record.json").find("input folder --pred"), std::string::npos);
  EXPECT_NE(refusal(g, dir_ / "pred" / "img1.json"), "");
  EXPECT_EQ(refusal(g, dir_ / "pred" / "notes.txt"), "");  // not read from the folder
  EXPECT_NE(refusal(g, dir_ / "pred"), "");                // the folder itself
  OutputGuard only_jsonl;
  only_jsonl.add_input_folder(dir_ / "pred", "--pred",
                              [](const std::string& n) { return n.size() > 6 && n.substr(n.size() - 6) == ".jsonl"; });
  EXPECT_EQ(refusal(only_jsonl, dir_ / "pred" / "record.json"), "");
}

TEST_F(OutputGuardTest, MissingInputsAreLeftToTheirReaders) {
  OutputGuard g;
  g.add_input(dir_ / "absent.json", "--dt");
  g.add_input_folder(dir_ / "absent_dir", "--pred");
  EXPECT_EQ(refusal(g, dir_ / "record.json"), "");
}

}  // namespace
