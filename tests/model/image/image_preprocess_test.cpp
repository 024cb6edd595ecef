// CLIP and SAM pre-processing (model/image_preprocess.h): target sizes (spec glamm-model.md §4.1/§4.2 worked
// examples), crop offsets, the float32 value chain (expected values computed with numpy float32 semantics),
// zero padding, and preprocessor_config.json parsing.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.h"
#include "model/image_preprocess.h"

namespace fs = std::filesystem;
using namespace glamm::model;

namespace {

ImageU8 constant_image(int h, int w, uint8_t r, uint8_t g, uint8_t b) {
  ImageU8 im{h, w, std::vector<uint8_t>(static_cast<std::size_t>(h) * w * 3)};
  for (std::size_t i = 0; i < im.rgb.size(); i += 3) {
    im.rgb[i] = r;
    im.rgb[i + 1] = g;
    im.rgb[i + 2] = b;
  }
  return im;
}

}  // namespace

TEST(ClipResize, ShortestEdgeTo336LongSideTruncated) {
  EXPECT_EQ(clip_resize_hw(480, 640, 336), std::make_pair(336, 448));   // spec worked example
  EXPECT_EQ(clip_resize_hw(360, 640, 336), std::make_pair(336, 597));   // 597.33 → 597
  EXPECT_EQ(clip_resize_hw(427, 640, 336), std::make_pair(336, 503));   // 503.61 → 503 (not rounded)
  EXPECT_EQ(clip_resize_hw(1500, 2250, 336), std::make_pair(336, 504));
  EXPECT_EQ(clip_resize_hw(640, 480, 336), std::make_pair(448, 336));   // portrait
  EXPECT_EQ(clip_resize_hw(336, 1000, 336), std::make_pair(336, 1000));  // short side already 336
  EXPECT_EQ(clip_resize_hw(1, 1, 336), std::make_pair(336, 336));
}

TEST(SamResize, LongestSideTo1024RoundedHalfUp) {
  EXPECT_EQ(sam_resize_hw(360, 640), std::make_pair(576, 1024));
  EXPECT_EQ(sam_resize_hw(1500, 2250), std::make_pair(683, 1024));   // 682.67 → 683
  EXPECT_EQ(sam_resize_hw(427, 640), std::make_pair(683, 1024));     // 683.2 → 683
  EXPECT_EQ(sam_resize_hw(2048, 1023), std::make_pair(1024, 512));   // 511.5 → 512
  EXPECT_EQ(sam_resize_hw(1024, 1024), std::make_pair(1024, 1024));
}

TEST(ClipPixels, FloatChainIsRescaleInDoubleThenFloat32Normalise) {
  // numpy: (uint8 * (1/255)).astype(float32), then (x − mean_f32) / std_f32 in float32.
  const auto px = clip_pixel_values(constant_image(336, 336, 0, 128, 255));
  ASSERT_EQ(px.size(), 3u * 336 * 336);
  const std::size_t plane = 336 * 336;
  EXPECT_EQ(px[0], -0x1.cad1b8p+0f);           // R = 0   → −1.7922625541687012
  EXPECT_EQ(px[plane + 5], 0x1.59e6d6p-3f);     // G = 128 → 0.16889731585979462
  EXPECT_EQ(px[2 * plane + 77], 0x1.12acc0p+1f);  // B = 255 → 2.1458969116210938
}

TEST(ClipPixels, CenterCropTakesFloorOffsets) {
  // 336×401 needs no resize; left = (401 − 336) // 2 = 32. Column x holds value x % 256 in R.
  ImageU8 im{336, 401, std::vector<uint8_t>(336 * 401 * 3, 0)};
  for (int y = 0; y < 336; ++y)
    for (int x = 0; x < 401; ++x) im.rgb[(y * 401 + x) * 3] = static_cast<uint8_t>(x % 256);
  ClipPreprocessConfig cfg;
  cfg.do_rescale = false;
  cfg.do_normalize = false;
  const auto px = clip_pixel_values(im, cfg);
  EXPECT_EQ(px[0], 32.0f);
  EXPECT_EQ(px[335], static_cast<float>((32 + 335) % 256));
  EXPECT_EQ(px[100 * 336 + 7], 39.0f);
}

TEST(ClipPixels, PortraitCropIsVertical) {
  // 448×336 portrait (already 336 wide): top = (448 − 336) // 2 = 56. Row y holds y % 256 in G.
  ImageU8 im{448, 336, std::vector<uint8_t>(448 * 336 * 3, 0)};
  for (int y = 0; y < 448; ++y)
    for (int x = 0; x < 336; ++x) im.rgb[(y * 336 + x) * 3 + 1] = static_cast<uint8_t>(y % 256);
  ClipPreprocessConfig cfg;
  cfg.do_rescale = false;
  cfg.do_normalize = false;
  const auto px = clip_pixel_values(im, cfg);
  EXPECT_EQ(px[336 * 336 + 0], 56.0f);
  EXPECT_EQ(px[336 * 336 + 335 * 336 + 9], static_cast<float>((56 + 335) % 256));
}

TEST(ClipPixels, ResizesSmallImagesUp) {
  const auto px = clip_pixel_values(constant_image(1, 1, 255, 255, 255));  // one pixel → 336×336
  ASSERT_EQ(px.size(), 3u * 336 * 336);
  EXPECT_EQ(px[336 * 336 - 1], 0x1.ee2a82p+0f);  // every R value is the 255 value
  EXPECT_EQ(px[3 * 336 * 336 - 1], 0x1.12acc0p+1f);
}

