// evaluate_coco in-process on the built-in synthetic sample: the report matches COCOeval run directly, the record
// keeps its keys, the selection warnings come from the task, and the options are checked before any data is read.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "eval/tasks/coco.h"

namespace glamm::tasks {
namespace {

using nlohmann::json;

CocoReport sample_report(CocoOptions o) { return evaluate_coco(load_coco_inputs({"", "", true}, o), o); }

TEST(CocoTask, SampleReportMatchesCocoevalRunDirectly) {
  CocoOptions o;
  o.threads = 2;
  const CocoInputs in = load_coco_inputs({"", "", true}, o);
  const CocoReport r = evaluate_coco(in, o);
  const mask::CocoEvaluation ev = mask::evaluate(in.gt, in.dt, mask::default_params(in.gt, o.iou_type), 1);
  const std::vector<double> want = mask::summarize(mask::accumulate(ev), ev.params);
  ASSERT_EQ(r.stats.size(), 12u);
  EXPECT_EQ(r.stats, want);
  EXPECT_GT(r.stats[0], 0.0);  // the sample has true positives
  ASSERT_EQ(r.summary_lines.size(), 12u);
  EXPECT_EQ(r.summary_lines[0].rfind(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = ", 0), 0u)
      << r.summary_lines[0];
  EXPECT_EQ(r.num_images, 12u);
  EXPECT_EQ(r.num_categories, 3u);
  EXPECT_EQ(r.num_gt, 38u);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(CocoTask, RecordKeepsItsKeysAndSignature) {
  CocoOptions o;
  o.iou_type = mask::IouType::kBbox;
  o.strict = true;
  o.max_dets = {100, 1, 10};
  const CocoReport r = sample_report(o);
  const json j = to_record(r, "L").to_json();
  EXPECT_EQ(j["task"], "coco");
  EXPECT_EQ(j["dataset"], "builtin-sample");
  EXPECT_EQ(j["label"], "L");
  EXPECT_EQ(j["signature"]["iouType"], "bbox");
  EXPECT_EQ(j["signature"]["useCats"], "1");
  EXPECT_EQ(j["signature"]["maxDets"], "1,10,100");  // as evaluate() sorted them
  EXPECT_EQ(j["signature"]["strict"], "on(gt_id_zero_matchable,segm_results_keep_mask_area)");
  EXPECT_EQ(j["signature"]["data"], kSyntheticSampleData);
  EXPECT_EQ(j["details"]["stats"].get<std::vector<double>>(), r.stats);
  EXPECT_EQ(j["details"]["iou_type"], "bbox");
  EXPECT_EQ(j["details"]["num_dt"], r.num_dt);
  EXPECT_EQ(j["metrics"]["AP"].get<double>(), r.stats[0]);
  EXPECT_EQ(j["metrics"]["ARl"].get<double>(), r.stats[11]);
  EXPECT_TRUE(j["per_sample"].empty());
}

TEST(CocoTask, EmptySelectionsWarnWhy) {
  CocoOptions o;
  o.cat_ids = {99999};
  CocoReport r = sample_report(o);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0],
            "<built-in sample gt>: no ground-truth categories selected: every statistic is -1 (pycocotools prints "
            "-1.000 there too); --cat-ids 99999 match no category of the GT");
  EXPECT_EQ(r.stats[0], -1.0);
  o.cat_ids.clear();
  o.img_ids = {"4242"};
  o.use_cats = 0;
  r = sample_report(o);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("no ground-truth images selected"), std::string::npos) << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("--img-ids 4242 match no image of the GT"), std::string::npos) << r.warnings[0];
}

TEST(CocoTask, OptionsAreCheckedBeforeTheData) {
  CocoOptions o;
  o.use_cats = 2;
  try {
    check_coco_options(o);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "--use-cats: must be 0 or 1");
  }
  o.use_cats = 1;
  o.max_dets = {1, 10};
  EXPECT_THROW(check_coco_options(o), InputError);
  o.max_dets = {1, 0, 100};
  EXPECT_THROW(check_coco_options(o), InputError);
  EXPECT_THROW(parse_iou_type("keypoints"), InputError);
  EXPECT_EQ(parse_iou_type("bbox"), mask::IouType::kBbox);
}

TEST(CocoTask, QuirkTableFeedsHelpStrictLineAndSignature) {
  const QuirkTable& q = coco_quirks();
  EXPECT_EQ(q.signature_value(false), "off");
  EXPECT_EQ(q.strict_line(),
            "strict: GT id 0 can be matched; segm results with a bbox keep their mask areas (docs/quirks.md q7-q8)");
  EXPECT_NE(q.help_text().find("(q7); "), std::string::npos) << q.help_text();
  EXPECT_NE(q.help_text().find("w*h) (q8)"), std::string::npos) << q.help_text();
}

}  // namespace
}  // namespace glamm::tasks
