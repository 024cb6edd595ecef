// RoIAlign kernel (model/roi_align.h) on tiny feature maps with hand-computed values: boxes inside, touching and
// crossing the borders, fully outside, zero-area and inverted boxes, spatial scale, channels.
// Expected values follow the torchvision/mmcv aligned rules (glamm-model.md §6.2); the feature maps are affine
// in (y, x) so that interior bilinear samples are exact and the border rules show up as clean numbers.
// Then the ATen formulation (model/roi_align_aten.h) against that kernel, bit for bit, and the region encoder's
// roi_align wrapper that chooses between them.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "model/region_encoder.h"
#include "model/roi_align.h"
#include "model/roi_align_aten.h"

using glamm::model::roi_align_aten;
using glamm::model::roi_align_chw;
using glamm::model::RoiAlignParams;

namespace {

/// A 1×H×W map with f(y, x) = 1 + 10·y + x.
std::vector<float> affine_map(int h, int w) {
  std::vector<float> f(static_cast<std::size_t>(h) * w);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) f[static_cast<std::size_t>(y) * w + x] = 1.0f + 10.0f * y + x;
  return f;
}

RoiAlignParams pooled2(double scale = 1.0) {
  RoiAlignParams p;
  p.pooled_height = p.pooled_width = 2;
  p.sampling_ratio = 2;
  p.spatial_scale = scale;
  p.aligned = true;
  return p;
}

/// RoIAlign of one box over the 4×4 affine map with a 2×2 output.
std::vector<float> run4x4(float x1, float y1, float x2, float y2, double scale = 1.0) {
  const auto f = affine_map(4, 4);
  const float roi[4] = {x1, y1, x2, y2};
  std::vector<float> out(4, -999.f);
  roi_align_chw(f.data(), 1, 4, 4, roi, pooled2(scale), out.data());
  return out;
}

void expect_bins(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k) EXPECT_FLOAT_EQ(got[k], want[k]) << "bin " << k;
}

}  // namespace

TEST(RoiAlign, InteriorBoxAveragesFourSamplesPerBin) {
  // (1,1,3,3): start 0.5, bin 1, samples 0.75/1.25 and 1.75/2.25 → bin means y,x ∈ {1, 2}.
  expect_bins(run4x4(1, 1, 3, 3), {1 + 10 + 1, 1 + 10 + 2, 1 + 20 + 1, 1 + 20 + 2});
}

TEST(RoiAlign, BoxTouchingTopLeftBorderClampsNegativeSamplesToZero) {
  // (0,0,2,2): start −0.5, samples −0.25 (→ 0) and 0.25, then 0.75 and 1.25.
  // Bin (0,0): y mean 0.125, x mean 0.125 → 1 + 1.25 + 0.125.
  expect_bins(run4x4(0, 0, 2, 2), {2.375f, 1 + 1.25f + 1, 1 + 10 + 0.125f, 1 + 10 + 1});
}

TEST(RoiAlign, BoxCrossingBottomRightBorderDropsSamplesBeyondTheMap) {
  // (2,2,6,6) on a 4×4 map: start 1.5, bin 2, samples 2, 3 | 4, 5. Sample 4 (= W) is kept and clamped to the
  // last pixel 3; sample 5 (> W) contributes 0 but still counts in the average of 4.
  // Bin (0,0): f at y,x ∈ {2,3} → mean 1 + 25 + 2.5 = 28.5.
  // Bin (0,1): (2,4→3) 24, (2,5) 0, (3,4→3) 34, (3,5) 0 → 58/4.
  // Bin (1,0): (4→3,2) 33, (4→3,3) 34, row 5 out → 67/4.  Bin (1,1): only (4→3,4→3) 34 → 34/4.
  expect_bins(run4x4(2, 2, 6, 6), {28.5f, 14.5f, 16.75f, 8.5f});
}

