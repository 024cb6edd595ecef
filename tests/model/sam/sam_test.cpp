// SAM building blocks on small hand-made cases: the mask threshold (logit exactly 0 is background), RLE of a
// hand mask, window partition/unpartition with padding, LayerNorm2d, the relative-position index table, the
// dense positional encoding, post-processing sizes, and the shape checks of the encoder and decoder.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "model/sam_image_encoder.h"
#include "model/sam_mask_decoder.h"

using namespace glamm::model;

TEST(SamThreshold, ExactZeroIsBackgroundAndPositiveIsForeground) {
  const at::Tensor logits = at::tensor({0.0f, 0.3f, -0.3f, -0.0f, 1e-30f, -1e-30f});
  const at::Tensor m = sam_binary_mask(logits);
  ASSERT_EQ(m.scalar_type(), at::kBool);
  const std::vector<bool> expected{false, true, false, false, true, false};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(m[static_cast<int64_t>(i)].item<bool>(), expected[i]) << i;
}

TEST(SamThreshold, RleOfHandMaskIsColumnMajorWithZeroAtThreshold) {
  // logits (2 rows × 3 columns)      binary          column-major: 0 1 | 1 0 | 0 0
  //   0.0  0.3  -1                    0 1 0           runs: 1 zero, 2 ones, 3 zeros → "123"
  //   0.3  0.0   0                    1 0 0
  const at::Tensor logits = at::tensor({0.0f, 0.3f, -1.0f, 0.3f, 0.0f, 0.0f}).view({2, 3});
  const PredictedMask m = sam_mask_to_rle(logits);
  EXPECT_EQ(m.height, 2);
  EXPECT_EQ(m.width, 3);
  EXPECT_EQ(m.counts, "123");
  // First pixel set: counts start with a 0-run of length 0.
  const PredictedMask all = sam_mask_to_rle(at::full({2, 2}, 0.3f));
  EXPECT_EQ(all.counts, "04");
  const PredictedMask none = sam_mask_to_rle(at::zeros({2, 2}));
  EXPECT_EQ(none.counts, "4");
  EXPECT_THROW(sam_mask_to_rle(at::zeros({2})), std::invalid_argument);
}

TEST(SamWindows, PartitionPadsWithZerosAndUnpartitionRestores) {
  const at::Tensor x = at::arange(1, 2 * 5 * 7 * 3 + 1, at::kFloat).view({2, 5, 7, 3});
  std::pair<int64_t, int64_t> padded;
  const at::Tensor win = sam_window_partition(x, 3, padded);
  EXPECT_EQ(padded, (std::pair<int64_t, int64_t>{6, 9}));
  ASSERT_EQ(win.sizes().vec(), (std::vector<int64_t>{2 * 2 * 3, 3, 3, 3}));
  // Window 1 of image 0 = rows 0..2, columns 3..5; window 5 of image 0 = rows 3..5 (row 5 padded), columns 6..8.
  EXPECT_TRUE(at::equal(win[1], x[0].slice(0, 0, 3).slice(1, 3, 6)));
  EXPECT_TRUE(at::equal(win[5].slice(0, 0, 2).slice(1, 0, 1), x[0].slice(0, 3, 5).slice(1, 6, 7)));
  EXPECT_EQ(win[5].slice(0, 2, 3).abs().sum().item<float>(), 0.0f);  // padded row
  EXPECT_EQ(win[5].slice(1, 1, 3).abs().sum().item<float>(), 0.0f);  // padded columns
  // Window 6 is the first of image 1.
  EXPECT_TRUE(at::equal(win[6], x[1].slice(0, 0, 3).slice(1, 0, 3)));
  const at::Tensor back = sam_window_unpartition(win, 3, padded, {5, 7});
  EXPECT_TRUE(at::equal(back, x));
  // No padding needed: a plain reshuffle.
  const at::Tensor y = at::randn({1, 6, 6, 2});
  std::pair<int64_t, int64_t> p2;
  EXPECT_TRUE(at::equal(sam_window_unpartition(sam_window_partition(y, 3, p2), 3, p2, {6, 6}), y));
  EXPECT_THROW(sam_window_unpartition(win.slice(0, 0, 5), 3, padded, {5, 7}), std::invalid_argument);
  EXPECT_THROW(sam_window_partition(x, 0, p2), std::invalid_argument);
}

