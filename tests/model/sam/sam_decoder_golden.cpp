// SAM prompt encoder, mask decoder, text_hidden_fcs and mask post-processing against the golden reference
// (shared golden/model): dense PE, `seg.prompts` from `seg.hidden`, `masks.low_res` from the golden prompts and
// image embeddings (all within 1e-4·(1 + max|ref|)), and the final COCO RLE masks of the gcg and refseg_tf cases
// (exact, or under 0.02 % mismatching pixels per mask; the test prints which).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/io.h"
#include "metrics/mask/rle.h"
#include "model/glamm_config.h"
#include "model/sam_mask_decoder.h"
#include "model/weights.h"
#include "tests/model/sam/sam_support.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using glamm::model::SamMaskDecoder;
using glamm::model::SamPromptEncoder;
using glamm::model::TextHiddenProjection;
using glamm::model::WeightStore;
using glamm::sam_test::compare;
using glamm::sam_test::golden_tensor;

namespace {

/// The pixel decoder of the tiny checkpoint, loaded once.
struct TinyPixelDecoder {
  SamPromptEncoder prompt;
  SamMaskDecoder decoder;
  TextHiddenProjection fcs;
};

const TinyPixelDecoder& tiny(const fs::path& ckpt) {
  static const TinyPixelDecoder model = [&] {
    const auto config = glamm::model::GlammConfig::from_json_file(ckpt / "config.json");
    WeightStore store = WeightStore::open(ckpt);
    return TinyPixelDecoder{SamPromptEncoder::load(store),
                            SamMaskDecoder::load(store, config.sam_mask_decoder_num_heads),
                            TextHiddenProjection::load(store)};
  }();
  return model;
}

/// Cases with [SEG] masks: gcg and refseg_tf for both images.
std::vector<nlohmann::json> mask_cases(const fs::path& gdir) {
  std::vector<nlohmann::json> out;
  const nlohmann::json index = glamm::io::load_json(gdir / "index.json");
  for (const auto& c : index.at("cases")) {
    const std::string task = c.at("task").get<std::string>();
    if (task == "gcg" || task == "refseg_tf") out.push_back(c);
  }
  return out;
}

std::string image_file_of(const fs::path& gdir, const std::string& image) {
  const nlohmann::json index = glamm::io::load_json(gdir / "index.json");
  for (const auto& im : index.at("images")) {
    if (im.at("image").get<std::string>() == image) return (gdir / im.at("file").get<std::string>()).string();
  }
  throw std::runtime_error("no image entry for " + image);
}

}  // namespace

TEST(SamDecoderGolden, ConfigurationFromShapesAndConfigHeads) {
  GLAMM_REQUIRE_SHARED(ckpt, "golden/model/tiny-glamm");
  const auto& m = tiny(ckpt);
  const auto& c = m.decoder.config();
  EXPECT_EQ(c.dim, 32);
  EXPECT_EQ(c.heads, 2);
  EXPECT_EQ(c.depth, 2);
  EXPECT_EQ(c.mlp_dim, 64);
  EXPECT_EQ(c.cross_dim, 16);
  EXPECT_EQ(c.num_mask_tokens, 4);
  EXPECT_EQ(c.upscale1, 8);
  EXPECT_EQ(c.upscale2, 4);
  EXPECT_EQ(m.fcs.in_dim(), 64);
  EXPECT_EQ(m.fcs.out_dim(), 32);
  EXPECT_EQ(m.prompt.dim(), 32);
}

TEST(SamDecoderGolden, DensePositionalEncodingMatches) {
  GLAMM_REQUIRE_SHARED(ckpt, "golden/model/tiny-glamm");
  GLAMM_REQUIRE_SHARED(common, "golden/model/golden/common.safetensors");
  const at::Tensor ref = golden_tensor(common, "sam.dense_pe");
  const at::Tensor got = tiny(ckpt).prompt.dense_pe(64, 64);
  ASSERT_EQ(got.sizes().vec(), ref.sizes().vec());
  const auto d = compare(got, ref);
  std::printf("[sam] dense_pe max|d| = %.3g (bound %.3g)\n", d.max_abs, d.bound());
  EXPECT_TRUE(d.ok()) << d.max_abs;
}

