// `glamm-eval meteor` scores segments on metrics::parallel_for: with two lines over the aligner's limits, every
// thread count fails with the same error as a serial run, naming the first bad line (exit 2).
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/io.h"
#include "support/shared_data.h"
#include "support/test_dir.h"

namespace {

namespace fs = std::filesystem;

int run_meteor(const fs::path& dir, int threads, std::string& err) {
  const std::string cmd = "'" + std::string(GLAMM_EVAL_BINARY) + "' meteor --meteor-resources '" +
                          glamm::testing::meteor_resources_dir().string() + "' --meteor-paraphrase - -q --threads " +
                          std::to_string(threads) + " < '" + (dir / "in.txt").string() + "' > /dev/null 2> '" +
                          (dir / "err.txt").string() + "'";
  const int rc = std::system(cmd.c_str());
  err = glamm::io::read_file(dir / "err.txt");
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(MeteorCliParallel, FirstFailingLineWinsForEveryThreadCount) {
  GLAMM_REQUIRE(fs::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
  const fs::path dir = glamm::testing::per_test_dir("meteor_parallel");
  std::string p, q;
  for (int i = 0; i < 33000; ++i) p += "p ", q += "q ";  // 33,000 x 33,000 word pairs: over the aligner's limit
  {
    std::ofstream in(dir / "in.txt");
    for (int line = 1; line <= 40; ++line) {
      if (line == 7 || line == 31)
        in << p << "||| " << q << "\n";
      else
        in << "a cat sits on the mat ||| a cat is on a mat\n";
    }
  }
  std::string serial;
  ASSERT_EQ(run_meteor(dir, 1, serial), 2) << serial;
  EXPECT_NE(serial.find("<stdin>: line 7"), std::string::npos) << serial;
  for (int threads : {2, 4, 8}) {
    std::string err;
    EXPECT_EQ(run_meteor(dir, threads, err), 2) << threads;
    EXPECT_EQ(err, serial) << threads << " threads";
  }
}

}  // namespace
