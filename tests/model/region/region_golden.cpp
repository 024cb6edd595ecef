// Region encoder against the golden reference (shared golden/model): the 4 region-captioning cases (1 and 2 boxes,
// a 640×360 COCO image and a 2250×1500 photo) on the tiny checkpoint, input = the golden CLIP levels
// `clip.region_levels_patches`. Exact: prepared boxes and RoIs. Within 1e-4 × (1 + max|ref|) (README tolerance):
// position embedding, RoIAlign features of every level, fused level 3, fused level statistics, region vectors.
// The RoIAlign kernel alone is also run on the golden fused level 3 with the golden RoIs (same input as the
// reference), where it must reproduce the reference's level-3 RoI features bit for bit.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "model/region_encoder.h"
#include "model/roi_align_aten.h"
#include "model/weights.h"
#include "support/shared_data.h"
#include "support/torch_golden.h"

namespace fs = std::filesystem;
using glamm::model::RegionBox;
using glamm::model::RegionEncoder;
using glamm::model::RegionTrace;
using glamm::model::WeightStore;

namespace {

void expect_close(const std::string& what, const std::string& tensor, const at::Tensor& got, const at::Tensor& ref) {
  glamm::testing::expect_close(got, ref, what + " " + tensor);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// sum, absolute sum and sum of squares of a fused map (the reference's `region.fused_level_stats` row).
at::Tensor stats(const at::Tensor& m) {
  const at::Tensor d = m.to(at::kDouble);
  return at::stack({d.sum(), d.abs().sum(), (d * d).sum()});
}

class RegionGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto shared = glamm::testing::shared_dir();
    if (!shared || !fs::exists(*shared / "golden/model/tiny-glamm")) return;
    store_ = new WeightStore(WeightStore::open(*shared / "golden/model/tiny-glamm"));
    encoder_ = new RegionEncoder(RegionEncoder::load(*store_));
    store_->finish({"model.region_encoder."});
  }
  static void TearDownTestSuite() {
    delete encoder_;
    delete store_;
    encoder_ = nullptr;
    store_ = nullptr;
    fused_cache_.clear();
  }

  /// Run one case and compare every region tensor.
  void check_case(const std::string& task, const std::string& stem) {
    GLAMM_REQUIRE_SHARED(golden, "golden/model/golden");
    ASSERT_NE(encoder_, nullptr);
    const std::string name = task + "__" + stem;
    const auto meta = glamm::io::load_json(golden / (name + ".json"));
    WeightStore ref = WeightStore::open(golden / (name + ".safetensors"));
    const int64_t H = meta.at("original_size_hw").at(0).get<int64_t>();
    const int64_t W = meta.at("original_size_hw").at(1).get<int64_t>();
    std::vector<RegionBox> boxes;
    for (const auto& b : meta.at("boxes_xyxy_pixels")) {
      boxes.push_back({b.at(0).get<double>(), b.at(1).get<double>(), b.at(2).get<double>(), b.at(3).get<double>()});
    }

    // Fused maps depend on the image only: computed once per image, shared by regcap1/regcap2.
    auto it = fused_cache_.find(stem);
    if (it == fused_cache_.end()) {
      WeightStore image = WeightStore::open(golden / ("image__" + stem + ".safetensors"));
      const at::Tensor levels = image.get("clip.region_levels_patches");
      const auto t0 = std::chrono::steady_clock::now();
      it = fused_cache_.emplace(stem, encoder_->fuse(levels)).first;
      std::printf("%s: fuse %.2f s (%d threads)\n", stem.c_str(), seconds_since(t0), at::get_num_threads());
    }
    const auto& fused = it->second;
    const at::Tensor prepared = glamm::model::prepare_region_boxes(boxes, W, H);
    RegionTrace trace;
    const auto t0 = std::chrono::steady_clock::now();
    const at::Tensor vectors = encoder_->extract(fused, prepared, &trace);
    const double extract_s = seconds_since(t0);

    std::printf("%s (%zu box%s, %lldx%lld): extract %.3f s\n", name.c_str(), boxes.size(),
                boxes.size() == 1 ? "" : "es", static_cast<long long>(W), static_cast<long long>(H), extract_s);
    EXPECT_TRUE(at::equal(trace.boxes, ref.get("boxes.normalized_fp16_bf16"))) << name << ": boxes\n"
                                                                             << trace.boxes;
    EXPECT_TRUE(at::equal(trace.rois, ref.get("region.rois"))) << name << ": rois\n" << trace.rois;
    expect_close(name, "region.pos_embed", trace.pos_embed, ref.get("region.pos_embed"));
    const at::Tensor ref_feats = ref.get("region.roi_feats");
    for (int l = 0; l < 4; ++l) {
      expect_close(name, "region.roi_feats[" + std::to_string(l) + "]", trace.roi_feats[l], ref_feats[l]);
    }
    expect_close(name, "region.fused_level3", trace.fused[3], ref.get("region.fused_level3"));
    std::vector<at::Tensor> st;
    for (const auto& f : trace.fused) st.push_back(stats(f));
    expect_close(name, "region.fused_level_stats", at::stack(st), ref.get("region.fused_level_stats"));
    expect_close(name, "region.vectors", vectors, ref.get("region.vectors"));

    // forward() (box preparation + fuse + extract in one call) gives the same vectors.
    if (task == "regcap1") {
      WeightStore image = WeightStore::open(golden / ("image__" + stem + ".safetensors"));
      const at::Tensor again = encoder_->forward(image.get("clip.region_levels_patches"), boxes, W, H);
      EXPECT_TRUE(at::equal(again, vectors)) << name << ": forward() differs from fuse() + extract()";
    }

    // Kernel check on identical input: golden fused level 3 + golden RoIs → golden level-3 RoI features.
    const at::Tensor k = glamm::model::roi_align(ref.get("region.fused_level3").unsqueeze(0), ref.get("region.rois"),
                                                 1.0 / 14.0);
    const glamm::testing::Parity kd =
        glamm::testing::expect_close(k, ref_feats[3], name + " region.roi_feats[3] (RoIAlign kernel, golden input)");
    EXPECT_EQ(kd.max_abs, 0.0) << name << ": RoIAlign kernel not bit-exact on the reference's own input";
    // The device-agnostic ATen formulation on the same input (run here on the CPU): the same bits.
    glamm::model::RoiAlignParams level3;
    level3.spatial_scale = 1.0 / 14.0;
    const at::Tensor a = glamm::model::roi_align_aten(ref.get("region.fused_level3").unsqueeze(0).to(at::kFloat),
                                                      ref.get("region.rois"), level3);
    EXPECT_TRUE(at::equal(a, k)) << name << ": roi_align_aten differs from the kernel on the reference's input";
  }

