// REFER refs pickle + instances.json + split selection + GT masks + refseg predictions (spec dataset-formats.md §4).
#include "datasets/refer.h"
#include "datasets/json_util.h"
#include "datasets/segmentation_json.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/error.h"
#include "common/io.h"
#include "common/pickle.h"

namespace glamm::datasets::refer {

namespace {

using pickle::Value;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// ---------------------------------------------------------------------------------------------------------------
// pickle side

/// Latin-1 bytes → UTF-8.
std::string latin1_to_utf8(const std::string& b) {
  std::string out;
  for (unsigned char c : b) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

struct RefReader {
  RefsFile& out;
  std::string record;

  const Value& field(const Value& d, const char* key) const {
    const Value* v = d.get(key);
    if (!v) throw InputError(out.file, record, fmt::format("missing field '{}'", key));
    return *v;
  }
  int64_t integer(const Value& d, const char* key) const {
    const Value& v = field(d, key);
    if (v.kind != Value::Kind::kInt)
      throw InputError(out.file, record, fmt::format("'{}' must be an integer, got {}", key, v.describe()));
    return v.i;
  }
  std::string text(const Value& v, const char* key) const {
    if (v.kind != Value::Kind::kStr && v.kind != Value::Kind::kBytes)
      throw InputError(out.file, record, fmt::format("'{}' must be a string, got {}", key, v.describe()));
    if (v.kind == Value::Kind::kBytes || v.py2_str) {
      ++out.py2_strings;
      if (!simdjson::validate_utf8(v.s.data(), v.s.size())) {
        ++out.latin1_strings;
        return latin1_to_utf8(v.s);
      }
    }
    return v.s;
  }
  std::string text_field(const Value& d, const char* key) const { return text(field(d, key), key); }
};

// ---------------------------------------------------------------------------------------------------------------
// JSON side

const char* type_name(element_type t) { return json_type_name(t); }

element require(const object& o, const char* key, const std::string& file, const std::string& rec) {
  element e;
  if (!last_field(o, key, e, [&] { return rec; }))
    throw InputError(file, rec, fmt::format("missing field '{}'", key));
  return e;
}

int64_t as_int(element e, const char* key, const std::string& file, const std::string& rec) {
  int64_t v = 0;
  if (e.type() == element_type::INT64 && e.get_int64().get(v) == simdjson::SUCCESS) return v;
  double d = 0;
  if (e.type() == element_type::DOUBLE && e.get_double().get(d) == simdjson::SUCCESS && std::floor(d) == d &&
      std::fabs(d) < 9.2e18)
    return static_cast<int64_t>(d);
  throw InputError(file, rec, fmt::format("'{}' must be an integer, got {}", key, type_name(e.type())));
}

std::string as_str(element e, const char* key, const std::string& file, const std::string& rec) {
  std::string_view s;
  if (e.type() != element_type::STRING || e.get_string().get(s) != simdjson::SUCCESS)
    throw InputError(file, rec, fmt::format("'{}' must be a string, got {}", key, type_name(e.type())));
  return std::string(s);
}

/// images[].height / width: a mask side (read_mask_side's rules, the same for every reader).
uint32_t as_dim(element e, const char* key, const std::string& file, const std::string& rec) {
  const JsonSource src{file, rec};
  return read_mask_side(e, src, fmt::format("'{}'", key));
}

element parse_doc(simdjson::dom::parser& parser, const simdjson::padded_string& padded, const std::string& file,
                  const std::string& rec) {
  element root;
  const auto err = parser.parse(padded).get(root);
  if (err) {
    const InputError e = io::json_syntax_error(std::string_view(padded.data(), padded.size()), file,
                                               simdjson::error_message(err));
    std::string m = e.message();  // a JSON-lines record is one line: its column is enough
    if (!rec.empty())
      if (const auto k = m.find("at line 1, "); k != std::string::npos) m.replace(k, 11, "at ");
    throw InputError(file, rec, m);
  }
  return root;
}

/// An annotation's `segmentation` as its parts (dataset-formats.md §4.4 step 2): an RLE object → one part; a
/// list of lists → one Polygons part; a list of RLE objects → one part each; an empty list → no part (an all-zero
/// mask). Polygons and RLE objects are read by datasets/segmentation_json.h, with the limits every reader shares.
std::vector<mask::Segmentation> parse_segmentation(element seg, const std::string& file, const std::string& rec) {
  const JsonSource src{file, rec};
  std::vector<mask::Segmentation> parts;
  if (seg.type() == element_type::OBJECT) {
    parts.push_back(read_rle(seg, src));
    return parts;
  }
  simdjson::dom::array arr;
  if (seg.get_array().get(arr) != simdjson::SUCCESS)
    throw InputError(file, rec, fmt::format("field 'segmentation' must be polygons or an RLE object, got {}",
                                            type_name(seg.type())));
  if (arr.size() == 0) return parts;
  if (arr.at(0).type() == element_type::ARRAY) {
    parts.push_back(read_polygons(seg, src));
    return parts;
  }
  for (element e : arr) {
    if (e.type() != element_type::OBJECT)
      throw InputError(file, rec, "'segmentation' list must hold polygons (number lists) or RLE objects");
    parts.push_back(read_rle(e, src));
  }
  return parts;
}

std::string optional_str(const object& o, const char* key, const std::string& file, const std::string& rec) {
  element e;
  if (!last_field(o, key, e, [&] { return rec; }) || e.type() == element_type::NULL_VALUE) return "";
  return as_str(e, key, file, rec);
}

Prediction parse_prediction(element e, const std::string& file, const std::string& rec, std::size_t line) {
  object o;
  if (e.get_object().get(o) != simdjson::SUCCESS)
    throw InputError(file, rec, fmt::format("a prediction must be an object, got {}", type_name(e.type())));
  Prediction p;
  p.line = line;
  p.sent_id = as_int(require(o, "sent_id", file, rec), "sent_id", file, rec);
  p.ref_id = as_int(require(o, "ref_id", file, rec), "ref_id", file, rec);
  p.image_id = as_int(require(o, "image_id", file, rec), "image_id", file, rec);
  const element m = require(o, "mask", file, rec);
  const std::string mask_rec = rec + " mask";
  const mask::Segmentation seg = read_rle(m, JsonSource{file, mask_rec});
  const auto* c = std::get_if<mask::CompressedRle>(&seg);
  if (!c) throw InputError(file, rec, "'mask' counts must be a compressed RLE string");
  try {
    p.mask = mask::from_string(c->counts, c->h, c->w);
  } catch (const mask::RleError& err) {
    throw InputError(file, rec, std::string("bad 'mask': ") + err.what());
  }
  p.dataset = optional_str(o, "dataset", file, rec);
  p.split_by = optional_str(o, "split_by", file, rec);
  p.split = optional_str(o, "split", file, rec);
  return p;
}

}  // namespace

// -------------------------------------------------------------------------------------------------------------------

RefsFile parse_refs(std::string_view bytes, const std::string& file_label) {
  RefsFile out;
  out.file = file_label;
  pickle::ValuePtr root;
  try {
    root = pickle::loads(bytes);
  } catch (const pickle::PickleError& e) {
    throw InputError(file_label, "", std::string("not a readable REFER refs pickle: ") + e.what());
  }
  if (root->kind != Value::Kind::kList)
    throw InputError(file_label, "", "the refs pickle must hold a list of ref dicts, got " + root->describe());
  std::unordered_set<int64_t> ref_ids, sent_ids;
  out.refs.reserve(root->items.size());
  for (std::size_t i = 0; i < root->items.size(); ++i) {
    const Value& d = *root->items[i];
    RefReader rd{out, fmt::format("refs[{}]", i)};
    if (d.kind != Value::Kind::kDict) throw InputError(file_label, rd.record, "a ref must be a dict, got " + d.describe());
    Ref r;
    r.ref_id = rd.integer(d, "ref_id");
    rd.record = fmt::format("refs[{}] (ref_id {})", i, r.ref_id);
    r.ann_id = rd.integer(d, "ann_id");
    r.image_id = rd.integer(d, "image_id");
    if (d.get("category_id")) r.category_id = rd.integer(d, "category_id");
    r.split = rd.text_field(d, "split");
    const Value& sents = rd.field(d, "sentences");
    if (sents.kind != Value::Kind::kList)
      throw InputError(file_label, rd.record, "'sentences' must be a list, got " + sents.describe());
    for (std::size_t k = 0; k < sents.items.size(); ++k) {
      const Value& s = *sents.items[k];
      const std::string srec = rd.record;
      rd.record = fmt::format("{} sentences[{}]", srec, k);
      if (s.kind != Value::Kind::kDict) throw InputError(file_label, rd.record, "a sentence must be a dict");
      Sentence st;
      st.sent_id = rd.integer(s, "sent_id");
      st.sent = rd.text_field(s, "sent");
      if (const Value* raw = s.get("raw")) st.raw = rd.text(*raw, "raw");
      if (!sent_ids.insert(st.sent_id).second)
        throw InputError(file_label, rd.record, fmt::format("sent_id {} occurs twice", st.sent_id));
      r.sentences.push_back(std::move(st));
      rd.record = srec;
    }
    if (!ref_ids.insert(r.ref_id).second)
      throw InputError(file_label, rd.record, fmt::format("ref_id {} occurs twice", r.ref_id));
    out.refs.push_back(std::move(r));
  }
  return out;
}

RefsFile load_refs(const std::filesystem::path& file) { return parse_refs(io::read_text_file(file), file.string()); }

Instances parse_instances(std::string_view json, const std::string& file) {
  Instances inst;
  inst.file = file;
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  element root = parse_doc(parser, padded, file, "");
  const DuplicateKeyScope duplicate_keys(file);  // collected by take_duplicate_key_warnings()
  object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) throw InputError(file, "", "the root must be an object");
  simdjson::dom::array images, anns;
  if (require(top, "images", file, "").get_array().get(images) != simdjson::SUCCESS)
    throw InputError(file, "", "'images' must be an array");
  if (require(top, "annotations", file, "").get_array().get(anns) != simdjson::SUCCESS)
    throw InputError(file, "", "'annotations' must be an array");
  std::size_t i = 0;
  for (element e : images) {
    const std::string rec = fmt::format("images[{}]", i++);
    object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) throw InputError(file, rec, "an image must be an object");
    Image im;
    im.id = as_int(require(o, "id", file, rec), "id", file, rec);
    const std::string r2 = fmt::format("{} (id {})", rec, im.id);
    im.file_name = optional_str(o, "file_name", file, r2);
    im.height = as_dim(require(o, "height", file, r2), "height", file, r2);
    im.width = as_dim(require(o, "width", file, r2), "width", file, r2);
    if (!inst.image_index.emplace(im.id, inst.images.size()).second)
      throw InputError(file, r2, fmt::format("image id {} occurs twice", im.id));
    inst.images.push_back(std::move(im));
  }
  i = 0;
  for (element e : anns) {
    const std::string rec = fmt::format("annotations[{}]", i++);
    object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) throw InputError(file, rec, "an annotation must be an object");
    Annotation a;
    a.id = as_int(require(o, "id", file, rec), "id", file, rec);
    const std::string r2 = fmt::format("{} (id {})", rec, a.id);
    a.image_id = as_int(require(o, "image_id", file, r2), "image_id", file, r2);
    element seg;
    if (last_field(o, "segmentation", seg, [&] { return r2; })) a.parts = parse_segmentation(seg, file, r2);
    if (!inst.ann_index.emplace(a.id, inst.annotations.size()).second)
      throw InputError(file, r2, fmt::format("annotation id {} occurs twice", a.id));
    inst.annotations.push_back(std::move(a));
  }
  return inst;
}