TEST(RoiAlign, SampleInsideLastHalfPixelUsesTheLastPixelNotZeroPadding) {
  // (3,3,4,4): start 2.5, bin 0.5, samples 2.625, 2.875 | 3.125, 3.375. Samples ≥ 3 (= size−1) clamp to 3,
  // unlike grid_sample with zero padding. Bin (1,1) = f(3,3) = 34; bin (0,0) = f(2.75, 2.75) = 1+27.5+2.75.
  expect_bins(run4x4(3, 3, 4, 4), {31.25f, 1 + 27.5f + 3, 1 + 30 + 2.75f, 34});
}

TEST(RoiAlign, SamplesBetweenMinusOneAndZeroReadTheFirstPixel) {
  // (−1,−1,0,0): start −1.5, bin 0.5, samples −1.375, −1.125 (< −1: 0) | −0.875, −0.625 (→ 0).
  // Bin (1,1): four samples of f(0,0) = 1; bins touching the first half contribute only their in-range samples.
  expect_bins(run4x4(-1, -1, 0, 0), {0, 0, 0, 1});
}

TEST(RoiAlign, BoxFullyOutsideGivesZeros) {
  expect_bins(run4x4(10, 10, 12, 12), {0, 0, 0, 0});
  expect_bins(run4x4(-6, -6, -3, -3), {0, 0, 0, 0});
  expect_bins(run4x4(-6, 1, -3, 3), {0, 0, 0, 0});  // outside along x only
}

TEST(RoiAlign, ZeroAreaBoxIsNotWidenedWhenAligned) {
  // (1,1,1,1): start = end = 0.5, bin 0: every sample is f(0.5, 0.5) = 1 + 5 + 0.5.
  expect_bins(run4x4(1, 1, 1, 1), {6.5f, 6.5f, 6.5f, 6.5f});
  // Zero width only: x fixed at 0.5, y as in the interior box.
  expect_bins(run4x4(1, 1, 1, 3), {1 + 10 + 0.5f, 1 + 10 + 0.5f, 1 + 20 + 0.5f, 1 + 20 + 0.5f});
}

TEST(RoiAlign, InvertedBoxSamplesBackwards) {
  // x1 > x2: start_x 2.5, bin −1, samples 2.25, 1.75 | 1.25, 0.75 → bin x means 2 then 1 (no swap, no clamp).
  expect_bins(run4x4(3, 1, 1, 3), {1 + 10 + 2, 1 + 10 + 1, 1 + 20 + 2, 1 + 20 + 1});
}

TEST(RoiAlign, SpatialScaleAppliesBeforeTheHalfPixelShift) {
  // (2,2,6,6)·0.5 = (1,1,3,3) → the interior case.
  expect_bins(run4x4(2, 2, 6, 6, 0.5), {12, 13, 22, 23});
}

TEST(RoiAlign, NotAlignedWidensBoxesToOnePixel) {
  // aligned=False: no −0.5 shift and roi size ≥ 1. (1,1,1,1): start 1, size 1, bin 0.5, samples
  // 1.125/1.375 and 1.625/1.875 → bin means 1.25 and 1.75.
  const auto f = affine_map(4, 4);
  const float roi[4] = {1, 1, 1, 1};
  auto p = pooled2();
  p.aligned = false;
  std::vector<float> out(4);
  roi_align_chw(f.data(), 1, 4, 4, roi, p, out.data());
  expect_bins(out, {1 + 12.5f + 1.25f, 1 + 12.5f + 1.75f, 1 + 17.5f + 1.25f, 1 + 17.5f + 1.75f});
}

