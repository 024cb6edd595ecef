// The caption tasks in-process (eval/tasks/captions.h, regcap.h, imagecap.h) on small fixtures: quirk tables and
// signature values, the per-sample schema (round trip, subsets of metrics, bad records), captions' line-break
// quirk, regcap's coverage modes, NoCaps per-domain scores and the test-split submission.
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "eval/tasks/captions.h"
#include "eval/tasks/imagecap.h"
#include "eval/tasks/regcap.h"
#include "support/shared_data.h"
#include "support/test_dir.h"
#include "tests/eval/tasks/caption_task_fixture.h"

namespace glamm::tasks {
namespace {

namespace fs = std::filesystem;
using glamm::testing::TaskMeteor;
using glamm::testing::write_text;
using nlohmann::json;

TEST(CaptionTaskQuirks, EveryCaptionCommandSignsLineBreaksAsBefore) {
  for (const QuirkTable* q : {&captions_quirks(), &regcap_quirks(), &imagecap_quirks()}) {
    EXPECT_EQ(q->signature_value(true), "on(line_breaks_as_spaces)") << q->command;
    EXPECT_EQ(q->signature_value(false), "off") << q->command;
    EXPECT_EQ(q->strict_line(), "strict: Treat line-break characters inside a caption as spaces (docs/quirks.md)");
    EXPECT_EQ(q->help_text().rfind("Treat line-break characters inside a caption as spaces (docs/quirks.md, " +
                                       q->command + "): \\r, U+000B, U+000C, U+2028 and U+2029 become spaces",
                                   0),
              0u)
        << q->help_text();
  }
  EXPECT_EQ(regcap_quirks().command, "regcap");
}

TEST(CaptionTaskCoverage, BothFlagsAreRefusedAndModesAreNamed) {
  EXPECT_THROW(coverage_of(true, true), InputError);
  EXPECT_EQ(coverage_of(false, false), datasets::Coverage::kComplete);
  EXPECT_EQ(coverage_name(coverage_of(true, false)), "allow-missing");
  EXPECT_EQ(coverage_name(coverage_of(false, true)), "only-present");
  EXPECT_EQ(coverage_name(datasets::Coverage::kComplete), "complete");
}

caption::ImageEval image_eval() {
  caption::ImageEval e;
  e.image_id = caption::ImageId::of(std::string("img7"));
  e.bleu = {0.5, 0.25, 0.125, 0.0625};
  e.bleu_counts.testlen = 4;
  e.bleu_counts.reflen = 5;
  e.bleu_counts.guess = {4, 3, 2, 1};
  e.bleu_counts.correct = {2, 1, 0, 0};
  e.meteor = 0.3;
  e.meteor_stats.v[0] = 4;
  e.rouge_l = 0.4;
  e.cider = 1.25;
  return e;
}

TEST(CaptionSampleSchema, KeepsExactlyTheComputedMetricsAndRoundTrips) {
  CaptionSample s;
  s.image_id = caption::ImageId::of(std::string("img7"));
  s.scores = CaptionSampleScores::from_eval(image_eval(), "a dog", caption::MetricSet::parse("bleu,cider"));
  const json j = s.to_json();
  EXPECT_EQ(j.at("image_id"), "img7");
  EXPECT_EQ(j.at("Bleu_3"), 0.125);
  EXPECT_EQ(j.at("CIDEr"), 1.25);
  EXPECT_EQ(j.at("bleu_counts").at("correct"), json({2, 1, 0, 0}));
  EXPECT_EQ(j.at("caption_tokenized"), "a dog");
  EXPECT_FALSE(j.contains("ROUGE_L"));
  EXPECT_FALSE(j.contains("METEOR"));
  EXPECT_FALSE(j.contains("predicted"));
  const CaptionSample back = CaptionSample::from_json(j, "rec.json", 0);
  EXPECT_FALSE(back.scores.with_rouge_l);
  EXPECT_TRUE(back.scores.with_cider);
  EXPECT_EQ(back.to_json(), j);

  CaptionSample full;
  full.image_id = caption::ImageId::of(42);
  full.predicted = false;
  full.domain = "near-domain";
  full.spice_style = 0.5;
  full.scores = CaptionSampleScores::from_eval(image_eval(), "", true, true);
  const json f = full.to_json();
  EXPECT_EQ(f.at("image_id"), 42);
  EXPECT_EQ(f.at("predicted"), false);
  EXPECT_EQ(f.at("domain"), "near-domain");
  EXPECT_EQ(f.at(spice::kMetricName), 0.5);
  EXPECT_EQ(f.at("meteor_stats").size(), 23u);
  EXPECT_EQ(f.at("ROUGE_L"), 0.4);
  EXPECT_EQ(CaptionSample::from_json(f, "rec.json", 1).to_json(), f);
  EXPECT_FALSE(CaptionSample::from_json(f, "rec.json", 1).spice_style_subsets.has_value());  // older records
}

TEST(CaptionSampleSchema, SpiceStyleSubsetsRoundTripWithNullF) {
  CaptionSample s;
  s.image_id = caption::ImageId::of(7);
  s.spice_style = 0.25;
  SpiceSampleBreakdown b;
  b.subsets.push_back({"All", 0.25, 1, 2, 4});
  b.subsets.push_back({"Color", std::numeric_limits<double>::quiet_NaN(), 0, 1, 0});
  s.spice_style_subsets = b;
  s.scores = CaptionSampleScores::from_eval(image_eval(), "a dog", caption::MetricSet::parse("bleu"));
  const json j = s.to_json();
  EXPECT_EQ(j.at("spice_style_subsets").at("All"), json({{"f", 0.25}, {"tp", 1}, {"fp", 2}, {"fn", 4}}));
  EXPECT_TRUE(j.at("spice_style_subsets").at("Color").at("f").is_null());
  const CaptionSample back = CaptionSample::from_json(j, "rec.json", 0);
  ASSERT_TRUE(back.spice_style_subsets.has_value());
  ASSERT_EQ(back.spice_style_subsets->subsets.size(), 2u);
  EXPECT_EQ(back.spice_style_subsets->subsets[0].name, "All");
  EXPECT_EQ(back.spice_style_subsets->subsets[0].fn, 4);
  EXPECT_TRUE(std::isnan(back.spice_style_subsets->subsets[1].f));
  EXPECT_EQ(back.to_json(), j);
  json bad = j;
  bad["spice_style_subsets"]["All"]["tp"] = -1;
  try {
    CaptionSample::from_json(bad, "rec.json", 5);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("per_sample[5]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("spice_style_subsets.All.tp"), std::string::npos) << e.what();
  }
  bad = j;
  bad["spice_style_subsets"]["All"].erase("f");
  EXPECT_THROW(CaptionSample::from_json(bad, "rec.json", 5), InputError);
}

TEST(CaptionSampleSchema, BadRecordsNameFileAndRecord) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string m1 = message([] { CaptionSample::from_json(json{{"image_id", 1.5}}, "rec.json", 3); });
  EXPECT_NE(m1.find("rec.json"), std::string::npos) << m1;
  EXPECT_NE(m1.find("per_sample[3]"), std::string::npos) << m1;
  const std::string m2 = message([] {
    MeteorSample::from_json(json{{"index", 0}, {"meteor", 0.5}, {"stats", std::vector<double>(22, 0.0)}}, "m.json", 0);
  });
  EXPECT_NE(m2.find("23 METEOR statistics"), std::string::npos) << m2;
  const std::string m3 = message([] { TokenizeSample::from_json(json{{"index", 0}, {"raw", 1}}, "t.json", 2); });
  EXPECT_NE(m3.find("per_sample[2]"), std::string::npos) << m3;
  EXPECT_EQ(TokenizeSample::from_json(TokenizeSample{2, "A b", "a b"}.to_json(), "t.json", 0).tokenized, "a b");
  EXPECT_EQ(TokenizeSample::field_names(), json({"index", "raw", "tokenized"}));
  EXPECT_EQ(MeteorSample::field_names(), json({"index", "meteor", "stats"}));
}

// In-process twin of CaptionsCli.LineBreakCharactersShiftCaptionsUnlessStrict, without METEOR.
TEST(CaptionsTask, LineBreakCharactersShiftCaptionsUnlessStrict) {
  const fs::path dir = glamm::testing::per_test_dir("captions_task");
  write_text(dir / "gt.json", "{\"images\": [{\"id\": 1}, {\"id\": 2}], \"annotations\": ["
                              "{\"image_id\": 1, \"caption\": \"a dog runs\\u2028on the grass\"},"
                              "{\"image_id\": 2, \"caption\": \"two cats sleep\"}]}");
  write_text(dir / "res.json",
             R"([{"image_id": 1, "caption": "a dog runs"}, {"image_id": 2, "caption": "two cats sleep"}])");
  const CaptionsInputs in = load_captions_inputs({(dir / "gt.json").string(), (dir / "res.json").string()});
  CaptionsOptions opt;
  opt.metrics = caption::MetricSet::parse("bleu,rouge,cider");
  const Result ref = to_record(evaluate_captions(in, opt), "run");
  EXPECT_EQ(ref.per_sample.at(1).at("ROUGE_L"), 0.0);
  EXPECT_FALSE(ref.per_sample.at(1).contains("METEOR"));
  EXPECT_EQ(ref.details.at("gt_captions_with_line_breaks"), 1);
  EXPECT_EQ(ref.signature.to_json().at("strict"), "off");
  EXPECT_EQ(ref.signature.to_json().at("metrics"), "bleu,rouge,cider");
  opt.strict = true;
  const CaptionsReport rep = evaluate_captions(in, opt);
  const Result strict = to_record(rep, "run");
  EXPECT_EQ(strict.per_sample.at(1).at("ROUGE_L"), 1.0);
  EXPECT_EQ(strict.signature.to_json().at("strict"), "on(line_breaks_as_spaces)");
  EXPECT_EQ(strict.signature.to_json().at("tokenizer"), "ptb-corenlp-3.4.1+pycocoevalcap-filter:strict");
  EXPECT_EQ(strict.task, "captions");
  EXPECT_EQ(strict.label, "run");
  ASSERT_EQ(rep.samples.size(), 2u);
  EXPECT_EQ(rep.samples[1].scores.rouge_l, 1.0);
}

TEST(CaptionsTask, MeteorWithoutAScorerIsAnInputError) {
  const fs::path dir = glamm::testing::per_test_dir("captions_task");
  write_text(dir / "gt.json", R"({"images": [{"id": 1}], "annotations": [{"image_id": 1, "caption": "a cat"}]})");
  write_text(dir / "res.json", R"([{"image_id": 1, "caption": "a cat"}])");
  const CaptionsInputs in = load_captions_inputs({(dir / "gt.json").string(), (dir / "res.json").string()});
  EXPECT_THROW(evaluate_captions(in, CaptionsOptions{}), InputError);
}

// In-process twins of the RegcapCli coverage tests.
TEST(RegcapTask, CoverageModes) {
  const fs::path dir = glamm::testing::per_test_dir("regcap_task");
  write_text(dir / "gt.json", glamm::testing::kRegcapGt);
  write_text(dir / "res.json", glamm::testing::kRegcapRes);
  const TaskMeteor met(glamm::testing::meteor_resources_dir());
  const RegcapInputs in = load_regcap_inputs({"vg", (dir / "gt.json").string(), (dir / "res.json").string()});
  RegcapOptions opt;
  opt.meteor = met.meteor;
  try {
    evaluate_regcap(in, opt);
    ADD_FAILURE() << "a missing prediction must fail by default";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("1 of 3 samples have no prediction: image_id 2"), std::string::npos)
        << e.what();
  }
  opt.coverage = datasets::Coverage::kAllowMissing;
  const Result all = to_record(evaluate_regcap(in, opt), "run");
  ASSERT_EQ(all.per_sample.size(), 3u);
  EXPECT_EQ(all.per_sample.at(1).at("predicted"), false);
  EXPECT_EQ(all.per_sample.at(1).at("caption_tokenized"), "");
  EXPECT_EQ(all.details.at("num_missing"), 1);
  EXPECT_EQ(all.split, "test");
  EXPECT_EQ(all.signature.to_json().at("coverage"), "allow-missing");

