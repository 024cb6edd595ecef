// The fixture of the `glamm-eval captions` CLI tests: a per-test temporary folder, file writing, and a runner that
// captures stdout/stderr and the exit status.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/io.h"
#include "support/shared_data.h"

namespace glamm::testing {

namespace fs = std::filesystem;

class CaptionsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE(fs::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
    tmp_ = fs::temp_directory_path() /
           ("glamm_captions_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(tmp_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!tmp_.empty()) fs::remove_all(tmp_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = tmp_ / name;
    glamm::io::write_file_atomic(p, text);
    return p;
  }
  /// Runs glamm-eval captions with `args`; returns the exit status and fills out_/err_.
  int run(const std::string& args) {
    const std::string cmd = "\"" + std::string(GLAMM_EVAL_BINARY) + "\" captions " + args + " > \"" +
                            (tmp_ / "out.txt").string() + "\" 2> \"" + (tmp_ / "err.txt").string() + "\"";
    const int rc = std::system(cmd.c_str());
    out_ = glamm::io::read_file(tmp_ / "out.txt");
    err_ = glamm::io::read_file(tmp_ / "err.txt");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string files(const fs::path& gt, const fs::path& res, const std::string& metrics = "bleu,rouge,cider") {
    return "--gt \"" + gt.string() + "\" --res \"" + res.string() + "\" --metrics " + metrics + " -q";
  }
  fs::path tmp_;
  std::string out_, err_;
};


}  // namespace glamm::testing