TEST(RoiAlign, ChannelsAreIndependentPlanes) {
  // Channel 1 = −channel 0 + 100.
  auto f = affine_map(4, 4);
  const std::size_t n = f.size();
  for (std::size_t k = 0; k < n; ++k) f.push_back(100.f - f[k]);
  const float roi[4] = {2, 2, 6, 6};
  std::vector<float> out(8);
  roi_align_chw(f.data(), 2, 4, 4, roi, pooled2(), out.data());
  // Channel 1 border bins: zero contributions stay zero, so e.g. bin (1,1) = (100 − 34)/4.
  expect_bins(out, {28.5f, 14.5f, 16.75f, 8.5f, 71.5f, (76 + 66) / 4.f, (67 + 66) / 4.f, 66 / 4.f});
}

TEST(RoiAlign, NonSquareMapAndDefaultFourteenBins) {
  // 3×5 map, 14×14 output, scale 1/2: box (0,0,10,6) covers the whole map: start −0.5, bins 5/14 and 3/14
  // wide. The first bin's samples lie in [−0.5, 0) on both axes → all read f(0,0) = 1; the last bin's samples
  // are all ≥ size−1 → f(2,4) = 25. A middle bin samples the interior exactly (affine map).
  const auto f = affine_map(3, 5);
  const float roi[4] = {0, 0, 10, 6};
  RoiAlignParams p;  // defaults: 14×14, ratio 2, aligned
  p.spatial_scale = 0.5;
  std::vector<float> out(14 * 14);
  roi_align_chw(f.data(), 1, 3, 5, roi, p, out.data());
  EXPECT_FLOAT_EQ(out[0], 1.f);
  EXPECT_FLOAT_EQ(out[14 * 14 - 1], 25.f);
  // Bin (7, 7): y centre −0.5 + 7.5·3/14, x centre −0.5 + 7.5·5/14 (both inside, exact bilinear).
  const double yc = -0.5 + 7.5 * 3.0 / 14, xc = -0.5 + 7.5 * 5.0 / 14;
  EXPECT_NEAR(out[7 * 14 + 7], 1 + 10 * yc + xc, 2e-5);
}

TEST(RoiAlign, RejectsEmptyMapsAndNullPointers) {
  const auto f = affine_map(2, 2);
  const float roi[4] = {0, 0, 1, 1};
  std::vector<float> out(4);
  EXPECT_THROW(roi_align_chw(f.data(), 1, 0, 2, roi, pooled2(), out.data()), std::invalid_argument);
  EXPECT_THROW(roi_align_chw(f.data(), 0, 2, 2, roi, pooled2(), out.data()), std::invalid_argument);
  EXPECT_THROW(roi_align_chw(nullptr, 1, 2, 2, roi, pooled2(), out.data()), std::invalid_argument);
  auto p = pooled2();
  p.pooled_width = 0;
  EXPECT_THROW(roi_align_chw(f.data(), 1, 2, 2, roi, p, out.data()), std::invalid_argument);
}

TEST(RoiAlign, NanCoordinatesContributeZeroInsteadOfReadingOutOfBounds) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  expect_bins(run4x4(nan, 1, 3, 3), {0, 0, 0, 0});
}

// ---- ATen formulation (model/roi_align_aten.h) against the kernel -------------------------------------------------
// roi_align_aten must give the kernel's float32 results bit for bit on any map and RoI: random maps, non-square maps
// and pooled sizes, RoIs inside, across and outside every border, zero-area, inverted, at exact borders, on several
// images of the batch, at GLaMM's four spatial scales, aligned or not, sampling ratio 2 or adaptive.

