// Caption-task adapters on the dataset-formats.md examples (§5.1 MDETR, §6.2 region captions, §8.2 Flickr30k,
// §8.3 NoCaps) plus variants: a UTF-8 caption, an image without annotations, duplicated ids, a results folder with
// merged.json and metrics.txt, and the coverage guard.
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "datasets/flickr30k.h"
#include "datasets/nocaps.h"
#include "datasets/refer_fixture.h"
#include "datasets/regcap.h"

namespace ds = glamm::datasets;
namespace fx = glamm::testing::refer_fixture;
using glamm::InputError;
using glamm::caption::ImageId;
using nlohmann::json;

namespace {

std::string errmsg(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

const char* kRegion = R"({"images": [
   {"id": 1, "file_name": "2301.jpg", "height": 6, "width": 8},
   {"id": 2, "file_name": "2301.jpg", "height": 6, "width": 8},
   {"id": 3, "file_name": "2417.jpg", "height": 6, "width": 8}],
 "annotations": [
   {"id": 1, "image_id": 1, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "red kite in the sky"},
   {"id": 2, "image_id": 2, "bbox": [4.0, 2.0, 3.0, 3.0], "area": 9.0, "caption": "a wooden bench"},
   {"id": 3, "image_id": 3, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "caption": "white dog"}]})";

const char* kFlickr = R"({"dataset": "flickr30k", "images": [
  {"filename": "9000001.jpg", "imgid": 0, "split": "test", "sentids": [0, 1],
   "sentences": [{"raw": "A dog runs on sand.", "tokens": ["a", "dog", "runs", "on", "sand"], "imgid": 0, "sentid": 0},
                 {"raw": "The brown dog is running.", "tokens": ["the", "brown", "dog", "is", "running"], "imgid": 0, "sentid": 1}]},
  {"filename": "9000002.jpg", "imgid": 1, "split": "train", "sentids": [2],
   "sentences": [{"raw": "Two men talk.", "tokens": ["two", "men", "talk"], "imgid": 1, "sentid": 2}]},
  {"filename": "caf\u00e9.jpg", "imgid": 2, "split": "test", "sentids": [3],
   "sentences": [{"raw": "Un caf\u00e9 cr\u00e8me \u2014 na\u00efve.", "imgid": 2, "sentid": 3}]}]})";

const char* kNocaps = R"({"licenses": [], "info": {"version": "0.1"},
 "images": [{"id": 0, "open_images_id": "00aa11bb22cc33dd", "height": 6, "width": 8, "file_name": "00aa11bb22cc33dd.jpg",
             "coco_url": "https://example.invalid/00aa11bb22cc33dd.jpg", "license": 0, "date_captured": "2018-11-06 00:00:00",
             "domain": "out-domain"},
            {"id": 1, "open_images_id": "0123456789abcdef", "height": 6, "width": 8, "file_name": "0123456789abcdef.jpg",
             "coco_url": "https://example.invalid/0123456789abcdef.jpg", "license": 0, "date_captured": "2018-11-06 00:00:00",
             "domain": "near-domain"},
            {"id": 2, "open_images_id": "ffffffffffffffff", "height": 6, "width": 8, "file_name": "ffffffffffffffff.jpg",
             "domain": "in-domain"}],
 "annotations": [{"image_id": 0, "id": 0, "caption": "A red lantern hangs outside."},
                 {"image_id": 0, "id": 1, "caption": "A lantern on a wall."},
                 {"image_id": 1, "id": 2, "caption": "A man rides a bicycle."}]})";

const char* kMdetr = R"({"info": {}, "licenses": [],
 "images": [
   {"id": 310, "file_name": "COCO_train2014_000000000077.jpg", "height": 6, "width": 8, "original_id": 77,
    "caption": "brown dog lying on the rug", "dataset_name": "refcocog", "tokens_negative": [[0, 9]]},
   {"id": 311, "file_name": "COCO_train2014_000000000077.jpg", "height": "6", "width": "8", "original_id": 77,
    "caption": "a small dog in the corner", "dataset_name": "refcocog", "tokens_negative": [[8, 11]]}],
 "annotations": [
   {"id": 310, "image_id": 310, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "iscrowd": 0, "category_id": 18,
    "original_id": 9003, "tokens_positive": [[6, 9]]},
   {"id": 311, "image_id": 311, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "iscrowd": 0, "category_id": 18,
    "original_id": 9003, "tokens_positive": [[8, 11]]}],
 "categories": [{"id": 18, "name": "dog", "supercategory": "animal"}]})";

std::vector<ds::CaptionPrediction> preds(const std::vector<std::pair<int64_t, std::string>>& v) {
  std::vector<ds::CaptionPrediction> out;
  for (std::size_t i = 0; i < v.size(); ++i) out.push_back({ImageId::of(v[i].first), v[i].second, "p.json", i});
  return out;
}

}  // namespace

