// A deterministic stand-in for GLaMM in the runner tests: answers from a function of the image and instruction,
// counts every call per image, and can simulate an unreadable image (InputError) or a killed process (a
// std::runtime_error after a number of calls).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/io.h"
#include "model/glamm.h"
#include "runners/outputs.h"
#include "runners/runner.h"

namespace glamm::runners::testing {

/// An empty folder for one test: <gtest temp dir>/<prefix>_<current test name>_<name>, emptied first.
inline std::filesystem::path fresh_test_dir(const std::string& prefix, const std::string& name) {
  const std::filesystem::path d =
      std::filesystem::path(::testing::TempDir()) /
      (prefix + "_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// Run a shell command; returns its exit status and puts stdout + stderr in `out`. The log file is per test and
/// process (ctest runs the tests in parallel processes).
inline int run_logged(const std::string& cmd, std::string& out) {
  const std::filesystem::path log =
      std::filesystem::path(::testing::TempDir()) /
      ("glamm_test_log_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
       std::to_string(::getpid()) + ".txt");
  const int rc = std::system((cmd + " > " + log.string() + " 2>&1").c_str());
  out = glamm::io::read_file(log);
  std::filesystem::remove(log);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/// Run options for a test: output folder `out`, shard k of n, quiet.
inline RunOptions quiet_options(const std::filesystem::path& out, int k = 0, int n = 1) {
  RunOptions o;
  o.out = out;
  o.shard.index = k;
  o.shard.count = n;
  o.quiet = true;
  return o;
}

class FakeModel : public model::InferenceModel {
 public:
  std::map<std::string, int> calls;       ///< per image stem
  int total_calls = 0;
  int die_after = -1;                     ///< ≥ 0: the call after this many throws std::runtime_error ("killed")
  std::set<std::string> unreadable;       ///< image stems that give InputError
  std::vector<std::vector<model::ChatRound>> chats;  ///< teacher-forced conversations seen
  std::vector<std::string> instructions;
  std::vector<model::PredictedMask> tf_masks;  ///< teacher-forced masks handed out in order (then empty 4×6 ones)
  std::vector<std::vector<model::RegionBox>> boxes;
  /// Output for an image stem (default: caption "caption of <stem>", phrase "<stem>", one empty 4×6 mask).
  std::function<model::GlammOutput(const std::string& stem)> answer = [](const std::string& stem) {
    model::GlammOutput o;
    o.caption = "caption of " + stem;
    o.phrases = {stem};
    o.masks = {empty_mask(4, 6)};
    o.image_height = 4;
    o.image_width = 6;
    o.seconds = {{"llm", 0.5}};
    return o;
  };

  model::GlammOutput generate(const std::filesystem::path& image, const std::string& instruction,
                              const std::vector<model::RegionBox>& b) override {
    instructions.push_back(instruction);
    boxes.push_back(b);
    return call(image);
  }
  model::GlammOutput teacher_forced(const std::filesystem::path& image,
                                    const std::vector<model::ChatRound>& rounds) override {
    chats.push_back(rounds);
    model::GlammOutput o = call(image);
    o.masks.clear();
    for (std::size_t k = 0; k < rounds.size(); ++k) {
      if (tf_masks.empty()) {
        o.masks.push_back(empty_mask(4, 6));
      } else {
        o.masks.push_back(tf_masks.front());
        tf_masks.erase(tf_masks.begin());
      }
    }
    return o;
  }
  std::map<std::string, std::string> describe() const override { return {{"model", "fake"}, {"checkpoint", "none"}}; }

 private:
  model::GlammOutput call(const std::filesystem::path& image) {
    const std::string stem = image.stem().string();
    if (die_after >= 0 && total_calls >= die_after) throw std::runtime_error("killed (simulated)");
    ++total_calls;
    ++calls[stem];
    if (unreadable.count(stem)) throw InputError(image.string(), "", "cannot decode the image (simulated)");
    return answer(stem);
  }
};

}  // namespace glamm::runners::testing