  static WeightStore* store_;
  static RegionEncoder* encoder_;
  static std::map<std::string, std::vector<at::Tensor>> fused_cache_;
};

WeightStore* RegionGolden::store_ = nullptr;
RegionEncoder* RegionGolden::encoder_ = nullptr;
std::map<std::string, std::vector<at::Tensor>> RegionGolden::fused_cache_;

}  // namespace

TEST_F(RegionGolden, TinyCheckpointSizesComeFromTheTensorShapes) {
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-glamm");
  ASSERT_NE(encoder_, nullptr);
  EXPECT_EQ(encoder_->embed_dim(), 128);   // README: E = 128
  EXPECT_EQ(encoder_->hidden_dim(), 32);   // flatten_linear 25088 → 32
  EXPECT_EQ(encoder_->output_dim(), 64);   // updims 32 → 64 (LLM hidden)
}

TEST_F(RegionGolden, OneBoxCocoImage) { check_case("regcap1", "COCO_val2014_000000391895"); }
TEST_F(RegionGolden, TwoBoxesCocoImage) { check_case("regcap2", "COCO_val2014_000000391895"); }
TEST_F(RegionGolden, OneBoxLargePhoto) { check_case("regcap1", "surfer"); }
TEST_F(RegionGolden, TwoBoxesLargePhoto) { check_case("regcap2", "surfer"); }

// bf16 compute (the official run's layers.py under model.bfloat16()): the region vectors of every golden case follow
// the fp32 golden reference within bf16 precision; the fused maps are bf16.
TEST(RegionGoldenBf16, VectorsFollowTheFp32ReferenceWithinBf16Precision) {
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-glamm");
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden");
  WeightStore store = WeightStore::open(dir);
  RegionEncoder encoder = RegionEncoder::load(store);
  store.finish({"model.region_encoder."});
  encoder.set_compute_dtype(at::kBFloat16);
  int cases = 0;
  for (const char* stem : {"COCO_val2014_000000391895", "surfer"}) {
    WeightStore image = WeightStore::open(golden / ("image__" + std::string(stem) + ".safetensors"));
    const std::vector<at::Tensor> fused = encoder.fuse(image.get("clip.region_levels_patches"));
    ASSERT_EQ(fused.size(), 4u);
    EXPECT_EQ(fused[0].scalar_type(), at::kBFloat16);
    for (const char* task : {"regcap1", "regcap2"}) {
      const std::string name = std::string(task) + "__" + stem;
      const auto meta = glamm::io::load_json(golden / (name + ".json"));
      WeightStore ref = WeightStore::open(golden / (name + ".safetensors"));
      std::vector<RegionBox> boxes;
      for (const auto& b : meta.at("boxes_xyxy_pixels"))
        boxes.push_back({b.at(0).get<double>(), b.at(1).get<double>(), b.at(2).get<double>(), b.at(3).get<double>()});
      const at::Tensor prepared = glamm::model::prepare_region_boxes(
          boxes, meta.at("original_size_hw").at(1).get<int64_t>(), meta.at("original_size_hw").at(0).get<int64_t>());
      const at::Tensor got = encoder.extract(fused, prepared);
      const at::Tensor want = ref.get("region.vectors");
      ASSERT_EQ(got.sizes(), want.sizes()) << name;
      EXPECT_TRUE(at::equal(got, got.to(at::kBFloat16).to(at::kFloat))) << name << ": not bf16 values";
      const double cosine = ((got * want).sum(-1) / (got.norm(2, -1) * want.norm(2, -1))).min().item<double>();
      std::printf("[region bf16] %s: lowest row cosine with fp32 %.6f\n", name.c_str(), cosine);
      EXPECT_GT(cosine, 0.99) << name;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 4);
}
