// The one reader of COCO segmentation values in JSON (simdjson DOM): polygon lists, uncompressed RLE objects
// {size, counts: [int]} and compressed RLE objects {size, counts: "string"}, with one set of limits and one accepted
// form of `size`. Every loader that meets such a value uses it: datasets/coco_json (GT and results),
// datasets/refer (instances and refseg predictions), datasets/grandf (GCG predictions and mask GT) and, through
// grandf, the HTML report's overlays. The rules are listed in docs/input-rules.md ("Segmentations and RLE masks").
//
// Follows what pycocotools 2.0.6 accepts (coco.py annToRLE, _mask.pyx frPyObjects/frUncompressedRLE/_frString):
// `size` goes through Cython's conversion to the C `siz` type, so an integer or a float holding an integer
// (480.0) gives the same mask; what 2.0.6 would silently truncate (480.5), wrap or crash on is refused here.
//
// Every error is an InputError naming the file and the record; nothing here decodes a mask (metrics/mask does).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <simdjson.h>

#include "metrics/mask/segmentation.h"

namespace glamm::datasets {

/// The largest mask side (RLE size[0], size[1], image height and width) any reader accepts: 2^32-1, the range of
/// mask::Rle's uint32 sides (pycocotools' `siz` is wider, but no decodable mask comes near it).
inline constexpr uint64_t kMaxMaskSide = 0xFFFFFFFFull;

/// A record name formatted only when a message needs it ("annotations[12] (id 7)", "line 3 mask"): refers to a
/// callable returning std::string, or to a std::string, that must outlive it (pass a lambda or string of the
/// caller's frame straight into the call). Costs nothing while the input is well formed.
class RecordName {
 public:
  template <class F, class = std::enable_if_t<std::is_invocable_r_v<std::string, const F&> &&
                                              !std::is_same_v<std::decay_t<F>, std::string>>>
  RecordName(const F& f)  // NOLINT(google-explicit-constructor): a lambda is passed where a record is expected
      : obj_(&f), call_([](const void* o) { return std::string((*static_cast<const F*>(o))()); }) {}
  RecordName(const std::string& s)  // NOLINT(google-explicit-constructor)
      : obj_(&s), call_([](const void* o) { return *static_cast<const std::string*>(o); }) {}
  /// A temporary would be gone before the message is formatted: name the lambda or string first.
  template <class F, class = std::enable_if_t<!std::is_lvalue_reference_v<F>>>
  RecordName(F&&) = delete;
  std::string operator()() const { return call_(obj_); }

 private:
  const void* obj_;
  std::string (*call_)(const void*);
};

/// Where a value is read from, for messages: the file and the record. `is_nonfinite`, when set, tells whether an
/// element stands for a NaN/Infinity literal (the COCO results loader reads Python's literals as tagged strings):
/// such a coordinate or size gets a message that says so rather than "got a string".
struct JsonSource {
  const std::string& file;
  RecordName record;
  bool (*is_nonfinite)(simdjson::dom::element) = nullptr;

  /// Throws InputError(file, record(), message).
  [[noreturn]] void fail(const std::string& message) const;
};

/// A compressed RLE whose counts string still lives in the parsed document (no copy): what coco_json decodes in
/// parallel after parsing. Valid as long as the simdjson parser that produced it.
struct CompressedRleView {
  uint32_t h = 0;
  uint32_t w = 0;
  std::string_view counts;
};

/// A segmentation as read: polygons, uncompressed RLE, or compressed RLE viewed in the document.
using SegmentationView = std::variant<mask::Polygons, mask::UncompressedRle, CompressedRleView>;

/// One mask side: a JSON integer, or a number holding an integer (480.0, as pycocotools' int conversion reads
/// it), in [0, 2^32-1]. Refused: a fractional number (480.5, which 2.0.6 would truncate), a negative number, a
/// value above 2^32-1, booleans, strings, null, lists and objects. `what` names the value in the message, e.g.
/// "RLE size[0] (height)" → "RLE size[0] (height) must be an integer in [0, 2^32-1], got 480.5".
uint32_t read_mask_side(simdjson::dom::element e, const JsonSource& src, std::string_view what);

/// An RLE object {"size": [h, w], "counts": "..." | [c0, c1, ...]} (the last value of a repeated key, noted as a
/// duplicate in the current DuplicateKeyScope). `size` as read_mask_side; list counts are integers (or numbers
/// holding one) in [0, 2^32-1], as np.array(counts, dtype=np.uint32) holds them. The counts are not decoded: a
/// bad compressed string or counts that do not sum to h*w are found by mask::from_string / mask::to_rle.
/// Refuses a non-object, a missing `size` or `counts`, a `size` that is not a list of two, and `counts` of any
/// other type.
std::variant<mask::UncompressedRle, CompressedRleView> read_rle_view(simdjson::dom::element e, const JsonSource& src);

/// read_rle_view with the compressed string copied out: a CompressedRle or an UncompressedRle.
mask::Segmentation read_rle(simdjson::dom::element e, const JsonSource& src);

/// A polygon list [[x0, y0, x1, y1, ...], ...]: every part a list of numbers (ints or floats; NaN/Infinity refused).
/// Part lengths are not checked here (mask::to_rle applies annToRLE's rules to them).
mask::Polygons read_polygons(simdjson::dom::element e, const JsonSource& src);

/// A COCO annotation's `segmentation` (annToRLE's three forms): a list → polygons (read_polygons), an object → RLE
/// (read_rle_view); anything else is refused.
SegmentationView read_segmentation_view(simdjson::dom::element e, const JsonSource& src);

/// read_segmentation_view with the compressed string copied out.
mask::Segmentation read_segmentation(simdjson::dom::element e, const JsonSource& src);

}  // namespace glamm::datasets
