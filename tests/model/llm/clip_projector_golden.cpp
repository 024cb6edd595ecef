// CLIP vision tower and V-L projector against the golden fp32 reference (shared golden/model), both images:
// hidden_states[-2] patches and CLS, the 4 region levels (indices 14,17,20,23), projector output.
#include <filesystem>
#include <memory>
#include <string>

#include <cstdio>

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

/// Per-row cosine similarity, the smallest over the rows of [N, C] (or one row [C]).
double min_row_cosine(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.reshape({-1, a.size(-1)}), y = b.reshape({-1, b.size(-1)});
  return ((x * y).sum(-1) / (x.norm(2, -1) * y.norm(2, -1))).min().item<double>();
}

bool bf16_values(const at::Tensor& t) { return at::equal(t, t.to(at::kBFloat16).to(at::kFloat)); }

// bf16 compute (the official run's precision): CLIP hidden states, region levels and the projector follow the fp32
// golden reference within bf16 precision, and hold bf16 values.
TEST_P(ClipGolden, Bf16FollowsTheFp32ReferenceWithinBf16Precision) {
  GLAMM_REQUIRE_SHARED(root, "golden/model");
  ClipVisionTower clip = ClipVisionTower::load_folder(root / "tiny-clip-vit-patch14-336");
  clip.set_compute_dtype(at::kBFloat16);
  GlammConfig cfg = GlammConfig::from_json_file(root / "tiny-glamm" / "config.json");
  WeightStore ws = WeightStore::open(root / "tiny-glamm");
  Projector proj = Projector::load(ws, cfg.mm_hidden_size, cfg.llm.hidden_size);
  ws.finish({"model.mm_projector."});
  proj.set_compute_dtype(at::kBFloat16);
  const auto g = glamm::safetensors::File::open(root / "golden" / ("image__" + GetParam() + ".safetensors"));
  const ClipVisionOutput out = clip.forward(golden_tensor(g, "clip.pixel_values"));
  const at::Tensor ref = golden_tensor(g, "clip.hidden_select_layer_patches");
  EXPECT_TRUE(bf16_values(out.patches));
  EXPECT_FALSE(at::equal(out.patches, ref));
  const double c_patches = min_row_cosine(out.patches, ref);
  const double c_levels = min_row_cosine(out.region_levels, golden_tensor(g, "clip.region_levels_patches"));
  const at::Tensor p = proj.forward(out.patches);
  EXPECT_TRUE(bf16_values(p));
  const double c_proj = min_row_cosine(p, golden_tensor(g, "projector.out"));
  std::printf("[bf16] %s: lowest row cosine with fp32: CLIP patches %.6f, region levels %.6f, projector %.6f\n",
              GetParam().c_str(), c_patches, c_levels, c_proj);
  EXPECT_GT(c_patches, 0.999);
  EXPECT_GT(c_levels, 0.999);
  EXPECT_GT(c_proj, 0.999);
  EXPECT_THROW(clip.set_compute_dtype(at::kFloat), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(BothImages, ClipGolden, ::testing::Values("COCO_val2014_000000391895", "surfer"));

}  // namespace