TEST(SamDecoderGolden, SegPromptsFromSegHidden) {
  GLAMM_REQUIRE_SHARED(ckpt, "golden/model/tiny-glamm");
  GLAMM_REQUIRE_SHARED(gdir, "golden/model/golden");
  int cases = 0;
  for (const auto& c : mask_cases(gdir)) {
    const fs::path file = gdir / c.at("tensors").get<std::string>();
    const at::Tensor got = tiny(ckpt).fcs.forward(golden_tensor(file, "seg.hidden"));
    const at::Tensor ref = golden_tensor(file, "seg.prompts");
    ASSERT_EQ(got.sizes().vec(), ref.sizes().vec()) << c.at("case");
    const auto d = compare(got, ref);
    std::printf("[sam] %s seg.prompts max|d| = %.3g (bound %.3g)\n", c.at("case").get<std::string>().c_str(), d.max_abs,
                d.bound());
    EXPECT_TRUE(d.ok()) << c.at("case") << ": " << d.max_abs;
    ++cases;
  }
  EXPECT_EQ(cases, 4);
}

TEST(SamDecoderGolden, LowResMasksFromGoldenPromptsAndEmbeddings) {
  GLAMM_REQUIRE_SHARED(ckpt, "golden/model/tiny-glamm");
  GLAMM_REQUIRE_SHARED(gdir, "golden/model/golden");
  const auto& m = tiny(ckpt);
  int cases = 0;
  for (const auto& c : mask_cases(gdir)) {
    const fs::path file = gdir / c.at("tensors").get<std::string>();
    const nlohmann::json meta = glamm::io::load_json(gdir / c.at("meta").get<std::string>());
    const at::Tensor emb =
        golden_tensor(image_file_of(gdir, meta.at("image").get<std::string>()), "sam.image_embeddings");
    const at::Tensor prompts = golden_tensor(file, "seg.prompts");
    const int64_t n = prompts.size(0);
    const at::Tensor got = m.decoder.predict_low_res(emb, m.prompt.dense_pe(64, 64), prompts.unsqueeze(1),
                                                     m.prompt.no_mask_dense(n, 64, 64));
    const at::Tensor ref = golden_tensor(file, "masks.low_res");
    ASSERT_EQ(got.sizes().vec(), ref.sizes().vec()) << c.at("case");
    const auto d = compare(got, ref);
    std::printf("[sam] %s masks.low_res max|d| = %.3g (max|ref| %.3g, bound %.3g)\n",
                c.at("case").get<std::string>().c_str(), d.max_abs, d.max_ref, d.bound());
    EXPECT_TRUE(d.ok()) << c.at("case") << ": " << d.max_abs;
    ++cases;
  }
  EXPECT_EQ(cases, 4);
}