Instances load_instances(const std::filesystem::path& file) {
  return parse_instances(io::read_text_file(file), file.string());
}

std::string default_split_by(const std::string& dataset) {
  if (dataset == "refcocog") return "umd";
  if (dataset == "refcoco" || dataset == "refcoco+" || dataset == "refclef") return "unc";
  throw InputError("", "--dataset", "unknown REFER dataset '" + dataset + "' (refcoco, refcoco+, refcocog, refclef)");
}

std::vector<std::string> split_names(const std::string& dataset, const std::string& split_by) {
  if (dataset == "refcoco" && split_by == "unc") return {"train", "val", "testA", "testB"};
  if (dataset == "refcoco" && split_by == "google") return {"train", "val", "test"};
  if (dataset == "refcoco+" && split_by == "unc") return {"train", "val", "testA", "testB"};
  if (dataset == "refcocog" && split_by == "umd") return {"train", "val", "test"};
  if (dataset == "refcocog" && split_by == "google") return {"train", "val"};
  if (dataset == "refclef" && split_by == "unc") return {"train", "val", "testA", "testB", "testC"};
  if (dataset == "refclef" && split_by == "berkeley") return {"train", "val", "test"};
  default_split_by(dataset);  // throws for an unknown dataset
  throw InputError("", "--split-by", fmt::format("{} has no '{}' split scheme (refs({}).p is not published for it)",
                                                 dataset, split_by, split_by));
}

