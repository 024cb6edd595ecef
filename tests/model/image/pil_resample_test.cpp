// Pillow-exact resampling (model/pil_resample.h) on small images whose results were derived by hand from the
// filter definitions (spec glamm-model.md §4.1/§4.2): coefficients, fixed-point rounding, clip8, the two-pass
// order with a uint8 intermediate, skipped passes and 1-pixel images.
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "model/pil_resample.h"

namespace pil = glamm::model::pil;
using pil::Filter;

namespace {

std::vector<uint8_t> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(d(rng));
  return v;
}

}  // namespace

TEST(PilFilter, BicubicKernelWithAMinusHalf) {
  EXPECT_EQ(pil::filter_value(Filter::kBicubic, 0.0), 1.0);
  EXPECT_EQ(pil::filter_value(Filter::kBicubic, 0.25), 0.8671875);    // 1.5·x³ − 2.5·x² + 1
  EXPECT_EQ(pil::filter_value(Filter::kBicubic, -0.75), 0.2265625);
  EXPECT_EQ(pil::filter_value(Filter::kBicubic, 1.0), 0.0);
  EXPECT_EQ(pil::filter_value(Filter::kBicubic, 1.25), -0.0703125);   // −0.5·(x³ − 5x² + 8x − 4)
  EXPECT_EQ(pil::filter_value(Filter::kBicubic, -1.75), -0.0234375);
  EXPECT_EQ(pil::filter_value(Filter::kBicubic, 2.0), 0.0);
  EXPECT_EQ(pil::filter_support(Filter::kBicubic), 2.0);
}

TEST(PilFilter, BilinearTriangle) {
  EXPECT_EQ(pil::filter_value(Filter::kBilinear, 0.0), 1.0);
  EXPECT_EQ(pil::filter_value(Filter::kBilinear, -0.25), 0.75);
  EXPECT_EQ(pil::filter_value(Filter::kBilinear, 1.0), 0.0);
  EXPECT_EQ(pil::filter_support(Filter::kBilinear), 1.0);
}

TEST(PilClip8, FloorsThe22BitAccumulatorAndClamps) {
  EXPECT_EQ(pil::clip8(-1), 0);                       // arithmetic shift: −1 >> 22 = −1 → 0
  EXPECT_EQ(pil::clip8(-(int64_t{300} << 22)), 0);
  EXPECT_EQ(pil::clip8((int64_t{7} << 22) + 5), 7);
  EXPECT_EQ(pil::clip8((int64_t{8} << 22) - 1), 7);   // truncation, not rounding (rounding is the 1<<21 start)
  EXPECT_EQ(pil::clip8((int64_t{255} << 22) + (1 << 22) - 1), 255);
  EXPECT_EQ(pil::clip8(int64_t{256} << 22), 255);
  EXPECT_EQ(pil::clip8(int64_t{639} << 22), 255);
}

TEST(PilCoefficients, BilinearHalvingSupportScaledByTwo) {
  // 4 → 2: scale 2, support 2. Out 0: centre 1, inputs 0..2 at filter(−0.25, 0.25, 0.75) = .75, .75, .25 → 3/7,
  // 3/7, 1/7. Out 1: centre 3, inputs 1..3 → 1/7, 3/7, 3/7. Fixed point: 3/7·2^22 = 1797558.86 → 1797559,
  // 1/7·2^22 = 599186.29 → 599186.
  const auto c = pil::compute_coefficients(4, 0.f, 4.f, 2, Filter::kBilinear);
  EXPECT_EQ(c.ksize, 5);
  EXPECT_EQ(c.first, (std::vector<int>{0, 1}));
  EXPECT_EQ(c.count, (std::vector<int>{3, 3}));
  EXPECT_DOUBLE_EQ(c.weights[0], 3.0 / 7);
  EXPECT_DOUBLE_EQ(c.weights[2], 1.0 / 7);
  EXPECT_EQ(c.fixed[0], 1797559);
  EXPECT_EQ(c.fixed[1], 1797559);
  EXPECT_EQ(c.fixed[2], 599186);
  EXPECT_EQ(c.fixed[3], 0);  // unused taps stay zero
  EXPECT_EQ(c.fixed[5 + 0], 599186);
  EXPECT_EQ(c.fixed[5 + 2], 1797559);
}

