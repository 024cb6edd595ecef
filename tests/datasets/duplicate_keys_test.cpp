// Repeated JSON keys (docs/input-rules.md, "Duplicate keys"): every reader takes the LAST value, as Python's json
// (pycocotools, pycocoevalcap, GLaMM's scripts) does, and the simdjson readers warn once per file naming the file,
// the first record and the key.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/io.h"
#include "datasets/coco_captions.h"
#include "datasets/coco_json.h"
#include "datasets/flickr30k.h"
#include "datasets/grandf.h"
#include "datasets/json_util.h"
#include "datasets/nocaps.h"
#include "datasets/refer.h"
#include "datasets/regcap.h"

namespace {

namespace fs = std::filesystem;
using namespace glamm::datasets;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += w + "\n";
  return s;
}

class DuplicateKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("glamm_dupkeys_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    (void)take_duplicate_key_warnings();  // nothing left over from another test
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) {
    glamm::io::write_file_atomic(dir_ / name, text);
    return dir_ / name;
  }
  fs::path dir_;
};

TEST(LastField, TakesTheLastOfRepeatedKeysAndNotesTheFirstDuplicate) {
  simdjson::dom::parser parser;
  const simdjson::padded_string text(std::string(R"({"a": 1, "b": 2, "a": 3, "b": 4, "b": 5})"));
  simdjson::dom::object o = parser.parse(text).get_object();
  std::vector<std::string> warnings;
  {
    DuplicateKeyScope scope("f.json", &warnings);
    simdjson::dom::element e;
    ASSERT_TRUE(last_field(o, "b", e, [] { return std::string("rec[7]"); }));
    EXPECT_EQ(int64_t(e.get_int64()), 5);
    ASSERT_TRUE(last_field(o, "a", e));
    EXPECT_EQ(int64_t(e.get_int64()), 3);
    EXPECT_FALSE(last_field(o, "c", e));
  }
  ASSERT_EQ(warnings.size(), 1u) << joined(warnings);
  EXPECT_NE(warnings[0].find("f.json"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("'b' in rec[7]"), std::string::npos) << warnings[0];
  // Without duplicates: no warning.
  const simdjson::padded_string plain(std::string(R"({"a": 1})"));
  simdjson::dom::object p = parser.parse(plain).get_object();
  warnings.clear();
  {
    DuplicateKeyScope scope("g.json", &warnings);
    simdjson::dom::element e;
    ASSERT_TRUE(last_field(p, "a", e));
  }
  EXPECT_TRUE(warnings.empty());
}

TEST_F(DuplicateKeys, CocoInstancesAndResultsTakeTheLastValue) {
  const std::string gt =
      R"({"images": [{"id": 1, "height": 10, "width": 10, "height": 20}],
          "categories": [{"id": 1}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "area": 5, "area": 7, "iscrowd": 0,
                           "bbox": [0, 0, 2, 2], "segmentation": [[0, 0, 0, 2, 2, 2, 2, 0]]},
                          {"id": 2, "image_id": 1, "category_id": 1, "area": 9, "area": 11, "iscrowd": 0,
                           "bbox": [0, 0, 3, 3]}]})";
  std::vector<std::string> warnings;
  CocoLoadOptions opt;
  opt.iou_type = glamm::mask::IouType::kBbox;
  const auto g = parse_coco_gt(gt, "gt.json", opt, warnings);
  ASSERT_EQ(g.images.size(), 1u);
  EXPECT_EQ(g.images[0].height, 20u);
  ASSERT_EQ(g.annotations.size(), 2u);
  EXPECT_EQ(g.annotations[0].area, 7.0);
  EXPECT_EQ(g.annotations[1].area, 11.0);
  ASSERT_EQ(warnings.size(), 1u) << joined(warnings);
  EXPECT_NE(warnings[0].find("gt.json"), std::string::npos);
  EXPECT_NE(warnings[0].find("'height' in images[0]"), std::string::npos) << warnings[0];

  warnings.clear();
  const std::string dt = R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.9, "score": 0.2},
                             {"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.8, "score": 0.3}])";
  const auto d = parse_coco_results(dt, "dt.json", g, opt, warnings);
  ASSERT_EQ(d.results.size(), 2u);
  EXPECT_EQ(d.results[0].score, 0.2);
  EXPECT_EQ(d.results[1].score, 0.3);
  ASSERT_EQ(count(joined(warnings), "duplicate JSON key"), 1u) << joined(warnings);
  EXPECT_NE(warnings[0].find("'score' in results[0]"), std::string::npos) << warnings[0];
}