TEST(RegionCaptions, ReadsSpecExampleOneRegionPerImage) {
  std::vector<std::string> w;
  const ds::RegionCapGt gt = ds::parse_region_caption_gt(kRegion, "test_caption.json", w);
  ASSERT_EQ(gt.samples.size(), 3u);
  EXPECT_EQ(gt.layout, "coco-captions");
  EXPECT_EQ(gt.photos, 2u);
  EXPECT_EQ(gt.regions_layout(), "one region per image entry");
  EXPECT_EQ(gt.samples[1].references, std::vector<std::string>{"a wooden bench"});
  EXPECT_EQ(gt.samples[1].bbox_xywh[0], 4.0);
  EXPECT_TRUE(w.empty());
}

TEST(RegionCaptions, ReportsManyRegionsUnpairedBoxesAndImagesWithoutAnnotations) {
  json j = json::parse(kRegion);
  j["annotations"][1]["id"] = 7;        // id != image_id: no box for image 2
  j["annotations"][1]["image_id"] = 1;  // and a second region on image 1
  j["annotations"][1]["caption"] = "a kite, caf\u00e9 style";
  std::vector<std::string> w;
  const ds::RegionCapGt gt = ds::parse_region_caption_gt(j.dump(), "vg.json", w);
  EXPECT_EQ(gt.regions_layout(), "many regions per image entry");
  EXPECT_EQ(gt.images_with_many_regions, 1u);
  EXPECT_EQ(gt.images_without_annotations, 1u);
  EXPECT_EQ(gt.samples[0].references.size(), 2u);
  EXPECT_EQ(gt.samples[0].references[1], "a kite, caf\xc3\xa9 style");
  EXPECT_TRUE(gt.samples[1].references.empty());
  ASSERT_EQ(w.size(), 2u);
  j = json::parse(kRegion);
  j["annotations"][2]["id"] = 1;
  EXPECT_NE(errmsg([&] { ds::parse_region_caption_gt(j.dump(), "vg.json", w); }).find("annotations[2] (id 1): annotation id 1 occurs twice"),
            std::string::npos);
  j = json::parse(kRegion);
  j["images"][2]["id"] = 1;
  EXPECT_NE(errmsg([&] { ds::parse_region_caption_gt(j.dump(), "vg.json", w); }).find("image id 1 occurs twice"),
            std::string::npos);
}

TEST(RegionCaptions, ReadsMdetrLayoutWithStringSizes) {
  std::vector<std::string> w;
  const ds::RegionCapGt gt = ds::parse_region_caption_gt(kMdetr, "finetune_refcocog_val.json", w);
  EXPECT_EQ(gt.layout, "mdetr");
  ASSERT_EQ(gt.samples.size(), 2u);
  EXPECT_EQ(gt.samples[1].references, std::vector<std::string>{"a small dog in the corner"});
  EXPECT_EQ(gt.samples[1].height, 6.0);
  EXPECT_TRUE(gt.samples[1].has_box);
  EXPECT_EQ(gt.photos, 1u);
}

// String sizes are read as Python's int() reads them (GLaMM casts with int()): whitespace, sign and digit
// underscores are fine, "6.5" or "6x" are not (std::stoll used to read both as 6).
TEST(RegionCaptions, StringSizesFollowPythonInt) {
  std::vector<std::string> w;
  json j = json::parse(kMdetr);
  j["images"][1]["height"] = " +1_2\n";
  EXPECT_EQ(ds::parse_region_caption_gt(j.dump(), "m.json", w).samples[1].height, 12.0);
  for (const char* bad : {"6.5", "6x", "", " ", "0x10", "1__0", "_1", "99999999999999999999", "-"}) {
    j["images"][1]["height"] = bad;
    EXPECT_NE(errmsg([&] { ds::parse_region_caption_gt(j.dump(), "m.json", w); })
                  .find("'height' is the string " + json(bad).dump() + ", which Python's int() does not read as an integer"),
              std::string::npos)
        << bad;
  }
}

TEST(CaptionPredictions, FolderSkipsMergedJsonAndNonJsonFiles) {
  const auto dir = fx::temp_dir("preds");
  fx::write(dir / "model_vg_0.json", R"([{"image_id": 1, "caption": "a kite"}])");
  fx::write(dir / "model_vg_1.json", R"([{"image_id": 3, "caption": "a dog"}])");
  fx::write(dir / "merged.json", R"([{"image_id": 1, "caption": "a kite"}, {"image_id": 3, "caption": "a dog"}])");
  fx::write(dir / "metrics.txt", "CIDEr: 1.000\n");
  std::vector<std::string> files;
  const auto p = ds::load_caption_predictions(dir, files);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(files.size(), 2u);
  EXPECT_EQ(p[1].caption, "a dog");
  std::filesystem::remove_all(dir);
}

