// Mask overlays for the HTML report: predicted vs. ground-truth masks drawn on the image (OpenCV), as JPEG.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/mask/rle.h"

namespace glamm::reports {

/// COCO RLE objects ({"size": [h, w], "counts": compressed string or run-length list}) → Rle.
/// Throws InputError naming `file` and `where[i]` on a malformed entry.
std::vector<mask::Rle> rles_from_json(const nlohmann::json& list, const std::string& file, const std::string& where);

/// The image at `image_path` with the predicted masks filled in translucent red (α 0.45) and the ground-truth masks
/// outlined in green (2 px), scaled so the longer side is at most `max_side` pixels; JPEG bytes (quality 85).
/// Masks whose size differs from the image are drawn scaled to it (nearest neighbour).
/// Throws InputError when the image cannot be read or decoded.
std::string overlay_jpeg(const std::string& image_path, const std::vector<mask::Rle>& gt,
                         const std::vector<mask::Rle>& pred, int max_side = 480);

/// RFC 4648 base64 of `bytes` (for data: URLs).
std::string base64(const std::string& bytes);

}  // namespace glamm::reports
