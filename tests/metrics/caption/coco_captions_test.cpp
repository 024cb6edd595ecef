// COCO caption file loading and COCOEvalCap pairing: image order, reference order, and every bad-input error
// naming the file and the record.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "datasets/coco_captions.h"

namespace {

using namespace glamm::datasets;
using glamm::InputError;
using glamm::caption::ImageId;

const char* kGt = R"({"images": [{"id": 30}, {"id": 10}, {"id": 20}, {"id": 10}],
  "annotations": [{"id": 1, "image_id": 10, "caption": "ten a"},
                  {"id": 2, "image_id": 30, "caption": "thirty a"},
                  {"id": 3, "image_id": 10, "caption": "ten b"},
                  {"id": 4, "image_id": 99, "caption": "orphan"},
                  {"id": 5, "image_id": 20, "caption": "twenty a"}],
  "type": "captions"})";

/// The message of the InputError `f` throws ("" when it does not throw one).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(CocoCaptionGt, KeepsImagesOrderAndAnnotationOrderLikePycocotools) {
  std::vector<std::string> warnings;
  const CocoCaptionGt gt = parse_coco_caption_gt(kGt, "gt.json", warnings);
  ASSERT_EQ(gt.images.size(), 3u);  // the repeated id 10 keeps its first position
  EXPECT_EQ(gt.images[0], ImageId::of(30));
  EXPECT_EQ(gt.images[1], ImageId::of(10));
  EXPECT_EQ(gt.images[2], ImageId::of(20));
  EXPECT_EQ(gt.captions[1], (std::vector<std::string>{"ten a", "ten b"}));
  EXPECT_EQ(gt.num_annotations, 5u);
  ASSERT_EQ(warnings.size(), 2u);  // repeated image id, annotation on an unknown image
  EXPECT_NE(warnings[0].find("repeated"), std::string::npos);
  EXPECT_NE(warnings[1].find("1 annotation(s)"), std::string::npos);
}

TEST(CocoCaptionPairing, EvaluatesResultImagesInGroundTruthOrder) {
  std::vector<std::string> warnings;
  const CocoCaptionGt gt = parse_coco_caption_gt(kGt, "gt.json", warnings);
  const auto res = parse_coco_caption_results(
      R"([{"image_id": 10, "caption": "hyp ten", "score": 1}, {"image_id": 30.0, "caption": "hyp thirty"}])",
      "res.json");
  const auto in = pair_captions(gt, res, "res.json");
  ASSERT_EQ(in.image_ids.size(), 2u);  // image 20 has no result and is not evaluated
  EXPECT_EQ(in.image_ids[0], ImageId::of(30));
  EXPECT_EQ(in.image_ids[1], ImageId::of(10));
  EXPECT_EQ(in.hyps, (std::vector<std::string>{"hyp thirty", "hyp ten"}));
  EXPECT_EQ(in.refs[1], (std::vector<std::string>{"ten a", "ten b"}));
}

TEST(CocoCaptionPairing, StringImageIdsWork) {
  std::vector<std::string> w;
  const auto gt = parse_coco_caption_gt(
      R"({"images": [{"id": "image1"}, {"id": "image2"}], "annotations": [{"image_id": "image2", "caption": "b"},
         {"image_id": "image1", "caption": "a"}]})",
      "gt.json", w);
  const auto in = pair_captions(gt, parse_coco_caption_results(R"([{"image_id": "image2", "caption": "x"},
      {"image_id": "image1", "caption": "y"}])", "r.json"), "r.json");
  ASSERT_EQ(in.image_ids.size(), 2u);
  EXPECT_EQ(in.image_ids[0], ImageId::of(std::string("image1")));
  EXPECT_EQ(in.hyps[0], "y");
}

TEST(CocoCaptionErrors, ResultForAnImageAbsentFromTheGroundTruth) {
  std::vector<std::string> w;
  const auto gt = parse_coco_caption_gt(kGt, "gt.json", w);
  const std::string msg = error_of([&] {
    pair_captions(gt, parse_coco_caption_results(R"([{"image_id": 10, "caption": "a"}, {"image_id": 11, "caption": "b"}])", "r.json"), "r.json");
  });
  EXPECT_NE(msg.find("r.json: results[1] (image_id 11)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not in the ground truth"), std::string::npos) << msg;
  const std::string typed = error_of([&] {
    pair_captions(gt, parse_coco_caption_results(R"([{"image_id": "10", "caption": "a"}])", "r.json"), "r.json");
  });
  EXPECT_NE(typed.find("integer ids"), std::string::npos) << typed;
}

