// COCO caption GT / results loaders (pycocotools COCO() + loadRes, COCOEvalCap image order) on simdjson's DOM.
#include "datasets/coco_captions.h"
#include "datasets/json_util.h"

#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/error.h"
#include "common/io.h"

namespace glamm::datasets {

namespace {

using caption::ImageId;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

const char* type_name(element_type t) { return json_type_name(t); }

/// Offset of the first byte that does not belong to a well-formed UTF-8 sequence (no overlongs, no surrogates,
/// ≤ U+10FFFF), or npos.
std::size_t first_invalid_utf8(std::string_view s, std::size_t from = 0) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = from;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if ((p[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

/// Which caption record holds byte `bad` of the file: walks a sanitized copy with simdjson On-Demand and compares
/// the byte ranges of the `caption` string tokens. `array_key` = "annotations" for a GT file (root object), "" for a
/// results file (root array). Returns the record index or nullopt.
std::optional<std::size_t> caption_record_at(std::string_view json, std::size_t bad, const std::string& array_key) {
  std::string clean(json);
  for (std::size_t i = first_invalid_utf8(clean); i != std::string::npos; i = first_invalid_utf8(clean, i + 1))
    clean[i] = '?';
  try {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(clean);
    simdjson::ondemand::document doc = parser.iterate(padded);
    const char* base = padded.data();
    auto scan_records = [&](simdjson::ondemand::array records) -> std::optional<std::size_t> {
      std::size_t index = 0;
      for (auto rec : records) {
        simdjson::ondemand::object o;
        if (rec.get_object().get(o) == simdjson::SUCCESS) {
          for (auto f : o) {
            std::string_view key = f.unescaped_key();
            if (key != "caption") continue;
            std::string_view raw = f.value().raw_json_token();
            const auto start = static_cast<std::size_t>(raw.data() - base);
            if (bad >= start && bad < start + raw.size()) return index;
          }
        }
        ++index;
      }
      return std::nullopt;
    };
    if (array_key.empty()) return scan_records(doc.get_array());
    for (auto f : doc.get_object()) {
      std::string_view key = f.unescaped_key();
      if (key == array_key) return scan_records(f.value().get_array());
    }
  } catch (const simdjson::simdjson_error&) {
  }
  return std::nullopt;
}

/// Parse JSON text into a DOM element; invalid UTF-8 is reported with its offset and, when it lies in a caption,
/// the record ("<array_key>[i]").
element parse_root(simdjson::dom::parser& parser, const simdjson::padded_string& padded, std::string_view json,
                   const std::string& file, const std::string& array_key) {
  element root;
  const auto err = parser.parse(padded).get(root);
  if (err == simdjson::UTF8_ERROR) {
    const std::size_t bad = first_invalid_utf8(json);
    if (bad == std::string_view::npos) throw io::json_syntax_error(json, file, simdjson::error_message(err));
    std::size_t line = 1;
    for (std::size_t i = 0; i < bad; ++i) line += json[i] == '\n';
    const auto rec = caption_record_at(json, bad, array_key);
    const std::string where = fmt::format("invalid UTF-8 at byte offset {} (line {})", bad, line);
    if (rec) throw InputError(file, fmt::format("{}[{}]", array_key.empty() ? "results" : array_key, *rec),
                              "caption is not valid UTF-8: " + where);
    throw InputError(file, "", where);
  }
  if (err) throw io::json_syntax_error(json, file, simdjson::error_message(err));
  return root;
}

ImageId get_image_id(element e, const std::string& file, const std::string& record, const char* key) {
  switch (e.type()) {
    case element_type::STRING: {
      std::string_view s;
      if (e.get_string().get(s) != simdjson::SUCCESS) throw InputError(file, record, "unreadable value");
      return ImageId::of(std::string(s));
    }
    case element_type::INT64: {
      std::int64_t v = 0;
      if (e.get_int64().get(v) != simdjson::SUCCESS) throw InputError(file, record, "unreadable value");
      return ImageId::of(v);
    }
    case element_type::DOUBLE: {
      // Python's json keeps 5.0 as a float, which equals (and hashes like) the integer id 5.
      double d = 0;
      if (e.get_double().get(d) != simdjson::SUCCESS) throw InputError(file, record, "unreadable value");
      if (std::floor(d) == d && std::fabs(d) < 9.2e18) return ImageId::of(static_cast<std::int64_t>(d));
      throw InputError(file, record, fmt::format("'{}' must be an integer or a string, got {}", key, d));
    }
    case element_type::UINT64: throw InputError(file, record, fmt::format("'{}' is out of the int64 range", key));
    default:
      throw InputError(file, record,
                       fmt::format("'{}' must be an integer or a string, got {}", key, type_name(e.type())));
  }
}

std::string get_caption(const object& o, const std::string& file, const std::string& record) {
  element e;
  if (!last_field(o, "caption", e, [&] { return record; })) throw InputError(file, record, "missing field 'caption'");
  if (e.type() != element_type::STRING)
    throw InputError(file, record, fmt::format("'caption' must be a string, got {}", type_name(e.type())));
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) throw InputError(file, record, "unreadable value");
  // \uXXXX escapes can encode unpaired surrogates, which are not valid UTF-8 (the reference fails writing them).
  if (!simdjson::validate_utf8(s.data(), s.size()))
    throw InputError(file, record, "caption is not valid Unicode (unpaired surrogate escape)");
  return std::string(s);
}

element require_field(const object& o, const char* key, const std::string& file, const std::string& record) {
  element e;
  if (!last_field(o, key, e, [&] { return record; }))
    throw InputError(file, record, fmt::format("missing field '{}'", key));
  return e;
}

}  // namespace

CocoCaptionGt parse_coco_caption_gt(std::string_view json, const std::string& file_label,
                                    std::vector<std::string>& warnings) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  const element root = parse_root(parser, padded, json, file_label, "annotations");
  const DuplicateKeyScope duplicate_keys(file_label, &warnings);
  object top;
  if (root.get_object().get(top) != simdjson::SUCCESS)
    throw InputError(file_label, "", fmt::format("the root must be an object with 'images' and 'annotations', got {}",
                                                 type_name(root.type())));
  CocoCaptionGt gt;
  gt.file = file_label;

  element images_el = require_field(top, "images", file_label, "");
  array images;
  if (images_el.get_array().get(images) != simdjson::SUCCESS)
    throw InputError(file_label, "images", fmt::format("must be an array, got {}", type_name(images_el.type())));
  std::size_t repeated = 0;
  std::size_t i = 0;
  for (element img : images) {
    const std::string record = fmt::format("images[{}]", i++);
    object o;
    if (img.get_object().get(o) != simdjson::SUCCESS)
      throw InputError(file_label, record, fmt::format("must be an object, got {}", type_name(img.type())));
    ImageId id = get_image_id(require_field(o, "id", file_label, record), file_label, record, "id");
    if (gt.index.emplace(id.key(), gt.images.size()).second) {
      gt.images.push_back(std::move(id));
    } else {
      ++repeated;
    }
  }
  gt.captions.resize(gt.images.size());
  if (repeated > 0)
    warnings.push_back(fmt::format("{}: {} repeated image id(s) in 'images'; each keeps its first position", file_label,
                                   repeated));

  element anns_el = require_field(top, "annotations", file_label, "");
  array anns;
  if (anns_el.get_array().get(anns) != simdjson::SUCCESS)
    throw InputError(file_label, "annotations", fmt::format("must be an array, got {}", type_name(anns_el.type())));
  std::size_t unknown = 0;
  i = 0;
  for (element ann : anns) {
    std::string record = fmt::format("annotations[{}]", i++);
    object o;
    if (ann.get_object().get(o) != simdjson::SUCCESS)
      throw InputError(file_label, record, fmt::format("must be an object, got {}", type_name(ann.type())));
    const ImageId id = get_image_id(require_field(o, "image_id", file_label, record), file_label, record, "image_id");
    record += " (image_id " + id.display() + ")";
    std::string cap = get_caption(o, file_label, record);
    ++gt.num_annotations;
    const auto it = gt.index.find(id.key());
    if (it == gt.index.end()) {
      ++unknown;
      continue;
    }
    gt.captions[it->second].push_back(std::move(cap));
  }
  if (unknown > 0)
    warnings.push_back(fmt::format("{}: {} annotation(s) refer to images absent from 'images' and are ignored",
                                   file_label, unknown));
  return gt;
}

CocoCaptionGt load_coco_caption_gt(const std::filesystem::path& file, std::vector<std::string>& warnings) {
  const std::string text = io::read_text_file(file);
  return parse_coco_caption_gt(text, file.string(), warnings);
}

std::vector<CocoCaptionResult> parse_coco_caption_results(std::string_view json, const std::string& file_label) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  const element root = parse_root(parser, padded, json, file_label, "");
  const DuplicateKeyScope duplicate_keys(file_label);  // collected by take_duplicate_key_warnings()
  array records;
  if (root.get_array().get(records) != simdjson::SUCCESS)
    throw InputError(file_label, "",
                     fmt::format("a results file must be a JSON array of {{image_id, caption}}, got {}",
                                 type_name(root.type())));
  std::vector<CocoCaptionResult> out;
  out.reserve(records.size());
  std::size_t i = 0;
  for (element rec : records) {
    std::string record = fmt::format("results[{}]", i++);
    object o;
    if (rec.get_object().get(o) != simdjson::SUCCESS)
      throw InputError(file_label, record, fmt::format("must be an object, got {}", type_name(rec.type())));
    CocoCaptionResult r;
    r.image_id = get_image_id(require_field(o, "image_id", file_label, record), file_label, record, "image_id");
    record += " (image_id " + r.image_id.display() + ")";
    r.caption = get_caption(o, file_label, record);
    out.push_back(std::move(r));
  }
  if (out.empty())
    throw InputError(file_label, "", "the results list is empty (pycocotools' loadRes fails on an empty list)");
  return out;
}

std::vector<CocoCaptionResult> load_coco_caption_results(const std::filesystem::path& file) {
  const std::string text = io::read_text_file(file);
  return parse_coco_caption_results(text, file.string());
}

caption::EvalCapInput pair_captions(const CocoCaptionGt& gt, const std::vector<CocoCaptionResult>& results,
                                    const std::string& results_file) {
  if (results.empty())
    throw InputError(results_file, "", "the results list is empty (pycocotools' loadRes fails on an empty list)");
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<std::size_t> result_of(gt.images.size(), kNone);
  for (std::size_t r = 0; r < results.size(); ++r) {
    const ImageId& id = results[r].image_id;
    const std::string record = fmt::format("results[{}] (image_id {})", r, id.display());
    const auto it = gt.index.find(id.key());
    if (it == gt.index.end()) {
      std::string hint;
      if (!gt.images.empty() && gt.images.front().is_string != id.is_string)
        hint = gt.images.front().is_string ? " (the ground truth uses string ids)" : " (the ground truth uses integer ids)";
      throw InputError(results_file, record,
                       "image is not in the ground truth " + gt.file + hint +
                           " (pycocotools: 'Results do not correspond to current coco set')");
    }
    std::size_t& slot = result_of[it->second];
    if (slot != kNone)
      throw InputError(results_file, record,
                       fmt::format("second result for this image (first: results[{}]); COCOEvalCap scores exactly one "
                                   "caption per image",
                                   slot));
    slot = r;
  }
  caption::EvalCapInput in;
  for (std::size_t g = 0; g < gt.images.size(); ++g) {
    if (result_of[g] == kNone) continue;
    if (gt.captions[g].empty())
      throw InputError(gt.file, "image " + gt.images[g].display(),
                       "has a result but no ground-truth caption (COCOEvalCap needs at least one reference)");
    in.image_ids.push_back(gt.images[g]);
    in.refs.push_back(gt.captions[g]);
    in.hyps.push_back(results[result_of[g]].caption);
  }
  return in;
}

}  // namespace glamm::datasets