namespace {

/// roi_align_chw over every RoI of a [n, 5] table (batch index, x1, y1, x2, y2): the oracle.
at::Tensor kernel_reference(const at::Tensor& feature, const at::Tensor& rois, const RoiAlignParams& p) {
  const at::Tensor f = feature.to(at::kCPU, at::kFloat).contiguous();
  const at::Tensor r = rois.to(at::kCPU, at::kFloat).contiguous();
  const int64_t C = f.size(1), H = f.size(2), W = f.size(3), n = r.size(0);
  at::Tensor out = at::empty({n, C, p.pooled_height, p.pooled_width}, at::kFloat);
  const float* rp = r.data_ptr<float>();
  for (int64_t k = 0; k < n; ++k) {
    const auto b = static_cast<int64_t>(rp[k * 5]);
    roi_align_chw(f.data_ptr<float>() + b * C * H * W, C, H, W, rp + k * 5 + 1, p,
                  out.data_ptr<float>() + k * C * p.pooled_height * p.pooled_width);
  }
  return out;
}

/// Same shape, dtype and bits (as float32; any NaN matches any NaN). On failure: how many values differ, the
/// first few with their bit patterns, and the largest difference.
::testing::AssertionResult same_bits(const at::Tensor& got_in, const at::Tensor& want_in) {
  if (got_in.sizes() != want_in.sizes() || got_in.scalar_type() != want_in.scalar_type()) {
    return ::testing::AssertionFailure() << "got " << got_in.sizes() << " " << got_in.scalar_type() << ", want "
                                         << want_in.sizes() << " " << want_in.scalar_type();
  }
  const at::Tensor got = got_in.to(at::kCPU, at::kFloat).contiguous().reshape({-1});
  const at::Tensor want = want_in.to(at::kCPU, at::kFloat).contiguous().reshape({-1});
  const float* g = got.data_ptr<float>();
  const float* w = want.data_ptr<float>();
  int64_t differ = 0;
  double worst = 0;
  std::ostringstream first;
  for (int64_t i = 0; i < got.numel(); ++i) {
    if (std::isnan(g[i]) && std::isnan(w[i])) continue;
    uint32_t gb, wb;
    std::memcpy(&gb, &g[i], 4);
    std::memcpy(&wb, &w[i], 4);
    if (gb == wb) continue;
    if (differ++ < 5) {
      first << "\n  [" << i << "] got " << g[i] << " (0x" << std::hex << gb << "), want " << w[i] << " (0x" << wb
            << std::dec << ")";
    }
    worst = std::max(worst, std::abs(static_cast<double>(g[i]) - w[i]));
  }
  if (differ == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << differ << " of " << got.numel() << " values differ (max |diff| " << worst
                                       << "):" << first.str();
}

/// The RoIs of the exactness tests, for a map of H×W at `scale`: given in feature pixels, stored in input
/// coordinates (pixels / scale), batch index k mod B.
at::Tensor roi_table(int64_t B, int64_t H, int64_t W, double scale, uint64_t seed) {
  const double h = static_cast<double>(H), w = static_cast<double>(W);
  std::vector<std::array<double, 4>> px = {
      // inside
      {2, 1, w - 3, h - 2}, {w * 0.3, h * 0.1, w * 0.35, h * 0.9}, {w * 0.45, h * 0.45, w * 0.55, h * 0.52},
      {1.25, 2.75, 3.5, 4.125},
      // partly outside, across each border and all of them
      {-3, 1, w * 0.4, h * 0.5}, {w * 0.7, h * 0.6, w + 4, h + 3}, {w * 0.5, -2.5, w * 0.8, h * 0.2},
      {-w * 0.5, -h * 0.5, w * 1.5, h * 1.5}, {1, h - 1.5, w - 1, h + 0.75},
      // fully outside: right, below, above-left, far away, and in the band (−1, 0) next to the map
      {w + 1.5, 1, w + 6, h - 1}, {1, h + 2, w - 1, h + 9}, {-9, -8, -3, -2.5}, {-40, -30, -20, -10},
      {-0.9, 1, -0.1, h - 1}, {1, -0.75, w - 1, -0.25},
      // exact borders (aligned shifts them by −0.5, so both the pixel and the half-pixel grid are covered)
      {0, 0, w, h}, {0.5, 0.5, w - 0.5, h - 0.5}, {-1, -1, 0, 0}, {w - 1, h - 1, w + 1, h + 1}, {w, 0, w + 2, h},
      {-2, 0, -1, h}, {-1.5, -1.5, w + 1.5, h + 1.5}, {w - 0.5, h - 0.5, w + 0.5, h + 0.5}, {0, 0, 1, 1},
      // zero area, zero width, zero height
      {3, 3, 3, 3}, {2, 1, 2, h - 1}, {1, 4, w - 1, 4}, {w, h, w, h}, {0, 0, 0, 0},
      // inverted along x, y, both
      {w - 2, 1, 2, h - 1}, {1, h - 2, w - 1, 2}, {w - 1, h - 1, 1, 1}, {w + 2, h + 2, -2, -2},
  };
  // Random corners over [−0.3, 1.3] of the map (some inverted by chance).
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const at::Tensor u = at::rand({24, 4}, gen, at::kDouble).mul(1.6).sub(0.3);
  for (int64_t k = 0; k < u.size(0); ++k) {
    px.push_back({u[k][0].item<double>() * w, u[k][1].item<double>() * h, u[k][2].item<double>() * w,
                  u[k][3].item<double>() * h});
  }
  at::Tensor rois = at::empty({static_cast<int64_t>(px.size()), 5}, at::kFloat);
  for (std::size_t k = 0; k < px.size(); ++k) {
    rois[k][0] = static_cast<float>(static_cast<int64_t>(k) % B);
    for (int j = 0; j < 4; ++j) rois[k][j + 1] = static_cast<float>(px[k][j] / scale);
  }
  return rois;
}

RoiAlignParams params(int ph, int pw, int ratio, double scale, bool aligned) {
  RoiAlignParams p;
  p.pooled_height = ph;
  p.pooled_width = pw;
  p.sampling_ratio = ratio;
  p.spatial_scale = scale;
  p.aligned = aligned;
  return p;
}

const double kGlammScales[4] = {8.0 / 14, 4.0 / 14, 2.0 / 14, 1.0 / 14};

}  // namespace

TEST(RoiAlignAten, Float32IsBitExactWithTheKernelOverScalesAlignmentAndSampling) {
  // A non-square batch of 3 random maps; every scale × aligned × sampling ratio (2, adaptive 0 and −1) × pooled
  // size (14×14 and a non-square 3×5).
  at::Generator gen = at::detail::createCPUGenerator(20240416);
  const at::Tensor maps = at::randn({3, 5, 17, 29}, gen, at::kFloat);
  int64_t configs = 0, nonzero = 0;
  for (double scale : kGlammScales) {
    const at::Tensor rois = roi_table(3, 17, 29, scale, 7);
    for (bool aligned : {true, false}) {
      for (int ratio : {2, 0, -1}) {
        for (auto [ph, pw] : {std::pair{14, 14}, std::pair{3, 5}}) {
          const RoiAlignParams p = params(ph, pw, ratio, scale, aligned);
          SCOPED_TRACE("scale " + std::to_string(scale) + (aligned ? " aligned" : " not aligned") + " ratio " +
                       std::to_string(ratio) + " pooled " + std::to_string(ph) + "x" + std::to_string(pw));
          const at::Tensor want = kernel_reference(maps, rois, p);
          EXPECT_TRUE(same_bits(roi_align_aten(maps, rois, p), want));
          nonzero += want.ne(0).sum().item<int64_t>();
          ++configs;
        }
      }
    }
  }
  EXPECT_EQ(configs, 48);
  EXPECT_GT(nonzero, 48 * 1000);  // the comparisons are about real values, not zeros
}

TEST(RoiAlignAten, Float32IsBitExactOnGlammSizedLevels) {
  // GLaMM's geometry: square levels 192, 96, 48, 24 at scales 8/14 … 1/14, RoIs = normalised box × 224, 14×14
  // bins, ratio 2, aligned (C reduced to 6); two images so that the batch index matters.
  at::Generator gen = at::detail::createCPUGenerator(99);
  const int64_t sizes[4] = {192, 96, 48, 24};
  at::Tensor boxes = at::rand({12, 4}, gen, at::kFloat).mul(1.2).sub(0.1).mul(224);
  boxes[0] = at::tensor({0.f, 0.f, 224.f, 224.f});
  boxes[1] = at::tensor({100.f, 50.f, 100.f, 50.f});
  const at::Tensor batch = at::arange(12, at::kFloat).remainder(2).unsqueeze(1);
  const at::Tensor rois = at::cat({batch, boxes}, 1);
  for (int l = 0; l < 4; ++l) {
    const at::Tensor maps = at::randn({2, 6, sizes[l], sizes[l]}, gen, at::kFloat);
    const RoiAlignParams p = params(14, 14, 2, kGlammScales[l], true);
    EXPECT_TRUE(same_bits(roi_align_aten(maps, rois, p), kernel_reference(maps, rois, p))) << "level " << l;
  }
}

TEST(RoiAlignAten, NonContiguousMapsAndRoisGiveTheSameBits) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const at::Tensor maps = at::randn({2, 4, 11, 7}, gen, at::kFloat);
  const at::Tensor rois = roi_table(2, 11, 7, 0.5, 11);
  const RoiAlignParams p = params(6, 4, 0, 0.5, true);
  const at::Tensor want = kernel_reference(maps, rois, p);
  EXPECT_TRUE(same_bits(roi_align_aten(maps.contiguous(at::MemoryFormat::ChannelsLast), rois, p), want));
  const at::Tensor wide = at::randn({2, 4, 11, 14}, gen, at::kFloat);
  wide.slice(3, 0, 14, 2).copy_(maps);  // a strided view holding the same map
  const at::Tensor rois_t = rois.t().contiguous().t();
  EXPECT_TRUE(same_bits(roi_align_aten(wide.slice(3, 0, 14, 2), rois_t, p), want));
  EXPECT_TRUE(same_bits(roi_align_aten(maps, rois.to(at::kDouble), p), want));  // RoIs are used as float32
}

