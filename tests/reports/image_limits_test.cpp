// Image headers read without decoding (PNG IHDR, JPEG SOFn after APPn segments, BMP) and the overlay's pixel limit:
// a decompression bomb is refused from its header, before OpenCV allocates anything.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "reports/overlay.h"
#include "tests/reports/report_fixtures.h"

namespace {

namespace fs = std::filesystem;
using glamm::InputError;
using glamm::reports::image_header_size;
using namespace std::string_literals;

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

/// A PNG signature and IHDR chunk claiming width × height (no image data: enough for a header reader).
std::string png_header(uint32_t width, uint32_t height) {
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + be32(width) + be32(height) +
         std::string("\x08\x02\x00\x00\x00", 5) + be32(0);
}

}  // namespace

TEST(ImageHeader, PngJpegAndBmpSizesWithoutDecoding) {
  const fs::path d = glamm::reports_test::test_dir("imghdr");
  uint64_t w = 0, h = 0;
  glamm::reports_test::write_text(d / "a.png", png_header(30000, 20000));
  ASSERT_TRUE(image_header_size((d / "a.png").string(), w, h));
  EXPECT_EQ(w, 30000u);
  EXPECT_EQ(h, 20000u);
  // JPEG: SOI, an APP0 segment (16 bytes), a DQT-like segment, then SOF2 (progressive) 0x7530 × 0x1234.
  std::string jpg = "\xFF\xD8\xFF\xE0"s + "\x00\x10"s + std::string(14, 'j') + "\xFF\xDB\x00\x04\x01\x02"s +
                    "\xFF\xFF\xC2\x00\x11\x08\x12\x34\x75\x30\x03"s + std::string(9, '\0');
  glamm::reports_test::write_text(d / "b.jpg", jpg);
  ASSERT_TRUE(image_header_size((d / "b.jpg").string(), w, h));
  EXPECT_EQ(w, 30000u);
  EXPECT_EQ(h, 0x1234u);
  // DHT (C4) is not a frame header; SOS before any frame header: unknown.
  glamm::reports_test::write_text(d / "c.jpg", "\xFF\xD8\xFF\xC4\x00\x04\x00\x00\xFF\xDA\x00\x02"s);
  EXPECT_FALSE(image_header_size((d / "c.jpg").string(), w, h));
  // BMP with a negative (top-down) height.
  std::string bmp = "BM" + std::string(16, '\0') + "\x40\x1f\x00\x00"s + "\x60\xf0\xff\xff"s;
  glamm::reports_test::write_text(d / "d.bmp", bmp);
  ASSERT_TRUE(image_header_size((d / "d.bmp").string(), w, h));
  EXPECT_EQ(w, 8000u);
  EXPECT_EQ(h, 4000u);
  glamm::reports_test::write_text(d / "e.gif", "GIF89a");
  EXPECT_FALSE(image_header_size((d / "e.gif").string(), w, h));
  EXPECT_THROW(image_header_size((d / "absent.png").string(), w, h), InputError);
}

TEST(ImageHeader, OverlayRefusesABombFromItsHeaderAtOnce) {
  const fs::path d = glamm::reports_test::test_dir("imghdr");
  const fs::path png = d / "bomb.png";
  glamm::reports_test::write_text(png, png_header(30000, 30000));
  const auto t0 = std::chrono::steady_clock::now();
  try {
    glamm::reports::overlay_jpeg(png.string(), {}, {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), png.string());
    EXPECT_EQ(e.message(),
              "image of 30000 x 30000 = 900000000 pixels is above the overlay limit of 100000000 pixels (decoding it "
              "would take about 2700 MB): not decoded; raise the limit with report --max-image-pixels N");
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  // A mask larger than the limit is refused too (its decode allocates width × height bytes).
  glamm::reports_test::write_text(d / "small.png", png_header(8, 6));
  glamm::mask::Rle big;
  big.h = 20000;
  big.w = 20000;
  big.counts = {400000000u};
  try {
    glamm::reports::overlay_jpeg((d / "small.png").string(), {big}, {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(e.message().find("a mask of 20000 x 20000 = 400000000 pixels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(glamm::reports::overlay_jpeg((d / "nothing.png").string(), {}, {}), InputError);
}
