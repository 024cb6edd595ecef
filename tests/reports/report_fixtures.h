// Shared helpers of the reports tests: run the glamm-eval binary, make GCG records from the golden set, build
// degraded predictions.
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <utility>

#include <unistd.h>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace glamm::reports_test {

namespace fs = std::filesystem;

struct CliResult {
  int code = -1;
  std::string output;  ///< stdout and stderr together
};

/// Run `glamm-eval ARGS` (a shell-quoted argument string) and capture its output and exit code.
inline CliResult run_cli(const std::string& args) {
  CliResult r;
  const std::string cmd = std::string("'") + GLAMM_EVAL_BINARY + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

/// Removes the folders of test_dir() when their test ends passed or skipped (a failed test keeps its folder to
/// look at). Installed once per test process, on the first test_dir() call.
class TestDirCleaner : public ::testing::EmptyTestEventListener {
 public:
  std::vector<fs::path> dirs;
  void OnTestEnd(const ::testing::TestInfo& info) override {
    std::error_code ec;
    if (info.result()->Passed() || info.result()->Skipped())
      for (const auto& d : dirs) fs::remove_all(d, ec);
    dirs.clear();
  }
};

inline TestDirCleaner& test_dir_cleaner() {
  static TestDirCleaner* cleaner = [] {
    auto* c = new TestDirCleaner;  // owned by gtest's listener list
    ::testing::UnitTest::GetInstance()->listeners().Append(c);
    return c;
  }();
  return *cleaner;
}

/// Folders removed when the test process exits (per-process caches that several tests share).
inline std::vector<fs::path>& exit_dirs() {
  static std::vector<fs::path> dirs;
  return dirs;
}

inline void remove_at_exit(const fs::path& dir) {
  static const bool registered = [] {
    exit_dirs();  // constructed before the handler is registered, so destroyed after it runs
    std::atexit([] {
      std::error_code ec;
      for (const auto& d : exit_dirs()) fs::remove_all(d, ec);
    });
    return true;
  }();
  (void)registered;
  if (std::find(exit_dirs().begin(), exit_dirs().end(), dir) == exit_dirs().end()) exit_dirs().push_back(dir);
}

/// A fresh temporary folder for the current test, removed when the test ends passed or skipped.
inline fs::path test_dir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path d = fs::path(::testing::TempDir()) / ("glamm_reports_" + tag + "_" + info->name());
  fs::remove_all(d);
  fs::create_directories(d);
  test_dir_cleaner().dirs.push_back(d);
  return d;
}

/// `glamm-eval gcg` on the golden GCG folder `gcg` (val split) with predictions `pred`; writes `out`.
inline CliResult make_gcg_record(const fs::path& gcg, const fs::path& meteor, const fs::path& pred,
                                 const fs::path& out, const std::string& label, const std::string& split = "val") {
  return run_cli("gcg --quiet --split " + split + " --gt-dir " + q(gcg) + " --pred " + q(pred) + " --text-sim " +
                 q(gcg / (split + "_text_similarity.tsv")) + " --meteor-resources " + q(meteor) + " --json " + q(out) +
                 " --label " + label);
}

/// make_gcg_record once per (predictions, split) in this test process; later calls copy the cached record to `out`
/// with `label` set. Returns the exit code of the first run (0 = success).
inline CliResult cached_gcg_record(const fs::path& gcg, const fs::path& meteor, const fs::path& pred,
                                   const fs::path& out, const std::string& label, const std::string& split = "val") {
  static std::map<std::string, std::pair<CliResult, fs::path>> cache;
  const std::string key = pred.string() + "|" + split;
  auto it = cache.find(key);
  if (it == cache.end()) {
    const fs::path dir = fs::path(::testing::TempDir()) / ("glamm_reports_cache_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    remove_at_exit(dir);
    const fs::path rec = dir / (std::to_string(cache.size()) + ".json");
    it = cache.emplace(key, std::make_pair(make_gcg_record(gcg, meteor, pred, rec, "cached", split), rec)).first;
  }
  if (it->second.first.code != 0) return it->second.first;
  nlohmann::json j;
  {
    std::ifstream in(it->second.second);
    j = nlohmann::json::parse(in);
  }
  j["label"] = label;
  std::ofstream o(out, std::ios::binary);
  o << j.dump();
  return it->second.first;
}

inline nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

inline void write_text(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

/// Copy the prediction folder `src` to `dst`, then degrade every second file (sorted by name): the caption becomes
/// "A photo." and every predicted mask is dropped. Returns how many files were degraded.
inline int degrade_predictions(const fs::path& src, const fs::path& dst) {
  fs::create_directories(dst);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(src))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  int degraded = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    nlohmann::json j = read_json(files[i]);
    if (i % 2 == 0) {
      j["caption"] = "A photo.";
      j["pred_masks"] = nlohmann::json::array();
      ++degraded;
    }
    write_text(dst / files[i].filename(), j.dump());
  }
  return degraded;
}

}  // namespace glamm::reports_test
