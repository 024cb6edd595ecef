// `compare` on a record whose per-sample metric value is null or not a number (while the record's metric is a
// number): exit 2 naming the record file and the sample, instead of NaN deltas; the inputs stay byte-identical.
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

std::string caption_record(const json& cider_b) {
  json j = {{"schema_version", 1}, {"task", "imagecap"}, {"dataset", "flickr30k"}, {"split", "test"}, {"label", "x"},
            {"metrics", {{"CIDEr", 0.5}}}, {"metric_order", {"CIDEr"}},
            {"signature", {{"metric", "glamm-imagecap"}, {"split", "test"}}},
            {"signature_string", "metric:glamm-imagecap|split:test"},
            {"per_sample", json::array({{{"image_id", "a"}, {"CIDEr", 0.4}}, {{"image_id", "b"}, {"CIDEr", cider_b}}})}};
  return j.dump(1);
}

}  // namespace

TEST(PerSampleNumber, NullOrStringPerSampleValueIsExit2NamingFileAndSample) {
  const fs::path d = test_dir("per_sample_number");
  const fs::path good = d / "good.json";
  write_text(good, caption_record(0.6));
  const std::string good_text = glamm::io::read_file(good);
  ASSERT_EQ(run_cli("compare " + q(good) + " " + q(good)).code, 0);
  for (const json& v : {json(nullptr), json("0.6")}) {
    const fs::path bad = d / "bad.json";
    const std::string text = caption_record(v);
    write_text(bad, text);
    const auto r = run_cli("compare " + q(good) + " " + q(bad));
    EXPECT_EQ(r.code, 2) << v << "\n" << r.output;
    EXPECT_NE(r.output.find(bad.string()), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("per_sample[1] (b).CIDEr"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("nan"), std::string::npos) << r.output;
    EXPECT_EQ(glamm::io::read_file(bad), text);
    EXPECT_EQ(glamm::io::read_file(good), good_text);
  }
}