TEST(RoiAlignAten, ValueUnderAnOutOfRangeSampleSpreadsAsInTheKernel) {
  // The kernel's out-of-range sample reads offset 0 of its plane with weight 0: 0·inf = NaN reaches the bins
  // whose samples leave the map (inside RoIs stay finite). The ATen path reproduces this.
  at::Tensor maps = at::rand({1, 2, 5, 6});
  maps[0][1][0][0] = std::numeric_limits<float>::infinity();
  const at::Tensor rois = at::tensor({0.f, 7.f, 1.f, 9.f, 4.f, 0.f, 2.f, 2.f, 4.f, 4.f}).reshape({2, 5});
  const RoiAlignParams p = params(2, 2, 2, 1.0, true);
  const at::Tensor want = kernel_reference(maps, rois, p);
  EXPECT_TRUE(want[0][1].isnan().any().item<bool>());
  EXPECT_FALSE(want[1].isnan().any().item<bool>());
  EXPECT_TRUE(same_bits(roi_align_aten(maps, rois, p), want));
}

TEST(RoiAlignAten, NanCoordinatesContributeZeroAndNoSampleGivesZeros) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const at::Tensor maps = at::rand({1, 3, 4, 4}) + 1;
  const at::Tensor rois = at::tensor({0.f, nan, 1.f, 3.f, 3.f, 0.f, 1.f, 1.f, 3.f, nan}).reshape({2, 5});
  const RoiAlignParams p = params(2, 2, 2, 1.0, true);
  const at::Tensor got = roi_align_aten(maps, rois, p);
  EXPECT_TRUE(same_bits(got, kernel_reference(maps, rois, p)));
  EXPECT_TRUE(at::equal(got, at::zeros_like(got)));
  // Adaptive grids of inverted / zero-area aligned boxes are ≤ 0: nothing is sampled, every bin is 0.
  const at::Tensor flat = at::tensor({0.f, 3.f, 3.f, 1.f, 1.f, 0.f, 2.f, 2.f, 2.f, 2.f}).reshape({2, 5});
  const RoiAlignParams adaptive = params(2, 2, 0, 1.0, true);
  EXPECT_TRUE(same_bits(roi_align_aten(maps, flat, adaptive), at::zeros({2, 3, 2, 2})));
  EXPECT_TRUE(same_bits(kernel_reference(maps, flat, adaptive), at::zeros({2, 3, 2, 2})));
  // No RoIs: [0, C, PH, PW].
  EXPECT_EQ(roi_align_aten(maps, at::zeros({0, 5}), p).sizes().vec(), (std::vector<int64_t>{0, 3, 2, 2}));
}

