// CLIP vision tower and V-L projector against the golden fp32 reference (shared golden/model), both images:
// hidden_states[-2] patches and CLS, the 4 region levels (indices 14,17,20,23), projector output.
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/safetensors.h"
#include "support/torch_golden.h"
#include "model/clip_vision.h"
#include "model/glamm_config.h"
#include "model/projector.h"
#include "model/weights.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using namespace glamm::model;
using glamm::testing::expect_close;
using glamm::testing::golden_tensor;

namespace {

class ClipGolden : public ::testing::TestWithParam<std::string> {};

TEST(ClipVisionTower, RegionLevelIndicesFollowTheSliceRule) {
  GLAMM_REQUIRE_SHARED(clip_dir, "golden/model/tiny-clip-vit-patch14-336");
  const ClipVisionTower t = ClipVisionTower::load_folder(clip_dir, -2, 4);
  EXPECT_EQ(t.select_index(), 23);
  EXPECT_EQ(t.region_level_indices(), (std::vector<int64_t>{14, 17, 20, 23}));
}

TEST_P(ClipGolden, HiddenStatesRegionLevelsAndProjectorMatchReference) {
  GLAMM_REQUIRE_SHARED(root, "golden/model");
  const ClipVisionTower clip = ClipVisionTower::load_folder(root / "tiny-clip-vit-patch14-336");
  GlammConfig cfg = GlammConfig::from_json_file(root / "tiny-glamm" / "config.json");
  WeightStore ws = WeightStore::open(root / "tiny-glamm");
  const Projector proj = Projector::load(ws, cfg.mm_hidden_size, cfg.llm.hidden_size);
  ws.finish({"model.mm_projector."});
  EXPECT_EQ(ws.shape("model.mm_projector.0.weight"), (std::vector<int64_t>{64, 128}));

  const auto g = glamm::safetensors::File::open(root / "golden" / ("image__" + GetParam() + ".safetensors"));
  const ClipVisionOutput out = clip.forward(golden_tensor(g, "clip.pixel_values"));
  expect_close(out.patches, golden_tensor(g, "clip.hidden_select_layer_patches"), GetParam() + " clip patches");
  expect_close(out.cls, golden_tensor(g, "clip.hidden_cls_select_layer"), GetParam() + " clip cls");
  expect_close(out.region_levels, golden_tensor(g, "clip.region_levels_patches"), GetParam() + " clip region levels");
  // The projector on the golden CLIP patches (isolates it) and on ours (the chain).
  expect_close(proj.forward(golden_tensor(g, "clip.hidden_select_layer_patches")), golden_tensor(g, "projector.out"),
               GetParam() + " projector (golden input)");
  expect_close(proj.forward(out.patches), golden_tensor(g, "projector.out"), GetParam() + " projector (chain)");
}

INSTANTIATE_TEST_SUITE_P(BothImages, ClipGolden, ::testing::Values("COCO_val2014_000000391895", "surfer"));

}  // namespace
