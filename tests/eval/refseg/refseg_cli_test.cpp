// glamm-eval refseg on the dataset-formats.md §4.7/§4.8 example (REFER layout written at test time): values,
// coverage guard (missing / --allow-missing / --only-present), the seeded GLaMM draw, and every bad-input error.
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "datasets/refer_fixture.h"

namespace fx = glamm::testing::refer_fixture;
using nlohmann::json;

namespace {

const std::string kP7001 =
    R"({"dataset":"refcoco","split_by":"unc","split":"testA","sent_id":7001,"ref_id":501,"image_id":42,"mask":{"size":[6,8],"counts":"724000g0"}})";
const std::string kP7002 =
    R"({"dataset":"refcoco","split_by":"unc","split":"testA","sent_id":7002,"ref_id":501,"image_id":42,"mask":{"size":[6,8],"counts":"=3300000;"}})";
const std::string kP7003 =
    R"({"dataset":"refcoco","split_by":"unc","split":"testA","sent_id":7003,"ref_id":502,"image_id":42,"mask":{"size":[6,8],"counts":"`1"}})";

struct Fixture {
  std::filesystem::path dir = fx::temp_dir("refseg");
  Fixture() { fx::write_refer(dir / "data", "refcoco", "unc", fx::spec_refs(), fx::spec_instances()); }
  ~Fixture() { std::filesystem::remove_all(dir); }
  std::string pred(const std::string& lines) {
    const auto p = dir / "pred.jsonl";
    fx::write(p, lines);
    return p.string();
  }
  int eval(const std::string& lines, const std::string& extra, std::string& out, json* record = nullptr,
           const std::string& split = "testA") {
    const auto rec = dir / "rec.json";
    std::filesystem::remove(rec);
    const int rc = fx::run(std::string(GLAMM_EVAL_BINARY) + " refseg --dataset refcoco --split " + split + " --data-root '" +
                               (dir / "data").string() + "' --pred '" + pred(lines) + "' --json '" + rec.string() +
                               "' -q " + extra,
                           out);
    if (record && rc == 0) *record = json::parse(std::ifstream(rec));
    return rc;
  }
};

}  // namespace

TEST(RefsegCli, ScoresTheSpecExampleOfficialAndStrict) {
  Fixture f;
  std::string out;
  json r;
  ASSERT_EQ(f.eval(kP7001 + "\n" + kP7002 + "\n" + kP7003 + "\n", "", out, &r), 0) << out;
  // (I, U) per sentence: 7001 (6, 6), 7002 (4, 14), 7003 (0, 9); one image item of 3 targets.
  ASSERT_EQ(r["per_sample"].size(), 3u);
  EXPECT_EQ(r["per_sample"][1]["intersection"], 4);
  EXPECT_EQ(r["per_sample"][1]["union"], 14);
  EXPECT_EQ(r["per_sample"][2]["union"], 9);
  EXPECT_EQ(r["details"]["intersection_sum"].get<double>(), 10.0);
  EXPECT_EQ(r["details"]["union_sum"].get<double>(), 29.0);
  EXPECT_NEAR(r["metrics"]["gIoU"].get<double>(), 0.4285694, 2e-7);  // float32 with the 1e-5 epsilons
  EXPECT_NEAR(r["metrics"]["cIoU"].get<double>(), 0.3448276, 2e-7);
  EXPECT_NE(out.find("giou: 0.428569"), std::string::npos) << out;
  EXPECT_NE(out.find("refs(unc).p splits: testA: 1 images / 2 refs / 3 sentences; val: 1 images / 1 refs / 1 sentences"),
            std::string::npos)
      << out;
  EXPECT_EQ(r["details"]["split_counts"]["testA"]["sentences"], 3);
  EXPECT_EQ(r["signature"]["arithmetic"].get<std::string>().find("exact"), std::string::npos);
  ASSERT_EQ(f.eval(kP7001 + "\n" + kP7002 + "\n" + kP7003 + "\n", "--strict", out, &r), 0) << out;
  EXPECT_DOUBLE_EQ(r["metrics"]["gIoU"].get<double>(), (1.0 + 4.0 / 14.0) / 3.0);
  EXPECT_DOUBLE_EQ(r["metrics"]["cIoU"].get<double>(), 10.0 / 29.0);
}

TEST(RefsegCli, MissingPredictionsAreAnErrorUnlessAllowedOrOnlyPresent) {
  Fixture f;
  std::string out;
  EXPECT_EQ(f.eval(kP7001 + "\n" + kP7002 + "\n", "", out), 2);
  EXPECT_NE(out.find("1 of 3 evaluated sentences have no prediction: sent_id 7003"), std::string::npos) << out;
  json r;
  ASSERT_EQ(f.eval(kP7001 + "\n" + kP7002 + "\n", "--allow-missing --strict", out, &r), 0) << out;
  EXPECT_EQ(r["details"]["num_missing"], 1);
  EXPECT_DOUBLE_EQ(r["metrics"]["cIoU"].get<double>(), 10.0 / 29.0);  // the empty mask scores like 7003's
  EXPECT_NE(out.find("scored as empty masks"), std::string::npos) << out;
  ASSERT_EQ(f.eval(kP7001 + "\n" + kP7002 + "\n", "--only-present --strict", out, &r), 0) << out;
  EXPECT_DOUBLE_EQ(r["metrics"]["cIoU"].get<double>(), 10.0 / 20.0);
  EXPECT_NE(out.find("ONLY PRESENT"), std::string::npos) << out;
  EXPECT_EQ(r["signature"]["coverage"], "only-present");
}

TEST(RefsegCli, SeededGlammDrawKeepsAtMostThreeSentencesPerImage) {
  Fixture f;
  json refs = fx::spec_refs();
  refs[1]["sentences"].push_back({{"sent_id", 7004}, {"sent", "the person"}});
  fx::write_refer(f.dir / "data", "refcoco", "unc", refs, fx::spec_instances());
  const std::string p7004 =
      R"({"sent_id":7004,"ref_id":502,"image_id":42,"mask":{"size":[6,8],"counts":"j0330004"}})";
  const std::string all = kP7001 + "\n" + kP7002 + "\n" + kP7003 + "\n" + p7004 + "\n";
  std::string out;
  json a, b;
  ASSERT_EQ(f.eval(all, "--glamm-sampling 7", out, &a), 0) << out;
  ASSERT_EQ(f.eval(all, "--glamm-sampling 7", out, &b), 0) << out;
  EXPECT_EQ(a["per_sample"].size(), 3u);
  EXPECT_EQ(a["details"]["num_predictions_not_drawn"], 1);
  EXPECT_EQ(a["per_sample"], b["per_sample"]);  // same seed, same draw
  EXPECT_EQ(a["signature"]["sentences"], "glamm-draw-3-per-image(seed=7)");
}

TEST(RefsegCli, BadPredictionsNameTheRecord) {
  Fixture f;
  std::string out;
  const std::string ok = kP7001 + "\n" + kP7002 + "\n" + kP7003 + "\n";
  EXPECT_EQ(f.eval(ok + kP7002 + "\n", "", out), 2);
  EXPECT_NE(out.find("line 4 (sent_id 7002): duplicate prediction for sent_id 7002 (first on line 2)"),
            std::string::npos)
      << out;
  EXPECT_EQ(f.eval(ok + R"({"sent_id":7101,"ref_id":503,"image_id":77,"mask":{"size":[6,8],"counts":"`1"}})", "", out), 2);
  EXPECT_NE(out.find("line 4 (sent_id 7101): sent_id 7101 is not a sentence of refcoco (unc) split testA"),
            std::string::npos)
      << out;
  EXPECT_EQ(f.eval(ok + R"({"sent_id":999,"ref_id":1,"image_id":1,"mask":{"size":[6,8],"counts":"`1"}})", "", out), 2);
  EXPECT_NE(out.find("sent_id 999 is not a sentence"), std::string::npos) << out;
  EXPECT_EQ(f.eval(kP7001 + "\n" + kP7002 + "\n" +
                       R"({"sent_id":7003,"ref_id":501,"image_id":42,"mask":{"size":[6,8],"counts":"`1"}})",
                   "", out),
            2);
  EXPECT_NE(out.find("ref_id 501 but sent_id 7003 belongs to ref 502"), std::string::npos) << out;
  EXPECT_EQ(f.eval(kP7001 + "\n" + kP7002 + "\n" +
                       R"({"sent_id":7003,"ref_id":502,"image_id":42,"mask":{"size":[8,6],"counts":"`1"}})",
                   "", out),
            2);
  EXPECT_NE(out.find("mask size [8, 6] differs from the image size [6, 8]"), std::string::npos) << out;
  EXPECT_EQ(f.eval(kP7001 + "\n" + kP7002 + "\n" +
                       R"({"split":"val","sent_id":7003,"ref_id":502,"image_id":42,"mask":{"size":[6,8],"counts":"`1"}})",
                   "", out),
            2);
  EXPECT_NE(out.find("'split' is 'val' but the evaluation is for 'testA'"), std::string::npos) << out;
}

