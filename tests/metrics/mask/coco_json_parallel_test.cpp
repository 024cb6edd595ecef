// Segmentation decoding of datasets/coco_json runs on metrics::parallel_for: with bad segmentations injected at two
// records, every thread count reports the same error, naming the first bad record, as a serial run does.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "datasets/coco_json.h"

namespace glamm {
namespace {

using nlohmann::json;

json gt_with_bad_masks(std::size_t n, std::size_t bad1, std::size_t bad2) {
  json anns = json::array();
  for (std::size_t i = 0; i < n; ++i) {
    json seg = json::array({json::array({1.0, 1.0, 8.0, 1.0, 8.0, 8.0, 1.0, 8.0})});
    if (i == bad1 || i == bad2)  // counts sum to 99 on a 10x10 mask
      seg = {{"size", {10, 10}}, {"counts", {50, 49}}};
    anns.push_back({{"id", i + 1}, {"image_id", 1}, {"category_id", 1}, {"area", 49.0}, {"iscrowd", 0},
                    {"segmentation", seg}});
  }
  return {{"images", {{{"id", 1}, {"height", 10}, {"width", 10}}}},
          {"categories", {{{"id", 1}}}},
          {"annotations", anns}};
}

std::string load_error(const json& gt, int threads) {
  datasets::CocoLoadOptions lo;
  lo.threads = threads;
  std::vector<std::string> w;
  try {
    datasets::parse_coco_gt(gt.dump(), "gt.json", lo, w);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CocoJsonParallel, FirstBadSegmentationWinsForEveryThreadCount) {
  const json gt = gt_with_bad_masks(300, 150, 250);
  const std::string serial = load_error(gt, 1);
  EXPECT_NE(serial.find("gt.json"), std::string::npos) << serial;
  EXPECT_NE(serial.find("annotations[150] (id 151)"), std::string::npos) << serial;
  EXPECT_NE(serial.find("segmentation: "), std::string::npos) << serial;
  for (int threads : {2, 3, 8}) EXPECT_EQ(load_error(gt, threads), serial) << threads << " threads";
  // the later bad record alone is reported once the first is gone
  const std::string later = load_error(gt_with_bad_masks(300, 250, 250), 4);
  EXPECT_NE(later.find("annotations[250] (id 251)"), std::string::npos) << later;
}

}  // namespace
}  // namespace glamm