TEST(RoiAlignAten, Bfloat16MapIsComputedInFloat32AndRoundedOnce) {
  // A bf16 map: the result is bf16, equal to the kernel on the (exactly) up-cast map rounded to bf16. Against the
  // float32 result on the original map, the error is at most the map's rounding (≤ 2⁻⁹·max|f|: the bilinear
  // weights of a bin sum to ≤ 1) plus the result's rounding (≤ 2⁻⁹·|out| ≤ 2⁻⁹·max|f|): tolerance 2⁻⁸·max|f|.
  // bf16 coordinates (8 significant bits) would be off by up to half a pixel and fail this by far.
  at::Generator gen = at::detail::createCPUGenerator(5);
  const at::Tensor maps = at::randn({2, 4, 48, 40}, gen, at::kFloat);
  const at::Tensor maps16 = maps.to(at::kBFloat16);
  const double tol = std::ldexp(maps.abs().max().item<double>(), -8);
  for (double scale : kGlammScales) {
    for (int ratio : {2, 0}) {
      const at::Tensor rois = roi_table(2, 48, 40, scale, 13);
      const RoiAlignParams p = params(14, 14, ratio, scale, true);
      SCOPED_TRACE("scale " + std::to_string(scale) + " ratio " + std::to_string(ratio));
      const at::Tensor got = roi_align_aten(maps16, rois, p);
      ASSERT_EQ(got.scalar_type(), at::kBFloat16);
      EXPECT_TRUE(same_bits(got, kernel_reference(maps16.to(at::kFloat), rois, p).to(at::kBFloat16)));
      const double err = (got.to(at::kFloat) - kernel_reference(maps, rois, p)).abs().max().item<double>();
      EXPECT_LE(err, tol);
      EXPECT_GT(err, 0.0);  // bf16 does change the values: the comparison is not vacuous
    }
  }
}