TEST(PilCoefficients, BicubicHalvingNegativeLobeRoundsAwayFromZero) {
  // 4 → 2: support 4, out 0 centre 1, inputs 0..3 at filter(−.25, .25, .75, 1.25) = .8671875, .8671875,
  // .2265625, −.0703125 (sum 121/64) → 111/242, 111/242, 29/242, −9/242.
  // Fixed: 1923833.65 → 1923834, 502623.21 → 502623, −155986.51 → −155987 (rounded away from zero).
  const auto c = pil::compute_coefficients(4, 0.f, 4.f, 2, Filter::kBicubic);
  EXPECT_EQ(c.ksize, 9);
  EXPECT_EQ(c.first, (std::vector<int>{0, 0}));
  EXPECT_EQ(c.count, (std::vector<int>{4, 4}));
  EXPECT_DOUBLE_EQ(c.weights[0], 111.0 / 242);
  EXPECT_DOUBLE_EQ(c.weights[3], -9.0 / 242);
  EXPECT_EQ(c.fixed[0], 1923834);
  EXPECT_EQ(c.fixed[1], 1923834);
  EXPECT_EQ(c.fixed[2], 502623);
  EXPECT_EQ(c.fixed[3], -155987);
  EXPECT_EQ(c.fixed[9 + 0], -155987);  // out 1 is the mirror image
  EXPECT_EQ(c.fixed[9 + 3], 1923834);
}

TEST(PilCoefficients, RejectsEmptySpansAndSizes) {
  EXPECT_THROW(pil::compute_coefficients(0, 0.f, 1.f, 1, Filter::kBilinear), std::invalid_argument);
  EXPECT_THROW(pil::compute_coefficients(4, 0.f, 4.f, 0, Filter::kBilinear), std::invalid_argument);
  EXPECT_THROW(pil::compute_coefficients(4, 2.f, 2.f, 1, Filter::kBilinear), std::invalid_argument);
}

TEST(PilResize, Bilinear4x4To2x2WithUint8Intermediate) {
  // Rows: horizontal weights (3,3,1)/7 and (1,3,3)/7:
  //   [10 20 30 40] → 120/7 = 17.14 → 17, 230/7 = 32.86 → 33;  [50..80] → 57, 73;  [90..120] → 97, 113;
  //   [130..160] → 137, 153.
  // Columns of that uint8 image: [17 57 97 137] → 319/7 = 45.57 → 46, 759/7 = 108.43 → 108;
  //   [33 73 113 153] → 431/7 = 61.57 → 62, 871/7 = 124.43 → 124.
  const std::vector<uint8_t> img = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160};
  EXPECT_EQ(pil::resize(img, 4, 4, 1, 2, 2, Filter::kBilinear), (std::vector<uint8_t>{46, 62, 108, 124}));
}

TEST(PilResize, Bicubic4To2RowWithNegativeTap) {
  // (111·10 + 111·20 + 29·30 − 9·40)/242 = 15.87 → 16; (−9·10 + 29·20 + 111·30 + 111·40)/242 = 34.13 → 34.
  const std::vector<uint8_t> row = {10, 20, 30, 40};
  EXPECT_EQ(pil::resize(row, 1, 4, 1, 1, 2, Filter::kBicubic), (std::vector<uint8_t>{16, 34}));
}

