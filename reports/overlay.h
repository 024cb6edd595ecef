// Mask overlays for the HTML report: predicted vs. ground-truth masks drawn on the image (OpenCV), as JPEG. The
// masks come decoded: the report reads them with datasets/grandf (load_prediction_file, load_mask_gt), whose RLE
// objects go through the one segmentation reader (datasets/segmentation_json.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metrics/mask/rle.h"

namespace glamm::reports {

/// Default of `report --max-image-pixels`: the largest image (width × height) an overlay decodes. 100 megapixels
/// (a 10000 × 10000 photo) is far above any dataset image; decoding costs about 3 bytes per pixel and more.
inline constexpr uint64_t kDefaultMaxImagePixels = 100'000'000;

/// Width and height of an image from its header alone (nothing is decoded): PNG (IHDR), JPEG (the first SOFn
/// frame header, skipping APPn/EXIF segments) and BMP. Returns false for another format, a truncated header or a
/// JPEG whose height is only given later (DNL). Throws InputError when the file cannot be opened.
bool image_header_size(const std::string& image_path, uint64_t& width, uint64_t& height);

/// The image at `image_path` with the predicted masks filled in translucent red (α 0.45) and the ground-truth masks
/// outlined in green (2 px), scaled so the longer side is at most `max_side` pixels; JPEG bytes (quality 85).
/// Masks whose size differs from the image are drawn scaled to it (nearest neighbour).
/// Before decoding, refuses (InputError naming the image, the size and the option that raises the limit) an image
/// whose header (image_header_size) gives more than `max_pixels` pixels, and a mask of more than `max_pixels`;
/// formats whose header is not read here are held to the same limit by OpenCV (OPENCV_IO_MAX_IMAGE_PIXELS, set
/// before the plugin loads unless the environment sets it). Throws InputError when the image is missing or cannot
/// be read or decoded.
std::string overlay_jpeg(const std::string& image_path, const std::vector<mask::Rle>& gt,
                         const std::vector<mask::Rle>& pred, int max_side = 480,
                         uint64_t max_pixels = kDefaultMaxImagePixels);

/// RFC 4648 base64 of `bytes` (for data: URLs).
std::string base64(const std::string& bytes);

}  // namespace glamm::reports
