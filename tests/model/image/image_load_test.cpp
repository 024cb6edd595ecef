// Image loading (model/image.h): cv2.imread(IMREAD_COLOR) + BGR→RGB semantics on files written here with OpenCV:
// channel order, grayscale, alpha, 16-bit PNG/TIFF, EXIF orientation, and file-named errors.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <unistd.h>
#include <zlib.h>

#include "common/error.h"
#include "model/image.h"

namespace fs = std::filesystem;
using glamm::model::ImageU8;
using glamm::model::load_image_rgb;

namespace {

class ImageLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("glamm_image_load_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

std::vector<uint8_t> pixel(const ImageU8& im, int y, int x) {
  const std::size_t i = (static_cast<std::size_t>(y) * im.width + x) * 3;
  return {im.rgb[i], im.rgb[i + 1], im.rgb[i + 2]};
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

void put_be32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void png_chunk(std::string& png, const char* type, const std::string& data) {
  put_be32(png, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  png += body;
  put_be32(png, static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(body.data()), body.size())));
}

// A minimal PNG (formats cv::imwrite cannot produce: palette, gray + alpha, 1-bit). `rows` are the raw scanlines
// without filter bytes; `plte` / `trns` are added when non-empty.
std::string make_png(int width, int height, int bit_depth, int color_type, const std::vector<std::string>& rows,
                     const std::string& plte = "", const std::string& trns = "") {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put_be32(ihdr, static_cast<uint32_t>(width));
  put_be32(ihdr, static_cast<uint32_t>(height));
  ihdr += std::string{static_cast<char>(bit_depth), static_cast<char>(color_type), 0, 0, 0};
  png_chunk(png, "IHDR", ihdr);
  if (!plte.empty()) png_chunk(png, "PLTE", plte);
  if (!trns.empty()) png_chunk(png, "tRNS", trns);
  std::string raw;
  for (const auto& r : rows) raw += std::string(1, '\0') + r;  // filter type 0 (None) per row
  uLongf n = compressBound(raw.size());
  std::string z(n, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()),
                     raw.size()), Z_OK);
  z.resize(n);
  png_chunk(png, "IDAT", z);
  png_chunk(png, "IEND", "");
  return png;
}

}  // namespace