TEST_F(DuplicateKeys, CocoWarningNamesTheFirstRepeatedKeyInReadingOrderAndOnlyKeysThatAreRead) {
  // Annotation 0 repeats 'iscrowd' before 'id' in the text, but 'id' is read first: the warning names 'id' (in
  // annotations[0], before its id is known). A repeated key nobody reads ('note') is not a warning; neither is a
  // repeated 'segmentation' of an annotation whose image is unknown (dropped before its mask is read).
  const std::string gt =
      R"({"images": [{"id": 1, "height": 10, "width": 10}], "categories": [{"id": 1}],
          "annotations": [{"id": 9, "image_id": 7, "category_id": 1, "area": 1, "iscrowd": 0, "note": 1, "note": 2,
                           "segmentation": [[0, 0, 0, 2, 2, 2]], "segmentation": [[0, 0, 0, 3, 3, 3]]},
                          {"iscrowd": 0, "iscrowd": 1, "id": 5, "id": 6, "image_id": 1, "category_id": 1,
                           "area": 4, "segmentation": [[0, 0, 0, 2, 2, 2, 2, 0]]}]})";
  std::vector<std::string> warnings;
  CocoLoadOptions opt;
  const auto g = parse_coco_gt(gt, "gt.json", opt, warnings);
  ASSERT_EQ(g.annotations.size(), 1u);
  EXPECT_EQ(g.annotations[0].id, 6);
  EXPECT_TRUE(g.annotations[0].iscrowd);
  ASSERT_EQ(count(joined(warnings), "duplicate JSON key"), 1u) << joined(warnings);
  EXPECT_NE(joined(warnings).find("(first: 'id' in annotations[1])"), std::string::npos) << joined(warnings);
}

TEST_F(DuplicateKeys, CocoCaptionsTakeTheLastCaption) {
  std::vector<std::string> warnings;
  const auto gt = parse_coco_caption_gt(
      R"({"images": [{"id": 1}], "annotations": [{"image_id": 1, "caption": "first", "caption": "last"},
                                                  {"image_id": 1, "caption": "one", "caption": "two"}]})",
      "gt.json", warnings);
  ASSERT_EQ(gt.captions.size(), 1u);
  EXPECT_EQ(gt.captions[0], (std::vector<std::string>{"last", "two"}));
  ASSERT_EQ(warnings.size(), 1u) << joined(warnings);
  EXPECT_NE(warnings[0].find("'caption' in annotations[0] (image_id 1)"), std::string::npos) << warnings[0];

  const auto res = parse_coco_caption_results(
      R"([{"image_id": 7, "image_id": 1, "caption": "a", "caption": "b"}])", "res.json");
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].image_id.display(), "1");
  EXPECT_EQ(res[0].caption, "b");
  const auto w = take_duplicate_key_warnings();
  ASSERT_EQ(w.size(), 1u) << joined(w);
  EXPECT_NE(w[0].find("res.json"), std::string::npos);
  EXPECT_NE(w[0].find("'image_id' in results[0]"), std::string::npos) << w[0];
  EXPECT_TRUE(take_duplicate_key_warnings().empty());  // taken once
}