TEST(RefsegCli, BadDatasetFilesAndSplitNames) {
  Fixture f;
  std::string out;
  const std::string ok = kP7001 + "\n" + kP7002 + "\n" + kP7003 + "\n";
  EXPECT_EQ(f.eval(ok, "", out, nullptr, "testC"), 2);
  EXPECT_NE(out.find("split 'testC' does not exist in refcoco splitBy unc"), std::string::npos) << out;
  EXPECT_EQ(f.eval(ok, "--split-by google", out), 2);
  EXPECT_NE(out.find("refs(google).p"), std::string::npos) << out;  // not there
  json refs = fx::spec_refs();
  refs[0]["ann_id"] = 5555;
  fx::write_refer(f.dir / "data", "refcoco", "unc", refs, fx::spec_instances());
  EXPECT_EQ(f.eval(ok, "", out), 2);
  EXPECT_NE(out.find("refs[0] (ref_id 501): ann_id 5555 is not in"), std::string::npos) << out;
}

TEST(RefsegCli, GtOverlapUnionByDefaultGlammSumOnRequest) {
  Fixture f;
  json inst = fx::spec_instances();
  // 9001 as two overlapping parts: x 1..3 and x 2..4, rows 1..2 (union 8 px, 4 px covered twice)
  inst["annotations"][0]["segmentation"] = {{1, 1, 4, 1, 4, 3, 1, 3}, {2, 1, 5, 1, 5, 3, 2, 3}};
  fx::write_refer(f.dir / "data", "refcoco", "unc", fx::spec_refs(), inst);
  std::string out;
  json u, s;
  ASSERT_EQ(f.eval(kP7001 + "\n", "--only-present --strict", out, &u), 0) << out;
  ASSERT_EQ(f.eval(kP7001 + "\n", "--only-present --strict --gt-overlap sum", out, &s), 0) << out;
  // pred = x 1..3 × y 1..2 (6 px). union GT: I 6, U 8. summed GT: value 2 leaves the GT area → I 2, U 6 + 4 - 2.
  EXPECT_EQ(u["per_sample"][0]["intersection"], 6);
  EXPECT_EQ(u["per_sample"][0]["union"], 8);
  EXPECT_EQ(s["per_sample"][0]["intersection"], 2);
  EXPECT_EQ(s["per_sample"][0]["union"], 8);
  EXPECT_EQ(s["signature"]["gt_overlap"], "sum");
  // without overlaps both paths agree on every count
  fx::write_refer(f.dir / "data", "refcoco", "unc", fx::spec_refs(), fx::spec_instances());
  const std::string all = kP7001 + "\n" + kP7002 + "\n" + kP7003 + "\n";
  ASSERT_EQ(f.eval(all, "", out, &u), 0) << out;
  ASSERT_EQ(f.eval(all, "--gt-overlap sum", out, &s), 0) << out;
  EXPECT_EQ(u["per_sample"], s["per_sample"]);
}