  // --only-present scores what captions scores on the same pairs.
  opt.coverage = datasets::Coverage::kOnlyPresent;
  const RegcapReport present = evaluate_regcap(in, opt);
  write_text(dir / "coco.json", R"({"images": [{"id": 1}, {"id": 3}], "annotations": [
    {"image_id": 1, "id": 1, "caption": "red kite in the sky"}, {"image_id": 3, "id": 3, "caption": "white dog"}]})");
  CaptionsOptions copt;
  copt.meteor = met.meteor;
  const CaptionsReport cap =
      evaluate_captions(load_captions_inputs({(dir / "coco.json").string(), (dir / "res.json").string()}), copt);
  ASSERT_EQ(present.eval.metrics.size(), cap.metrics.size());
  for (std::size_t k = 0; k < cap.metrics.size(); ++k)
    EXPECT_EQ(present.eval.metrics[k], cap.metrics[k]) << cap.metrics[k].first;
  EXPECT_EQ(present.warnings.back(),
            "1 sample(s) without a prediction left out (--only-present): the score covers only part of the set");
}

const char* kNocapsImages = R"("images": [{"id": 0, "file_name": "00aa11bb22cc33dd.jpg", "domain": "out-domain"},
            {"id": 1, "file_name": "0123456789abcdef.jpg", "domain": "near-domain"},
            {"id": 2, "file_name": "0123456789abcdee.jpg", "domain": "near-domain"}])";