TEST(SamLayerNorm2d, NormalisesOverChannelsPerPixel) {
  // Pixel (0,0): channels 1, 3 → mean 2, biased variance 1.
  const at::Tensor x = at::tensor({1.0f, 3.0f}).view({1, 2, 1, 1});
  const double eps = 1e-6;
  const at::Tensor y = layer_norm_2d(x, at::tensor({2.0f, 1.0f}), at::tensor({0.5f, 0.0f}), eps);
  EXPECT_NEAR(y[0][0][0][0].item<float>(), -2.0 / std::sqrt(1.0 + eps) + 0.5, 1e-6);
  EXPECT_NEAR(y[0][1][0][0].item<float>(), 1.0 / std::sqrt(1.0 + eps), 1e-6);
  // Same as a channel-last LayerNorm.
  const at::Tensor r = at::randn({2, 5, 3, 4});
  const at::Tensor w = at::randn({5}), b = at::randn({5});
  const at::Tensor ref = at::layer_norm(r.permute({0, 2, 3, 1}), {5}, w, b, eps).permute({0, 3, 1, 2});
  EXPECT_LT((layer_norm_2d(r, w, b, eps) - ref).abs().max().item<float>(), 1e-5);
  EXPECT_THROW(layer_norm_2d(r, at::ones({4}), at::zeros({4}), eps), std::invalid_argument);
}

TEST(SamRelPos, IndexTableIsRowMinusColumnPlusKMinusOne) {
  const at::Tensor rel = at::arange(5, at::kFloat).view({5, 1});  // row r holds value r
  const at::Tensor t = sam_rel_pos_table(3, 3, rel);
  ASSERT_EQ(t.sizes().vec(), (std::vector<int64_t>{3, 3, 1}));
  const float expected[3][3] = {{2, 1, 0}, {3, 2, 1}, {4, 3, 2}};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(t[i][j][0].item<float>(), expected[i][j]) << i << "," << j;
  }
  EXPECT_THROW(sam_rel_pos_table(3, 3, at::zeros({7, 1})), std::invalid_argument);  // would need interpolation
}

TEST(SamPromptEncoder, DensePeIsSinCosOfTheGaussianProjection) {
  // G = [[0.25], [0.5]]: pixel (i, j) of a 1×2 grid has x = (j+0.5)/2, y = 0.5 → 2x−1 = ∓0.5, 2y−1 = 0.
  const SamPromptEncoder pe(at::tensor({0.25f, 0.5f}).view({2, 1}), at::tensor({7.0f, 8.0f}).view({1, 2}));
  const at::Tensor d = pe.dense_pe(1, 2);
  ASSERT_EQ(d.sizes().vec(), (std::vector<int64_t>{1, 2, 1, 2}));
  const double a = 2 * M_PI * 0.25 * 0.5;
  EXPECT_NEAR(d[0][0][0][0].item<float>(), std::sin(-a), 1e-6);
  EXPECT_NEAR(d[0][0][0][1].item<float>(), std::sin(a), 1e-6);
  EXPECT_NEAR(d[0][1][0][0].item<float>(), std::cos(-a), 1e-6);
  const at::Tensor dense = pe.no_mask_dense(3, 2, 2);
  ASSERT_EQ(dense.sizes().vec(), (std::vector<int64_t>{3, 2, 2, 2}));
  EXPECT_EQ(dense[2][1][1][1].item<float>(), 8.0f);
  EXPECT_THROW(SamPromptEncoder(at::zeros({2, 3}), at::zeros({1, 5})), std::invalid_argument);
}

TEST(SamPostprocess, CropsTheResizedAreaAndScalesToTheOriginal) {
  // Low-res logits: left half +1, right half −1. With a resize covering only the left half of the 1024 frame,
  // the whole original image is foreground.
  at::Tensor low = at::full({1, 1, 8, 8}, -1.0f);
  low.slice(3, 0, 4).fill_(1.0f);
  const at::Tensor full = sam_postprocess_masks(low, {1024, 400}, {30, 20});
  ASSERT_EQ(full.sizes().vec(), (std::vector<int64_t>{1, 30, 20}));
  EXPECT_TRUE(sam_binary_mask(full).all().item<bool>());
  const at::Tensor wide = sam_postprocess_masks(low, {1024, 1024}, {16, 16});
  EXPECT_TRUE(sam_binary_mask(wide).slice(2, 0, 8).all().item<bool>());
  EXPECT_FALSE(sam_binary_mask(wide).slice(2, 8, 16).any().item<bool>());
  EXPECT_EQ(sam_postprocess_masks(at::zeros({0, 1, 8, 8}), {10, 10}, {5, 5}).size(0), 0);
  EXPECT_THROW(sam_postprocess_masks(low, {1025, 10}, {5, 5}), std::invalid_argument);
  EXPECT_THROW(sam_postprocess_masks(low, {10, 10}, {0, 5}), std::invalid_argument);
  EXPECT_TRUE(sam_masks_to_rle(at::zeros({0, 4, 4})).empty());
}