TEST_F(ImageLoad, BgrFileComesBackAsRgbHwc) {
  cv::Mat bgr(2, 3, CV_8UC3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(10 * x, 100 + y, 200 + x + y);  // B, G, R
  const auto p = dir_ / "c.png";
  ASSERT_TRUE(cv::imwrite(p.string(), bgr));
  const ImageU8 im = load_image_rgb(p);
  ASSERT_EQ(im.height, 2);
  ASSERT_EQ(im.width, 3);
  ASSERT_EQ(im.rgb.size(), 18u);
  EXPECT_EQ(pixel(im, 1, 2), (std::vector<uint8_t>{203, 101, 20}));  // R, G, B
  EXPECT_EQ(pixel(im, 0, 0), (std::vector<uint8_t>{200, 100, 0}));
}

TEST_F(ImageLoad, GrayscaleBecomesThreeEqualChannels) {
  cv::Mat g(2, 2, CV_8UC1);
  const uint8_t v[4] = {3, 43, 83, 250};
  std::memcpy(g.data, v, 4);
  const auto p = dir_ / "g.png";
  ASSERT_TRUE(cv::imwrite(p.string(), g));
  const ImageU8 im = load_image_rgb(p);
  EXPECT_EQ(im.rgb, (std::vector<uint8_t>{3, 3, 3, 43, 43, 43, 83, 83, 83, 250, 250, 250}));
}

TEST_F(ImageLoad, AlphaIsDroppedWithoutCompositing) {
  cv::Mat bgra(1, 2, CV_8UC4);
  const uint8_t v[8] = {10, 20, 30, 0, 40, 50, 60, 128};  // B G R A; the first pixel is fully transparent
  std::memcpy(bgra.data, v, 8);
  const auto p = dir_ / "a.png";
  ASSERT_TRUE(cv::imwrite(p.string(), bgra));
  EXPECT_EQ(load_image_rgb(p).rgb, (std::vector<uint8_t>{30, 20, 10, 60, 50, 40}));
}

TEST_F(ImageLoad, GrayAlphaPngBecomesGrayRgbWithoutCompositing) {
  // Colour type 4 (gray + alpha), 8 bit: (gray 90, alpha 0), (gray 200, alpha 255).
  write_bytes(dir_ / "la.png", make_png(2, 1, 8, 4, {std::string("\x5a\x00\xc8\xff", 4)}));
  EXPECT_EQ(load_image_rgb(dir_ / "la.png").rgb, (std::vector<uint8_t>{90, 90, 90, 200, 200, 200}));
}

TEST_F(ImageLoad, PalettePngIsExpandedToItsColours) {
  // Colour type 3, 8 bit, palette {0: (1,2,3), 1: (250,128,7)}, index 1 fully transparent (tRNS): colours kept.
  const std::string plte("\x01\x02\x03\xfa\x80\x07", 6);
  write_bytes(dir_ / "p.png", make_png(3, 1, 8, 3, {std::string("\x01\x00\x01", 3)}, plte,
                                       std::string("\xff\x00", 2)));
  EXPECT_EQ(load_image_rgb(dir_ / "p.png").rgb, (std::vector<uint8_t>{250, 128, 7, 1, 2, 3, 250, 128, 7}));
}

TEST_F(ImageLoad, OneBitGrayPngExpandsTo0And255) {
  // Colour type 0, 1 bit: 8 pixels 1,0,1,1,0,0,0,1 in one byte (0xB1).
  write_bytes(dir_ / "bw.png", make_png(8, 1, 1, 0, {std::string("\xb1", 1)}));
  const ImageU8 im = load_image_rgb(dir_ / "bw.png");
  ASSERT_EQ(im.width, 8);
  std::vector<uint8_t> r;
  for (int x = 0; x < 8; ++x) r.push_back(pixel(im, 0, x)[0]);
  EXPECT_EQ(r, (std::vector<uint8_t>{255, 0, 255, 255, 0, 0, 0, 255}));
}

TEST_F(ImageLoad, SixteenBitGrayPngKeepsTheHighByte) {
  // Colour type 0, 16 bit big-endian: 0x12F0, 0xFF80, 0x0180 → 0x12, 0xFF, 0x01 (not rounded: 0x12F0 → 18).
  write_bytes(dir_ / "g16.png", make_png(3, 1, 16, 0, {std::string("\x12\xf0\xff\x80\x01\x80", 6)}));
  EXPECT_EQ(load_image_rgb(dir_ / "g16.png").rgb, (std::vector<uint8_t>{18, 18, 18, 255, 255, 255, 1, 1, 1}));
}

TEST_F(ImageLoad, SixteenBitPngKeepsTheHighByte) {
  cv::Mat s(1, 2, CV_16UC3);
  const uint16_t v[6] = {0x1234, 0xABFF, 0x80FF, 0x00FF, 0xFF00, 0x7F80};  // B G R per pixel
  std::memcpy(s.data, v, sizeof v);
  const auto p = dir_ / "s.png";
  ASSERT_TRUE(cv::imwrite(p.string(), s));
  EXPECT_EQ(load_image_rgb(p).rgb, (std::vector<uint8_t>{0x80, 0xAB, 0x12, 0x7F, 0xFF, 0x00}));
}

TEST_F(ImageLoad, SixteenBitTiffIsScaledTo8Bit) {
  cv::Mat s(1, 2, CV_16UC3);
  const uint16_t v[6] = {0x1234, 0xABFF, 0x80FF, 0x00FF, 0xFF00, 0x7F80};
  std::memcpy(s.data, v, sizeof v);
  const auto p = dir_ / "s.tiff";
  ASSERT_TRUE(cv::imwrite(p.string(), s));
  // v·255/65535 rounded: 0x80FF → 128.5 → 128, 0xABFF → 171.3 → 171, 0x1234 → 18.1 → 18, 0x7F80 → 127.0,
  // 0xFF00 → 254.0, 0x00FF → 0.99 → 1 (PNG would give 0x7F, 0xFF, 0x00 for the second pixel).
  EXPECT_EQ(load_image_rgb(p).rgb, (std::vector<uint8_t>{128, 171, 18, 127, 254, 1}));
}

TEST_F(ImageLoad, ExifOrientationIsApplied) {
  // 16×32 stored image, left half black, right half white, tagged orientation 6 ("rotate 90° clockwise to
  // view"): the upright image is 32×16 with the black half on top.
  cv::Mat bgr(16, 32, CV_8UC3, cv::Scalar(0, 0, 0));
  bgr(cv::Rect(16, 0, 16, 16)).setTo(cv::Scalar(255, 255, 255));
  std::vector<uint8_t> jpg;
  ASSERT_TRUE(cv::imencode(".jpg", bgr, jpg, {cv::IMWRITE_JPEG_QUALITY, 100}));
  // APP1 "Exif\0\0" + big-endian TIFF header + one IFD entry: tag 0x0112 SHORT count 1 value 6.
  const uint8_t app1[] = {0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0x00, 0x2A, 0, 0, 0, 8,
                          0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x06, 0, 0, 0, 0, 0, 0};
  std::string bytes(reinterpret_cast<const char*>(jpg.data()), 2);  // SOI
  bytes.append(reinterpret_cast<const char*>(app1), sizeof app1);
  bytes.append(reinterpret_cast<const char*>(jpg.data()) + 2, jpg.size() - 2);
  const auto p = dir_ / "exif6.jpg";
  write_bytes(p, bytes);
  const ImageU8 im = load_image_rgb(p);
  ASSERT_EQ(im.height, 32);
  ASSERT_EQ(im.width, 16);
  EXPECT_LT(pixel(im, 4, 8)[0], 16);
  EXPECT_GT(pixel(im, 28, 8)[0], 239);
}

TEST_F(ImageLoad, TruncatedJpegDecodesAsFarAsLibjpegGets) {
  // cv2.imread accepts a JPEG cut inside the entropy-coded data (libjpeg warns "Premature end of JPEG file" and
  // fills the rest), so the loader does too; a file cut inside the headers cannot be decoded.
  cv::Mat noise(64, 48, CV_8UC3);
  cv::randu(noise, cv::Scalar::all(0), cv::Scalar::all(255));
  std::vector<uint8_t> jpg;
  ASSERT_TRUE(cv::imencode(".jpg", noise, jpg));
  write_bytes(dir_ / "half.jpg", std::string(reinterpret_cast<const char*>(jpg.data()), jpg.size() / 2));
  const ImageU8 im = load_image_rgb(dir_ / "half.jpg");
  EXPECT_EQ(im.height, 64);
  EXPECT_EQ(im.width, 48);
  write_bytes(dir_ / "head.jpg", std::string(reinterpret_cast<const char*>(jpg.data()), 40));
  EXPECT_THROW(load_image_rgb(dir_ / "head.jpg"), glamm::InputError);
}

TEST_F(ImageLoad, MissingFileNamesThePath) {
  const auto p = dir_ / "nope.jpg";
  try {
    load_image_rgb(p);
    FAIL() << "expected InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_EQ(e.file(), p.string());
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
}

TEST_F(ImageLoad, UndecodableFilesAreInputErrors) {
  write_bytes(dir_ / "text.jpg", "this is not an image\n");
  write_bytes(dir_ / "empty.png", "");
  for (const char* name : {"text.jpg", "empty.png"}) {
    try {
      load_image_rgb(dir_ / name);
      FAIL() << "expected InputError for " << name;
    } catch (const glamm::InputError& e) {
      EXPECT_EQ(e.file(), (dir_ / name).string());
      EXPECT_NE(std::string(e.what()).find("cannot decode"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(load_image_rgb(dir_), glamm::InputError);  // a folder
}
