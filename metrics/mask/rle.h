// COCO run-length encoded masks: the pycocotools 2.0.6 mask API (common/maskApi.c, _mask.pyx, mask.py) as free
// functions over one plain struct. Spec: shared specs/mask-metrics.md §2.
//
// Conventions: a mask of h rows and w columns is flattened column-major (pixel (y, x) at x*h + y); counts
// alternate 0-runs and 1-runs starting with a 0-run; the counts of a valid RLE sum to h*w.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace glamm::mask {

/// A COCO RLE: image size and run lengths (maskApi.h `RLE {h, w, m, cnts}`; m = counts.size()).
struct Rle {
  uint32_t h = 0;
  uint32_t w = 0;
  std::vector<uint32_t> counts;
};

/// An RLE that cannot be decoded or built (bad string, counts not summing to h*w, bad polygon). The message says
/// what is wrong; loaders add the file and record.
class RleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Box [x, y, width, height] in pixels (COCO bbox order), doubles as pycocotools returns them.
using Box = std::array<double, 4>;

/// rleEncode: encode an h×w column-major mask (any nonzero byte different from the previous value toggles,
/// as the C code does — feed 0/1). Returns a canonical RLE.
Rle encode(const uint8_t* mask_colmajor, uint32_t h, uint32_t w);

/// rleDecode: h*w bytes of 0/1, column-major. Throws RleError when the counts sum to more than h*w
/// (2.0.6: "Invalid RLE mask representation") or to less (our departure from 2.0.6, which leaves the tail
/// uninitialised).
std::vector<uint8_t> decode(const Rle& r);

/// rleArea: sum of the 1-runs (counts[1], counts[3], ...), as uint32 like the C code.
uint32_t area(const Rle& r);

/// rleToBbox (2.0.6 behaviour, including the whole-height rule for runs that cross a column): [x, y, w, h];
/// [0, 0, 0, 0] for an empty mask.
Box to_bbox(const Rle& r);

/// rleFrBbox: the RLE of the box polygon (x,y),(x,y+h),(x+w,y+h),(x+w,y) on an h×w image.
Rle from_bbox(const Box& bb, uint32_t h, uint32_t w);

/// rleFrPoly: even-odd scan conversion with 5× upsampling and C truncation; `xy` = x0,y0,x1,y1,...; an odd-length
/// list drops its last number (as int(len/2) vertices). Points outside the image are clipped as 2.0.6 does.
Rle from_polygon(const std::vector<double>& xy, uint32_t h, uint32_t w);

/// rleMerge: union (intersect = false) or intersection of n RLEs. n = 0 → 0×0 empty RLE; n = 1 → copy;
/// any size mismatch → {h = 0, w = 0, counts = {}}.
Rle merge(const std::vector<Rle>& rles, bool intersect);

/// rleToString: the compressed LEB128-like string (alphabet '0'..'o', delta rule for i > 2).
std::string to_string(const Rle& r);

/// rleFrString: parse a compressed string for an h×w mask. Throws RleError for characters outside '0'..'o',
/// a truncated final group, or counts that do not sum to h*w.
Rle from_string(std::string_view s, uint32_t h, uint32_t w);

/// rleIou: IoU of every detection d with every ground truth g, written row-major to out[d * gt.size() + g]
/// (out must hold dt.size()*gt.size() doubles). Pairs whose boxes do not overlap get 0 without RLE work; a size
/// mismatch with overlapping boxes gives -1; intersection 0 gives 0 (empty vs empty is 0); crowd GT
/// (iscrowd[g] != 0) uses the detection area as the union.
void iou(const std::vector<Rle>& dt, const std::vector<Rle>& gt, const std::vector<uint8_t>& iscrowd, double* out);

/// bbIou: the same for boxes (crowd: intersection over the detection box area).
void bbox_iou(const std::vector<Box>& dt, const std::vector<Box>& gt, const std::vector<uint8_t>& iscrowd,
              double* out);

}  // namespace glamm::mask