TEST(RoiAlignAten, Float16AndFloat64Maps) {
  at::Generator gen = at::detail::createCPUGenerator(8);
  const at::Tensor maps = at::randn({2, 3, 20, 13}, gen, at::kFloat);
  const at::Tensor rois = roi_table(2, 20, 13, 4.0 / 14, 17);
  const RoiAlignParams p = params(7, 7, 0, 4.0 / 14, true);
  const at::Tensor half = maps.to(at::kHalf);
  EXPECT_TRUE(same_bits(roi_align_aten(half, rois, p), kernel_reference(half, rois, p).to(at::kHalf)));
  // float64 is computed in float64: close to, not equal to, float32.
  const at::Tensor d = roi_align_aten(maps.to(at::kDouble), rois, p);
  ASSERT_EQ(d.scalar_type(), at::kDouble);
  EXPECT_TRUE(at::allclose(d, kernel_reference(maps, rois, p).to(at::kDouble), 1e-5, 1e-5));
}

TEST(RoiAlignAten, RejectsBadInput) {
  const at::Tensor maps = at::rand({2, 3, 4, 4});
  const RoiAlignParams p = params(2, 2, 2, 1.0, true);
  auto rois = [](float b) { return at::tensor({b, 0.f, 0.f, 2.f, 2.f}).reshape({1, 5}); };
  EXPECT_THROW(roi_align_aten(maps, rois(2), p), std::invalid_argument);
  EXPECT_THROW(roi_align_aten(maps, rois(-1), p), std::invalid_argument);
  EXPECT_THROW(roi_align_aten(maps, rois(0.5f), p), std::invalid_argument);
  EXPECT_THROW(roi_align_aten(maps, rois(std::numeric_limits<float>::quiet_NaN()), p), std::invalid_argument);
  EXPECT_NO_THROW(roi_align_aten(maps, rois(1), p));
  EXPECT_THROW(roi_align_aten(maps[0], rois(0), p), std::invalid_argument);
  EXPECT_THROW(roi_align_aten(maps, at::zeros({1, 4}), p), std::invalid_argument);
  EXPECT_THROW(roi_align_aten(at::zeros({1, 3, 4, 4}, at::kInt), rois(0), p), std::invalid_argument);
  EXPECT_THROW(roi_align_aten(at::zeros({1, 3, 0, 4}), rois(0), p), std::invalid_argument);
  EXPECT_THROW(roi_align_aten(maps, rois(0), params(0, 2, 2, 1.0, true)), std::invalid_argument);
}