TEST(PilResize, BicubicStepOvershootIsClipped) {
  // 1×4 [0 0 255 255] → 1×8 (scale 0.5, support 2): outputs 1 and 2 undershoot (−5.6, −17.5 → 0), 5 and 6
  // overshoot (272.5, 260.6 → 255); output 3 = (.2265625 − .0234375)·255 = 51.80 → 52 and output 4 =
  // (.8671875 − .0703125)·255 = 203.20 → 203.
  const std::vector<uint8_t> row = {0, 0, 255, 255};
  EXPECT_EQ(pil::resize(row, 1, 4, 1, 1, 8, Filter::kBicubic),
            (std::vector<uint8_t>{0, 0, 0, 52, 203, 255, 255, 255}));
}

TEST(PilResize, BilinearThreeToOneWeighsByStretchedTriangle) {
  // 3 → 1: scale 3, support 3, centre 1.5; filter((j − 1)/3) = 2/3, 1, 2/3 → 2/7, 3/7, 2/7.
  // 2/7·0 + 3/7·70 + 2/7·140 = 70.
  const std::vector<uint8_t> row = {0, 70, 140};
  EXPECT_EQ(pil::resize(row, 1, 3, 1, 1, 1, Filter::kBilinear), (std::vector<uint8_t>{70}));
}

TEST(PilResize, SameSizeIsAnExactCopy) {
  const auto img = random_bytes(5 * 7 * 3, 1);
  EXPECT_EQ(pil::resize(img, 5, 7, 3, 5, 7, Filter::kBicubic), img);
  EXPECT_EQ(pil::resize(img, 5, 7, 3, 5, 7, Filter::kBilinear), img);
}

TEST(PilResize, OnePixelImages) {
  // A single input pixel gets the whole (normalised) weight: exactly 2^22 in fixed point.
  const std::vector<uint8_t> px = {17, 200, 255};
  const auto up = pil::resize(px, 1, 1, 3, 3, 4, Filter::kBicubic);
  ASSERT_EQ(up.size(), 3u * 4 * 3);
  for (std::size_t i = 0; i < up.size(); ++i) EXPECT_EQ(up[i], px[i % 3]) << i;
  EXPECT_EQ(pil::resize(px, 1, 1, 3, 1, 1, Filter::kBilinear), px);
  // Down to one pixel: 1×2 [0 255] bilinear → centre 1, filter(∓0.25) equal weights → 127.5 → 128.
  EXPECT_EQ(pil::resize(std::vector<uint8_t>{0, 255}, 1, 2, 1, 1, 1, Filter::kBilinear),
            (std::vector<uint8_t>{128}));
}

TEST(PilResize, ConstantImageStaysConstant) {
  for (auto f : {Filter::kBilinear, Filter::kBicubic}) {
    for (int oh : {1, 3, 8, 13}) {
      for (int ow : {1, 2, 9, 20}) {
        const std::vector<uint8_t> img(6 * 11 * 3, 201);
        const auto out = pil::resize(img, 6, 11, 3, oh, ow, f);
        ASSERT_EQ(out.size(), static_cast<std::size_t>(oh) * ow * 3);
        for (auto v : out) ASSERT_EQ(v, 201) << oh << "x" << ow;
      }
    }
  }
}

TEST(PilResize, HorizontalPassThenVerticalPassThroughUint8) {
  // The 2-D result is the vertical resize of the uint8 horizontal resize (never the other order).
  const auto img = random_bytes(9 * 13 * 3, 2);
  for (auto f : {Filter::kBilinear, Filter::kBicubic}) {
    const auto both = pil::resize(img, 9, 13, 3, 5, 6, f);
    const auto h_only = pil::resize(img, 9, 13, 3, 9, 6, f);
    EXPECT_EQ(pil::resize(h_only, 9, 6, 3, 5, 6, f), both);
    const auto v_first = pil::resize(pil::resize(img, 9, 13, 3, 5, 13, f), 5, 13, 3, 5, 6, f);
    EXPECT_NE(v_first, both) << "random data should expose the pass order";
  }
}