TEST(SamDecoderGolden, FinalRleMasksMatchGcgAndRefsegCases) {
  GLAMM_REQUIRE_SHARED(ckpt, "golden/model/tiny-glamm");
  GLAMM_REQUIRE_SHARED(gdir, "golden/model/golden");
  const auto& m = tiny(ckpt);
  int masks = 0;
  for (const auto& c : mask_cases(gdir)) {
    const std::string name = c.at("case").get<std::string>();
    const fs::path file = gdir / c.at("tensors").get<std::string>();
    const nlohmann::json meta = glamm::io::load_json(gdir / c.at("meta").get<std::string>());
    const std::pair<int64_t, int64_t> original{meta.at("original_size_hw")[0], meta.at("original_size_hw")[1]};
    const std::pair<int64_t, int64_t> resized{meta.at("sam_resize_hw")[0], meta.at("sam_resize_hw")[1]};
    const at::Tensor emb =
        golden_tensor(image_file_of(gdir, meta.at("image").get<std::string>()), "sam.image_embeddings");
    // The chain the runner uses: text_hidden_fcs on the SEG hidden states, then decoder and post-processing.
    const at::Tensor prompts = m.fcs.forward(golden_tensor(file, "seg.hidden"));
    const at::Tensor logits = glamm::model::sam_full_res_logits(m.prompt, m.decoder, emb, prompts, resized, original);
    const auto got = glamm::model::sam_masks_to_rle(logits);
    const auto& ref = meta.at("pred_masks_rle");
    ASSERT_EQ(got.size(), ref.size()) << name;
    const auto h = static_cast<uint32_t>(original.first), w = static_cast<uint32_t>(original.second);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].height, ref[i].at("size")[0].get<int>());
      EXPECT_EQ(got[i].width, ref[i].at("size")[1].get<int>());
      const std::string ref_counts = ref[i].at("counts").get<std::string>();
      const auto a = glamm::mask::decode(glamm::mask::from_string(got[i].counts, h, w));
      const auto b = glamm::mask::decode(glamm::mask::from_string(ref_counts, h, w));
      int64_t diff = 0;
      for (size_t k = 0; k < a.size(); ++k) diff += a[k] != b[k];
      const double frac = static_cast<double>(diff) / (static_cast<double>(h) * w);
      std::printf("[sam] %s mask %zu: %s (%lld of %u pixels differ, %.5f %%)\n", name.c_str(), i,
                  got[i].counts == ref_counts ? "RLE exactly equal" : "RLE differs", static_cast<long long>(diff),
                  h * w, 100.0 * frac);
      EXPECT_LT(frac, 0.0002) << name << " mask " << i << ": " << diff << " pixels differ";
      ++masks;
    }
  }
  EXPECT_EQ(masks, 8);
}

TEST(SamDecoderGolden, PostprocessingOfGoldenLowResMasksGivesTheGoldenRle) {
  // Isolates steps 3-6 of glamm-model.md §4.5 (bilinear to 1024, crop, bilinear to H×W, > 0, RLE) from the decoder.
  GLAMM_REQUIRE_SHARED(gdir, "golden/model/golden");
  int masks = 0;
  for (const auto& c : mask_cases(gdir)) {
    const std::string name = c.at("case").get<std::string>();
    const nlohmann::json meta = glamm::io::load_json(gdir / c.at("meta").get<std::string>());
    const std::pair<int64_t, int64_t> original{meta.at("original_size_hw")[0], meta.at("original_size_hw")[1]};
    const std::pair<int64_t, int64_t> resized{meta.at("sam_resize_hw")[0], meta.at("sam_resize_hw")[1]};
    const at::Tensor low = golden_tensor(gdir / c.at("tensors").get<std::string>(), "masks.low_res");
    const auto got = glamm::model::sam_masks_to_rle(glamm::model::sam_postprocess_masks(low, resized, original));
    const auto& ref = meta.at("pred_masks_rle");
    ASSERT_EQ(got.size(), ref.size()) << name;
    const auto h = static_cast<uint32_t>(original.first), w = static_cast<uint32_t>(original.second);
    for (size_t i = 0; i < got.size(); ++i) {
      const auto a = glamm::mask::decode(glamm::mask::from_string(got[i].counts, h, w));
      const auto b = glamm::mask::decode(glamm::mask::from_string(ref[i].at("counts").get<std::string>(), h, w));
      int64_t diff = 0;
      for (size_t k = 0; k < a.size(); ++k) diff += a[k] != b[k];
      std::printf("[sam] %s mask %zu from golden low-res: %s (%lld pixels differ)\n", name.c_str(), i,
                  got[i].counts == ref[i].at("counts").get<std::string>() ? "RLE exactly equal" : "RLE differs",
                  static_cast<long long>(diff));
      EXPECT_LT(static_cast<double>(diff) / (static_cast<double>(h) * w), 0.0002) << name << " mask " << i;
      ++masks;
    }
  }
  EXPECT_EQ(masks, 8);
}