namespace {

/// A random SAM ViT: dim 8, head_dim 4 (2 heads), grid 5 (80 px, patch 16), blocks [window 3, global].
SamImageEncoder::Weights tiny_encoder_weights() {
  SamImageEncoder::Weights w;
  const int64_t d = 8, hd = 4, g = 5, out = 6;
  w.patch_w = at::randn({d, 3, 16, 16}) * 0.05;
  w.patch_b = at::randn({d});
  w.pos_embed = at::randn({1, g, g, d});
  for (int64_t rows : {int64_t{5}, 2 * g - 1}) {
    SamImageEncoder::Block b;
    b.norm1_w = at::ones({d});
    b.norm1_b = at::zeros({d});
    b.norm2_w = at::ones({d});
    b.norm2_b = at::zeros({d});
    b.qkv_w = at::randn({3 * d, d}) * 0.3;
    b.qkv_b = at::zeros({3 * d});
    b.proj_w = at::randn({d, d}) * 0.3;
    b.proj_b = at::zeros({d});
    b.rel_pos_h = at::randn({rows, hd});
    b.rel_pos_w = at::randn({rows, hd});
    b.lin1_w = at::randn({4 * d, d}) * 0.3;
    b.lin1_b = at::zeros({4 * d});
    b.lin2_w = at::randn({d, 4 * d}) * 0.3;
    b.lin2_b = at::zeros({d});
    w.blocks.push_back(b);
  }
  w.neck0_w = at::randn({out, d, 1, 1});
  w.neck1_w = at::ones({out});
  w.neck1_b = at::zeros({out});
  w.neck2_w = at::randn({out, out, 3, 3});
  w.neck3_w = at::ones({out});
  w.neck3_b = at::zeros({out});
  return w;
}

}  // namespace

TEST(SamImageEncoder, InfersWindowsAndHeadsFromTheRelPosTables) {
  at::manual_seed(1);
  const SamImageEncoder enc(tiny_encoder_weights());
  EXPECT_EQ(enc.config().heads, 2);
  EXPECT_EQ(enc.config().head_dim, 4);
  EXPECT_EQ(enc.config().window, (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(enc.config().image_size, 80);
  const at::Tensor y = enc.forward(at::randn({1, 3, 80, 80}));
  EXPECT_EQ(y.sizes().vec(), (std::vector<int64_t>{1, 6, 5, 5}));
  EXPECT_TRUE(at::isfinite(y).all().item<bool>());
  EXPECT_THROW(enc.forward(at::randn({1, 3, 64, 64})), std::invalid_argument);
}

TEST(SamImageEncoder, InconsistentShapesNameTheParameter) {
  auto w = tiny_encoder_weights();
  w.blocks[1].rel_pos_w = at::randn({9, 5});
  try {
    SamImageEncoder enc(w);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("blocks.1.attn.rel_pos_w"), std::string::npos) << e.what();
  }
  auto w2 = tiny_encoder_weights();
  w2.blocks[0].rel_pos_h = at::randn({5, 3});  // head_dim 3 does not divide dim 8
  w2.blocks[0].rel_pos_w = at::randn({5, 3});
  EXPECT_THROW(SamImageEncoder enc(w2), std::invalid_argument);
}

TEST(SamMaskDecoder, HeadCountMustDivideTheWidths) {
  SamMaskDecoder::Weights w;
  w.iou_token = at::zeros({1, 32});
  w.mask_tokens = at::zeros({4, 32});
  w.layers.resize(1);
  w.layers[0].lin1_w = at::zeros({64, 32});
  w.final_attn.q_w = at::zeros({16, 32});
  try {
    SamMaskDecoder dec(w, 3);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("sam_mask_decoder_num_heads"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SamMaskDecoder(w, 0), std::invalid_argument);
}