TEST(CoverageGuard, MissingDuplicateUnknownAndOutsideIds) {
  std::vector<std::string> w;
  const auto gt = ds::parse_region_caption_gt(kRegion, "gt.json", w);
  const auto two = preds({{1, "a kite"}, {3, "a dog"}});
  EXPECT_NE(errmsg([&] { ds::pair_predictions(gt.samples, two, {}, ds::Coverage::kComplete, "p.json"); })
                .find("1 of 3 samples have no prediction: image_id 2"),
            std::string::npos);
  const auto only = ds::pair_predictions(gt.samples, two, {}, ds::Coverage::kOnlyPresent, "p.json");
  EXPECT_EQ(only.input.image_ids.size(), 2u);
  const auto all = ds::pair_predictions(gt.samples, two, {}, ds::Coverage::kAllowMissing, "p.json");
  ASSERT_EQ(all.input.hyps.size(), 3u);
  EXPECT_EQ(all.input.hyps[1], "");
  EXPECT_FALSE(all.predicted[1]);
  EXPECT_NE(errmsg([&] {
              ds::pair_predictions(gt.samples, preds({{1, "a"}, {2, "b"}, {3, "c"}, {1, "d"}}), {},
                                   ds::Coverage::kComplete, "p.json");
            }).find("p.json: [3] (image_id 1): duplicate prediction for image_id 1 (also p.json [0])"),
            std::string::npos);
  EXPECT_NE(errmsg([&] {
              ds::pair_predictions(gt.samples, preds({{1, "a"}, {2, "b"}, {3, "c"}, {44, "d"}}), {},
                                   ds::Coverage::kComplete, "p.json");
            }).find("image_id 44 is not an image of the annotations"),
            std::string::npos);
  const auto out = ds::pair_predictions(gt.samples, preds({{1, "a"}, {2, "b"}, {3, "c"}, {44, "d"}}),
                                        {ImageId::of(44)}, ds::Coverage::kComplete, "p.json");
  EXPECT_EQ(out.outside.size(), 1u);
  EXPECT_EQ(out.input.image_ids.size(), 3u);
}

TEST(Flickr30k, KarpathySplitWithPhotoIdsAndUtf8) {
  const auto f = ds::flickr30k::parse(kFlickr, "dataset_flickr30k.json", "test");
  ASSERT_EQ(f.samples.size(), 2u);
  EXPECT_EQ(f.samples[0].image_id, ImageId::of(9000001));
  EXPECT_EQ(f.samples[0].references[1], "The brown dog is running.");
  EXPECT_EQ(f.samples[1].image_id, ImageId::of(std::string("caf\xc3\xa9")));
  EXPECT_EQ(f.samples[1].references[0], "Un caf\xc3\xa9 cr\xc3\xa8me \xe2\x80\x94 na\xc3\xafve.");
  ASSERT_EQ(f.other_ids.size(), 1u);
  EXPECT_EQ(f.other_ids[0], ImageId::of(9000002));
  EXPECT_EQ(f.images_per_split.at("train"), 1u);
  EXPECT_EQ(f.images_not_five_sentences, 2u);
  EXPECT_NE(errmsg([] { ds::flickr30k::parse(kFlickr, "k.json", "val"); }).find("split 'val' has no image in this file (splits: test, train)"),
            std::string::npos);
  json j = json::parse(kFlickr);
  j["images"][1]["filename"] = "9000001.jpg";
  EXPECT_NE(errmsg([&] { ds::flickr30k::parse(j.dump(), "k.json", "test"); }).find("images[1] (9000001.jpg): photo id 9000001 occurs twice"),
            std::string::npos);
}

TEST(Nocaps, ValWithDomainsTestWithoutAnnotations) {
  const auto d = ds::nocaps::parse(kNocaps, "nocaps_val_4500_captions.json");
  EXPECT_TRUE(d.has_annotations);
  ASSERT_EQ(d.samples.size(), 3u);
  EXPECT_EQ(d.samples[0].domain, "out-domain");
  EXPECT_EQ(d.samples[0].references.size(), 2u);
  EXPECT_TRUE(d.samples[2].references.empty());  // an image without annotations
  EXPECT_EQ(d.images_per_domain.at("near-domain"), 1u);
  json t = json::parse(kNocaps);
  t.erase("annotations");
  const auto test = ds::nocaps::parse(t.dump(), "nocaps_test_image_info.json");
  EXPECT_FALSE(test.has_annotations);
  json j = json::parse(kNocaps);
  j["images"][1]["id"] = 0;
  EXPECT_NE(errmsg([&] { ds::nocaps::parse(j.dump(), "n.json"); }).find("images[1] (id 0): image id 0 occurs twice"),
            std::string::npos);
  j = json::parse(kNocaps);
  j["annotations"][2]["image_id"] = 9;
  EXPECT_NE(errmsg([&] { ds::nocaps::parse(j.dump(), "n.json"); }).find("annotations[2]: image_id 9 is not in images[]"),
            std::string::npos);
}