TEST(PilResize, ChannelsAreIndependent) {
  const auto rgb = random_bytes(7 * 5 * 3, 3);
  const auto out = pil::resize(rgb, 7, 5, 3, 11, 3, Filter::kBicubic);
  for (int ch = 0; ch < 3; ++ch) {
    std::vector<uint8_t> plane(7 * 5);
    for (int i = 0; i < 7 * 5; ++i) plane[i] = rgb[i * 3 + ch];
    const auto p = pil::resize(plane, 7, 5, 1, 11, 3, Filter::kBicubic);
    for (int i = 0; i < 11 * 3; ++i) ASSERT_EQ(p[i], out[i * 3 + ch]);
  }
}

TEST(PilResize, BoxSelectsTheSourceRegion) {
  // Box (1, 0, 3, 1) of [10 20 30 40] at the same width 2: scale 1, centres 1.5 and 2.5 → the pixels 20 and 30
  // (bilinear weights 0, 1, 0 at integer offsets).
  const std::vector<uint8_t> row = {10, 20, 30, 40};
  EXPECT_EQ(pil::resize(row, 1, 4, 1, 1, 2, Filter::kBilinear, {1.f, 0.f, 3.f, 1.f}),
            (std::vector<uint8_t>{20, 30}));
}

TEST(PilResizeWindow, EqualsTheCropOfTheFullResize) {
  std::mt19937 rng(5);
  for (int it = 0; it < 200; ++it) {
    const int h = 1 + rng() % 30, w = 1 + rng() % 30, oh = 1 + rng() % 40, ow = 1 + rng() % 40;
    const Filter f = it % 2 ? Filter::kBicubic : Filter::kBilinear;
    const int wh = 1 + rng() % oh, ww = 1 + rng() % ow;
    const int top = rng() % (oh - wh + 1), left = rng() % (ow - ww + 1);
    const auto img = random_bytes(static_cast<std::size_t>(h) * w * 3, 100 + it);
    const auto full = pil::resize(img, h, w, 3, oh, ow, f);
    std::vector<uint8_t> crop;
    for (int y = top; y < top + wh; ++y)
      crop.insert(crop.end(), full.begin() + (static_cast<std::size_t>(y) * ow + left) * 3,
                  full.begin() + (static_cast<std::size_t>(y) * ow + left + ww) * 3);
    ASSERT_EQ(pil::resize_window(img, h, w, 3, oh, ow, f, top, left, wh, ww), crop)
        << h << "x" << w << " -> " << oh << "x" << ow << " window " << top << "," << left << " " << wh << "x" << ww;
  }
  const std::vector<uint8_t> img(4 * 4, 9);
  EXPECT_THROW(pil::resize_window(img, 4, 4, 1, 8, 8, Filter::kBilinear, 5, 0, 4, 8), std::invalid_argument);
}

TEST(PilCoefficients, WindowMatchesTheSameIndicesOfTheFullAxis) {
  const auto full = pil::compute_coefficients(37, 0.f, 37.f, 11, Filter::kBicubic);
  const auto part = pil::compute_coefficients(37, 0.f, 37.f, 11, Filter::kBicubic, 4, 5);
  ASSERT_EQ(part.first.size(), 5u);
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(part.first[k], full.first[4 + k]);
    EXPECT_EQ(part.count[k], full.count[4 + k]);
    for (int j = 0; j < full.ksize; ++j) EXPECT_EQ(part.fixed[k * part.ksize + j], full.fixed[(4 + k) * full.ksize + j]);
  }
}

TEST(PilResize, RejectsBadArguments) {
  const std::vector<uint8_t> img(12, 0);
  EXPECT_THROW(pil::resize(img, 2, 2, 3, 0, 2, Filter::kBilinear), std::invalid_argument);
  EXPECT_THROW(pil::resize(img, 2, 2, 5, 1, 1, Filter::kBilinear), std::invalid_argument);
  EXPECT_THROW(pil::resize(img, 2, 3, 3, 1, 1, Filter::kBilinear), std::invalid_argument);  // 18 bytes expected
  EXPECT_THROW(pil::resize(img, 2, 2, 3, 1, 1, Filter::kBilinear, {0.f, 0.f, 3.f, 2.f}), std::invalid_argument);
}