TEST(RoiAlignAten, RegionEncoderWrapperKeepsTheKernelForFloat32CpuMapsAndTheDtypeOtherwise) {
  // glamm::model::roi_align: float32 CPU maps → the kernel (float32 out); a bf16 map → the ATen path (bf16 out,
  // the kernel's values rounded once). Both give the reference values.
  at::Generator gen = at::detail::createCPUGenerator(21);
  const at::Tensor maps = at::randn({2, 3, 24, 24}, gen, at::kFloat);
  const at::Tensor rois = roi_table(2, 24, 24, 1.0 / 14, 23);
  const RoiAlignParams p = params(14, 14, 2, 1.0 / 14, true);
  const at::Tensor want = kernel_reference(maps, rois, p);
  EXPECT_TRUE(same_bits(glamm::model::roi_align(maps, rois, 1.0 / 14), want));
  const at::Tensor b16 = glamm::model::roi_align(maps.to(at::kBFloat16), rois, 1.0 / 14);
  EXPECT_TRUE(same_bits(b16, kernel_reference(maps.to(at::kBFloat16), rois, p).to(at::kBFloat16)));
  EXPECT_THROW(glamm::model::roi_align(maps.to(at::kBFloat16), rois.index_fill(1, at::tensor({int64_t{0}}), 2.f),
                                       1.0 / 14),
               glamm::InputError);
}

TEST(RoiAlignAten, CudaMapGivesTheKernelsBits) {
  // The device-agnostic claim, checked where a GPU is present: the same maps and RoIs on CUDA, float32, every
  // sampling mode and alignment at the four GLaMM scales.
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device in this build or machine";
  at::Generator gen = at::detail::createCPUGenerator(31);
  const at::Tensor maps = at::randn({3, 5, 17, 29}, gen, at::kFloat);
  const at::Tensor maps_gpu = maps.to(at::kCUDA);
  for (double scale : kGlammScales) {
    const at::Tensor rois = roi_table(3, 17, 29, scale, 7);
    for (bool aligned : {true, false}) {
      for (int ratio : {2, 0}) {
        const RoiAlignParams p = params(14, 14, ratio, scale, aligned);
        SCOPED_TRACE("scale " + std::to_string(scale) + (aligned ? " aligned" : " not aligned") + " ratio " +
                     std::to_string(ratio));
        const at::Tensor got = roi_align_aten(maps_gpu, rois.to(at::kCUDA), p);
        ASSERT_TRUE(got.is_cuda());
        EXPECT_TRUE(same_bits(got, kernel_reference(maps, rois, p)));
        EXPECT_TRUE(same_bits(glamm::model::roi_align(maps_gpu, rois, scale, 14, ratio, aligned).cpu(),
                              kernel_reference(maps, rois, p)));
      }
    }
  }
}
