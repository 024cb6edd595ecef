// No command overwrites its own input: an output path (--json, --out, the default record path) that resolves to an
// input, or lands in an input folder as a file read from it, is exit status 2 before any work, naming the output
// option and the input; the input stays byte-identical.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/io.h"
#include "support/test_dir.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;

namespace {

class OutputGuardCli : public ::testing::Test {
 protected:
  fs::path dir_;
  std::string out_;
  void SetUp() override {
    GLAMM_REQUIRE(fs::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
    dir_ = glamm::testing::per_test_dir("glamm_output_guard_cli");
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  int run(const std::string& args) {
    const fs::path log = dir_ / "log.txt";
    const int rc = std::system(("cd '" + dir_.string() + "' && '" + GLAMM_EVAL_BINARY + "' " + args + " > '" +
                                log.string() + "' 2>&1")
                                   .c_str());
    out_ = glamm::io::read_file(log);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  /// `args` must fail with status 2 naming `option`, and leave `input` as it was.
  void expect_refused(const std::string& args, const fs::path& input, const std::string& option) {
    const std::string before = glamm::io::read_file(input);
    EXPECT_EQ(run(args), 2) << args << "\n" << out_;
    EXPECT_NE(out_.find(option), std::string::npos) << out_;
    EXPECT_NE(out_.find("input"), std::string::npos) << out_;
    EXPECT_EQ(glamm::io::read_file(input), before) << input;
  }
};

const char* kGt = R"({"images": [{"id": 1, "height": 10, "width": 10}],
 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 16, "iscrowd": 0}],
 "categories": [{"id": 1, "name": "a"}]})";
const char* kDt = R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.9}])";

TEST_F(OutputGuardCli, CocoRecordOverTheGroundTruthOrResultsIsRefused) {
  const fs::path gt = write("gt.json", kGt), dt = write("dt.json", kDt);
  expect_refused("coco --iou-type bbox --gt gt.json --dt dt.json --json gt.json", gt, "--json");
  expect_refused("coco --iou-type bbox --gt gt.json --dt dt.json --json ./dt.json", dt, "--json");
  fs::create_symlink(gt, dir_ / "link.json");
  expect_refused("coco --iou-type bbox --gt gt.json --dt dt.json --json link.json", gt, "--json");
  EXPECT_EQ(run("coco --iou-type bbox --gt gt.json --dt dt.json -q --json rec.json"), 0) << out_;
}

TEST_F(OutputGuardCli, CaptionsRecordOverTheResultsIsRefused) {
  const fs::path gt = write("gt.json", R"({"images": [{"id": 1}], "annotations": [{"image_id": 1, "caption": "a dog"}]})");
  const fs::path res = write("res.json", R"([{"image_id": 1, "caption": "a dog"}])");
  expect_refused("captions --gt gt.json --res res.json --metrics bleu --json res.json", res, "--json");
  (void)gt;
}

TEST_F(OutputGuardCli, RecordsAreNotOverwrittenByCompareTableOrReport) {
  ASSERT_EQ(run("gcg --sample -q --json a.json"), 0) << out_;
  ASSERT_EQ(run("gcg --sample -q --json b.json"), 0) << out_;
  expect_refused("compare a.json b.json --json b.json", dir_ / "b.json", "--json");
  expect_refused("table --table 3 a.json --out a.json", dir_ / "a.json", "--out");
  expect_refused("report a.json --out a.json", dir_ / "a.json", "--out");
}

TEST_F(OutputGuardCli, GcgRecordInsideThePredictionsFolderOrOverTheGroundTruthIsRefused) {
  ASSERT_EQ(run("gcg --sample -q --json s.json"), 0) << out_;
  const fs::path sample = dir_ / "s.sample";
  const std::string inputs = "gcg -q --split val --gt-dir s.sample --pred s.sample/predictions --text-sim "
                             "s.sample/val_text_similarity.tsv";
  const fs::path any_pred = fs::directory_iterator(sample / "predictions")->path();
  expect_refused(inputs + " --json s.sample/predictions/record.json", any_pred, "--pred");
  EXPECT_FALSE(fs::exists(sample / "predictions" / "record.json"));
  expect_refused(inputs + " --json s.sample/val_gcg_coco_caption_gt.json", sample / "val_gcg_coco_caption_gt.json",
                 "--json");
  EXPECT_EQ(run(inputs + " --json other.json"), 0) << out_;
}

}  // namespace
