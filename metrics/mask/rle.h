// COCO run-length encoded masks: the pycocotools 2.0.6 mask API (common/maskApi.c, _mask.pyx, mask.py) as free
// functions over one plain struct. Spec: shared specs/mask-metrics.md §2.
//
// Conventions: a mask of h rows and w columns is flattened column-major (pixel (y, x) at x*h + y); counts
// alternate 0-runs and 1-runs starting with a 0-run; the counts of a valid RLE sum to h*w.
#pragma once

#include <array>
#include <cstddef>
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

/// rleEncode: encode an h×w column-major mask of h*w bytes (a byte different from the previous byte starts a new
/// run, the previous byte starting at 0, as the C code does — so 255 toggles too: feed 0/1). Returns a canonical
/// RLE (only counts[0] may be 0; an h*w = 0 mask gives counts {0}). Throws RleError when h*w > 2^32-1.
Rle encode(const uint8_t* mask_colmajor, uint32_t h, uint32_t w);

/// rleDecode: h*w bytes of 0/1, column-major. Throws RleError when the counts sum to more than h*w
/// (2.0.6: ValueError "Invalid RLE mask representation") or to less (our departure: 2.0.6 leaves the tail as
/// uninitialised malloc memory, docs/quirks.md q10).
std::vector<uint8_t> decode(const Rle& r);

/// rleArea: sum of the 1-runs (counts[1], counts[3], ...), as uint32 like the C code (wraps modulo 2^32 only for
/// invalid RLEs whose counts exceed h*w).
uint32_t area(const Rle& r);

/// rleToBbox (2.0.6 behaviour, including the whole-height rule: a 1-run that crosses a column boundary makes the
/// y-range [0, h-1]): [x, y, w, h] in whole pixels. counts.size() < 2 (empty) gives [0, 0, 0, 0]; the count
/// list is cut to an even length (a trailing 0-run does not matter). Zero-length 1-runs are skipped; when every
/// 1-run has length 0 (non-canonical, e.g. {0, 0, 12} on 4×3) the result is 2.0.6's uint32 wrap-around
/// [w, h, 2^32+1-w, 2^32+1-h] (here [3, 4, 4294967294, 4294967293]), reproduced exactly.
/// Throws RleError only for h == 0 with a non-empty 1-run (the C code divides by zero there).
Box to_bbox(const Rle& r);
/// rleToBbox exactly as maskApi.c computes it: two divisions per 1-run, uint32 positions (which wrap around for
/// invalid RLEs whose counts sum past 2^32-1). Same results and errors as to_bbox, which walks the runs without
/// divisions and falls back to this form for h == 0 and wrapping sums; kept public as the oracle of its tests.
Box to_bbox_reference(const Rle& r);

/// rleFrBbox: the RLE of the box polygon (x,y),(x,y+h),(x+w,y+h),(x+w,y) on an h×w image, i.e.
/// from_polygon({x, y, x, y+bh, x+bw, y+bh, x+bw, y}, h, w). [1,1,3,2] gives 6 pixels. Throws as from_polygon.
Rle from_bbox(const Box& bb, uint32_t h, uint32_t w);

/// rleFrPoly: even-odd scan conversion with 5× upsampling and C truncation; `xy` = x0,y0,x1,y1,... in pixels; an
/// odd-length list drops its last number (as int(len/2) vertices). Pixel (x, y) is set when its centre lies
/// inside, up to the 1/5-pixel quantisation; points outside the image are clipped as 2.0.6 does. Fewer than 3
/// vertices give an empty mask (as 2.0.6). The result is canonical (only counts[0] may be 0), as 2.0.6's.
/// Cost is linear in the perimeter measured in 1/5 pixels. Throws RleError for a non-finite coordinate, a
/// coordinate with |5v + 0.5| >= 2^30 (C's int conversion would be undefined) or h*w > 2^32-1.
Rle from_polygon(const std::vector<double>& xy, uint32_t h, uint32_t w);

/// rleMerge: union (intersect = false) or intersection of n RLEs, folded left with the C code's two-pointer walk
/// (canonical output for canonical inputs). Non-canonical inputs behave exactly as in 2.0.6: their zero-length
/// runs can survive, and when both inputs reach a zero-length run at the same pixel the walk ends there, so the
/// result covers fewer than h*w pixels (see canonical()). n = 0 → 0×0 empty RLE; n = 1 → copy; any size
/// mismatch → {h = 0, w = 0, counts = {}} (serialised by pycocotools as {'size': [0, 0], 'counts': ''}).
/// Inputs whose counts do not sum to h*w are invalid; the walk then stops when the shorter input ends (the C code
/// would loop forever).
Rle merge(const std::vector<Rle>& rles, bool intersect);

