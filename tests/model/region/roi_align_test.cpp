// RoIAlign kernel (model/roi_align.h) on tiny feature maps with hand-computed values: boxes inside, touching and
// crossing the borders, fully outside, zero-area and inverted boxes, spatial scale, channels.
// Expected values follow the torchvision/mmcv aligned rules (glamm-model.md §6.2); the feature maps are affine
// in (y, x) so that interior bilinear samples are exact and the border rules show up as clean numbers.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "model/roi_align.h"

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