const char* kNocapsPred = R"([{"image_id": 0, "caption": "a lantern hangs on a wall"},
    {"image_id": 1, "caption": "a man rides a bicycle"}, {"image_id": 2, "caption": "a woman on a horse"}])";

TEST(ImagecapTask, NocapsValScoresEachDomainOnItsOwn) {
  const fs::path dir = glamm::testing::per_test_dir("imagecap_task");
  write_text(dir / "val.json", std::string(R"({"licenses": [], "info": {"version": "0.1"}, )") + kNocapsImages +
                                   R"(, "annotations": [{"image_id": 0, "id": 0, "caption": "A red lantern hangs outside."},
                 {"image_id": 0, "id": 1, "caption": "A lantern on a wall."},
                 {"image_id": 1, "id": 2, "caption": "A man rides a bicycle."},
                 {"image_id": 2, "id": 3, "caption": "A woman rides a horse."}]})");
  write_text(dir / "pred.json", kNocapsPred);
  const TaskMeteor met(glamm::testing::meteor_resources_dir());
  const ImagecapInputs in = load_imagecap_inputs({"nocaps", (dir / "val.json").string(), "", (dir / "pred.json").string()});
  EXPECT_EQ(in.split, "val");
  EXPECT_FALSE(in.submission_only);
  ImagecapOptions opt;
  opt.spice = false;
  opt.meteor = met.meteor;
  const ImagecapReport rep = evaluate_imagecap(in, opt);
  ASSERT_EQ(rep.domains.size(), 2u);
  EXPECT_EQ(rep.domains[0].name, "near-domain");
  EXPECT_EQ(rep.domains[0].num_images, 2u);
  EXPECT_EQ(rep.domains[1].name, "out-domain");
  EXPECT_FALSE(rep.domains[0].spice_style.has_value());
  const Result r = to_record(rep, "run");
  EXPECT_EQ(r.per_sample.at(1).at("domain"), "near-domain");
  EXPECT_EQ(r.details.at("domains").at("near-domain").at("num_images"), 2);
  EXPECT_EQ(r.signature.to_json().at("spice"), "off(--no-spice)");
  EXPECT_EQ(r.metrics.back().first, "out-domain/CIDEr");
  // a domain alone: the same numbers as scoring its images as a set of their own
  CaptionsOptions copt;
  copt.meteor = met.meteor;
  write_text(dir / "near_gt.json", R"({"images": [{"id": 1}, {"id": 2}], "annotations": [
    {"image_id": 1, "id": 2, "caption": "A man rides a bicycle."}, {"image_id": 2, "id": 3, "caption": "A woman rides a horse."}]})");
  write_text(dir / "near_res.json", R"([{"image_id": 1, "caption": "a man rides a bicycle"},
    {"image_id": 2, "caption": "a woman on a horse"}])");
  const CaptionsReport near = evaluate_captions(
      load_captions_inputs({(dir / "near_gt.json").string(), (dir / "near_res.json").string()}), copt);
  EXPECT_EQ(rep.domains[0].metrics, near.metrics);
}

TEST(ImagecapTask, NocapsTestMakesOnlyTheSubmission) {
  const fs::path dir = glamm::testing::per_test_dir("imagecap_task");
  write_text(dir / "test.json", std::string("{") + kNocapsImages + "}");
  write_text(dir / "pred.json", R"([{"image_id": 2, "caption": "a woman on a horse"}, {"image_id": 0, "caption": "a lantern"}])");
  const ImagecapInputs in = load_imagecap_inputs({"nocaps", (dir / "test.json").string(), "", (dir / "pred.json").string()});
  EXPECT_TRUE(in.submission_only);
  EXPECT_THROW(nocaps_submission(in, datasets::Coverage::kComplete), InputError);  // image 1 has no prediction
  const auto sub = nocaps_submission(in, datasets::Coverage::kAllowMissing);
  ASSERT_EQ(sub.size(), 2u);
  EXPECT_EQ(sub[0].to_json(), json({{"image_id", 0}, {"caption", "a lantern"}}));  // image order
  EXPECT_EQ(sub[1].to_json(), json({{"image_id", 2}, {"caption", "a woman on a horse"}}));
  EXPECT_THROW(evaluate_imagecap(in, ImagecapOptions{}), InputError);
}

}  // namespace
}  // namespace glamm::tasks