/// The canonical form of an RLE: zero-length runs after the first count removed by joining their neighbours
/// ({1, 0, 0, 2} → {1, 2}; {0, 0, 3} → {3}); the same mask. Not a pycocotools function: 2.0.6 keeps zero-length
/// runs, and its merge/iou walk stops early when both inputs reach one at the same pixel (so {1,0,0,2} vs itself
/// has IoU 0 there, and merge drops the tail). Used by to_rle under --strict.
Rle canonical(const Rle& r);

/// rleToString: the compressed LEB128-like string (5 bits per char, alphabet '0'..'o', delta rule: counts[i] -
/// counts[i-2] for i > 2 only, in int64). {0, 12} → "0<", {5,1,1,1,4} → "51103", {3,2,7} → "327". Empty counts
/// give "".
std::string to_string(const Rle& r);

/// rleFrString: parse a compressed string for an h×w mask (int64 arithmetic, one allocation). Throws RleError
/// for characters outside '0'..'o', a truncated final group (last char with the continuation bit 0x20), a group
/// longer than 12 chars, a count outside [0, 2^32-1] after the delta rule, or counts that do not sum to h*w
/// (2.0.6 checks none of these; it reads past the string or decodes garbage). "" is valid only when h*w = 0.
Rle from_string(std::string_view s, uint32_t h, uint32_t w);

/// rleIou: IoU of every detection d with every ground truth g, written row-major to out[d * gt.size() + g]
/// (out must hold dt.size()*gt.size() doubles; pycocotools returns the same D×G matrix, and [] when either side
/// is empty). Pairs whose to_bbox boxes do not overlap (bbox_iou <= 0) get 0 without RLE work; a size mismatch
/// with overlapping boxes gives -1; intersection 0 gives 0 (empty vs empty is 0, not NaN); crowd GT
/// (iscrowd[g] != 0) uses the detection area as the union (|d∩g| / |d|). Two-pointer walk over the runs, no
/// decode; allocates only the two box lists (and, in this vector form, two pointer lists). Non-canonical inputs
/// give 2.0.6's result, including its early stop at a shared zero-length run (see canonical()). Throws
/// std::invalid_argument when iscrowd.size() != gt.size() (2.0.6 asserts the same).
void iou(const std::vector<Rle>& dt, const std::vector<Rle>& gt, const std::vector<uint8_t>& iscrowd, double* out);

/// rleIou over pointers, so that callers holding RLEs elsewhere need not copy them: dt[0..dt_n) and gt[0..gt_n)
/// point to the RLEs, iscrowd has gt_n entries (may be null when gt_n == 0), out has dt_n*gt_n doubles written
/// row-major as above. Same results as the vector form.
void iou(const Rle* const* dt, size_t dt_n, const Rle* const* gt, size_t gt_n, const uint8_t* iscrowd, double* out);

/// rleIou with the to_bbox boxes of the RLEs given (dt_box[d] = to_bbox(*dt[d]), gt_box[g] = to_bbox(*gt[g])), for
/// callers that keep them: same results as the forms above, and no allocation.
void iou(const Rle* const* dt, const Box* dt_box, size_t dt_n, const Rle* const* gt, const Box* gt_box, size_t gt_n,
         const uint8_t* iscrowd, double* out);

/// What rleIou needs to know about one RLE besides its runs, taken in one pass (rle_facts) where the counts are
/// at hand (the COCO loaders do it right after decoding, so that evaluation does not fetch every mask twice).
struct RleFacts {
  Box box{};          ///< to_bbox(r)
  uint64_t area = 0;  ///< 1-run pixels, summed without area()'s uint32 wrap-around
  /// The counts sum to h*w and no run after the first has length 0: the C walk of two such RLEs of one size
  /// visits every pixel once, so iou can intersect their 1-runs directly and take the union from the areas.
  bool plain = false;
};

/// RleFacts of `r` (to_bbox's errors: RleError for h == 0 with a non-empty 1-run).
RleFacts rle_facts(const Rle& r);

/// rleIou with the RleFacts of the RLEs given (dt_facts[d] = rle_facts(*dt[d]), ...): same results as the forms
/// above, no allocation, and no pass over a mask's runs except the walks themselves.
void iou(const Rle* const* dt, const RleFacts* dt_facts, size_t dt_n, const Rle* const* gt, const RleFacts* gt_facts,
         size_t gt_n, const uint8_t* iscrowd, double* out);

/// bbIou: the same for [x, y, w, h] boxes, row-major out[d * gt.size() + g]: intersection / union of the box
/// areas, 0 when they do not overlap (touching edges included); crowd: intersection over the detection box area.
/// Throws std::invalid_argument when iscrowd.size() != gt.size().
void bbox_iou(const std::vector<Box>& dt, const std::vector<Box>& gt, const std::vector<uint8_t>& iscrowd,
              double* out);

}  // namespace glamm::mask