bool split_selects(const std::string& requested, const std::string& ref_split) {
  if (requested == "testA" || requested == "testB" || requested == "testC")
    return ref_split.find(requested.back()) != std::string::npos;
  if (requested == "test") return ref_split.find("test") != std::string::npos;
  return requested == ref_split;
}

Split select_split(const RefsFile& refs, const Instances& inst, const std::string& dataset,
                   const std::string& split_by, const std::string& split) {
  const std::vector<std::string> names = split_names(dataset, split_by);
  bool known = std::find(names.begin(), names.end(), split) != names.end();
  const bool has_test_parts = std::any_of(names.begin(), names.end(),
                                          [](const std::string& n) { return n.rfind("test", 0) == 0 && n != "test"; });
  if (split == "test" && has_test_parts) known = true;  // REFER: "test" selects every split containing "test"
  if (!known)
    throw InputError(refs.file, "--split",
                     fmt::format("split '{}' does not exist in {} splitBy {} (valid: {}{})", split, dataset, split_by,
                                 fmt::join(names, ", "), has_test_parts ? ", test" : ""));
  Split out;
  out.dataset = dataset;
  out.split_by = split_by;
  out.split = split;
  std::unordered_map<int64_t, std::size_t> image_slot;  // image_id → index in groups
  std::vector<std::vector<Sample>> groups;
  for (std::size_t i = 0; i < refs.refs.size(); ++i) {
    const Ref& r = refs.refs[i];
    if (!split_selects(split, r.split)) continue;
    const std::string rec = fmt::format("refs[{}] (ref_id {})", i, r.ref_id);
    auto a = inst.ann_index.find(r.ann_id);
    if (a == inst.ann_index.end())
      throw InputError(refs.file, rec, fmt::format("ann_id {} is not in {} (the refs and instances files disagree)",
                                                   r.ann_id, inst.file));
    auto im = inst.image_index.find(r.image_id);
    if (im == inst.image_index.end())
      throw InputError(refs.file, rec, fmt::format("image_id {} is not in {}", r.image_id, inst.file));
    if (inst.annotations[a->second].image_id != r.image_id)
      throw InputError(refs.file, rec, fmt::format("ann_id {} belongs to image {} in {}, not to image {}", r.ann_id,
                                                   inst.annotations[a->second].image_id, inst.file, r.image_id));
    if (r.sentences.empty()) throw InputError(refs.file, rec, "the ref has no sentences");
    ++out.num_refs;
    auto slot = image_slot.emplace(r.image_id, groups.size());
    if (slot.second) groups.emplace_back();
    for (const Sentence& s : r.sentences) {
      Sample smp;
      smp.sent_id = s.sent_id;
      smp.ref_id = r.ref_id;
      smp.ann_id = r.ann_id;
      smp.image_id = r.image_id;
      smp.sentence = s.sent;
      smp.raw = s.raw;
      smp.image = im->second;
      smp.annotation = a->second;
      groups[slot.first->second].push_back(std::move(smp));
    }
  }
  if (groups.empty())
    throw InputError(refs.file, "--split", fmt::format("split '{}' selects no refs in this file", split));
  for (auto& g : groups) {
    const std::size_t begin = out.samples.size();
    for (auto& s : g) {
      out.sent_index.emplace(s.sent_id, out.samples.size());
      out.samples.push_back(std::move(s));
    }
    out.items.emplace_back(begin, out.samples.size());
  }
  return out;
}

