// SAM ViT image encoder against the golden reference (shared golden/model): the tiny checkpoint's
// model.grounding_encoder.image_encoder.* run on the golden SAM input of both images must give
// `sam.image_embeddings` within 1e-4·(1 + max|ref|) (README tolerance).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/io.h"
#include "metrics/mask/rle.h"
#include "model/glamm_config.h"
#include "model/sam_image_encoder.h"
#include "model/sam_mask_decoder.h"
#include "model/weights.h"
#include "tests/model/sam/sam_support.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using glamm::model::SamImageEncoder;
using glamm::model::WeightStore;
using glamm::sam_test::compare;
using glamm::sam_test::golden_tensor;
using glamm::sam_test::sam_input_from_resized;

TEST(SamImageEncoderGolden, TinyConfigurationIsInferredFromShapes) {
  GLAMM_REQUIRE_SHARED(ckpt, "golden/model/tiny-glamm");
  WeightStore store = WeightStore::open(ckpt);
  const SamImageEncoder enc = SamImageEncoder::load(store);
  const auto& c = enc.config();
  EXPECT_EQ(c.dim, 48);
  EXPECT_EQ(c.heads, 3);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.grid, 64);
  EXPECT_EQ(c.patch, 16);
  EXPECT_EQ(c.image_size, 1024);
  EXPECT_EQ(c.mlp_dim, 192);
  EXPECT_EQ(c.out_chans, 32);
  EXPECT_EQ(c.window, (std::vector<int64_t>{14, 0, 14, 0}));  // README: global blocks [1, 3]
}

TEST(SamImageEncoderGolden, ImageEmbeddingsMatchBothImages) {
  GLAMM_REQUIRE_SHARED(ckpt, "golden/model/tiny-glamm");
  GLAMM_REQUIRE_SHARED(gdir, "golden/model/golden");
  const nlohmann::json index = glamm::io::load_json(gdir / "index.json");
  WeightStore store = WeightStore::open(ckpt);
  const SamImageEncoder enc = SamImageEncoder::load(store);
  int images = 0;
  for (const auto& im : index.at("images")) {
    const fs::path file = gdir / im.at("file").get<std::string>();
    const at::Tensor resized = golden_tensor(file, "sam.resized_u8_hwc", /*keep_dtype=*/true);
    ASSERT_EQ(resized.scalar_type(), at::kByte);
    EXPECT_EQ(resized.size(0), im.at("sam_resize_hw")[0].get<int64_t>());
    EXPECT_EQ(resized.size(1), im.at("sam_resize_hw")[1].get<int64_t>());
    const at::Tensor input = sam_input_from_resized(resized);
    // The input itself: its sum and absolute sum are in index.json (float64 sums of the fp32 tensor).
    const double sum = input.to(at::kDouble).sum().item<double>();
    const double abs_sum = input.to(at::kDouble).abs().sum().item<double>();
    EXPECT_NEAR(sum, im.at("sam_input_sum").get<double>(), 1e-6 * std::abs(im.at("sam_input_sum").get<double>()));
    EXPECT_NEAR(abs_sum, im.at("sam_input_abs_sum").get<double>(), 1e-6 * im.at("sam_input_abs_sum").get<double>());

    const at::Tensor got = enc.forward(input);
    const at::Tensor ref = golden_tensor(file, "sam.image_embeddings");
    ASSERT_EQ(got.sizes().vec(), ref.sizes().vec());
    const auto d = compare(got, ref);
    std::printf("[sam] %s image_embeddings max|d| = %.3g (max|ref| %.3g, bound %.3g)\n",
                im.at("image").get<std::string>().c_str(), d.max_abs, d.max_ref, d.bound());
    EXPECT_TRUE(d.ok()) << im.at("image") << ": max|d| " << d.max_abs << " > " << d.bound();
    ++images;
  }
  EXPECT_EQ(images, 2);
}

