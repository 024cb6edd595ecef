// Image loading for the GLaMM runner: the reference reads every image with `cv2.imread(path)` (OpenCV 4.6,
// IMREAD_COLOR) and converts BGR → RGB (spec glamm-model.md §4). This does the same through the OpenCV C++ API,
// so every decoder rule below is OpenCV's own (each one checked on Debian's OpenCV 4.6 by
// tests/model/image/image_load_test.cpp):
//  * EXIF orientation (JPEG APP1 Exif tag 0x0112) is applied: the pixels come back rotated/flipped upright and
//    height/width are those of the upright image;
//  * 8-bit grayscale (and grayscale + alpha) become 3 equal channels;
//  * an alpha channel (RGBA / LA PNG) is dropped without compositing: the colour values are kept as stored,
//    whatever the alpha;
//  * 16 bits per channel become 8: PNG keeps the high byte (v >> 8, truncation); TIFF is scaled,
//    round(v·255/65535);
//  * palette PNGs are expanded to their palette colours (transparency ignored); 1/2/4-bit grayscale is scaled to
//    0..255 (1 bit → 0 / 255);
//  * a JPEG cut inside its entropy-coded data still decodes (libjpeg prints "Premature end of JPEG file" and fills
//    the missing part), exactly as cv2.imread accepts it; a file cut inside its headers is an error.
// No torch, and OpenCV stays private to this file's implementation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace glamm::model {

/// An 8-bit RGB image, row-major HWC (rgb.size() == height·width·3).
struct ImageU8 {
  int height = 0;
  int width = 0;
  std::vector<uint8_t> rgb;
};

/// Read an image file as `cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)` gives it (OpenCV 4.6 IMREAD_COLOR;
/// see the header comment for orientation, grayscale, alpha and 16-bit handling). Throws glamm::InputError naming
/// the file when it does not exist, is not a regular file, or cannot be decoded (unknown format, truncated or
/// corrupt data, OpenCV's size limits).
ImageU8 load_image_rgb(const std::filesystem::path& path);

}  // namespace glamm::model