std::vector<std::pair<std::string, SplitCounts>> count_splits(const RefsFile& refs) {
  std::vector<std::pair<std::string, SplitCounts>> out;
  std::vector<std::unordered_set<int64_t>> images;
  for (const Ref& r : refs.refs) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == r.split; });
    if (it == out.end()) {
      out.emplace_back(r.split, SplitCounts{});
      images.emplace_back();
      it = out.end() - 1;
    }
    const std::size_t k = static_cast<std::size_t>(it - out.begin());
    images[k].insert(r.image_id);
    it->second.refs += 1;
    it->second.sentences += r.sentences.size();
  }
  for (std::size_t k = 0; k < out.size(); ++k) out[k].second.images = images[k].size();
  return out;
}

namespace {
/// A mask of the image must fit mask::Rle's uint32 counts (as mask::to_rle requires for polygons): at most
/// 2^32-1 pixels.
/// The image an annotation is on; InputError naming the annotation when its image_id is not in images[] (select_split
/// never selects such an annotation, but gt_mask / gt_rle are public).
const Image& image_of(const Instances& inst, const Annotation& a, const std::string& rec) {
  const auto im = inst.image_index.find(a.image_id);
  if (im == inst.image_index.end())
    throw InputError(inst.file, rec, fmt::format("image_id {} is not in images[]", a.image_id));
  return inst.images.at(im->second);
}

void check_mask_pixels(const Instances& inst, const Image& im, const std::string& rec) {
  const uint64_t pixels = uint64_t{im.height} * im.width;
  if (pixels > kMaxMaskSide)
    throw InputError(inst.file, rec, fmt::format("image {} of {} x {} = {} pixels: a mask holds at most 2^32-1 pixels",
                                                 im.id, im.height, im.width, pixels));
}
}  // namespace

