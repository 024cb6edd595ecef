// RLE-level golden checks against pycocotools 2.0.6 outputs in shared golden/masks (see the README there):
// - vectors/polygons.json: frPyObjects per polygon part, frUncompressedRLE, the merged polygon area;
// - every vectors/*.json case: loadRes areas and boxes (area / toBbox of the results) and COCOeval.ious per
//   (image, category) (annToRLE of GT and results, score-sorted detections, maskUtils.iou with iscrowd);
// - coco2014_100_expected.json: the segm and bbox `iou_matrices` on real COCO val2014 annotations.
// The JSON is parsed here with nlohmann (the library itself does no file I/O).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "metrics/mask/rle.h"
#include "metrics/mask/segmentation.h"
#include "support/shared_data.h"

namespace glamm::mask {
namespace {

using nlohmann::json;

constexpr double kTolerance = 1e-12;  // golden/masks/README.md

json load(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return json::parse(in);
}

/// A COCO `segmentation` JSON value as a Segmentation (test-side parser; the product's loader is in datasets/).
Segmentation segmentation_of(const json& s) {
  if (s.is_array()) {
    Polygons p;
    for (const json& part : s) p.parts.push_back(part.get<std::vector<double>>());
    return p;
  }
  const auto h = s.at("size").at(0).get<uint32_t>(), w = s.at("size").at(1).get<uint32_t>();
  if (s.at("counts").is_array()) return UncompressedRle{h, w, s.at("counts").get<std::vector<uint32_t>>()};
  return CompressedRle{h, w, s.at("counts").get<std::string>()};
}

struct ImageSize {
  uint32_t h, w;
};

std::map<int64_t, ImageSize> image_sizes(const json& gt) {
  std::map<int64_t, ImageSize> sizes;
  for (const json& im : gt.at("images")) {
    sizes[im.at("id").get<int64_t>()] = {im.at("height").get<uint32_t>(), im.at("width").get<uint32_t>()};
  }
  return sizes;
}

/// Compares an expected D×G matrix (JSON) with a row-major one; returns the max abs difference.
double compare_matrix(const json& expected, const std::vector<double>& got, size_t rows, size_t cols,
                      const std::string& where) {
  double max_delta = 0;
  if (rows == 0 || cols == 0) {
    EXPECT_TRUE(expected.empty()) << where << ": expected a non-empty matrix";
    return 0;
  }
  EXPECT_EQ(expected.size(), rows) << where;
  if (expected.size() != rows) return INFINITY;
  for (size_t d = 0; d < rows; ++d) {
    EXPECT_EQ(expected[d].size(), cols) << where << " row " << d;
    if (expected[d].size() != cols) return INFINITY;
    for (size_t g = 0; g < cols; ++g) {
      const double e = expected[d][g].get<double>();
      const double delta = std::fabs(got[d * cols + g] - e);
      max_delta = std::max(max_delta, delta);
      EXPECT_LE(delta, kTolerance) << where << " [" << d << "][" << g << "]: got " << got[d * cols + g]
                                   << ", expected " << e;
    }
  }
  return max_delta;
}

TEST(RleGolden, PolygonsCaseFrPyObjectsAndMergedArea) {
  GLAMM_REQUIRE_SHARED(path, "golden/masks/vectors/polygons.json");
  const json doc = load(path);
  const json& gt = doc.at("input").at("gt");
  const ImageSize size = image_sizes(gt).at(1);
  const json& anns = gt.at("annotations");
  const json& expected = doc.at("expected");

  // Annotation 1: a two-part polygon; frPyObjects gives one RLE per part, annToRLE merges them.
  const json& poly = anns.at(0).at("segmentation");
  const json& part_strings = expected.at("frPyObjects_polygons_rles");
  ASSERT_EQ(part_strings.size(), poly.size());
  for (size_t i = 0; i < poly.size(); ++i) {
    const Rle part = from_polygon(poly[i].get<std::vector<double>>(), size.h, size.w);
    EXPECT_EQ(to_string(part), part_strings[i].get<std::string>()) << "part " << i;
  }
  const Rle merged = to_rle(segmentation_of(poly), size.h, size.w);
  EXPECT_EQ(area(merged), expected.at("merged_polygon_area").get<uint32_t>());

  // Annotation 2: an uncompressed RLE, serialised by frUncompressedRLE.
  const Rle unc = to_rle(segmentation_of(anns.at(1).at("segmentation")), size.h, size.w);
  EXPECT_EQ(to_string(unc), expected.at("frPyObjects_uncompressed").get<std::string>());
}

/// loadRes areas/boxes and COCOeval.ious of one hand-built case; returns the max abs IoU difference.
double check_vector_case(const std::filesystem::path& path) {
  const json doc = load(path);
  const std::string name = doc.at("name").get<std::string>();
  const json& input = doc.at("input");
  const json& cocoeval = doc.at("expected").at("cocoeval");
  const json& gt = input.at("gt");
  const json& dt = input.at("dt");
  const auto sizes = image_sizes(gt);

  // loadRes (segm): result ids 1..N in list order; area = maskUtils.area, bbox = maskUtils.toBbox.
  std::vector<Rle> dt_rles;
  for (const json& d : dt) {
    const ImageSize s = sizes.at(d.at("image_id").get<int64_t>());
    dt_rles.push_back(to_rle(segmentation_of(d.at("segmentation")), s.h, s.w));
  }
  if (cocoeval.contains("loadRes_areas")) {
    const json& areas = cocoeval.at("loadRes_areas");
    const json& boxes = cocoeval.at("loadRes_bboxes");
    EXPECT_EQ(areas.size(), dt_rles.size()) << name;
    EXPECT_EQ(boxes.size(), dt_rles.size()) << name;
    for (size_t i = 0; i < std::min(areas.size(), dt_rles.size()); ++i) {
      EXPECT_EQ(static_cast<double>(area(dt_rles[i])), areas[i].get<double>()) << name << " result " << i + 1;
      const Box b = to_bbox(dt_rles[i]);
      EXPECT_EQ(b, (boxes[i].get<Box>())) << name << " result " << i + 1;
    }
  }

  size_t max_dets = 100;
  if (input.contains("params") && input.at("params").contains("maxDets")) {
    max_dets = input.at("params").at("maxDets").back().get<size_t>();
  }
  double max_delta = 0;
  for (const auto& [key, matrix] : cocoeval.at("ious").items()) {
    const int64_t img = std::stoll(key.substr(0, key.find(',')));
    const int64_t cat = std::stoll(key.substr(key.find(',') + 1));
    const ImageSize s = sizes.at(img);
    std::vector<Rle> g_rles;
    std::vector<uint8_t> crowd;
    for (const json& a : gt.at("annotations")) {
      if (a.at("image_id").get<int64_t>() != img || a.at("category_id").get<int64_t>() != cat) continue;
      g_rles.push_back(to_rle(segmentation_of(a.at("segmentation")), s.h, s.w));
      crowd.push_back(a.value("iscrowd", 0) != 0);
    }
    // computeIoU: detections sorted by descending score (stable mergesort), cut at maxDets[-1].
    std::vector<size_t> order;
    for (size_t i = 0; i < dt.size(); ++i) {
      if (dt[i].at("image_id").get<int64_t>() == img && dt[i].at("category_id").get<int64_t>() == cat) {
        order.push_back(i);
      }
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return -dt[a].at("score").get<double>() < -dt[b].at("score").get<double>();
    });
    if (order.size() > max_dets) order.resize(max_dets);
    std::vector<Rle> d_rles;
    for (size_t i : order) d_rles.push_back(dt_rles[i]);
    std::vector<double> out(d_rles.size() * g_rles.size());
    iou(d_rles, g_rles, crowd, out.data());
    max_delta = std::max(max_delta, compare_matrix(matrix, out, d_rles.size(), g_rles.size(), name + " " + key));
  }
  return max_delta;
}

TEST(RleGolden, EveryVectorCaseLoadResAndIouMatrices) {
  GLAMM_REQUIRE_SHARED(dir, "golden/masks/vectors");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  size_t cases = 0;
  double max_delta = 0;
  for (const auto& f : files) {
    const json head = load(f);
    if (!head.at("input").contains("gt")) continue;  // refer_seg: dense arrays, not RLE
    SCOPED_TRACE(f.filename().string());
    max_delta = std::max(max_delta, check_vector_case(f));
    ++cases;
  }
  EXPECT_GE(cases, 13u);
  std::cout << "[rle golden] " << cases << " vector cases, max |iou - expected| = " << max_delta << "\n";
}

TEST(RleGolden, Coco2014IouMatricesSegmAndBbox) {
  GLAMM_REQUIRE_SHARED(expected_path, "golden/masks/coco2014_100_expected.json");
  GLAMM_REQUIRE_SHARED(gt_path, "data/coco2014_100/instances_val2014_100.json");
  GLAMM_REQUIRE_SHARED(segm_path, "data/coco2014_100/instances_val2014_fakesegm100_results.json");
  GLAMM_REQUIRE_SHARED(bbox_path, "data/coco2014_100/instances_val2014_fakebbox100_results.json");
  const json expected = load(expected_path);
  const json gt = load(gt_path);
  const json segm = load(segm_path);
  const json bbox = load(bbox_path);
  const auto sizes = image_sizes(gt);
  std::map<int64_t, const json*> ann_by_id;
  for (const json& a : gt.at("annotations")) ann_by_id[a.at("id").get<int64_t>()] = &a;

  double max_segm = 0, max_bbox = 0;
  size_t pairs = 0;
  for (const json& m : expected.at("segm").at("iou_matrices")) {
    const std::string where = "segm image " + std::to_string(m.at("image_id").get<int64_t>()) + " cat " +
                              std::to_string(m.at("category_id").get<int64_t>());
    std::vector<Rle> d, g;
    std::vector<uint8_t> crowd;
    for (const json& id : m.at("dt_ids")) {
      const json& r = segm.at(id.get<size_t>() - 1);  // loadRes ids are 1..N in file order
      const ImageSize s = sizes.at(r.at("image_id").get<int64_t>());
      d.push_back(to_rle(segmentation_of(r.at("segmentation")), s.h, s.w));
    }
    for (const json& id : m.at("gt_ids")) {
      const json& a = *ann_by_id.at(id.get<int64_t>());
      const ImageSize s = sizes.at(a.at("image_id").get<int64_t>());
      g.push_back(to_rle(segmentation_of(a.at("segmentation")), s.h, s.w));
    }
    for (const json& c : m.at("gt_iscrowd")) crowd.push_back(c.get<int>() != 0);
    std::vector<double> out(d.size() * g.size());
    iou(d, g, crowd, out.data());
    max_segm = std::max(max_segm, compare_matrix(m.at("ious"), out, d.size(), g.size(), where));
    pairs += out.size();
  }
  for (const json& m : expected.at("bbox").at("iou_matrices")) {
    const std::string where = "bbox image " + std::to_string(m.at("image_id").get<int64_t>()) + " cat " +
                              std::to_string(m.at("category_id").get<int64_t>());
    std::vector<Box> d, g;
    std::vector<uint8_t> crowd;
    for (const json& id : m.at("dt_ids")) d.push_back(bbox.at(id.get<size_t>() - 1).at("bbox").get<Box>());
    for (const json& id : m.at("gt_ids")) g.push_back(ann_by_id.at(id.get<int64_t>())->at("bbox").get<Box>());
    for (const json& c : m.at("gt_iscrowd")) crowd.push_back(c.get<int>() != 0);
    std::vector<double> out(d.size() * g.size());
    bbox_iou(d, g, crowd, out.data());
    max_bbox = std::max(max_bbox, compare_matrix(m.at("ious"), out, d.size(), g.size(), where));
  }
  EXPECT_GT(pairs, 50u);
  std::cout << "[rle golden] coco2014_100: " << pairs << " segm pairs, max |iou - expected| segm = " << max_segm
            << ", bbox = " << max_bbox << "\n";
}

TEST(RleGolden, Coco2014AllAnnotationsConvertAndRoundTrip) {
  // Every GT annotation (polygons incl. multi-part, crowd uncompressed RLE) and every result converts, and its
  // string form decodes back to the same counts summing to h*w.
  GLAMM_REQUIRE_SHARED(gt_path, "data/coco2014_100/instances_val2014_100.json");
  GLAMM_REQUIRE_SHARED(segm_path, "data/coco2014_100/instances_val2014_fakesegm100_results.json");
  const json gt = load(gt_path);
  const json segm = load(segm_path);
  const auto sizes = image_sizes(gt);
  size_t n = 0;
  for (const json* list : {&gt.at("annotations"), &segm}) {
    for (const json& a : *list) {
      const ImageSize s = sizes.at(a.at("image_id").get<int64_t>());
      const Rle r = to_rle(segmentation_of(a.at("segmentation")), s.h, s.w);
      ASSERT_EQ(r.h, s.h);
      ASSERT_EQ(r.w, s.w);
      ASSERT_EQ(std::accumulate(r.counts.begin(), r.counts.end(), uint64_t{0}), uint64_t{s.h} * s.w);
      ASSERT_EQ(from_string(to_string(r), r.h, r.w).counts, r.counts);
      ++n;
    }
  }
  EXPECT_EQ(n, 839u + 734u);
}

}  // namespace
}  // namespace glamm::mask