TEST_F(DuplicateKeys, GrandfPredictionAndMaskGtTakeTheLastValue) {
  write("img1.json", R"({"img1": {"caption": "old", "phrases": ["x"], "pred_masks": [], "caption": "new",
                                   "phrases": ["p", "q"]}})");
  const auto p = grandf::load_prediction(dir_, "img1");
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->nested);
  EXPECT_EQ(p->caption, "new");
  EXPECT_EQ(p->phrases, (std::vector<std::string>{"p", "q"}));
  // The first key keeps its place, but its value is that of its last occurrence.
  write("img2.json", R"({"k": {"caption": "stale", "phrases": [], "pred_masks": []}, "z": 1,
                         "k": {"caption": "fresh", "phrases": [], "pred_masks": []}})");
  const auto p2 = grandf::load_prediction(dir_, "img2");
  ASSERT_TRUE(p2.has_value());
  EXPECT_EQ(p2->caption, "fresh");
  const auto w = take_duplicate_key_warnings();
  ASSERT_EQ(w.size(), 2u) << joined(w);  // one per file
  EXPECT_NE(w[0].find("img1.json"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("'caption' in img1"), std::string::npos) << w[0];
  EXPECT_NE(w[1].find("img2.json"), std::string::npos) << w[1];

  const auto gt = write("mask_gt.json", R"({"annotations": [{"image_id": "a", "category_id": 1, "category_id": 3,
                                              "iscrowd": 1, "iscrowd": 0},
                                             {"image_id": "b", "image_id": "c"}]})");
  const auto anns = grandf::load_mask_gt_annotations(gt);
  ASSERT_EQ(anns.size(), 2u);
  EXPECT_EQ(anns[0].category_id, 3);
  EXPECT_FALSE(anns[0].iscrowd);
  EXPECT_EQ(anns[1].image_id, "c");
  const auto w2 = take_duplicate_key_warnings();
  ASSERT_EQ(w2.size(), 1u) << joined(w2);
  EXPECT_NE(w2[0].find("'category_id' in annotations[0]"), std::string::npos) << w2[0];
}

TEST_F(DuplicateKeys, ReferInstancesAndPredictionsTakeTheLastValue) {
  const auto inst = refer::parse_instances(
      R"({"images": [{"id": 1, "height": 4, "width": 4, "width": 6}],
          "annotations": [{"id": 5, "image_id": 1, "segmentation": [[0, 0, 1, 1, 2, 0]],
                           "segmentation": [[0, 0, 0, 2, 2, 2, 2, 0]]}]})",
      "instances.json");
  ASSERT_EQ(inst.images.size(), 1u);
  EXPECT_EQ(inst.images[0].width, 6u);
  ASSERT_EQ(inst.annotations.size(), 1u);
  ASSERT_EQ(inst.annotations[0].parts.size(), 1u);
  const auto& poly = std::get<glamm::mask::Polygons>(inst.annotations[0].parts[0]);
  EXPECT_EQ(poly.parts.at(0).size(), 8u);
  auto w = take_duplicate_key_warnings();
  ASSERT_EQ(w.size(), 1u) << joined(w);
  EXPECT_NE(w[0].find("'width' in images[0] (id 1)"), std::string::npos) << w[0];

  const auto preds = refer::parse_predictions(
      "{\"sent_id\": 1, \"sent_id\": 2, \"ref_id\": 3, \"image_id\": 1, \"mask\": {\"size\": [2, 2], \"counts\": "
      "\"4\"}, \"split\": \"val\", \"split\": \"testA\"}\n"
      "{\"sent_id\": 5, \"ref_id\": 3, \"ref_id\": 4, \"image_id\": 1, \"mask\": {\"size\": [2, 2], \"counts\": "
      "\"4\"}}\n",
      "preds.jsonl");
  ASSERT_EQ(preds.size(), 2u);
  EXPECT_EQ(preds[0].sent_id, 2);
  EXPECT_EQ(preds[0].split, "testA");
  EXPECT_EQ(preds[1].ref_id, 4);
  w = take_duplicate_key_warnings();
  ASSERT_EQ(w.size(), 1u) << joined(w);  // once for the file, naming the first
  EXPECT_NE(w[0].find("'sent_id' in line 1"), std::string::npos) << w[0];
}