std::vector<uint8_t> gt_mask(const Instances& inst, std::size_t annotation, GtOverlap overlap) {
  const Annotation& a = inst.annotations.at(annotation);
  const std::string rec = fmt::format("annotation id {}", a.id);
  const Image& im = image_of(inst, a, rec);
  check_mask_pixels(inst, im, rec);
  const std::size_t n = static_cast<std::size_t>(im.height) * im.width;
  std::vector<uint8_t> out(n, 0);
  auto add = [&](const mask::Rle& r) {
    if (r.h != im.height || r.w != im.width)
      throw InputError(inst.file, rec, fmt::format("RLE size [{}, {}] differs from the image size [{}, {}]", r.h, r.w,
                                                   im.height, im.width));
    const std::vector<uint8_t> m = mask::decode(r);
    for (std::size_t k = 0; k < n; ++k) {
      if (!m[k]) continue;
      if (overlap == GtOverlap::kUnion)
        out[k] = 1;
      else if (out[k] < 254)
        ++out[k];
    }
  };
  try {
    for (const mask::Segmentation& seg : a.parts) {
      const auto* poly = std::get_if<mask::Polygons>(&seg);
      if (poly && overlap == GtOverlap::kSum) {
        mask::to_rle(seg, im.height, im.width);  // the same validity checks as annToRLE
        for (const auto& part : poly->parts) add(mask::from_polygon(part, im.height, im.width));
      } else {
        add(mask::to_rle(seg, im.height, im.width));
      }
    }
  } catch (const mask::RleError& e) {
    throw InputError(inst.file, rec, std::string("cannot decode 'segmentation': ") + e.what());
  }
  return out;
}

mask::Rle gt_rle(const Instances& inst, std::size_t annotation) {
  const Annotation& a = inst.annotations.at(annotation);
  const std::string rec = fmt::format("annotation id {}", a.id);
  const Image& im = image_of(inst, a, rec);
  check_mask_pixels(inst, im, rec);
  std::vector<mask::Rle> parts;
  try {
    for (const mask::Segmentation& seg : a.parts) {
      mask::Rle r = mask::to_rle(seg, im.height, im.width);
      if (r.h != im.height || r.w != im.width)
        throw InputError(inst.file, rec, fmt::format("RLE size [{}, {}] differs from the image size [{}, {}]", r.h,
                                                     r.w, im.height, im.width));
      parts.push_back(std::move(r));
    }
  } catch (const mask::RleError& e) {
    throw InputError(inst.file, rec, std::string("cannot decode 'segmentation': ") + e.what());
  }
  if (parts.empty()) return mask::Rle{im.height, im.width, {im.height * im.width}};
  return parts.size() == 1 ? parts[0] : mask::merge(parts, false);
}

std::vector<Prediction> parse_predictions(std::string_view text, const std::string& file) {
  std::vector<Prediction> out;
  const DuplicateKeyScope duplicate_keys(file);  // collected by take_duplicate_key_warnings()
  simdjson::dom::parser parser;
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) throw InputError(file, "", "the prediction file is empty");
  if (text[first] == '[') {
    const simdjson::padded_string padded(text);
    element root = parse_doc(parser, padded, file, "");
    simdjson::dom::array arr;
    if (root.get_array().get(arr) != simdjson::SUCCESS) throw InputError(file, "", "the root must be an array");
    std::size_t i = 0;
    for (element e : arr) {
      out.push_back(parse_prediction(e, file, fmt::format("record {}", i + 1), i + 1));
      ++i;
    }
    return out;
  }
  std::size_t line = 0, pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++line;
    std::string_view l = text.substr(pos, end - pos);
    pos = end + 1;
    if (l.find_first_not_of(" \t\r") == std::string_view::npos) {
      if (end == text.size()) break;
      continue;
    }
    const std::string rec = fmt::format("line {}", line);
    const simdjson::padded_string padded(l);
    element e = parse_doc(parser, padded, file, rec);
    out.push_back(parse_prediction(e, file, rec, line));
    if (end == text.size()) break;
  }
  return out;
}

std::vector<Prediction> load_predictions(const std::filesystem::path& file) {
  return parse_predictions(io::read_text_file(file), file.string());
}

}  // namespace glamm::datasets::refer
