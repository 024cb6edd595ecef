// The GCG task layer in-process on small hand-built GranD-f folders (tests/support/grandf_fixture.h): predictions
// from several folders keep their files, errors are deterministic for any thread count, the quirk table gives the
// signature records are compared by, and the per-sample schema refuses bad entries. METEOR is left out (no
// resources needed): its absence is a warning and a signature value.
#include <cmath>
#include <new>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "eval/tasks/gcg.h"
#include "support/grandf_fixture.h"
#include "support/test_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;
using glamm::InputError;
using glamm::testing::GrandfFixture;
using glamm::testing::grandf_rect;
namespace tasks = glamm::tasks;

namespace {

tasks::GcgFiles files_of(const GrandfFixture& f) {
  tasks::GcgFiles files{"val", f.dir.string(), {}};
  for (const fs::path& d : f.pred_dirs()) files.pred_dirs.push_back(d.string());
  return files;
}

/// Options with the fixture's table (the fixture is written first), no METEOR.
tasks::GcgOptions table_options(const GrandfFixture& f, int threads = 1) {
  f.write();
  tasks::GcgOptions o;
  o.threads = threads;
  o.similarity = tasks::TableSimilarity::load((f.dir / "sim.tsv").string());
  o.meteor_unavailable = "no resources in this test";
  return o;
}

/// The InputError evaluating `f` throws (fails the test when none).
InputError input_error(const GrandfFixture& f, const tasks::GcgOptions& o) {
  f.write();
  try {
    tasks::run_gcg_task(files_of(f), o);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError";
  return InputError("none");
}

/// `n` images img_00.. in one folder: one GT mask and one exactly matching prediction each, labels "label <i>"
/// and phrases "phrase <i>" listed in the table.
GrandfFixture many_images(const fs::path& dir, int n) {
  GrandfFixture f;
  f.dir = dir;
  for (int i = 0; i < n; ++i) {
    const std::string id = fmt::format("img_{:02d}", i), label = fmt::format("label {}", i),
                      phrase = fmt::format("phrase {}", i);
    f.images.push_back({id, "A thing.", {label}, {grandf_rect(0, 0, 4, 3)},
                        json{{"caption", "A thing."}, {"phrases", {phrase}}, {"pred_masks", {grandf_rect(0, 0, 4, 3)}}},
                        "pred"});
    f.sim += label + "\t" + phrase + "\t0.9\n";
  }
  return f;
}

/// A similarity that fails for some labels (std::runtime_error, or std::bad_alloc for "label 0").
class FailingSimilarity final : public tasks::PhraseSimilarity {
 public:
  explicit FailingSimilarity(std::vector<std::string> bad) : bad_(std::move(bad)) {}
  double similarity(const std::string& gt, const std::string&) const override {
    if (gt == "label 0" && bad_alloc_) throw std::bad_alloc();
    for (const std::string& b : bad_)
      if (gt == b) throw std::runtime_error("similarity failed for " + gt);
    return 0.9;
  }
  std::string signature() const override { return "failing"; }
  std::string input_role() const override { return "bert"; }
  std::string input_path() const override { return "none"; }
  bool bad_alloc_ = false;

 private:
  std::vector<std::string> bad_;
};

}  // namespace

TEST(GcgTask, PredictionsFromThreeFoldersKeepTheirFiles) {
  const GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_task"));
  f.write();
  const tasks::GcgOptions o = table_options(f);
  const tasks::GcgInputs in = tasks::load_gcg_inputs(files_of(f), o);
  ASSERT_EQ(in.predictions.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(in.predictions[i].file, f.prediction_file(f.images[i]).string());
  const tasks::GcgReport r = tasks::evaluate_gcg(in, o);
  ASSERT_EQ(r.samples.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(r.samples[i].prediction_file, f.prediction_file(f.images[i]).string());
  EXPECT_DOUBLE_EQ(r.miou, ((1.0 + 6.0 / 9.0) / 2 + 1.0 + 1.0) / 3);
  EXPECT_DOUBLE_EQ(r.recall, 1.0);
  EXPECT_EQ(r.recall_true_positives, 4u);
  const json rec = tasks::to_record(r, {}).to_json();
  EXPECT_EQ(rec["label"], "pred1");
  EXPECT_EQ(rec["inputs"]["predictions_2"], (f.dir / "pred3").string());
  EXPECT_EQ(rec["per_sample"][2]["prediction_file"], (f.dir / "pred3" / "img_c.json").string());
}

TEST(GcgTask, ErrorsNameTheFileInTheThirdFolder) {
  GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_task"));
  const std::string third = (f.dir / "pred3" / "img_c.json").string();
  f.images[2].prediction["pred_masks"] = {{{"size", {6, 8}}, {"counts", "12"}}};  // covers too few pixels
  InputError e = input_error(f, table_options(f));
  EXPECT_EQ(e.file(), third) << e.what();
  EXPECT_EQ(e.record(), "pred_masks[0]") << e.what();
  f.images[2].prediction["pred_masks"] = {grandf_rect(0, 0, 2, 2, 10, 10)};  // another size than the GT
  e = input_error(f, table_options(f, 4));
  EXPECT_EQ(e.file(), third) << e.what();
  EXPECT_EQ(e.record(), "image img_c") << e.what();
  EXPECT_NE(e.message().find("sizes differ"), std::string::npos) << e.what();
  f.images[2].prediction["pred_masks"] = {grandf_rect(2, 0, 6, 2)};
  f.images[2].in_mask_gt = false;
  e = input_error(f, table_options(f));
  EXPECT_EQ(e.file(), third) << e.what();
  EXPECT_NE(e.message().find("image img_c is not in the mask GT"), std::string::npos) << e.what();
}

TEST(GcgTask, AnImageInTwoFoldersIsAnError) {
  GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_task"));
  f.write();
  fs::copy_file(f.prediction_file(f.images[1]), f.dir / "pred3" / "img_a.json");
  try {
    tasks::load_gcg_inputs(files_of(f), table_options(f));
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.record(), "--pred");
    EXPECT_NE(e.message().find("1 image(s) have a prediction in more than one --pred folder: img_a"),
              std::string::npos)
        << e.what();
  }
}

TEST(GcgTask, MissingPredictionsFailUnlessAllowedAndThenHaveNoFile) {
  GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_task"));
  f.images[1].prediction = nullptr;  // img_a: no file in any folder
  const InputError e = input_error(f, table_options(f));
  EXPECT_NE(e.message().find("1 of 3 images have no prediction file (the official evaluation fails): img_a"),
            std::string::npos)
      << e.what();
  tasks::GcgOptions o = table_options(f);
  o.allow_missing = true;
  const tasks::GcgReport r = tasks::run_gcg_task(files_of(f), o);
  EXPECT_EQ(r.failures.missing_prediction, 1u);
  EXPECT_EQ(r.samples[1].prediction_file, "");
  EXPECT_FALSE(r.samples[1].to_json().contains("prediction_file"));
  EXPECT_DOUBLE_EQ(r.samples[1].miou, 0.0);
  EXPECT_EQ(r.samples[1].recall_positives, 1u);
}

// A worker exception in the parallel mIoU/recall loop: after every image ran, the smallest failing image's
// exception, unchanged — the same as a serial run — and std::bad_alloc stays std::bad_alloc.
TEST(GcgTask, WorkerErrorIsTheSerialRunsError) {
  const GrandfFixture f = many_images(glamm::testing::per_test_dir("gcg_task"), 48);
  f.write();
  tasks::GcgOptions o = table_options(f);
  const tasks::GcgInputs in = tasks::load_gcg_inputs(files_of(f), o);
  auto failing = std::make_shared<FailingSimilarity>(std::vector<std::string>{"label 41", "label 17", "label 33"});
  o.similarity = failing;
  for (int threads : {1, 3, 8}) {
    o.threads = threads;
    try {
      tasks::evaluate_gcg(in, o);
      FAIL() << "no error with " << threads << " threads";
    } catch (const InputError& e) {
      FAIL() << "turned into an input error: " << e.what();
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "similarity failed for label 17") << threads << " threads";
    }
  }
  failing->bad_alloc_ = true;
  o.threads = 8;
  EXPECT_THROW(tasks::evaluate_gcg(in, o), std::bad_alloc);
}

// Mis-sized masks in several images: the first image's prediction file is named, whatever the thread count.
TEST(GcgTask, FirstMisSizedImageIsReportedForAnyThreadCount) {
  GrandfFixture f = many_images(glamm::testing::per_test_dir("gcg_task"), 48);
  for (int i : {40, 21, 35}) f.images[i].prediction["pred_masks"] = {grandf_rect(0, 0, 2, 2, 10, 10)};
  for (int threads : {1, 8}) {
    const InputError e = input_error(f, table_options(f, threads));
    EXPECT_EQ(e.file(), (f.dir / "pred" / "img_21.json").string()) << threads << " threads: " << e.what();
  }
}

TEST(GcgTask, WithoutMeteorTheRecordSaysSo) {
  const GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_task"));
  f.write();
  const tasks::GcgReport r = tasks::run_gcg_task(files_of(f), table_options(f));
  EXPECT_FALSE(r.with_meteor);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_EQ(r.warnings.front(), "METEOR not computed: no resources in this test");
  const json rec = tasks::to_record(r, {"mine", false}).to_json();
  EXPECT_EQ(rec["label"], "mine");
  EXPECT_FALSE(rec["metrics"].contains("METEOR"));
  EXPECT_EQ(rec["signature"]["meteor"], "not-computed(no-resources)");
  EXPECT_EQ(rec["signature"]["text_similarity"], "table:" + (f.dir / "sim.tsv").string());
  EXPECT_EQ(rec["details"]["text_sim_coverage"], json({{"needed", 6}, {"covered", 6}}));
  EXPECT_FALSE(rec["per_sample"][0].contains("METEOR"));
}

TEST(GcgQuirks, SignatureHelpAndStrictLineComeFromOneTable) {
  const tasks::QuirkTable& t = tasks::gcg_quirks();
  EXPECT_EQ(t.signature_value(false), "off");
  // Records are compared by this value: it must stay what earlier versions wrote.
  EXPECT_EQ(t.signature_value(true),
            "on(miou_nan_as_1,miou_unmatched_count,recall_no_break,recall_no_nan,recall_label_coupling,"
            "recall_errors_fatal,gt_id_zero_matchable,gt_category1_noncrowd)");
  const std::string help = tasks::gcg_strict_help();
  for (const tasks::Quirk& q : t.quirks)
    EXPECT_NE(help.find(q.id.empty() ? q.help : q.help + " (" + q.id + ")"), std::string::npos) << q.help;
  EXPECT_NE(help.find("caption line breaks become spaces"), std::string::npos);
  EXPECT_EQ(t.strict_line().rfind("strict: ", 0), 0u);
  EXPECT_NE(t.strict_line().find("not comparable to the paper"), std::string::npos);
  EXPECT_NE(t.strict_line().find("(docs/quirks.md q1-q7, q13)"), std::string::npos) << t.strict_line();
}

TEST(GcgSchema, BadPerSampleEntriesNameRecordAndKey) {
  const GrandfFixture f = glamm::testing::three_folder_fixture(glamm::testing::per_test_dir("gcg_task"));
  f.write();
  const json s = tasks::run_gcg_task(files_of(f), table_options(f)).samples[0].to_json();
  EXPECT_EQ(tasks::GcgSample::from_json(s, "r.json", 3).to_json(), s);
  json no_miou = s;
  no_miou.erase("miou");
  try {
    tasks::GcgSample::from_json(no_miou, "r.json", 3);
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "r.json");
    EXPECT_EQ(e.record(), "per_sample[3]");
    EXPECT_NE(e.message().find("miou"), std::string::npos) << e.what();
  }
  json bad_pair = s;
  bad_pair["recall_matches"] = json::array({json::array({0})});
  EXPECT_THROW(tasks::GcgSample::from_json(bad_pair, "r.json", 0), InputError);
  json short_matched = s;
  short_matched["coco_dt_matched"] = json::array({1});
  EXPECT_THROW(tasks::GcgSample::from_json(short_matched, "r.json", 0), InputError);
  json nan_miou = s;
  nan_miou["miou"] = nullptr;
  EXPECT_TRUE(std::isnan(tasks::GcgSample::from_json(nan_miou, "r.json", 0).miou));
  EXPECT_THROW(tasks::GcgFailureBreakdown::from_json(json{{"no_masks", -1}}, "r.json"), InputError);
}
