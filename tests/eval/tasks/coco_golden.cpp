// evaluate_coco in-process on the COCO 2014 100-image set (segm and bbox): the 12 stats equal pycocotools 2.0.6's
// (golden/masks/coco2014_100_expected.json, tolerance 1e-15) whatever the thread count, and the record carries them
// in details.stats.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "eval/tasks/coco.h"
#include "support/shared_data.h"

namespace glamm::tasks {
namespace {

using nlohmann::json;

void check(const char* type_name, mask::IouType type, const std::string& results_file) {
  GLAMM_REQUIRE_SHARED(expected_path, "golden/masks/coco2014_100_expected.json");
  GLAMM_REQUIRE_SHARED(gt_path, "data/coco2014_100/instances_val2014_100.json");
  GLAMM_REQUIRE_SHARED(dt_path, "data/coco2014_100/" + results_file);
  const json expected = io::load_json(expected_path)[type_name];
  const auto want = expected["stats"].get<std::vector<double>>();
  for (int threads : {1, 4}) {
    CocoOptions o;
    o.iou_type = type;
    o.threads = threads;
    const CocoReport r = evaluate_coco(load_coco_inputs({gt_path.string(), dt_path.string(), false}, o), o);
    ASSERT_EQ(r.stats.size(), 12u);
    for (std::size_t j = 0; j < 12; ++j) EXPECT_NEAR(r.stats[j], want[j], 1e-15) << type_name << " stats[" << j << "]";
    EXPECT_EQ(r.num_images, expected["num_evaluated_images"].get<std::size_t>());
    EXPECT_EQ(r.num_categories, expected["num_categories"].get<std::size_t>());
    const json rec = to_record(r, "").to_json();
    EXPECT_EQ(rec["details"]["stats"].get<std::vector<double>>(), r.stats);
    EXPECT_EQ(rec["inputs"]["gt"], gt_path.string());
  }
}

TEST(CocoTaskGolden, Coco2014SegmStatsMatchPycocotools) {
  check("segm", mask::IouType::kSegm, "instances_val2014_fakesegm100_results.json");
}

TEST(CocoTaskGolden, Coco2014BboxStatsMatchPycocotools) {
  check("bbox", mask::IouType::kBbox, "instances_val2014_fakebbox100_results.json");
}

}  // namespace
}  // namespace glamm::tasks
