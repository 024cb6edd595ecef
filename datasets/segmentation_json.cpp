// COCO segmentation values from simdjson: the limits and forms listed in docs/input-rules.md ("Segmentations and
// RLE masks"). Every JSON loader of the project reads polygons and RLE objects through here.
#include "datasets/segmentation_json.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "datasets/json_util.h"

namespace glamm::datasets {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

/// What an element is, for "got ..." in messages: the number itself, or its JSON type ("a string").
std::string describe(element e, const JsonSource& src) {
  if (src.is_nonfinite && src.is_nonfinite(e)) return "NaN or Infinity";
  switch (e.type()) {
    case element_type::INT64: return std::to_string(e.get_int64().value_unsafe());
    case element_type::UINT64: return std::to_string(e.get_uint64().value_unsafe());
    case element_type::DOUBLE: return fmt::format("{}", e.get_double().value_unsafe());
    default: return json_type_name(e.type());
  }
}

/// An integer in [0, 2^32-1]: a JSON integer or a number holding one. False for anything else.
bool as_uint32(element e, uint32_t& out) {
  switch (e.type()) {
    case element_type::INT64: {
      const int64_t v = e.get_int64().value_unsafe();
      if (v < 0 || static_cast<uint64_t>(v) > kMaxMaskSide) return false;
      out = static_cast<uint32_t>(v);
      return true;
    }
    case element_type::UINT64: return false;  // >= 2^63
    case element_type::DOUBLE: {
      const double d = e.get_double().value_unsafe();
      if (!(d >= 0.0 && d <= static_cast<double>(kMaxMaskSide)) || std::floor(d) != d) return false;
      out = static_cast<uint32_t>(d);
      return true;
    }
    default: return false;
  }
}

/// The last `size` and `counts` of an RLE object in one pass (json.load keeps the last of a repeated key); a
/// repeated one is noted in the current DuplicateKeyScope.
void size_and_counts(const object& o, const JsonSource& src, element& size, bool& has_size, element& counts,
                     bool& has_counts) {
  has_size = has_counts = false;
  bool repeated = false;
  std::string_view repeated_key;
  for (simdjson::dom::key_value_pair kv : o) {
    if (kv.key == "size") {
      if (has_size && !repeated) repeated = true, repeated_key = "size";
      has_size = true;
      size = kv.value;
    } else if (kv.key == "counts") {
      if (has_counts && !repeated) repeated = true, repeated_key = "counts";
      has_counts = true;
      counts = kv.value;
    }
  }
  if (repeated)
    if (DuplicateKeyScope* s = DuplicateKeyScope::current(); s && !s->seen()) s->note(repeated_key, src.record());
}

}  // namespace

void JsonSource::fail(const std::string& message) const { throw InputError(file, record(), message); }

uint32_t read_mask_side(element e, const JsonSource& src, std::string_view what) {
  uint32_t v = 0;
  if (!as_uint32(e, v))
    src.fail(fmt::format("{} must be an integer in [0, 2^32-1], got {}", what, describe(e, src)));
  return v;
}