TEST(CocoCaptionErrors, TwoResultsForOneImage) {
  std::vector<std::string> w;
  const auto gt = parse_coco_caption_gt(kGt, "gt.json", w);
  const std::string msg = error_of([&] {
    pair_captions(gt, parse_coco_caption_results(R"([{"image_id": 10, "caption": "a"}, {"image_id": 20, "caption": "c"},
        {"image_id": 10, "caption": "b"}])", "r.json"), "r.json");
  });
  EXPECT_NE(msg.find("r.json: results[2] (image_id 10): second result for this image (first: results[0])"),
            std::string::npos)
      << msg;
}

TEST(CocoCaptionErrors, EvaluatedImageWithoutReferences) {
  std::vector<std::string> w;
  const auto gt = parse_coco_caption_gt(R"({"images": [{"id": 1}, {"id": 2}], "annotations": [{"image_id": 1, "caption": "a"}]})", "gt.json", w);
  const std::string msg = error_of([&] {
    pair_captions(gt, parse_coco_caption_results(R"([{"image_id": 2, "caption": "a"}])", "r.json"), "r.json");
  });
  EXPECT_NE(msg.find("gt.json: image 2: has a result but no ground-truth caption"), std::string::npos) << msg;
}

TEST(CocoCaptionErrors, EmptyOrNonListResults) {
  EXPECT_NE(error_of([] { parse_coco_caption_results("[]", "r.json"); }).find("r.json: the results list is empty"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_coco_caption_results(R"({"image_id": 1})", "r.json"); }).find("must be a JSON array"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_coco_caption_results("[1, 2", "r.json"); }).find("r.json: invalid JSON"),
            std::string::npos);
}

TEST(CocoCaptionErrors, MissingOrMistypedFieldsNameTheRecord) {
  EXPECT_NE(error_of([] { parse_coco_caption_results(R"([{"image_id": 1, "caption": "a"}, {"caption": "b"}])", "r.json"); })
                .find("r.json: results[1]: missing field 'image_id'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_coco_caption_results(R"([{"image_id": 1}])", "r.json"); })
                .find("r.json: results[0] (image_id 1): missing field 'caption'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_coco_caption_results(R"([{"image_id": 1, "caption": 5}])", "r.json"); })
                .find("'caption' must be a string, got an integer"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_coco_caption_results(R"([{"image_id": 1, "caption": null}])", "r.json"); })
                .find("'caption' must be a string, got null"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_coco_caption_results(R"([{"image_id": 1.5, "caption": "a"}])", "r.json"); })
                .find("'image_id' must be an integer or a string"),
            std::string::npos);
  std::vector<std::string> w;
  EXPECT_NE(error_of([&] { parse_coco_caption_gt(R"({"images": [{"id": 1}], "annotations": [{"image_id": 1}]})", "gt.json", w); })
                .find("gt.json: annotations[0] (image_id 1): missing field 'caption'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_coco_caption_gt(R"({"annotations": []})", "gt.json", w); })
                .find("missing field 'images'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_coco_caption_gt(R"({"images": [{"file_name": "x"}], "annotations": []})", "gt.json", w); })
                .find("gt.json: images[0]: missing field 'id'"),
            std::string::npos);
}

TEST(CocoCaptionErrors, InvalidUtf8NamesTheRecord) {
  const std::string res = "[{\"image_id\": 1, \"caption\": \"ok\"}, {\"image_id\": 2, \"caption\": \"bad \xff byte\"}]";
  const std::string msg = error_of([&] { parse_coco_caption_results(res, "r.json"); });
  EXPECT_NE(msg.find("r.json: results[1]: caption is not valid UTF-8"), std::string::npos) << msg;
  const std::string gt =
      "{\"images\": [{\"id\": 1}], \"annotations\": [{\"image_id\": 1, \"caption\": \"a\"}, {\"image_id\": 1, "
      "\"caption\": \"trunc \xe2\x82\"}]}";
  std::vector<std::string> w;
  const std::string gmsg = error_of([&] { parse_coco_caption_gt(gt, "gt.json", w); });
  EXPECT_NE(gmsg.find("gt.json: annotations[1]: caption is not valid UTF-8"), std::string::npos) << gmsg;
  // Outside a caption: the offset is reported.
  const std::string other = "{\"images\": [{\"id\": 1, \"file_name\": \"\xc0\"}], \"annotations\": []}";
  const std::string omsg = error_of([&] { parse_coco_caption_gt(other, "gt.json", w); });
  EXPECT_NE(omsg.find("gt.json: invalid UTF-8 at byte offset 36 (line 1)"), std::string::npos) << omsg;
}

TEST(CocoCaptionErrors, UnpairedSurrogateEscapeIsRejected) {
  const std::string msg =
      error_of([] { parse_coco_caption_results(R"([{"image_id": 1, "caption": "a \udc80 b"}])", "r.json"); });
  EXPECT_NE(msg.find("r.json"), std::string::npos) << msg;
  EXPECT_FALSE(msg.empty());
}

}  // namespace
