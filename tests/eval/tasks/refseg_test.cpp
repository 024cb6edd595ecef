// evaluate_refseg in-process: the spec example's values through the REFER files, the record it builds, the per-sample
// schema, and deterministic errors from the parallel counting (an injected corrupt prediction or GT annotation at
// two items gives the serial run's error, naming the file and record, for every thread count).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "datasets/refer.h"
#include "datasets/refer_fixture.h"
#include "eval/tasks/refseg.h"
#include "metrics/mask/rle.h"

namespace glamm::tasks {
namespace {

namespace fx = glamm::testing::refer_fixture;
namespace refer = glamm::datasets::refer;
using nlohmann::json;

const std::string kP7001 =
    R"({"dataset":"refcoco","split_by":"unc","split":"testA","sent_id":7001,"ref_id":501,"image_id":42,"mask":{"size":[6,8],"counts":"724000g0"}})";
const std::string kP7002 =
    R"({"dataset":"refcoco","split_by":"unc","split":"testA","sent_id":7002,"ref_id":501,"image_id":42,"mask":{"size":[6,8],"counts":"=3300000;"}})";
const std::string kP7003 =
    R"({"dataset":"refcoco","split_by":"unc","split":"testA","sent_id":7003,"ref_id":502,"image_id":42,"mask":{"size":[6,8],"counts":"`1"}})";

/// The spec example (dataset-formats.md §4.8) written as REFER files and loaded through load_refseg_inputs.
struct SpecExample {
  std::filesystem::path dir = fx::temp_dir("refseg_task");
  RefsegInputs inputs;
  explicit SpecExample(const std::string& preds) {
    fx::write_refer(dir / "data", "refcoco", "unc", fx::spec_refs(), fx::spec_instances());
    fx::write(dir / "pred.jsonl", preds);
    const auto refer_dir = dir / "data" / "Refer_Segm" / "refcoco";
    inputs = load_refseg_inputs({refer_dir / "refs(unc).p", refer_dir / "instances.json",
                                 (dir / "pred.jsonl").string(), "refcoco", "unc", "testA"});
  }
  ~SpecExample() { std::filesystem::remove_all(dir); }
};

TEST(RefsegTask, SpecExampleFloat32AndStrict) {
  SpecExample ex(kP7001 + "\n" + kP7002 + "\n" + kP7003 + "\n");
  RefsegOptions o;
  const RefsegReport r = evaluate_refseg(ex.inputs, o);
  // (I, U) per sentence: 7001 (6, 6), 7002 (4, 14), 7003 (0, 9); one image item of 3 targets.
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_EQ(r.samples[0].intersection, 6);
  EXPECT_EQ(r.samples[0].union_, 6);
  EXPECT_EQ(r.samples[1].intersection, 4);
  EXPECT_EQ(r.samples[1].union_, 14);
  EXPECT_EQ(r.samples[2].union_, 9);
  EXPECT_EQ(r.intersection_sum, 10.0);
  EXPECT_EQ(r.union_sum, 29.0);
  EXPECT_NEAR(r.giou, 0.4285694, 2e-7);  // float32 with the 1e-5 epsilons
  EXPECT_NEAR(r.ciou, 0.3448276, 2e-7);
  EXPECT_EQ(r.giou_str.rfind("0.428569", 0), 0u) << r.giou_str;
  EXPECT_EQ(r.num_images, 1u);
  EXPECT_EQ(r.num_refs, 2u);
  o.strict = true;
  const RefsegReport s = evaluate_refseg(ex.inputs, o);
  EXPECT_DOUBLE_EQ(s.giou, (1.0 + 4.0 / 14.0) / 3.0);
  EXPECT_DOUBLE_EQ(s.ciou, 10.0 / 29.0);
}

TEST(RefsegTask, RecordKeepsItsKeysAndSignature) {
  SpecExample ex(kP7001 + "\n" + kP7002 + "\n");
  RefsegOptions o;
  o.strict = true;
  o.coverage = RefsegCoverage::kAllowMissing;
  const json j = to_record(evaluate_refseg(ex.inputs, o), "run1").to_json();
  EXPECT_EQ(j["task"], "refseg");
  EXPECT_EQ(j["label"], "run1");
  EXPECT_EQ(j["signature"]["strict"], "on(exact_arithmetic)");
  EXPECT_EQ(j["signature"]["arithmetic"], "exact");
  EXPECT_EQ(j["signature"]["coverage"], "allow-missing");
  EXPECT_EQ(j["signature"]["sentences"], "all");
  EXPECT_EQ(j["details"]["num_missing"], 1);
  EXPECT_EQ(j["details"]["split_counts"]["testA"]["sentences"], 3);
  EXPECT_DOUBLE_EQ(j["metrics"]["cIoU"].get<double>(), 10.0 / 29.0);  // the empty mask scores like 7003's
  ASSERT_EQ(j["per_sample"].size(), 3u);
  EXPECT_EQ(j["per_sample"][2], json({{"sent_id", 7003}, {"ref_id", 502}, {"image_id", 42}, {"item", 0},
                                      {"intersection", 0}, {"union", 9}, {"iou", 0.0}, {"predicted", false}}));
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_NE(j["warnings"][0].get<std::string>().find("scored as empty masks"), std::string::npos);
  // every per-sample record reads back as the sample that wrote it
  for (std::size_t k = 0; k < j["per_sample"].size(); ++k)
    EXPECT_EQ(RefsegSample::from_json(j["per_sample"][k], "rec.json", k).to_json(), j["per_sample"][k]);
}

TEST(RefsegTask, SchemaRejectsBadSamples) {
  json s = RefsegSample{7, 8, 9, 0, 3, 5, 0.6, true}.to_json();
  s.erase("union");
  try {
    RefsegSample::from_json(s, "rec.json", 4);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "rec.json: per_sample[4]: 'union' is missing");
  }
  s["union"] = "5";
  EXPECT_THROW(RefsegSample::from_json(s, "rec.json", 4), InputError);
  s["union"] = 5;
  s["predicted"] = 1;
  EXPECT_THROW(RefsegSample::from_json(s, "rec.json", 4), InputError);
}

TEST(RefsegTask, MissingPredictionsNeedACoverageChoice) {
  SpecExample ex(kP7001 + "\n" + kP7002 + "\n");
  try {
    evaluate_refseg(ex.inputs, RefsegOptions{});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), ex.inputs.predictions_file);
    EXPECT_NE(std::string(e.what()).find("1 of 3 evaluated sentences have no prediction: sent_id 7003"),
              std::string::npos)
        << e.what();
  }
  RefsegOptions o;
  o.strict = true;
  o.coverage = RefsegCoverage::kOnlyPresent;
  const RefsegReport r = evaluate_refseg(ex.inputs, o);
  EXPECT_DOUBLE_EQ(r.ciou, 10.0 / 20.0);
  EXPECT_EQ(r.samples.size(), 2u);
}

// ---- deterministic errors of the parallel counting --------------------------------------------------------------

constexpr uint32_t kH = 6, kW = 8;

/// `images` images of 6x8 px, one ref with one sentence each (so item i = sentence i = prediction line i + 1),
/// GT rectangles and predicted rectangles shifted by image.
RefsegInputs synthetic_inputs(std::size_t images) {
  RefsegInputs in;
  in.refs_file = "refs(unc).p";
  in.instances_file = "instances.json";
  in.predictions_file = "pred.jsonl";
  in.refs.file = "refs(unc).p";
  in.instances.file = "instances.json";
  for (std::size_t i = 0; i < images; ++i) {
    const int64_t image_id = 100 + i, ann_id = 100000 + i;
    in.instances.images.push_back({image_id, "x.jpg", kH, kW});
    in.instances.image_index[image_id] = i;
    const double x0 = static_cast<double>(i % 4);
    refer::Annotation a;
    a.id = ann_id;
    a.image_id = image_id;
    a.parts.push_back(mask::Polygons{{{x0, 1, x0 + 3, 1, x0 + 3, 4, x0, 4}}});
    in.instances.annotations.push_back(a);
    in.instances.ann_index[ann_id] = i;
    refer::Ref r;
    r.ref_id = 500000 + i;
    r.ann_id = ann_id;
    r.image_id = image_id;
    r.split = "val";
    r.sentences.push_back({static_cast<int64_t>(10000 + i), "object", ""});
    in.refs.refs.push_back(r);
  }
  in.split = refer::select_split(in.refs, in.instances, "refcoco", "unc", "val");
  for (std::size_t k = 0; k < in.split.samples.size(); ++k) {
    const refer::Sample& s = in.split.samples[k];
    std::vector<uint8_t> m(kH * kW, 0);
    for (uint32_t x = k % 3; x < k % 3 + 4; ++x)
      for (uint32_t y = 2; y < 5; ++y) m[x * kH + y] = 1;
    refer::Prediction p;
    p.sent_id = s.sent_id;
    p.ref_id = s.ref_id;
    p.image_id = s.image_id;
    p.mask = mask::encode(m.data(), kH, kW);
    p.line = k + 1;
    in.predictions.push_back(p);
  }
  return in;
}

/// The error evaluate_refseg throws, or "" when it does not.
std::string error_of(const RefsegInputs& in, int threads, refer::GtOverlap overlap) {
  RefsegOptions o;
  o.threads = threads;
  o.gt_overlap = overlap;
  try {
    evaluate_refseg(in, o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(RefsegTask, ResultsDoNotDependOnThreads) {
  const RefsegInputs in = synthetic_inputs(300);
  RefsegOptions o;
  o.threads = 1;
  const RefsegReport a = evaluate_refseg(in, o);
  o.threads = 8;
  const RefsegReport b = evaluate_refseg(in, o);
  ASSERT_EQ(a.samples.size(), 300u);
  EXPECT_EQ(a.giou, b.giou);
  EXPECT_EQ(a.ciou, b.ciou);
  for (std::size_t k = 0; k < a.samples.size(); ++k) EXPECT_EQ(a.samples[k].to_json(), b.samples[k].to_json()) << k;
  // image 0: GT x 0..2, prediction x 0..3, rows 2..3 of GT 1..3 → I = 3*2, U = 9 + 12 - 6
  EXPECT_EQ(a.samples[0].intersection, 6);
  EXPECT_EQ(a.samples[0].union_, 15);
}

TEST(RefsegTask, CorruptPredictionsGiveTheSerialErrorForEveryThreadCount) {
  RefsegInputs in = synthetic_inputs(800);
  ASSERT_EQ(error_of(in, 4, refer::GtOverlap::kUnion), "");
  for (std::size_t k : {std::size_t{700}, std::size_t{5}}) in.predictions[k].mask.counts = {1};  // sums to 1, not 48
  const std::string want = "pred.jsonl: line 6 (sent_id 10005): bad 'mask': its counts sum to 1, not h*w = 48";
  for (refer::GtOverlap overlap : {refer::GtOverlap::kUnion, refer::GtOverlap::kSum})
    for (int threads : {1, 4, 8})
      EXPECT_EQ(error_of(in, threads, overlap), want) << threads << " threads";
}

TEST(RefsegTask, CorruptGroundTruthGivesTheSerialErrorForEveryThreadCount) {
  RefsegInputs in = synthetic_inputs(800);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t k : {std::size_t{700}, std::size_t{5}})
    in.instances.annotations[k].parts = {mask::Polygons{{{0, 0, nan, 0, 3, 3}}}};
  const std::string serial = error_of(in, 1, refer::GtOverlap::kUnion);
  EXPECT_EQ(serial.rfind("instances.json: annotation id 100005: cannot decode 'segmentation': ", 0), 0u) << serial;
  for (refer::GtOverlap overlap : {refer::GtOverlap::kUnion, refer::GtOverlap::kSum})
    for (int threads : {1, 4, 8}) EXPECT_EQ(error_of(in, threads, overlap), serial) << threads << " threads";
}

TEST(RefsegTask, QuirkTableFeedsHelpStrictLineAndSignature) {
  const QuirkTable& q = refseg_quirks();
  EXPECT_EQ(q.signature_value(false), "off");
  EXPECT_EQ(q.signature_value(true), "on(exact_arithmetic)");  // the signature value records are compared by
  EXPECT_EQ(q.strict_line(), "strict: Exact arithmetic for cIoU/gIoU (docs/quirks.md q11)");
  EXPECT_NE(q.help_text().find("1e-5 / 1e-10 epsilons (q11)"), std::string::npos) << q.help_text();
}

TEST(RefsegTask, DrawThreeIsSeededAndWithoutReplacement) {
  std::mt19937_64 a(7), b(7);
  const auto x = draw_three(10, a), y = draw_three(10, b);
  EXPECT_EQ(x, y);
  ASSERT_EQ(x.size(), 3u);
  EXPECT_NE(x[0], x[1]);
  EXPECT_NE(x[1], x[2]);
  EXPECT_NE(x[0], x[2]);
  for (std::size_t k : x) EXPECT_LT(k, 10u);
  std::mt19937_64 c(1);
  EXPECT_EQ(draw_three(2, c), (std::vector<std::size_t>{0, 1}));  // fewer than 3: all, in order
}

}  // namespace
}  // namespace glamm::tasks