TEST(ClipPixels, ElongatedImageNeedsNoFullSizeIntermediate) {
  // 2 × 200000 → shortest edge 336 → 336 × 33600000 (33.9 GB as a full RGB resize); only the 336 × 336 centre is
  // computed. G is constant, so it stays exactly the G = 77 value.
  const ImageU8 im = constant_image(2, 200000, 0, 77, 77);
  const auto px = clip_pixel_values(im);
  ASSERT_EQ(px.size(), 3u * 336 * 336);
  const std::size_t plane = 336 * 336;
  const float g77 = (static_cast<float>(77 * (1.0 / 255)) - 0.4578275f) / 0.26130258f;
  EXPECT_EQ(px[plane + 12345], g77);
  EXPECT_THROW(clip_resize_hw(1, 1 << 30, 336), glamm::InputError);
}

TEST(ClipPixels, RejectsEmptyImagesAndOversizedCrops) {
  EXPECT_THROW(clip_pixel_values(ImageU8{}), glamm::InputError);
  ClipPreprocessConfig cfg;
  cfg.do_resize = false;
  EXPECT_THROW(clip_pixel_values(constant_image(100, 400, 1, 2, 3), cfg), glamm::InputError);
}

TEST(SamInputTensor, NormalisedInsideZeroInPadding) {
  const SamInput s = sam_preprocess(constant_image(100, 50, 0, 100, 255));
  EXPECT_EQ(s.resize_hw(), std::make_pair(1024, 512));
  ASSERT_EQ(s.resized.rgb.size(), 1024u * 512 * 3);
  EXPECT_EQ(s.resized.rgb[3 * 700 + 1], 100);
  ASSERT_EQ(s.pixels.size(), 3u * 1024 * 1024);
  const std::size_t plane = 1024 * 1024;
  // (v − mean_f32) / std_f32 in float32.
  EXPECT_EQ(s.pixels[0], -0x1.0f177ap+1f);                   // R = 0
  EXPECT_EQ(s.pixels[plane + 1023 * 1024 + 511], -0x1.23dab6p-2f);  // G = 100, last real column
  EXPECT_EQ(s.pixels[2 * plane + 17], 0x1.51eb86p+1f);        // B = 255
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(s.pixels[c * plane + 512], 0.0f);                // first padded column
    EXPECT_EQ(s.pixels[c * plane + 600 * 1024 + 1023], 0.0f);
  }
}

TEST(SamInputTensor, BottomPaddingForLandscape) {
  const SamInput s = sam_preprocess(constant_image(9, 16, 7, 7, 7));
  EXPECT_EQ(s.resize_hw(), std::make_pair(576, 1024));
  const std::size_t plane = 1024 * 1024;
  EXPECT_NE(s.pixels[575 * 1024 + 1023], 0.0f);
  EXPECT_EQ(s.pixels[576 * 1024 + 0], 0.0f);
  EXPECT_EQ(s.pixels[2 * plane + 1023 * 1024 + 1023], 0.0f);
  EXPECT_THROW(sam_preprocess(ImageU8{}), glamm::InputError);
}

class ClipConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("glamm_clip_cfg_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& text) { std::ofstream(dir_ / "preprocessor_config.json") << text; }
  fs::path dir_;
};

TEST_F(ClipConfigFile, FolderWithoutFileGivesDefaults) {
  const auto c = load_clip_preprocess_config(dir_);
  EXPECT_EQ(c.source, "");
  EXPECT_EQ(c.shortest_edge, 336);
  EXPECT_EQ(c.crop_height, 336);
  EXPECT_EQ(c.image_mean[0], 0.48145466f);
  EXPECT_EQ(c.image_std[2], 0.27577711f);
  EXPECT_EQ(c.resample, pil::Filter::kBicubic);
}

TEST_F(ClipConfigFile, NewStyleDictionariesAndOverrides) {
  write(R"({"size": {"shortest_edge": 224}, "crop_size": {"height": 200, "width": 210}, "resample": 2,
            "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.5, 1], "do_center_crop": false,
            "rescale_factor": 0.5})");
  const auto c = load_clip_preprocess_config(dir_);
  EXPECT_EQ(c.source, (dir_ / "preprocessor_config.json").string());
  EXPECT_EQ(c.shortest_edge, 224);
  EXPECT_EQ(c.crop_height, 200);
  EXPECT_EQ(c.crop_width, 210);
  EXPECT_EQ(c.resample, pil::Filter::kBilinear);
  EXPECT_FALSE(c.do_center_crop);
  EXPECT_EQ(c.rescale_factor, 0.5);
  EXPECT_EQ(c.image_std[1], 0.5f);
  // The settings are used: 10×20 → shortest edge 224 → 224×448, no crop; 200·0.5 = 100 → (100 − 0.5)/0.25.
  const auto px = clip_pixel_values(constant_image(10, 20, 200, 0, 0), c);
  ASSERT_EQ(px.size(), 3u * 224 * 448);
  EXPECT_EQ(px[0], 398.0f);
}

TEST_F(ClipConfigFile, BadFieldsNameTheFileAndField) {
  const std::vector<std::string> bad = {
      R"({"resample": 1})", R"({"size": {"height": 3, "width": 3}})", R"({"image_std": [1, 0, 1]})",
      R"({"image_mean": [1, 2]})", R"({"crop_size": -4})", R"({"do_resize": "yes"})", R"([1, 2])", "{oops"};
  for (const auto& text : bad) {
    write(text);
    try {
      load_clip_preprocess_config(dir_ / "preprocessor_config.json");
      ADD_FAILURE() << "accepted " << text;
    } catch (const glamm::InputError& e) {
      EXPECT_EQ(e.file(), (dir_ / "preprocessor_config.json").string()) << text;
    }
  }
}