std::variant<mask::UncompressedRle, CompressedRleView> read_rle_view(element e, const JsonSource& src) {
  object o;
  if (e.get_object().get(o) != simdjson::SUCCESS)
    src.fail(fmt::format("an RLE mask must be an object {{\"size\": [height, width], \"counts\": ...}}, got {}",
                         describe(e, src)));
  element size, counts;
  bool has_size = false, has_counts = false;
  size_and_counts(o, src, size, has_size, counts, has_counts);
  if (!has_size || !has_counts)
    src.fail(fmt::format("an RLE object needs 'size' and 'counts' (missing '{}')", has_size ? "counts" : "size"));
  array sz;
  if (size.get_array().get(sz) != simdjson::SUCCESS || sz.size() != 2)
    src.fail(fmt::format("RLE 'size' must be [height, width], got {}",
                         size.type() == element_type::ARRAY ? fmt::format("a list of {}", sz.size())
                                                            : std::string(describe(size, src))));
  const uint32_t h = read_mask_side(sz.at(0).value_unsafe(), src, "RLE size[0] (height)");
  const uint32_t w = read_mask_side(sz.at(1).value_unsafe(), src, "RLE size[1] (width)");
  if (counts.type() == element_type::STRING) return CompressedRleView{h, w, counts.get_string().value_unsafe()};
  array cs;
  if (counts.get_array().get(cs) != simdjson::SUCCESS)
    src.fail(fmt::format("RLE 'counts' must be a string (compressed RLE) or a list of integers (uncompressed RLE), "
                         "got {}",
                         describe(counts, src)));
  mask::UncompressedRle u{h, w, {}};
  u.counts.reserve(cs.size());
  std::size_t k = 0;
  for (element c : cs) {
    uint32_t v = 0;
    if (!as_uint32(c, v))
      src.fail(fmt::format("RLE counts[{}] must be an integer in [0, 2^32-1], got {}", k, describe(c, src)));
    u.counts.push_back(v);
    ++k;
  }
  return u;
}

mask::Segmentation read_rle(element e, const JsonSource& src) {
  auto v = read_rle_view(e, src);
  if (auto* c = std::get_if<CompressedRleView>(&v)) return mask::CompressedRle{c->h, c->w, std::string(c->counts)};
  return std::get<mask::UncompressedRle>(std::move(v));
}

mask::Polygons read_polygons(element e, const JsonSource& src) {
  array parts;
  if (e.get_array().get(parts) != simdjson::SUCCESS)
    src.fail(fmt::format("polygons must be a list of lists of numbers, got {}", describe(e, src)));
  mask::Polygons poly;
  poly.parts.reserve(parts.size());
  for (element part : parts) {
    array xs;
    if (part.get_array().get(xs) != simdjson::SUCCESS)
      src.fail(fmt::format("field 'segmentation' must be a list of polygons (lists of numbers), found {} in it",
                           describe(part, src)));
    std::vector<double> xy;
    xy.reserve(xs.size());
    for (element x : xs) {
      double d = 0;
      switch (x.type()) {
        case element_type::DOUBLE: d = x.get_double().value_unsafe(); break;
        case element_type::INT64: d = static_cast<double>(x.get_int64().value_unsafe()); break;
        case element_type::UINT64: d = static_cast<double>(x.get_uint64().value_unsafe()); break;
        default:
          if (src.is_nonfinite && src.is_nonfinite(x))
            src.fail("a polygon coordinate is NaN or Infinity; glamm-eval accepts these (as Python's json reads "
                     "them) only in 'score' (docs/input-rules.md, File reading)");
          src.fail(fmt::format("polygon coordinates must be numbers, got {}", describe(x, src)));
      }
      xy.push_back(d);
    }
    poly.parts.push_back(std::move(xy));
  }
  return poly;
}

SegmentationView read_segmentation_view(element e, const JsonSource& src) {
  if (e.type() == element_type::ARRAY) return read_polygons(e, src);
  if (e.type() != element_type::OBJECT)
    src.fail(fmt::format("field 'segmentation' must be polygons or an RLE object, got {}", describe(e, src)));
  auto v = read_rle_view(e, src);
  if (auto* c = std::get_if<CompressedRleView>(&v)) return *c;
  return std::get<mask::UncompressedRle>(std::move(v));
}

mask::Segmentation read_segmentation(element e, const JsonSource& src) {
  SegmentationView v = read_segmentation_view(e, src);
  if (auto* c = std::get_if<CompressedRleView>(&v)) return mask::CompressedRle{c->h, c->w, std::string(c->counts)};
  if (auto* u = std::get_if<mask::UncompressedRle>(&v)) return std::move(*u);
  return std::get<mask::Polygons>(std::move(v));
}

}  // namespace glamm::datasets