TEST(SamImageEncoderGolden, WholeSamChainFromTheResizedImageGivesTheGoldenRle) {
  // Resized image → own embeddings → own prompts (text_hidden_fcs on seg.hidden) → decoder → RLE, for the gcg and
  // refseg_tf cases: exact RLE or under 0.02 % mismatching pixels per mask (printed).
  GLAMM_REQUIRE_SHARED(ckpt, "golden/model/tiny-glamm");
  GLAMM_REQUIRE_SHARED(gdir, "golden/model/golden");
  const nlohmann::json index = glamm::io::load_json(gdir / "index.json");
  const auto config = glamm::model::GlammConfig::from_json_file(ckpt / "config.json");
  WeightStore store = WeightStore::open(ckpt);
  const SamImageEncoder enc = SamImageEncoder::load(store);
  const auto prompt = glamm::model::SamPromptEncoder::load(store);
  const auto decoder = glamm::model::SamMaskDecoder::load(store, config.sam_mask_decoder_num_heads);
  const auto fcs = glamm::model::TextHiddenProjection::load(store);
  int masks = 0;
  for (const auto& im : index.at("images")) {
    const std::string image = im.at("image").get<std::string>();
    const at::Tensor emb = enc.forward(
        sam_input_from_resized(golden_tensor(gdir / im.at("file").get<std::string>(), "sam.resized_u8_hwc", true)));
    for (const auto& c : index.at("cases")) {
      const nlohmann::json meta = glamm::io::load_json(gdir / c.at("meta").get<std::string>());
      const std::string task = c.at("task").get<std::string>();
      if (meta.at("image").get<std::string>() != image || (task != "gcg" && task != "refseg_tf")) continue;
      const std::pair<int64_t, int64_t> original{meta.at("original_size_hw")[0], meta.at("original_size_hw")[1]};
      const std::pair<int64_t, int64_t> resized{meta.at("sam_resize_hw")[0], meta.at("sam_resize_hw")[1]};
      const at::Tensor prompts = fcs.forward(golden_tensor(gdir / c.at("tensors").get<std::string>(), "seg.hidden"));
      const auto got = glamm::model::sam_masks_to_rle(
          glamm::model::sam_full_res_logits(prompt, decoder, emb, prompts, resized, original));
      const auto& ref = meta.at("pred_masks_rle");
      ASSERT_EQ(got.size(), ref.size());
      const auto h = static_cast<uint32_t>(original.first), w = static_cast<uint32_t>(original.second);
      for (size_t i = 0; i < got.size(); ++i) {
        const std::string rc = ref[i].at("counts").get<std::string>();
        const auto a = glamm::mask::decode(glamm::mask::from_string(got[i].counts, h, w));
        const auto b = glamm::mask::decode(glamm::mask::from_string(rc, h, w));
        int64_t diff = 0;
        for (size_t k = 0; k < a.size(); ++k) diff += a[k] != b[k];
        std::printf("[sam] whole chain %s mask %zu: %s (%lld of %u pixels differ)\n",
                    c.at("case").get<std::string>().c_str(), i,
                    got[i].counts == rc ? "RLE exactly equal" : "RLE differs", static_cast<long long>(diff), h * w);
        EXPECT_LT(static_cast<double>(diff) / (static_cast<double>(h) * w), 0.0002) << c.at("case") << " mask " << i;
        ++masks;
      }
    }
  }
  EXPECT_EQ(masks, 8);
}

