// `glamm-eval captions` reading its inputs (docs/input-rules.md, "File reading"): gzip and a FIFO give the plain
// file's numbers; JSON faults exit 2 naming the file and the line:column; inputs stay byte-identical.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/gzip.h"
#include "common/io.h"
#include "tests/metrics/caption/captions_cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using glamm::testing::CaptionsCli;

const char* kGt = R"({"images": [{"id": 1}, {"id": 2}],
 "annotations": [{"image_id": 1, "caption": "A dog runs on the grass."}, {"image_id": 1, "caption": "A brown dog."},
                 {"image_id": 2, "caption": "Two cats sleep on a sofa."}]})";
const char* kRes = R"([{"image_id": 2, "caption": "Two cats on a sofa."}, {"image_id": 1, "caption": "A dog runs."}])";

using glamm::testing::gzip;

TEST_F(CaptionsCli, GzipAndFifoInputsGiveThePlainNumbers) {
  const auto gt = write("gt.json", kGt);
  const auto res = write("res.json", kRes);
  ASSERT_EQ(run(files(gt, res)), 0) << err_;
  const std::string plain = out_;
  ASSERT_NE(plain.find("Bleu_1: "), std::string::npos) << plain;

  const auto gt_gz = write("gt.json.gz", gzip(kGt));
  const auto res_gz = write("res.json.gz", gzip(kRes));
  ASSERT_EQ(run(files(gt_gz, res_gz)), 0) << err_;
  EXPECT_EQ(out_, plain);

  const fs::path fifo = tmp_ / "res_fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The writer sends the gzip bytes: a stream is inflated as well.
  const std::string packed = gzip(kRes);
  std::thread writer([&] {
    // Wait (up to 30 s) for glamm-eval to open the FIFO, without blocking forever if it never does.
    int fd = -1;
    for (int i = 0; i < 3000 && fd < 0; ++i) {
      fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (fd < 0) return;
    ::fcntl(fd, F_SETFL, 0);
    if (::write(fd, packed.data(), packed.size()) != static_cast<ssize_t>(packed.size())) ADD_FAILURE() << "write";
    ::close(fd);
  });
  const int rc = run(files(gt, fifo));
  writer.join();
  ASSERT_EQ(rc, 0) << err_;
  EXPECT_EQ(out_, plain);
}

TEST_F(CaptionsCli, JsonFaultsExitTwoWithThePosition) {
  const auto gt = write("gt.json", kGt);
  struct Case {
    const char* name;
    std::string text, expected;
  };
  const Case cases[] = {
      {"bom.json", std::string("\xEF\xBB\xBF") + kRes, "bom.json: invalid JSON at line 1, column 1 (byte 0): the file "
                                                      "starts with a UTF-8 byte order mark (BOM)"},
      {"sur.json", "[{\"image_id\": 1,\n  \"caption\": \"a \\ud83d dog\"}]",
       "sur.json: invalid JSON at line 2, column 17 (byte 33): a lone UTF-16 surrogate escape"},
      {"nan.json", "[{\"image_id\": NaN, \"caption\": \"a dog\"}]",
       "nan.json: invalid JSON at line 1, column 15 (byte 14): NaN is not a JSON number"},
      {"big.json", "[{\"image_id\": 100000000000000000000000000001, \"caption\": \"a dog\"}]",
       "big.json: invalid JSON at line 1, column 15 (byte 14): the integer 100000000000000000000000000001 (30 digits) "
       "is beyond the 64-bit range"},
  };
  for (const Case& c : cases) {
    const auto res = write(c.name, c.text);
    EXPECT_EQ(run(files(gt, res)), 2) << c.name << ": " << err_;
    EXPECT_NE(err_.find(c.expected), std::string::npos) << c.name << ": " << err_;
    EXPECT_EQ(glamm::io::read_file(res), c.text) << c.name;
  }
  EXPECT_EQ(run(files(tmp_, write("r.json", kRes))), 2);
  EXPECT_NE(err_.find(tmp_.string() + ": cannot read file: it is a directory, not a file"), std::string::npos) << err_;
}

}  // namespace
