// `glamm-eval coco` end to end: built-in sample output, summarize lines, --json record, exit codes and messages for
// bad input. Runs the built binary (GLAMM_EVAL_BINARY); skipped when it has not been built.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "datasets/coco_sample.h"
#include "support/shared_data.h"

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class CocoCli : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE(fs::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
    dir_ = fs::temp_directory_path() /
           ("glamm_coco_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }
  CliRun run(const std::string& args) {
    CliRun r;
    const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    std::string cmd = std::string("'") + GLAMM_EVAL_BINARY + "' coco " + args + " >'" + out.string() + "' 2>'" +
                      err.string() + "'";
    int status = std::system(cmd.c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
  fs::path dir_;
};

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

const std::regex kLine(
    R"( Average (Precision  \(AP\)|Recall     \(AR\)) @\[ IoU=0\.[0-9]{2}(:0\.[0-9]{2}|     ) \| area=[ a-z]{6} \| maxDets=[ 0-9]{3} \] = -?[0-9]\.[0-9]{3})");

TEST_F(CocoCli, WithoutInputsRunsTheBuiltinSampleAndSaysSo) {
  CliRun r = run("--quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  auto ls = lines(r.out);
  ASSERT_EQ(ls.size(), 13u) << r.out;
  EXPECT_NE(ls[0].find("built-in sample"), std::string::npos);
  for (std::size_t j = 1; j < ls.size(); ++j) EXPECT_TRUE(std::regex_match(ls[j], kLine)) << ls[j];
  EXPECT_EQ(ls[1].rfind(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = ", 0), 0u);
  EXPECT_TRUE(r.err.empty()) << r.err;  // --quiet: no progress
}

TEST_F(CocoCli, FilesGiveExactlyTheTwelveSummarizeLinesAndAJsonRecord) {
  glamm::datasets::CocoSample s = glamm::datasets::builtin_coco_sample();
  fs::path gt = write("gt.json", s.gt_json), dt = write("dt.json", s.dt_json), rec = dir_ / "out" / "r.json";
  CliRun r = run("--gt '" + gt.string() + "' --dt '" + dt.string() + "' --threads 2 --json '" + rec.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  auto ls = lines(r.out);
  ASSERT_EQ(ls.size(), 12u) << r.out;
  EXPECT_NE(r.err.find("Accumulating evaluation results..."), std::string::npos);  // progress on stderr
  auto j = nlohmann::json::parse(slurp(rec));
  EXPECT_EQ(j["task"], "coco");
  ASSERT_EQ(j["details"]["stats"].size(), 12u);
  EXPECT_EQ(j["metrics"]["AP"].get<double>(), j["details"]["stats"][0].get<double>());
  EXPECT_EQ(j["metrics"]["ARl"].get<double>(), j["details"]["stats"][11].get<double>());
  EXPECT_EQ(j["signature"]["strict"], "off");
  EXPECT_EQ(j["signature"]["iouType"], "segm");
  EXPECT_EQ(j["input_sha256"]["gt"].get<std::string>().size(), 64u);
  // The sample gives the same numbers through files as built in.
  CliRun b = run("--sample --quiet");
  EXPECT_EQ(lines(b.out)[1], ls[0]);

  CliRun st = run("--gt '" + gt.string() + "' --dt '" + dt.string() + "' --strict -q --json '" + rec.string() + "'");
  ASSERT_EQ(st.code, 0) << st.err;
  EXPECT_NE(st.out.find("strict: GT id 0 can be matched"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(slurp(rec))["signature"]["strict"],
            "on(gt_id_zero_matchable,segm_results_keep_mask_area)");
}

TEST_F(CocoCli, EmptyResultListWarnsAndScoresZero) {
  glamm::datasets::CocoSample s = glamm::datasets::builtin_coco_sample();
  fs::path gt = write("gt.json", s.gt_json), dt = write("dt.json", "[]");
  CliRun r = run("--gt '" + gt.string() + "' --dt '" + dt.string() + "' -q");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: "), std::string::npos);
  EXPECT_NE(r.err.find("result list is empty"), std::string::npos);
  EXPECT_NE(lines(r.out)[0].find("] = 0.000"), std::string::npos);
}

TEST_F(CocoCli, BadInputExitsTwoNamingFileAndRecord) {
  glamm::datasets::CocoSample s = glamm::datasets::builtin_coco_sample();
  fs::path gt = write("gt.json", s.gt_json);
  fs::path dt = write("bad.json", R"([{"image_id": 1, "category_id": 1, "segmentation": {"size": [120, 160], "counts": "P1"}}])");
  CliRun r = run("--gt '" + gt.string() + "' --dt '" + dt.string() + "' -q");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(dt.string() + ": results[0]: missing field 'score'"), std::string::npos) << r.err;

  CliRun missing = run("--gt '" + (dir_ / "nope.json").string() + "' --dt '" + dt.string() + "' -q");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("nope.json"), std::string::npos) << missing.err;

  CliRun half = run("--gt '" + gt.string() + "' -q");
  EXPECT_EQ(half.code, 2);
  EXPECT_NE(half.err.find("--dt"), std::string::npos) << half.err;

  CliRun dets = run("--max-dets 1,10 -q");
  EXPECT_EQ(dets.code, 2);
}

TEST_F(CocoCli, HelpListsTheOptions) {
  CliRun r = run("--help");
  EXPECT_EQ(r.code, 0);
  for (const char* opt : {"--gt", "--dt", "--iou-type", "--cat-ids", "--img-ids", "--use-cats", "--max-dets", "--json",
                          "--strict", "--threads", "--sample"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
}


// Warnings for inputs pycocotools accepts silently (docs/input-rules.md, coco inputs): the numbers stay those of
// the reference, the warning names file and record, and the --json record carries it.
std::string all_warnings(const nlohmann::json& rec) {
  std::string s;
  for (const auto& w : rec["warnings"]) s += w.get<std::string>() + "\n";
  return s;
}

TEST_F(CocoCli, SelectionsMatchingNothingWarnButKeepTheMinusOnes) {
  glamm::datasets::CocoSample s = glamm::datasets::builtin_coco_sample();
  fs::path gt = write("gt.json", s.gt_json), dt = write("dt.json", s.dt_json), rec = dir_ / "r.json";
  const std::string files = "--gt '" + gt.string() + "' --dt '" + dt.string() + "' -q --json '" + rec.string() + "'";
  struct Case {
    std::string args, gt_file, text;
  };
  fs::path no_cats = write("nocats.json", R"({"images": [{"id": 1, "height": 10, "width": 10}], "annotations": [
      {"id": 1, "image_id": 1, "category_id": 1, "area": 49, "iscrowd": 0, "segmentation": [[1,1,1,8,8,8,8,1]]}]})");
  fs::path no_cats_dt = write("nocats_dt.json",
                              R"([{"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": [[1,1,1,8,8,8,8,1]]}])");
  fs::path empty_gt = write("empty.json", "{}");
  const std::vector<Case> cases = {
      {files + " --img-ids 123456789", gt.string(),
       "no ground-truth images selected: every statistic is -1 (pycocotools prints -1.000 there too); --img-ids "
       "123456789 match no image of the GT"},
      {files + " --cat-ids 99999", gt.string(),
       "no ground-truth categories selected: every statistic is -1 (pycocotools prints -1.000 there too); --cat-ids "
       "99999 match no category of the GT"},
      {"--gt '" + no_cats.string() + "' --dt '" + no_cats_dt.string() + "' -q --json '" + rec.string() + "'",
       no_cats.string(), "no ground-truth categories selected: every statistic is -1"},
      {"--gt '" + empty_gt.string() + "' --dt '" + write("e.json", "[]").string() + "' -q --json '" + rec.string() +
           "'",
       empty_gt.string(), "no ground-truth images and categories selected: every statistic is -1"},
  };
  for (const auto& c : cases) {
    CliRun r = run(c.args);
    ASSERT_EQ(r.code, 0) << c.args << "\n" << r.err;
    auto ls = lines(r.out);
    ASSERT_EQ(ls.size(), 12u) << r.out;
    for (const auto& l : ls) EXPECT_EQ(l.substr(l.size() - 9), " = -1.000") << l;
    EXPECT_NE(r.err.find("warning: " + c.gt_file + ": " + c.text), std::string::npos) << r.err;
    auto j = nlohmann::json::parse(slurp(rec));
    EXPECT_NE(all_warnings(j).find(c.gt_file + ": " + c.text), std::string::npos) << j["warnings"];
    EXPECT_EQ(j["metrics"]["AP"].get<double>(), -1.0);
  }
  // A selection that matches something gives no such warning.
  CliRun ok = run(files + " --img-ids 1");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.err.find("no ground-truth"), std::string::npos) << ok.err;
}

TEST_F(CocoCli, AResultsRecordGivenAsGtOrDtIsRecognised) {
  glamm::datasets::CocoSample s = glamm::datasets::builtin_coco_sample();
  fs::path gt = write("gt.json", s.gt_json), dt = write("dt.json", s.dt_json), rec = dir_ / "r.json";
  ASSERT_EQ(run("--sample -q --json '" + rec.string() + "'").code, 0);
  CliRun as_gt = run("--gt '" + rec.string() + "' --dt '" + dt.string() + "' -q");
  EXPECT_EQ(as_gt.code, 2);
  EXPECT_NE(as_gt.err.find(rec.string() + ": this is a glamm-eval results record, not a COCO annotation file"),
            std::string::npos)
      << as_gt.err;
  EXPECT_TRUE(as_gt.out.empty()) << as_gt.out;
  CliRun as_dt = run("--gt '" + gt.string() + "' --dt '" + rec.string() + "' -q");
  EXPECT_EQ(as_dt.code, 2);
  EXPECT_NE(as_dt.err.find(rec.string() + ": this is a glamm-eval results record, not a COCO annotation file"),
            std::string::npos)
      << as_dt.err;
  // An object with only some of the three keys is not taken for a record (then the usual COCO rules apply).
  fs::path partial = write("partial.json", R"({"metrics": {}, "images": [], "annotations": [], "categories": []})");
  CliRun p = run("--gt '" + partial.string() + "' --dt '" + write("e.json", "[]").string() + "' -q");
  EXPECT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(p.err.find("results record"), std::string::npos) << p.err;
}

TEST_F(CocoCli, OddPolygonsWarnOncePerFileAndScoreAsPycocotools) {
  const std::string head = R"({"images": [{"id": 1, "height": 10, "width": 10}], "categories": [{"id": 1}],
      "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "area": 49, "iscrowd": 0,
                       "segmentation": [[1,1,1,8,8,8,8,1]]},
                      {"id": 9, "image_id": 1, "category_id": 1, "area": 16, "iscrowd": 0,
                       "segmentation": [[2,2,2,6,6,6,6,2)";
  const std::string mid = R"(]]},
                      {"id": 11, "image_id": 1, "category_id": 1, "area": 9, "iscrowd": 0,
                       "segmentation": [[5,5,5,8,8,8,8,5)";
  const std::string tail = "]]}]}";
  fs::path odd = write("odd.json", head + ",3" + mid + ",4.5" + tail);
  fs::path even = write("even.json", head + mid + tail);
  fs::path dt = write("dt.json", R"([{"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": [[1,1,1,8,8,8,8,1]]},
      {"image_id": 1, "category_id": 1, "score": 0.8, "segmentation": [[2,2,2,6,6,6,6]]}])");
  fs::path rec = dir_ / "r.json";
  CliRun r = run("--gt '" + odd.string() + "' --dt '" + dt.string() + "' -q --json '" + rec.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  CliRun ref = run("--gt '" + even.string() + "' --dt '" + dt.string() + "' -q");
  ASSERT_EQ(ref.code, 0) << ref.err;
  EXPECT_EQ(r.out, ref.out);  // the last number of an odd polygon is dropped, as pycocotools does
  EXPECT_NE(lines(r.out)[0].find("] = 0.435"), std::string::npos) << r.out;  // AP of the even-polygon GT
  const std::string gt_warning = odd.string() +
                                 ": 2 annotation(s) have a polygon with an odd number of coordinates (first: "
                                 "annotations[1] (id 9)); as pycocotools does, the last number of such a polygon is "
                                 "dropped";
  const std::string dt_warning = dt.string() + ": 1 result(s) have a polygon with an odd number of coordinates "
                                               "(first: results[1])";
  EXPECT_NE(r.err.find("warning: " + gt_warning), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("warning: " + dt_warning), std::string::npos) << r.err;
  EXPECT_EQ(ref.err.find(even.string() + ": "), std::string::npos) << ref.err;
  const std::string recorded = all_warnings(nlohmann::json::parse(slurp(rec)));
  EXPECT_NE(recorded.find(gt_warning), std::string::npos) << recorded;
  EXPECT_NE(recorded.find(dt_warning), std::string::npos) << recorded;
}

TEST_F(CocoCli, RleSizeUnlikeTheImageWarnsAndIsUsedAsIs) {
  auto gt_text = [](int h, int w) {
    return R"({"images": [{"id": 1, "height": )" + std::to_string(h) + R"(, "width": )" + std::to_string(w) +
           R"(}], "categories": [{"id": 1}], "annotations": [
      {"id": 5, "image_id": 1, "category_id": 1, "area": 30, "iscrowd": 0,
       "segmentation": {"size": [5, 20], "counts": [10, 30, 60]}}]})";
  };
  fs::path bad = write("bad.json", gt_text(10, 10)), good = write("good.json", gt_text(5, 20));
  fs::path dt = write("dt.json", R"([{"image_id": 1, "category_id": 1, "score": 0.9,
      "segmentation": {"size": [5, 20], "counts": [15, 30, 55]}}])");
  fs::path rec = dir_ / "r.json";
  CliRun r = run("--gt '" + bad.string() + "' --dt '" + dt.string() + "' -q --json '" + rec.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  CliRun ref = run("--gt '" + good.string() + "' --dt '" + dt.string() + "' -q");
  ASSERT_EQ(ref.code, 0) << ref.err;
  EXPECT_EQ(r.out, ref.out);
  // IoU 25/35 = 0.714 < 0.75: AP50 1, AP75 0.
  EXPECT_NE(lines(r.out)[1].find("] = 1.000"), std::string::npos) << r.out;
  EXPECT_NE(lines(r.out)[2].find("] = 0.000"), std::string::npos) << r.out;
  const std::string gt_warning = bad.string() +
                                 ": 1 annotation(s) have an RLE whose 'size' differs from the image's height/width "
                                 "(first: annotations[0] (id 5) (size [5, 20] on an image of height 10, width 10)); "
                                 "as pycocotools does, the RLE is used as it is";
  const std::string dt_warning = dt.string() + ": 1 result(s) have an RLE whose 'size' differs from the image's "
                                               "height/width (first: results[0] (size [5, 20] on an image of height "
                                               "10, width 10))";
  EXPECT_NE(r.err.find("warning: " + gt_warning), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("warning: " + dt_warning), std::string::npos) << r.err;
  EXPECT_EQ(ref.err.find("'size' differs"), std::string::npos) << ref.err;
  const std::string recorded = all_warnings(nlohmann::json::parse(slurp(rec)));
  EXPECT_NE(recorded.find(gt_warning), std::string::npos) << recorded;
  EXPECT_NE(recorded.find(dt_warning), std::string::npos) << recorded;
}

}  // namespace