// The nlohmann-based readers (regcap, flickr30k, nocaps) keep the last value as nlohmann's parser does.
TEST_F(DuplicateKeys, NlohmannReadersTakeTheLastValue) {
  std::vector<std::string> warnings;
  const auto rc = parse_region_caption_gt(
      R"({"images": [{"id": 1, "file_name": "a.jpg", "height": 10, "width": 10}],
          "annotations": [{"id": 1, "image_id": 1, "bbox": [0, 0, 1, 1], "bbox": [1, 2, 3, 4],
                           "caption": "first", "caption": "last"}]})",
      "regcap.json", warnings);
  ASSERT_EQ(rc.samples.size(), 1u);
  EXPECT_EQ(rc.samples[0].references, (std::vector<std::string>{"last"}));
  EXPECT_EQ(rc.samples[0].bbox_xywh[3], 4.0);

  const auto fl = flickr30k::parse(
      R"({"images": [{"filename": "12.jpg", "split": "train", "split": "test",
                      "sentences": [{"raw": "old"}], "sentences": [{"raw": "new", "raw": "newer"}]}]})",
      "flickr.json", "test");
  ASSERT_EQ(fl.samples.size(), 1u);
  EXPECT_EQ(fl.samples[0].references, (std::vector<std::string>{"newer"}));

  const auto nc = nocaps::parse(
      R"({"images": [{"id": 3, "domain": "in-domain", "domain": "out-domain"}],
          "annotations": [{"image_id": 3, "caption": "x", "caption": "y"}]})",
      "nocaps.json");
  ASSERT_EQ(nc.samples.size(), 1u);
  EXPECT_EQ(nc.samples[0].domain, "out-domain");
  EXPECT_EQ(nc.samples[0].references, (std::vector<std::string>{"y"}));
}

}  // namespace

// The nlohmann-based readers (Flickr30k, NoCaps, region captions, GranD-f caption GT) keep the last value of a
// repeated key, as Python's json.load, and now warn about it like the simdjson readers.
TEST(DuplicateKeysNlohmann, FirstDuplicateKeyIsFoundWithItsObject) {
  using glamm::datasets::first_duplicate_key;
  EXPECT_EQ(first_duplicate_key(R"({"a": 1, "b": {"c": 1}})"), (std::pair<std::string, std::string>{}));
  EXPECT_EQ(first_duplicate_key(R"({"images": [{"id": 1}, {"id": 2, "sentences": [], "id": 3}]})"),
            (std::pair<std::string, std::string>{"id", "/images/1"}));
  EXPECT_EQ(first_duplicate_key(R"({"x": 1, "x": 2})"), (std::pair<std::string, std::string>{"x", ""}));
  EXPECT_EQ(first_duplicate_key("{not json"), (std::pair<std::string, std::string>{}));
}

TEST(DuplicateKeysNlohmann, NocapsReaderKeepsTheLastValueAndWarns) {
  glamm::datasets::take_duplicate_key_warnings();  // start from an empty list
  const std::string text =
      R"({"images": [{"id": 7, "file_name": "a.jpg", "domain": "in-domain", "domain": "out-domain"}],
          "annotations": [{"image_id": 7, "caption": "first", "caption": "a dog"}]})";
  const glamm::datasets::nocaps::Data d = glamm::datasets::nocaps::parse(text, "nocaps_val.json");
  ASSERT_EQ(d.samples.size(), 1u);
  ASSERT_EQ(d.samples[0].references.size(), 1u);
  EXPECT_EQ(d.samples[0].references[0], "a dog");
  EXPECT_EQ(d.samples[0].domain, "out-domain");
  const std::vector<std::string> w = glamm::datasets::take_duplicate_key_warnings();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("nocaps_val.json"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("'domain'"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("object /images/0"), std::string::npos) << w[0];
}
