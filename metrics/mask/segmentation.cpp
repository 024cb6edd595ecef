// annToRLE: one COCO `segmentation` value → one RLE, following pycocotools 2.0.6 coco.py annToRLE and mask.py /
// _mask.pyx frPyObjects, frPoly, frUncompressedRLE. Spec: shared specs/mask-metrics.md §2.3.
#include "metrics/mask/segmentation.h"

#include <string>
#include <type_traits>

namespace glamm::mask {
namespace {

std::string size_text(uint32_t h, uint32_t w) { return std::to_string(h) + "x" + std::to_string(w); }

void check_size(uint32_t h, uint32_t w, uint32_t image_h, uint32_t image_w, const char* what) {
  if (h != image_h || w != image_w) {
    throw RleError(std::string(what) + " size " + size_text(h, w) + " differs from the image size " +
                   size_text(image_h, image_w) + " (rejected under --strict; pycocotools keeps it)");
  }
}

Rle polygons_to_rle(const Polygons& poly, uint32_t image_h, uint32_t image_w, bool strict) {
  if (poly.parts.empty()) {
    throw RleError("empty polygon list (pycocotools 2.0.6 raises IndexError in frPyObjects)");
  }
  const size_t first = poly.parts.front().size();
  if (first == 4) {
    throw RleError(
        "polygon with 2 points (4 numbers) as the first part: pycocotools 2.0.6 takes it for a box and raises "
        "TypeError in frBbox, so annToRLE cannot convert this annotation");
  }
  if (first < 4) {
    throw RleError("first polygon part has " + std::to_string(first) +
                   " numbers; a polygon needs at least 3 points (pycocotools 2.0.6 rejects this input type)");
  }
  std::vector<Rle> parts;
  parts.reserve(poly.parts.size());
  for (size_t i = 0; i < poly.parts.size(); ++i) {
    const std::vector<double>& xy = poly.parts[i];
    if (strict && (xy.size() < 6 || xy.size() % 2 != 0)) {
      throw RleError("polygon part " + std::to_string(i) + " has " + std::to_string(xy.size()) +
                     " numbers; --strict needs an even count of at least 6 (3 points)");
    }
    try {
      parts.push_back(from_polygon(xy, image_h, image_w));
    } catch (const RleError& e) {
      throw RleError("polygon part " + std::to_string(i) + ": " + e.what());
    }
  }
  return merge(parts, /*intersect=*/false);
}

Rle uncompressed_to_rle(const UncompressedRle& u, uint32_t image_h, uint32_t image_w, bool strict) {
  if (strict) check_size(u.h, u.w, image_h, image_w, "uncompressed RLE");
  uint64_t sum = 0;
  for (uint32_t c : u.counts) sum += c;
  const uint64_t total = uint64_t{u.h} * u.w;
  if (sum != total) {
    throw RleError("uncompressed RLE counts sum to " + std::to_string(sum) + " but its size " + size_text(u.h, u.w) +
                   " has " + std::to_string(total) + " pixels");
  }
  return Rle{u.h, u.w, u.counts};
}

Rle compressed_to_rle(const CompressedRle& c, uint32_t image_h, uint32_t image_w, bool strict) {
  if (strict) check_size(c.h, c.w, image_h, image_w, "compressed RLE");
  return from_string(c.counts, c.h, c.w);
}

}  // namespace

Rle to_rle(const Segmentation& seg, uint32_t image_h, uint32_t image_w, bool strict) {
  Rle r = std::visit(
      [&](const auto& s) -> Rle {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, Polygons>) {
          return polygons_to_rle(s, image_h, image_w, strict);
        } else if constexpr (std::is_same_v<T, UncompressedRle>) {
          return uncompressed_to_rle(s, image_h, image_w, strict);
        } else {
          return compressed_to_rle(s, image_h, image_w, strict);
        }
      },
      seg);
  return strict ? canonical(r) : r;
}

}  // namespace glamm::mask
