// `glamm-eval coco` reading its inputs (docs/input-rules.md, "File reading"): a FIFO and a gzip file give the numbers
// of the plain file; unreadable files and JSON faults exit 2 with the file, the reason and the line:column; Python's
// NaN/Infinity scores are read with pycocotools' order (NaN last). Inputs are left byte-identical.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/gzip.h"
#include "common/io.h"
#include "datasets/coco_sample.h"
#include "support/shared_data.h"

namespace {

namespace fs = std::filesystem;
namespace io = glamm::io;

struct CliRun {
  int code = -1;
  std::string out, err;
};

class CocoReading : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE(fs::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
    dir_ = fs::temp_directory_path() / ("glamm_coco_reading_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    sample_ = glamm::datasets::builtin_coco_sample();
    gt_ = write("gt.json", sample_.gt_json);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& bytes) {
    io::write_file_atomic(dir_ / name, bytes);
    return dir_ / name;
  }
  /// `prefix` runs in the same shell before glamm-eval (e.g. a background writer into a FIFO).
  CliRun run(const std::string& args, const std::string& prefix = "") {
    CliRun r;
    const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    const std::string cmd = prefix + "'" + GLAMM_EVAL_BINARY + "' coco " + args + " >'" + out.string() + "' 2>'" +
                            err.string() + "'";
    const int status = std::system(cmd.c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = io::read_file(out);
    r.err = io::read_file(err);
    return r;
  }
  CliRun score(const fs::path& dt, const std::string& prefix = "") {
    return run("--gt '" + gt_.string() + "' --dt '" + dt.string() + "' -q", prefix);
  }
  glamm::datasets::CocoSample sample_;
  fs::path gt_;
  fs::path dir_;
};

using glamm::testing::gzip;

/// The sample's results with the scores of records 0 and 3 written as `literal` (any JSON text).
std::string with_scores(const std::string& dt_json, const std::string& literal) {
  nlohmann::json dt = nlohmann::json::parse(dt_json);
  dt.at(0)["score"] = 123456.75;
  dt.at(3)["score"] = 123456.75;
  std::string s = dt.dump();
  for (std::size_t k = s.find("123456.75"); k != std::string::npos; k = s.find("123456.75", k))
    s.replace(k, 9, literal);
  return s;
}

TEST_F(CocoReading, FifoAndGzipGiveThePlainFileNumbers) {
  const fs::path plain = write("dt.json", sample_.dt_json);
  const CliRun base = score(plain);
  ASSERT_EQ(base.code, 0) << base.err;
  ASSERT_NE(base.out.find("Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = "),
            std::string::npos);

  const fs::path fifo = dir_ / "dt_fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const CliRun piped = score(fifo, "timeout 30 cat '" + plain.string() + "' > '" + fifo.string() + "' & ");
  EXPECT_EQ(piped.code, 0) << piped.err;
  EXPECT_EQ(piped.out, base.out);

  const fs::path gz = write("dt.json.gz", gzip(sample_.dt_json));
  const std::string gz_bytes = io::read_file(gz);
  const CliRun unzipped = score(gz);
  EXPECT_EQ(unzipped.code, 0) << unzipped.err;
  EXPECT_EQ(unzipped.out, base.out);
  EXPECT_EQ(io::read_file(gz), gz_bytes);
  // The magic bytes decide, not the name; the ground truth reads through the same path.
  const fs::path gt_gz = write("gt_packed.json", gzip(sample_.gt_json));
  const CliRun both = run("--gt '" + gt_gz.string() + "' --dt '" + gz.string() + "' -q");
  EXPECT_EQ(both.code, 0) << both.err;
  EXPECT_EQ(both.out, base.out);
}

TEST_F(CocoReading, UnreadableInputsExitTwoWithTheReason) {
  const CliRun folder = score(dir_);
  EXPECT_EQ(folder.code, 2);
  EXPECT_NE(folder.err.find(dir_.string() + ": cannot read file: it is a directory, not a file"), std::string::npos)
      << folder.err;
  fs::create_symlink(dir_ / "gone.json", dir_ / "dangling.json");
  const CliRun dangling = score(dir_ / "dangling.json");
  EXPECT_EQ(dangling.code, 2);
  EXPECT_NE(dangling.err.find("dangling.json: cannot read file: it is a dangling symbolic link"), std::string::npos)
      << dangling.err;
  fs::create_symlink(dir_ / "b.json", dir_ / "a.json");
  fs::create_symlink(dir_ / "a.json", dir_ / "b.json");
  const CliRun loop = score(dir_ / "a.json");
  EXPECT_EQ(loop.code, 2);
  EXPECT_NE(loop.err.find("a.json: cannot read file: symbolic link loop"), std::string::npos) << loop.err;
}

TEST_F(CocoReading, JsonFaultsExitTwoWithLineAndColumn) {
  struct Case {
    std::string name, text, expected;
  };
  const Case cases[] = {
      {"bom.json", "\xEF\xBB\xBF[]", "bom.json: invalid JSON at line 1, column 1 (byte 0): the file starts with a "
                                     "UTF-8 byte order mark (BOM)"},
      {"comma.json", "[\n  {\"image_id\": 1,}\n]", "comma.json: invalid JSON at line 2, column 18 (byte 19): "},
      {"big.json", "[{\"image_id\": 123456789012345678901234567890, \"category_id\": 1, \"score\": 1}]",
       "big.json: invalid JSON at line 1, column 15 (byte 14): the integer 123456789012345678901234567890 (30 digits) "
       "is beyond the 64-bit range"},
      {"sur.json", "[{\"image_id\": \"\\udc00\"}]",
       "sur.json: invalid JSON at line 1, column 16 (byte 15): a lone UTF-16 surrogate escape"},
      {"nan_bbox.json", R"([{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [NaN, 1, 2, 3]}])",
       "nan_bbox.json: results[0]"},
      // A text that spells out the internal tag is a string, not a NaN.
      {"tag.json", R"([{"image_id": 1, "category_id": 1, "score": "\u0001glamm-nonfinite:NaN", "bbox": [1, 2, 3, 4]}])",
       "tag.json: results[0]"},
  };
  for (const Case& c : cases) {
    const fs::path p = write(c.name, c.text);
    const CliRun r = score(p);
    EXPECT_EQ(r.code, 2) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(io::read_file(p), c.text) << c.name;
  }
  const CliRun tag = score(dir_ / "tag.json");
  EXPECT_NE(tag.err.find("field 'score' must be a number, got a string"), std::string::npos) << tag.err;
  const CliRun bbox = score(dir_ / "nan_bbox.json");
  EXPECT_NE(bbox.err.find("field 'bbox' is NaN or Infinity"), std::string::npos) << bbox.err;
  // A NaN in the ground truth is a fault with its place.
  const fs::path gt = write("gt_nan.json", "{\"images\": [],\n \"annotations\": [{\"area\": NaN}], \"categories\": []}");
  const CliRun g = run("--gt '" + gt.string() + "' --dt '" + write("dt.json", "[]").string() + "' -q");
  EXPECT_EQ(g.code, 2);
  EXPECT_NE(g.err.find("gt_nan.json: invalid JSON at line 2, column 27 (byte 41): NaN is not a JSON number"),
            std::string::npos)
      << g.err;
}

TEST_F(CocoReading, NanAndInfinityScoresSortAsPycocotools) {
  // np.argsort(-scores, kind='mergesort') puts NaN last: as the lowest score; Infinity first.
  const CliRun low = score(write("low.json", with_scores(sample_.dt_json, "0.01")));
  ASSERT_EQ(low.code, 0) << low.err;
  const std::string nan_text = with_scores(sample_.dt_json, "NaN");
  ASSERT_NE(nan_text.find("\"score\":NaN"), std::string::npos);
  const CliRun nan = score(write("nan.json", nan_text));
  EXPECT_EQ(nan.code, 0) << nan.err;
  EXPECT_EQ(nan.out, low.out);
  const CliRun minus_inf = score(write("minf.json", with_scores(sample_.dt_json, "-Infinity")));
  EXPECT_EQ(minus_inf.code, 0) << minus_inf.err;
  EXPECT_EQ(minus_inf.out, low.out);

  const CliRun high = score(write("high.json", with_scores(sample_.dt_json, "5.0")));
  ASSERT_EQ(high.code, 0) << high.err;
  const CliRun inf = score(write("inf.json", with_scores(sample_.dt_json, "Infinity")));
  EXPECT_EQ(inf.code, 0) << inf.err;
  EXPECT_EQ(inf.out, high.out);
  EXPECT_NE(high.out, low.out);  // the two orders differ, so the comparisons above can tell them apart
}

// Repeated keys (docs/input-rules.md, "Duplicate keys"): pycocotools reads with json.load, which keeps the last
// value; one warning names the file, the first record and the key, and the record keeps it.
TEST_F(CocoReading, DuplicatedScoreKeyScoresTheLastValue) {
  const nlohmann::json dt = nlohmann::json::parse(sample_.dt_json);
  ASSERT_GT(dt.size(), 3u);
  nlohmann::json flipped = dt;
  std::string dup = "[";
  for (std::size_t k = 0; k < dt.size(); ++k) {
    const double other = 1.0 - dt[k].at("score").get<double>();
    flipped[k]["score"] = other;
    std::string obj = dt[k].dump();  // {"area":..., ..., "score": s, ...}: the original score comes last
    obj.insert(1, "\"score\":" + nlohmann::json(other).dump() + ",");
    dup += (k ? "," : "") + obj;
  }
  dup += "]";
  const CliRun last = score(write("last.json", sample_.dt_json));
  ASSERT_EQ(last.code, 0) << last.err;
  EXPECT_EQ(last.err.find("duplicate JSON key"), std::string::npos) << last.err;
  const CliRun first = score(write("first.json", flipped.dump()));
  ASSERT_EQ(first.code, 0) << first.err;
  ASSERT_NE(first.out, last.out);  // the two score sets rank differently, so the run below can tell them apart

  const fs::path rec = dir_ / "rec.json";
  const CliRun both = run("--gt '" + gt_.string() + "' --dt '" + write("dup.json", dup).string() + "' -q --json '" +
                          rec.string() + "'");
  ASSERT_EQ(both.code, 0) << both.err;
  EXPECT_EQ(both.out, last.out);
  const auto n = [](const std::string& t) {
    std::size_t c = 0;
    for (auto p = t.find("duplicate JSON key"); p != std::string::npos; p = t.find("duplicate JSON key", p + 1)) ++c;
    return c;
  };
  EXPECT_EQ(n(both.err), 1u) << both.err;
  EXPECT_NE(both.err.find("dup.json (first: 'score' in results[0])"), std::string::npos) << both.err;
  const auto j = nlohmann::json::parse(io::read_file(rec));
  std::size_t recorded = 0;
  for (const auto& w : j.at("warnings")) recorded += n(w.get<std::string>());
  EXPECT_EQ(recorded, 1u) << j.at("warnings").dump();
}

}  // namespace
