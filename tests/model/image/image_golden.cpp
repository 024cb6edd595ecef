// Image pre-processing against the golden reference (shared golden/model/golden, made with OpenCV 4.6 imread,
// Pillow 9.4 and the official GLaMM code in fp32): CLIP pixel_values within 1e-6 absolute (expected exact), the
// SAM PIL-bilinear resize byte-identical, and the sum / absolute sum of the full padded SAM input as index.json
// gives them. Every other sample image must load and pre-process too.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "common/safetensors.h"
#include "model/image.h"
#include "model/image_preprocess.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using namespace glamm::model;

namespace {

std::vector<float> floats(const glamm::safetensors::TensorView& t) {
  EXPECT_EQ(t.dtype, "F32") << t.name;
  std::vector<float> v(t.nbytes / 4);
  std::memcpy(v.data(), t.data, v.size() * 4);
  return v;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST(ImageGolden, TinyClipPreprocessorConfigIsTheSpecDefault) {
  GLAMM_REQUIRE_SHARED(dir, "golden/model/tiny-clip-vit-patch14-336");
  const auto c = load_clip_preprocess_config(dir);
  const ClipPreprocessConfig d;
  EXPECT_NE(c.source, "");
  EXPECT_EQ(c.shortest_edge, d.shortest_edge);
  EXPECT_EQ(c.crop_height, d.crop_height);
  EXPECT_EQ(c.crop_width, d.crop_width);
  EXPECT_EQ(c.resample, pil::Filter::kBicubic);
  EXPECT_EQ(c.image_mean, d.image_mean);
  EXPECT_EQ(c.image_std, d.image_std);
  EXPECT_EQ(c.rescale_factor, 1.0 / 255.0);
}

TEST(ImageGolden, ClipPixelsAndSamInputMatchTheReference) {
  GLAMM_REQUIRE_SHARED(golden, "golden/model/golden");
  GLAMM_REQUIRE_SHARED(images, "data/images");
  GLAMM_REQUIRE_SHARED(clip_dir, "golden/model/tiny-clip-vit-patch14-336");
  const auto index = glamm::io::load_json(golden / "index.json");
  const auto cfg = load_clip_preprocess_config(clip_dir);
  ASSERT_GE(index.at("images").size(), 2u);
  for (const auto& entry : index.at("images")) {
    const std::string name = entry.at("image").get<std::string>();
    SCOPED_TRACE(name);
    auto t0 = std::chrono::steady_clock::now();
    const ImageU8 im = load_image_rgb(images / name);
    const double t_load = ms_since(t0);
    EXPECT_EQ(im.height, entry.at("original_size_hw")[0].get<int>());
    EXPECT_EQ(im.width, entry.at("original_size_hw")[1].get<int>());
    const auto file = glamm::safetensors::File::open(golden / entry.at("file").get<std::string>());

    // CLIP pixel_values [1,3,336,336]: within 1e-6 absolute (an exact function of the uint8 bicubic output).
    t0 = std::chrono::steady_clock::now();
    const auto px = clip_pixel_values(im, cfg);
    const double t_clip = ms_since(t0);
    const auto& ref_t = file.at("clip.pixel_values");
    EXPECT_EQ(ref_t.shape, (std::vector<int64_t>{1, 3, 336, 336}));
    const auto ref = floats(ref_t);
    ASSERT_EQ(px.size(), ref.size());
    double max_abs = 0;
    std::size_t n_diff = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const double d = std::fabs(static_cast<double>(px[i]) - ref[i]);
      max_abs = std::max(max_abs, d);
      n_diff += px[i] != ref[i];
    }
    EXPECT_LE(max_abs, 1e-6);

    // SAM: resize byte-identical, sum / |sum| of the full 3×1024×1024 input.
    t0 = std::chrono::steady_clock::now();
    const SamInput sam = sam_preprocess(im);
    const double t_sam = ms_since(t0);
    EXPECT_EQ(sam.resized.height, entry.at("sam_resize_hw")[0].get<int>());
    EXPECT_EQ(sam.resized.width, entry.at("sam_resize_hw")[1].get<int>());
    const auto& ref_u8 = file.at("sam.resized_u8_hwc");
    EXPECT_EQ(ref_u8.dtype, "U8");
    EXPECT_EQ(ref_u8.shape, (std::vector<int64_t>{sam.resized.height, sam.resized.width, 3}));
    ASSERT_EQ(ref_u8.nbytes, sam.resized.rgb.size());
    std::size_t byte_diff = 0;
    int max_byte_diff = 0;
    for (std::size_t i = 0; i < ref_u8.nbytes; ++i) {
      const int d = std::abs(static_cast<int>(ref_u8.data[i]) - sam.resized.rgb[i]);
      byte_diff += d != 0;
      max_byte_diff = std::max(max_byte_diff, d);
    }
    EXPECT_EQ(byte_diff, 0u) << "max byte difference " << max_byte_diff;
    ASSERT_EQ(sam.pixels.size(), 3u * 1024 * 1024);
    double sum = 0, abs_sum = 0;
    for (float v : sam.pixels) {
      sum += v;
      abs_sum += std::fabs(v);
    }
    const double ref_sum = entry.at("sam_input_sum").get<double>();
    const double ref_abs = entry.at("sam_input_abs_sum").get<double>();
    // Float32 values summed in double: only the summation order can differ (≈1e-12 relative).
    EXPECT_NEAR(sum, ref_sum, 1e-9 * std::fabs(ref_abs));
    EXPECT_NEAR(abs_sum, ref_abs, 1e-9 * ref_abs);

    std::cout << "[parity] " << name << " " << im.height << "x" << im.width << ": clip max|d| " << max_abs
              << " (" << n_diff << " differing of " << ref.size() << "), sam resize " << sam.resized.height << "x"
              << sam.resized.width << " bytes differing " << byte_diff << ", sam sum d "
              << std::fabs(sum - ref_sum) << " abs-sum d " << std::fabs(abs_sum - ref_abs) << "; load "
              << t_load << " ms, clip " << t_clip << " ms, sam " << t_sam << " ms\n";
  }
}

TEST(ImageGolden, EverySampleImageLoadsAndPreprocesses) {
  GLAMM_REQUIRE_SHARED(images, "data/images");
  int seen = 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(images)) {
    const auto ext = e.path().extension().string();
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    SCOPED_TRACE(p.filename().string());
    const ImageU8 im = load_image_rgb(p);
    ASSERT_GT(im.height, 0);
    ASSERT_EQ(im.rgb.size(), static_cast<std::size_t>(im.height) * im.width * 3);
    const auto px = clip_pixel_values(im);
    ASSERT_EQ(px.size(), 3u * 336 * 336);
    EXPECT_TRUE(std::all_of(px.begin(), px.end(), [](float v) { return std::isfinite(v) && std::fabs(v) < 3; }));
    const SamInput sam = sam_preprocess(im);
    EXPECT_EQ(sam.resize_hw(), sam_resize_hw(im.height, im.width));
    EXPECT_EQ(std::max(sam.resized.height, sam.resized.width), 1024);
    ASSERT_EQ(sam.pixels.size(), 3u * 1024 * 1024);
    ++seen;
  }
  EXPECT_GE(seen, 6);
}