// bf16 compute (the official run's model.bfloat16() and image.bfloat16()): the image embeddings and the whole
// mask chain (text_hidden_fcs → prompt encoder → mask decoder → post-processing) follow the fp32 golden reference
// within bf16 precision; every mask's IoU with the reference is printed.
TEST(SamImageEncoderGolden, Bf16ChainFollowsTheFp32Reference) {
  GLAMM_REQUIRE_SHARED(ckpt, "golden/model/tiny-glamm");
  GLAMM_REQUIRE_SHARED(gdir, "golden/model/golden");
  const nlohmann::json index = glamm::io::load_json(gdir / "index.json");
  const auto config = glamm::model::GlammConfig::from_json_file(ckpt / "config.json");
  WeightStore store = WeightStore::open(ckpt);
  SamImageEncoder enc = SamImageEncoder::load(store);
  auto prompt = glamm::model::SamPromptEncoder::load(store);
  auto decoder = glamm::model::SamMaskDecoder::load(store, config.sam_mask_decoder_num_heads);
  auto fcs = glamm::model::TextHiddenProjection::load(store);
  enc.set_compute_dtype(at::kBFloat16);
  prompt.set_compute_dtype(at::kBFloat16);
  decoder.set_compute_dtype(at::kBFloat16);
  fcs.set_compute_dtype(at::kBFloat16);
  EXPECT_EQ(prompt.dense_pe(64, 64).scalar_type(), at::kBFloat16);
  int masks = 0;
  for (const auto& im : index.at("images")) {
    const std::string image = im.at("image").get<std::string>();
    const fs::path file = gdir / im.at("file").get<std::string>();
    const at::Tensor emb = enc.forward(sam_input_from_resized(golden_tensor(file, "sam.resized_u8_hwc", true)));
    ASSERT_EQ(emb.scalar_type(), at::kBFloat16);
    const at::Tensor a = emb.to(at::kFloat).flatten(), b = golden_tensor(file, "sam.image_embeddings").flatten();
    const double cosine = ((a * b).sum() / (a.norm() * b.norm())).item<double>();
    std::printf("[sam bf16] %s image embeddings: cosine with fp32 %.6f\n", image.c_str(), cosine);
    EXPECT_GT(cosine, 0.999) << image;
    for (const auto& c : index.at("cases")) {
      const nlohmann::json meta = glamm::io::load_json(gdir / c.at("meta").get<std::string>());
      const std::string task = c.at("task").get<std::string>();
      if (meta.at("image").get<std::string>() != image || (task != "gcg" && task != "refseg_tf")) continue;
      const std::pair<int64_t, int64_t> original{meta.at("original_size_hw")[0], meta.at("original_size_hw")[1]};
      const std::pair<int64_t, int64_t> resized{meta.at("sam_resize_hw")[0], meta.at("sam_resize_hw")[1]};
      const at::Tensor prompts = fcs.forward(golden_tensor(gdir / c.at("tensors").get<std::string>(), "seg.hidden"));
      const auto got = glamm::model::sam_masks_to_rle(
          glamm::model::sam_full_res_logits(prompt, decoder, emb, prompts, resized, original));
      const auto& ref = meta.at("pred_masks_rle");
      ASSERT_EQ(got.size(), ref.size());
      const auto h = static_cast<uint32_t>(original.first), w = static_cast<uint32_t>(original.second);
      for (size_t i = 0; i < got.size(); ++i, ++masks) {
        const auto pa = glamm::mask::decode(glamm::mask::from_string(got[i].counts, h, w));
        const auto pb = glamm::mask::decode(glamm::mask::from_string(ref[i].at("counts").get<std::string>(), h, w));
        std::size_t inter = 0, uni = 0;
        for (std::size_t k = 0; k < pa.size(); ++k) {
          inter += pa[k] && pb[k];
          uni += pa[k] || pb[k];
        }
        const double iou = uni ? static_cast<double>(inter) / static_cast<double>(uni) : 1.0;
        std::printf("[sam bf16] %s mask %zu: IoU with fp32 %.5f (%zu of %zu pixels in the union differ)\n",
                    c.at("case").get<std::string>().c_str(), i, iou, uni - inter, uni);
        EXPECT_GT(iou, 0.95) << c.at("case") << " mask " << i;
      }
    }
  }
  EXPECT_EQ(masks, 8);
}
