// A COCO annotation's `segmentation` field as plain data, and its conversion to one RLE the way pycocotools 2.0.6
// `COCO.annToRLE` does (coco.py + mask.py frPyObjects). Spec: shared specs/mask-metrics.md §2.3.
//
// Parsing JSON into a Segmentation belongs to the dataset loaders (datasets/); this file does no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "metrics/mask/rle.h"

namespace glamm::mask {

/// Polygon form: a list of parts, each x0,y0,x1,y1,... in pixels (JSON `[[x, y, ...], ...]`).
struct Polygons {
  std::vector<std::vector<double>> parts;
};

/// Uncompressed RLE: JSON `{"size": [h, w], "counts": [c0, c1, ...]}` (counts as in Rle, column-major).
/// The loader must reject negative or non-integer counts and counts above 2^32-1 (it knows the file and record).
struct UncompressedRle {
  uint32_t h = 0;
  uint32_t w = 0;
  std::vector<uint32_t> counts;
};

/// Compressed RLE: JSON `{"size": [h, w], "counts": "<string>"}` (the rleToString alphabet '0'..'o').
struct CompressedRle {
  uint32_t h = 0;
  uint32_t w = 0;
  std::string counts;
};

/// One `segmentation` value: polygons, uncompressed RLE or compressed RLE.
using Segmentation = std::variant<Polygons, UncompressedRle, CompressedRle>;

/// annToRLE: the RLE of one annotation on an image of `image_h` rows × `image_w` columns.
///
/// - Polygons: every part goes through from_polygon(part, image_h, image_w) and the parts are merged (union),
///   even when there is only one part (annToRLE merges the frPyObjects list). An odd-length part drops its last
///   number; a part with fewer than 3 points rasterises to nothing (2.0.6 behaviour, see below).
/// - UncompressedRle: used with its OWN size; image_h/image_w are ignored (frUncompressedRLE), as 2.0.6 does.
/// - CompressedRle: decoded with from_string(counts, h, w) at its own size ("used as is").
///
/// Errors (RleError with a message naming the problem; the caller adds file and record):
/// - an empty polygon list (2.0.6: IndexError in frPyObjects);
/// - a FIRST part with exactly 4 numbers: "polygon with 2 points (4 numbers)..." — 2.0.6 takes the frBbox branch
///   for a Python list and crashes with TypeError (docs/quirks.md q9); a first part with fewer than 4 numbers
///   (2.0.6: "input type is not supported" / TypeError);
/// - a non-finite coordinate or one whose 5× upsampled value leaves ±2^30 (C's int conversion is undefined there);
/// - image_h*image_w or an RLE's h*w above 2^32-1 for polygons (uint32 counts);
/// - uncompressed counts that do not sum to its h*w (2.0.6 accepts them and then loops forever in rleIou or
///   decodes uninitialised memory; we reject); a bad compressed string (see from_string).
///
/// Parts after the first with 0..5 numbers are NOT an error by default: 2.0.6 rasterises them with rleFrPoly,
/// which for fewer than 3 vertices yields an empty mask (every column crossing appears twice and cancels), so
/// they add nothing to the union. With `strict`, they are rejected instead.
///
/// `strict` (the CLI's --strict) additionally rejects what 2.0.6 accepts silently but is almost surely a data
/// error: any polygon part with fewer than 6 numbers or an odd count of numbers, and an RLE whose size differs
/// from image_h × image_w (2.0.6 keeps it, and its IoU with same-image masks becomes -1 where boxes overlap).
/// Under `strict` the result is also made canonical (canonical(): zero-length runs joined away), so a
/// non-canonical RLE in the input cannot trigger 2.0.6's early stop in merge/iou; the default keeps it as given.
Rle to_rle(const Segmentation& seg, uint32_t image_h, uint32_t image_w, bool strict = false);

}  // namespace glamm::mask
