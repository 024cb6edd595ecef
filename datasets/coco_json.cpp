// COCO instances / results loaders (pycocotools 2.0.6 COCO() + loadRes semantics) on simdjson's DOM.
#include "datasets/coco_json.h"
#include "datasets/json_util.h"
#include "datasets/segmentation_json.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <mutex>
#include <functional>
#include <condition_variable>
#include <limits>
#include <optional>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/error.h"
#include "common/io.h"
#include "metrics/mask/segmentation.h"
#include "metrics/parallel.h"

namespace glamm::datasets {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using mask::CocoGroundTruth;
using mask::CocoInstance;
using mask::ImageId;

[[noreturn]] void fail(const std::string& file, const std::string& record, const std::string& msg) {
  throw InputError(file, record, msg);
}

/// Python-dict lookup (last of repeated keys, noted for the per-file duplicate-key warning; see json_util.h).
std::optional<element> field(const object& o, std::string_view key) {
  element e;
  if (!last_field(o, key, e)) return std::nullopt;
  return e;
}

const char* type_name(element_type t) { return json_type_name(t); }

std::string ann_record(const char* list, std::size_t j, std::optional<int64_t> id = std::nullopt) {
  return id ? fmt::format("{}[{}] (id {})", list, j, *id) : fmt::format("{}[{}]", list, j);
}

/// Context for error messages: file and record ("annotations[12] (id 7)"), formatted only when an error occurs.
struct Where {
  const std::string& file;
  const char* list;
  std::size_t index = 0;
  std::optional<int64_t> id = std::nullopt;
  std::string record() const { return ann_record(list, index, id); }
  [[noreturn]] void fail(const std::string& msg) const { datasets::fail(file, record(), msg); }
};

bool is_empty_array(element e) {
  array a;
  return e.get_array().get(a) == simdjson::SUCCESS && a.size() == 0;
}

bool is_number(element e) {
  auto t = e.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

/// A results file may hold Python's NaN/Infinity/-Infinity literals (json.dump writes them for non-finite floats);
/// parse_results_json carries each as a string of this tag + the literal, which simdjson reads and no JSON text
/// can hold unless it spells the tag out (then the rewrite is refused).
constexpr std::string_view kNonFiniteTag = "\x01glamm-nonfinite:";

/// True while a DOM made by parse_results_json from rewritten literals is read (NonFiniteTagsLive): only then is
/// a tagged string a NaN/Infinity, never in a text that merely spells the tag out.
thread_local bool tl_nonfinite_tags = false;

struct NonFiniteTagsLive {
  explicit NonFiniteTagsLive(bool live) { tl_nonfinite_tags = live; }
  ~NonFiniteTagsLive() { tl_nonfinite_tags = false; }
  NonFiniteTagsLive(const NonFiniteTagsLive&) = delete;
  NonFiniteTagsLive& operator=(const NonFiniteTagsLive&) = delete;
};

/// nonfinite_value's work once tags are live (out of line: the common case stops at the flag).
std::optional<double> tagged_nonfinite_value(element e) {
  std::string_view s;
  if (e.type() != element_type::STRING || e.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  if (s.substr(0, kNonFiniteTag.size()) != kNonFiniteTag) return std::nullopt;
  s.remove_prefix(kNonFiniteTag.size());
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "Infinity") return std::numeric_limits<double>::infinity();
  if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

/// The double a tagged NaN/Infinity/-Infinity string stands for, or nullopt for any other element.
inline std::optional<double> nonfinite_value(element e) {
  if (!tl_nonfinite_tags) return std::nullopt;
  return tagged_nonfinite_value(e);
}

[[noreturn]] void fail_nonfinite(const Where& w, const char* key) {
  w.fail(fmt::format("field '{}' is NaN or Infinity; glamm-eval accepts these (as Python's json reads them) only "
                     "in 'score' (docs/input-rules.md, File reading)",
                     key));
}

double get_number(element e, const Where& w, const char* key) {
  if (const auto v = nonfinite_value(e)) {
    if (std::string_view(key) == "score") return *v;  // pycocotools sorts a NaN score last, as cocoeval.cpp does
    fail_nonfinite(w, key);
  }
  if (!is_number(e)) w.fail(fmt::format("field '{}' must be a number, got {}", key, type_name(e.type())));
  double v = 0;
  if (e.get_double().get(v)) {}
  return v;
}

/// An integer field: JSON integer, or a number with an integral value (Python's json keeps 5.0 as a float,
/// which pycocotools uses as a dict key equal to 5).
int64_t get_integer(element e, const Where& w, const char* key) {
  if (nonfinite_value(e)) fail_nonfinite(w, key);
  switch (e.type()) {
    case element_type::INT64: {
      int64_t v = 0;
      if (e.get_int64().get(v)) {}
      return v;
    }
    case element_type::UINT64: w.fail(fmt::format("field '{}' is out of the int64 range", key));
    case element_type::DOUBLE: {
      double d = 0;
      if (e.get_double().get(d)) {}
      if (std::floor(d) == d && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
      w.fail(fmt::format("field '{}' must be an integer, got {}", key, d));
    }
    default: w.fail(fmt::format("field '{}' must be an integer, got {}", key, type_name(e.type())));
  }
}

/// field() naming the record `w` in a duplicate-key warning.
std::optional<element> field(const object& o, std::string_view key, const Where& w) {
  element e;
  if (!last_field(o, key, e, [&] { return w.record(); })) return std::nullopt;
  return e;
}

element require(const object& o, std::string_view key, const Where& w) {
  element e;
  if (!last_field(o, key, e, [&] { return w.record(); })) w.fail(fmt::format("missing field '{}'", key));
  return e;
}

/// The fields a record reads, found in one walk over its JSON object (simdjson's object is a list, so each
/// field()/require() walks it again). Lookups then behave exactly as field() and require(): the LAST value of a
/// repeated key, and a repeated key noted in the file's DuplicateKeyScope when (and only when) it is looked up.
template <std::size_t N>
class FieldScan {
 public:
  FieldScan(const object& o, const std::array<std::string_view, N>& keys) : keys_(keys) {
    for (simdjson::dom::key_value_pair kv : o)
      for (std::size_t i = 0; i < N; ++i)
        if (kv.key == keys_[i]) {
          value_[i] = kv.value;
          ++count_[i];
          break;
        }
  }
  std::optional<element> field(std::size_t i, const Where& w) const {
    if (count_[i] == 0) return std::nullopt;
    if (count_[i] > 1) note_repeated(i, w);
    return value_[i];
  }
  element require(std::size_t i, const Where& w) const {
    if (count_[i] == 0) w.fail(fmt::format("missing field '{}'", keys_[i]));
    if (count_[i] > 1) note_repeated(i, w);
    return value_[i];
  }

 private:
  void note_repeated(std::size_t i, const Where& w) const {
    if (DuplicateKeyScope* s = DuplicateKeyScope::current(); s && !s->seen()) s->note(keys_[i], w.record());
  }
  const std::array<std::string_view, N>& keys_;
  std::array<element, N> value_{};
  std::array<uint32_t, N> count_{};
};

/// Fields of a GT annotation and of a result, in FieldScan order.
constexpr std::array<std::string_view, 7> kAnnotationKeys{"id",      "image_id",     "category_id", "area",
                                                         "iscrowd", "segmentation", "bbox"};
enum AnnotationKey : std::size_t { kAnnId, kAnnImageId, kAnnCategoryId, kAnnArea, kAnnIscrowd, kAnnSegm, kAnnBbox };
constexpr std::array<std::string_view, 5> kResultKeys{"image_id", "category_id", "score", "segmentation", "bbox"};
enum ResultKey : std::size_t { kResImageId, kResCategoryId, kResScore, kResSegm, kResBbox };

ImageId get_image_id(element e, const Where& w, const char* key) {
  if (nonfinite_value(e)) fail_nonfinite(w, key);
  if (e.type() == element_type::STRING) {
    std::string_view s;
    if (e.get_string().get(s)) {}
    return std::string(s);
  }
  return get_integer(e, w, key);
}

/// For the segmentation reader (datasets/segmentation_json.h): a tagged NaN/Infinity literal.
bool is_nonfinite_tag(element e) { return nonfinite_value(e).has_value(); }

/// images[].height / width: a mask side (read_mask_side's rules); `what` is "'height'" or "'width'".
uint32_t get_dim(element e, const Where& w, std::string_view what) {
  const auto rec = [&w] { return w.record(); };
  const JsonSource src{w.file, rec, &is_nonfinite_tag};
  return read_mask_side(e, src, what);
}

mask::Box parse_box(element e, const Where& w) {
  array a;
  if (e.get_array().get(a) != simdjson::SUCCESS || a.size() != 4)
    w.fail("field 'bbox' must be [x, y, width, height]");
  mask::Box b{};
  std::size_t i = 0;
  for (element x : a) b[i++] = get_number(x, w, "bbox");
  return b;
}

/// A segmentation waiting for annToRLE (done in parallel after parsing). A compressed RLE is kept as a view into
/// the parsed document (to_rle would only call from_string on it) to avoid copying the strings.
struct PendingMask {
  uint32_t instance = 0;
  mask::Segmentation seg;
  bool compressed_view = false;
  std::string_view counts;
  uint32_t rle_h = 0, rle_w = 0;
  uint32_t image_h = 0, image_w = 0;
  const char* list = "";    ///< "annotations" / "results" (record label built only on error)
  uint32_t json_index = 0;
  bool need_area = false;  ///< loadRes segm branch: area = pixel count
  bool need_box = false;   ///< loadRes segm branch without bbox: bbox = toBbox
  bool keep_rle = true;    ///< iouType segm
};

/// Parse `segmentation` into `pm` (compressed RLE as a view, other forms as Segmentation) with the one segmentation
/// reader (datasets/segmentation_json.h).
void parse_segmentation_into(element e, const Where& w, PendingMask& pm) {
  const auto rec = [&w] { return w.record(); };
  const JsonSource src{w.file, rec, &is_nonfinite_tag};
  SegmentationView v = read_segmentation_view(e, src);
  if (const auto* c = std::get_if<CompressedRleView>(&v)) {
    pm.rle_h = c->h;
    pm.rle_w = c->w;
    pm.counts = c->counts;
    pm.compressed_view = true;
  } else if (auto* u = std::get_if<mask::UncompressedRle>(&v)) {
    pm.seg = std::move(*u);
  } else {
    pm.seg = std::get<mask::Polygons>(std::move(v));
  }
}

/// Geometry pycocotools accepts without a word, counted per file for one warning each (docs/input-rules.md,
/// coco inputs): polygons with an odd number of coordinates (frPoly uses len//2 points, dropping the last number)
/// and RLEs whose `size` is not the image's height/width (annToRLE uses the RLE as it is).
struct GeometryNotes {
  std::size_t odd_polygons = 0, size_mismatch = 0;
  std::string odd_first, mismatch_first;

  /// Inspect the parsed segmentation `pm` of record `w` on an image of `img_h` x `img_w` (0 = not given).
  void note(const PendingMask& pm, const Where& w, uint32_t img_h, uint32_t img_w) {
    if (!pm.compressed_view) {
      if (const auto* poly = std::get_if<mask::Polygons>(&pm.seg)) {
        for (const auto& part : poly->parts)
          if (part.size() % 2 != 0) {
            if (odd_polygons++ == 0) odd_first = w.record();
            break;
          }
        return;
      }
    }
    uint32_t h = pm.rle_h, wd = pm.rle_w;
    if (const auto* c = std::get_if<mask::CompressedRle>(&pm.seg)) h = c->h, wd = c->w;
    if (const auto* u = std::get_if<mask::UncompressedRle>(&pm.seg)) h = u->h, wd = u->w;
    if (img_h == 0 || img_w == 0 || (h == img_h && wd == img_w)) return;
    if (size_mismatch++ == 0)
      mismatch_first = fmt::format("{} (size [{}, {}] on an image of height {}, width {})", w.record(), h, wd,
                                   img_h, img_w);
  }

  /// Append the per-file warnings (none when nothing was noted).
  void report(const std::string& file, const char* list, std::vector<std::string>& warnings) const {
    if (odd_polygons)
      warnings.push_back(fmt::format(
          "{}: {} {} have a polygon with an odd number of coordinates (first: {}); as pycocotools does, the last "
          "number of such a polygon is dropped",
          file, odd_polygons, list, odd_first));
    if (size_mismatch)
      warnings.push_back(fmt::format(
          "{}: {} {} have an RLE whose 'size' differs from the image's height/width (first: {}); as pycocotools "
          "does, the RLE is used as it is",
          file, size_mismatch, list, mismatch_first));
  }
};

/// Run annToRLE on every pending mask with `threads` workers (metrics::parallel_for); an invalid RLE or polygon is an
/// InputError naming the first failing record (lowest index) whatever the thread count; any other exception (e.g.
/// std::bad_alloc) passes unchanged.
void convert_masks(std::vector<PendingMask>& pending, std::vector<CocoInstance>& inst, const std::string& file,
                   int threads) {
  metrics::parallel_for(
      pending.size(), threads,
      [&](std::size_t j) {
        PendingMask& pm = pending[j];
        CocoInstance& a = inst[pm.instance];
        try {
          mask::Rle r = pm.compressed_view ? mask::from_string(pm.counts, pm.rle_h, pm.rle_w)
                                           : mask::to_rle(pm.seg, pm.image_h, pm.image_w, false);
          // iouType segm keeps the mask and its RleFacts (box, area: what evaluate's IoU needs), taken while the
          // counts are in cache.
          if (pm.keep_rle) {
            a.rle_facts = mask::rle_facts(r);
            a.has_rle_facts = true;
          }
          if (pm.need_area) a.area = static_cast<double>(mask::area(r));
          if (pm.need_box) a.box = pm.keep_rle ? a.rle_facts.box : mask::to_bbox(r);
          if (pm.keep_rle) a.rle = std::move(r);
        } catch (const mask::RleError& e) {
          const bool has_id = std::string_view(pm.list) == "annotations";
          fail(file,
               has_id ? fmt::format("{}[{}] (id {})", pm.list, pm.json_index, a.id)
                      : fmt::format("{}[{}]", pm.list, pm.json_index),
               std::string("segmentation: ") + e.what());
        }
        pm.seg = mask::Polygons{};  // free the parsed form early
      },
      64);
}

/// True when `text` has simdjson's padding in its own capacity (io::read_text_file leaves it for regular files),
/// so that it can be parsed in place instead of copied.
bool has_padding(const std::string& text) { return text.capacity() - text.size() >= simdjson::SIMDJSON_PADDING; }

/// Parse JSON text with simdjson, in place when `padded` (text.data() is readable SIMDJSON_PADDING bytes past the
/// end), from a padded copy otherwise; malformed JSON is an InputError naming the file.
element parse_root(simdjson::dom::parser& parser, std::string_view text, bool padded, const std::string& file) {
  element root;
  auto err = parser.parse(text.data(), text.size(), !padded).get(root);
  if (err) throw io::json_syntax_error(text, file, simdjson::error_message(err));
  return root;
}

/// Parse a COCO results text, accepting NaN/Infinity/-Infinity outside strings as Python's json.load does: when
/// simdjson refuses the text and it holds such literals, they are rewritten into kNonFiniteTag strings (read back
/// by nonfinite_value) and the text parsed again. The text is parsed in place when `padded` (as parse_root);
/// `keep` holds the rewritten text when there is one (the DOM refers to the parser only). A text still refused is
/// reported at its first error (positions of the original text).
element parse_results_json(simdjson::dom::parser& parser, std::string_view json, bool padded, const std::string& file,
                           simdjson::padded_string& keep, bool& tagged_literals) {
  tagged_literals = false;
  element root;
  const auto err = parser.parse(json.data(), json.size(), !padded).get(root);
  if (!err) return root;
  const auto lits = io::find_nonfinite_literals(json);
  if (lits.empty()) throw io::json_syntax_error(json, file, simdjson::error_message(err));
  std::string tagged, same_length(json);
  std::size_t at = 0;
  for (const auto& l : lits) {
    tagged.append(json.substr(at, l.offset - at));
    tagged += "\"\\u0001glamm-nonfinite:";
    tagged.append(json.substr(l.offset, l.length));
    tagged += '"';
    at = l.offset + l.length;
    // For the error report: the literal replaced by a valid number of the same length keeps every position.
    same_length.replace(l.offset, l.length, l.length == 3 ? "0.0" : l.length == 8 ? "0.000000" : "-0.000000");
  }
  tagged.append(json.substr(at));
  if (json.find("glamm-nonfinite:") != std::string_view::npos)
    throw InputError(file, "", "the text spells out glamm-eval's internal NaN/Infinity tag 'glamm-nonfinite:'; "
                               "cannot read its NaN/Infinity literals unambiguously");
  keep = simdjson::padded_string(tagged);
  const auto err2 = parser.parse(keep).get(root);
  tagged_literals = !err2;
  if (!err2) return root;
  throw io::json_syntax_error(same_length, file, simdjson::error_message(err2));
}

struct ImageIndex {
  std::unordered_map<ImageId, uint32_t> of;
  bool string_ids = false;
};

/// A glamm-eval Result record (an object with `schema_version`, `metrics` and `signature`, common/result.h) given
/// where a COCO file is expected: refused with a message that says so (exit 2) instead of a field error or, for a
/// GT, an empty evaluation. `what` names the expected input.
void refuse_results_record(element root, const std::string& file, const char* what) {
  object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) return;
  element e;
  if (!last_field(o, "schema_version", e) || !last_field(o, "metrics", e) || !last_field(o, "signature", e)) return;
  fail(file, "", fmt::format("this is a glamm-eval results record, not a COCO annotation file ({} expected; "
                             "docs/input-rules.md, coco inputs)",
                             what));
}

ImageIndex index_images(const std::vector<mask::CocoImage>& images) {
  ImageIndex idx;
  idx.of.reserve(images.size() * 2);
  for (uint32_t i = 0; i < images.size(); ++i) idx.of.emplace(images[i].id, i);
  idx.string_ids = !images.empty() && images[0].id.is_string;
  return idx;
}

/// Called with the GT's images as soon as they are read (before the annotations): the results records need only
/// these, so load_coco_files builds them on its second thread meanwhile.
using ImagesReady = std::function<void(const std::vector<mask::CocoImage>&)>;

CocoGroundTruth parse_gt_root(element root, const std::string& file, const CocoLoadOptions& opt,
                              std::vector<std::string>& warnings, const ImagesReady& images_ready = nullptr) {
  CocoGroundTruth gt;
  refuse_results_record(root, file, "--gt: a COCO instances file");
  const DuplicateKeyScope duplicate_keys(file, &warnings);
  object ro;
  if (root.get_object().get(ro) != simdjson::SUCCESS)
    fail(file, "", "a COCO annotation file must be a JSON object with 'images', 'annotations', 'categories'");
  auto list = [&](const char* key) -> std::optional<array> {
    auto e = field(ro, key);
    if (!e) return std::nullopt;
    array a;
    if (e->get_array().get(a) != simdjson::SUCCESS) fail(file, key, "must be an array");
    return a;
  };

  // images
  std::unordered_map<ImageId, uint32_t> img_of;
  std::size_t dup_images = 0;
  if (auto imgs = list("images")) {
    std::size_t j = 0;
    int id_kind = -1;
    for (element e : *imgs) {
      Where w{file, "images", j};
      object o;
      if (e.get_object().get(o) != simdjson::SUCCESS) w.fail("must be an object");
      ImageId id = get_image_id(require(o, "id", w), w, "id");
      if (id_kind < 0) id_kind = static_cast<int>(id.is_string);
      if (static_cast<int>(id.is_string) != id_kind)
        w.fail("image ids mix integers and strings (pycocotools would treat them as different ids and np.unique "
               "would turn them all into strings)");
      uint32_t h = 0, wd = 0;
      if (auto he = field(o, "height", w)) h = get_dim(*he, w, "'height'");
      if (auto we = field(o, "width", w)) wd = get_dim(*we, w, "'width'");
      auto [it, fresh] = img_of.emplace(id, static_cast<uint32_t>(gt.images.size()));
      if (fresh) {
        gt.images.push_back({std::move(id), h, wd});
      } else {
        ++dup_images;
        gt.images[it->second].height = h;  // imgs[id] keeps the last entry
        gt.images[it->second].width = wd;
      }
      ++j;
    }
  }
  if (dup_images)
    warnings.push_back(fmt::format("{}: {} repeated image id(s) in 'images'; the last entry of each is used", file,
                                   dup_images));
  const bool string_ids = !gt.images.empty() && gt.images[0].id.is_string;
  if (images_ready) images_ready(gt.images);

  // categories
  if (auto cats = list("categories")) {
    std::size_t j = 0;
    for (element e : *cats) {
      Where w{file, "categories", j};
      object o;
      if (e.get_object().get(o) != simdjson::SUCCESS) w.fail("must be an object");
      int64_t id = get_integer(require(o, "id", w), w, "id");
      if (std::find(gt.category_ids.begin(), gt.category_ids.end(), id) == gt.category_ids.end())
        gt.category_ids.push_back(id);
      ++j;
    }
  }

  // annotations
  const bool segm = opt.iou_type == mask::IouType::kSegm;
  std::vector<PendingMask> pending;
  GeometryNotes geometry;
  std::size_t dropped = 0;
  std::string dropped_example;
  if (auto anns = list("annotations")) {
    gt.annotations.reserve(anns->size());
    if (segm) pending.reserve(anns->size());
    std::size_t j = 0;
    for (element e : *anns) {
      Where w{file, "annotations", j};
      object o;
      if (e.get_object().get(o) != simdjson::SUCCESS) w.fail("must be an object");
      const FieldScan<7> f(o, kAnnotationKeys);
      CocoInstance a;
      a.id = get_integer(f.require(kAnnId, w), w, "id");
      w.id = a.id;
      ImageId img = get_image_id(f.require(kAnnImageId, w), w, "image_id");
      if (!gt.images.empty() && img.is_string != string_ids)
        w.fail(fmt::format("image_id {} has a different JSON type than the ids in 'images'",
                           img.display()));
      a.category_id = get_integer(f.require(kAnnCategoryId, w), w, "category_id");
      a.area = get_number(f.require(kAnnArea, w), w, "area");
      element crowd = f.require(kAnnIscrowd, w);
      if (crowd.type() == element_type::BOOL) {
        bool b = false;
        if (crowd.get_bool().get(b)) {}
        a.iscrowd = b;
      } else {
        a.iscrowd = get_integer(crowd, w, "iscrowd") != 0;
      }
      auto it = img_of.find(img);
      if (it == img_of.end()) {
        if (dropped++ == 0) dropped_example = w.record() + " (image_id " + img.display() + ")";
        ++j;
        continue;
      }
      a.image = it->second;
      if (segm) {
        PendingMask pm;
        parse_segmentation_into(f.require(kAnnSegm, w), w, pm);
        const auto& im = gt.images[a.image];
        geometry.note(pm, w, im.height, im.width);
        if (!pm.compressed_view && std::holds_alternative<mask::Polygons>(pm.seg) && (im.height == 0 || im.width == 0))
          w.fail(fmt::format("polygon segmentation on image {} which has no height/width",
                             im.id.display()));
        pm.instance = static_cast<uint32_t>(gt.annotations.size());
        pm.image_h = im.height;
        pm.image_w = im.width;
        pm.list = "annotations";
        pm.json_index = static_cast<uint32_t>(j);
        pending.push_back(std::move(pm));
      } else {
        a.box = parse_box(f.require(kAnnBbox, w), w);
      }
      gt.annotations.push_back(std::move(a));
      ++j;
    }
  }
  if (dropped)
    warnings.push_back(fmt::format("{}: {} annotation(s) refer to images absent from 'images' and are not evaluated "
                                   "(first: {})",
                                   file, dropped, dropped_example));
  geometry.report(file, "annotation(s)", warnings);
  convert_masks(pending, gt.annotations, file, opt.threads);

  // Repeated annotation ids: COCO.anns[id] keeps the last, and loadAnns(getAnnIds(...)) returns that one.
  std::unordered_map<int64_t, uint32_t> last;
  last.reserve(gt.annotations.size() * 2);
  std::size_t dups = 0;
  for (uint32_t j = 0; j < gt.annotations.size(); ++j) {
    auto [it, fresh] = last.emplace(gt.annotations[j].id, j);
    if (!fresh) {
      ++dups;
      it->second = j;
    }
  }
  if (dups) {
    gt.load_index.resize(gt.annotations.size());
    for (uint32_t j = 0; j < gt.annotations.size(); ++j) gt.load_index[j] = last[gt.annotations[j].id];
    warnings.push_back(fmt::format(
        "{}: {} annotation(s) repeat an earlier annotation id; as in pycocotools, every hit on a repeated id loads "
        "the LAST annotation with that id",
        file, dups));
  }
  return gt;
}

/// The results records of loadRes with their segmentations still to decode (`pending`, for convert_masks).
struct ResultRecords {
  mask::CocoDetections dt;
  std::vector<PendingMask> pending;
};

/// loadRes on the parsed results `root` against the GT's `gt_images`, up to the mask decoding.
ResultRecords build_results(element root, const std::string& file, const std::vector<mask::CocoImage>& gt_images,
                            const CocoLoadOptions& opt, std::vector<std::string>& warnings) {
  ResultRecords out;
  mask::CocoDetections& dt = out.dt;
  refuse_results_record(root, file, "--dt: a COCO results list");
  const DuplicateKeyScope duplicate_keys(file, &warnings);
  array list;
  if (root.get_array().get(list) != simdjson::SUCCESS)
    fail(file, "", "results must be a JSON array of objects (pycocotools: 'results in not an array of objects')");
  if (list.size() == 0) {
    warnings.push_back(fmt::format(
        "{}: the result list is empty (pycocotools 2.0.6 loadRes raises IndexError); evaluated as no detections: "
        "AP/AR are 0 where ground truth exists and -1 where none does",
        file));
    return out;
  }
  const ImageIndex images = index_images(gt_images);
  const bool segm = opt.iou_type == mask::IouType::kSegm;

  // Branch on the first result only (loadRes).
  object first;
  if ((*list.begin()).get_object().get(first) != simdjson::SUCCESS) fail(file, "results[0]", "must be an object");
  bool bbox_branch = false;
  {
    Where w{file, "results", 0};
    if (field(first, "caption", w)) w.fail("caption results cannot be evaluated by COCOeval segm/bbox");
    auto bb = field(first, "bbox", w);
    bool has_bbox = bb && !is_empty_array(*bb);
    bool has_segm = field(first, "segmentation", w).has_value();
    if (has_bbox) bbox_branch = true;
    else if (!has_segm) w.fail("the first result has neither a non-empty 'bbox' nor a 'segmentation'");
    if (bbox_branch && has_segm && segm && opt.strict) bbox_branch = false;  // §5 item 8 fixed under --strict
    if (bbox_branch && has_segm && segm)
      warnings.push_back(fmt::format(
          "{}: results carry both 'bbox' and 'segmentation'; as pycocotools 2.0.6 loadRes does, their areas are "
          "bbox w*h (area ranges use box areas){}",
          file, opt.strict ? "" : "; --strict uses the mask areas"));
  }

  std::vector<PendingMask>& pending = out.pending;
  GeometryNotes geometry;
  std::size_t non_compressed = 0;
  dt.results.reserve(list.size());
  std::size_t j = 0;
  for (element e : list) {
    Where w{file, "results", j};
    object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) w.fail("must be an object");
    CocoInstance a;
    a.id = static_cast<int64_t>(j) + 1;
    a.iscrowd = false;
    const FieldScan<5> f(o, kResultKeys);
    ImageId img = get_image_id(f.require(kResImageId, w), w, "image_id");
    auto it = images.of.find(img);
    if (it == images.of.end())
      w.fail(fmt::format("image_id {} is not an image of the ground truth (pycocotools asserts 'Results do not "
                         "correspond to current coco set')",
                         img.display()));
    a.image = it->second;
    a.category_id = get_integer(f.require(kResCategoryId, w), w, "category_id");
    a.score = get_number(f.require(kResScore, w), w, "score");
    const auto& im = gt_images[a.image];
    auto seg_e = f.field(kResSegm, w);
    if (bbox_branch) {
      a.box = parse_box(f.require(kResBbox, w), w);
      a.area = a.box[2] * a.box[3];
      if (segm) {
        PendingMask pm;
        if (seg_e) {
          parse_segmentation_into(*seg_e, w, pm);
        } else {
          const double x1 = a.box[0], x2 = a.box[0] + a.box[2], y1 = a.box[1], y2 = a.box[1] + a.box[3];
          pm.seg = mask::Polygons{{{x1, y1, x1, y2, x2, y2, x2, y1}}};
        }
        geometry.note(pm, w, im.height, im.width);
        if (!pm.compressed_view && std::holds_alternative<mask::Polygons>(pm.seg) && (im.height == 0 || im.width == 0))
          w.fail(fmt::format("a polygon mask needs the height/width of image {}", im.id.display()));
        pm.instance = static_cast<uint32_t>(dt.results.size());
        pm.image_h = im.height;
        pm.image_w = im.width;
        pm.list = "results";
        pm.json_index = static_cast<uint32_t>(j);
        pending.push_back(std::move(pm));
      }
    } else {
      if (!seg_e) w.fail("missing field 'segmentation'");
      PendingMask pm;
      parse_segmentation_into(*seg_e, w, pm);
      geometry.note(pm, w, im.height, im.width);
      if (!pm.compressed_view) ++non_compressed;
      if (!pm.compressed_view && std::holds_alternative<mask::Polygons>(pm.seg) && (im.height == 0 || im.width == 0))
        w.fail(fmt::format("a polygon mask needs the height/width of image {}", im.id.display()));
      pm.need_area = true;
      auto bb = f.field(kResBbox, w);
      if (bb && !is_empty_array(*bb)) {
        a.box = parse_box(*bb, w);
      } else {
        pm.need_box = true;
      }
      pm.keep_rle = segm;
      pm.need_box = pm.need_box && opt.result_boxes;
      pm.instance = static_cast<uint32_t>(dt.results.size());
      pm.image_h = im.height;
      pm.image_w = im.width;
      pm.list = "results";
      pm.json_index = static_cast<uint32_t>(j);
      pending.push_back(std::move(pm));
    }
    dt.results.push_back(std::move(a));
    ++j;
  }
  if (non_compressed)
    warnings.push_back(fmt::format(
        "{}: {} result(s) give polygon or uncompressed-RLE segmentations; pycocotools 2.0.6 loadRes accepts only "
        "compressed RLE there (TypeError); their area is the pixel count of the annToRLE mask",
        file, non_compressed));
  geometry.report(file, "result(s)", warnings);
  return out;
}

mask::CocoDetections parse_results_root(element root, const std::string& file, const CocoGroundTruth& gt,
                                        const CocoLoadOptions& opt, std::vector<std::string>& warnings) {
  ResultRecords r = build_results(root, file, gt.images, opt, warnings);
  convert_masks(r.pending, r.dt.results, file, opt.threads);
  return std::move(r.dt);
}

/// A COCO input's JSON text: the file mapped in place where the program allows it (io::MappedFile), else read
/// (gzip inflated). Not movable once loaded (`text` may point into `read`).
struct InputText {
  io::MappedFile mapped;
  std::string read;
  std::string_view text;
  bool padded = false;  ///< SIMDJSON_PADDING readable bytes follow `text`: parse in place

  explicit InputText(const std::filesystem::path& path) {
    mapped = io::MappedFile::map(path, simdjson::SIMDJSON_PADDING);
    if (!mapped.empty() && !io::is_gzip(mapped.text())) {
      text = mapped.text();
      padded = true;
      return;
    }
    mapped = io::MappedFile();
    read = io::read_text_file(path);
    text = read;
    padded = has_padding(read);
  }
  InputText(const InputText&) = delete;
  InputText& operator=(const InputText&) = delete;
};

}  // namespace

namespace {

CocoGroundTruth load_gt(const std::filesystem::path& file, const CocoLoadOptions& opt,
                        std::vector<std::string>& warnings, const ImagesReady& images_ready) {
  const InputText in(file);
  simdjson::dom::parser parser;
  return parse_gt_root(parse_root(parser, in.text, in.padded, file.string()), file.string(), opt, warnings,
                       images_ready);
}

}  // namespace

CocoGroundTruth load_coco_gt(const std::filesystem::path& file, const CocoLoadOptions& opt,
                             std::vector<std::string>& warnings) {
  return load_gt(file, opt, warnings, nullptr);
}

CocoGroundTruth parse_coco_gt(std::string_view json, const std::string& file_label, const CocoLoadOptions& opt,
                              std::vector<std::string>& warnings) {
  simdjson::dom::parser parser;
  return parse_gt_root(parse_root(parser, json, false, file_label), file_label, opt, warnings);
}

mask::CocoDetections load_coco_results(const std::filesystem::path& file, const CocoGroundTruth& gt,
                                       const CocoLoadOptions& opt, std::vector<std::string>& warnings) {
  const InputText in(file);
  simdjson::dom::parser parser;
  simdjson::padded_string keep;
  bool tagged = false;
  const element root = parse_results_json(parser, in.text, in.padded, file.string(), keep, tagged);
  const NonFiniteTagsLive live(tagged);
  return parse_results_root(root, file.string(), gt, opt, warnings);
}

std::pair<CocoGroundTruth, mask::CocoDetections> load_coco_files(const std::filesystem::path& gt_file,
                                                                 const std::filesystem::path& dt_file,
                                                                 const CocoLoadOptions& opt,
                                                                 std::vector<std::string>& warnings) {
  if (opt.threads <= 1) {
    CocoGroundTruth gt = load_coco_gt(gt_file, opt, warnings);
    mask::CocoDetections dt = load_coco_results(dt_file, gt, opt, warnings);
    return {std::move(gt), std::move(dt)};
  }
  // Two threads: the results file is read and parsed on a second thread while the GT loads; that thread then
  // builds the results records as soon as the GT's images are known, while this one builds the GT annotations.
  // The masks of both are decoded afterwards with every worker. Records, warnings and errors are those of the
  // serial order (GT first): the second thread's warnings are appended after the GT's, and its error is thrown
  // only when the GT loaded without one. The DOM stays in `parsed` (elements and the pending RLE strings point
  // into its parser) until the masks are decoded.
  struct Parsed {
    std::optional<InputText> in;
    simdjson::dom::parser parser;
    simdjson::padded_string keep;
    bool tagged = false;
    element root;
  } parsed;
  struct Handoff {  // the GT's images, or "the GT failed": the results records wait for one of the two
    std::mutex mutex;
    std::condition_variable cv;
    enum { kWaiting, kReady, kCancelled } state = kWaiting;
    std::vector<mask::CocoImage> images;
  } handoff;
  ResultRecords records;
  std::vector<std::string> dt_warnings;
  std::exception_ptr dt_error;
  std::thread reader([&] {
    try {
      parsed.in.emplace(dt_file);
      parsed.root = parse_results_json(parsed.parser, parsed.in->text, parsed.in->padded, dt_file.string(),
                                       parsed.keep, parsed.tagged);
      std::unique_lock<std::mutex> lock(handoff.mutex);
      handoff.cv.wait(lock, [&] { return handoff.state != Handoff::kWaiting; });
      if (handoff.state == Handoff::kCancelled) return;
      lock.unlock();
      const NonFiniteTagsLive live(parsed.tagged);
      records = build_results(parsed.root, dt_file.string(), handoff.images, opt, dt_warnings);
    } catch (...) {
      dt_error = std::current_exception();
    }
  });
  struct JoinOnExit {  // on any exit: release a waiting reader (the GT failed), then wait for it
    std::thread& t;
    Handoff& h;
    ~JoinOnExit() {
      {
        std::lock_guard<std::mutex> lock(h.mutex);
        if (h.state == Handoff::kWaiting) h.state = Handoff::kCancelled;
      }
      h.cv.notify_all();
      if (t.joinable()) t.join();
    }
  } join_on_exit{reader, handoff};
  CocoGroundTruth gt = load_gt(gt_file, opt, warnings, [&handoff](const std::vector<mask::CocoImage>& images) {
    {
      std::lock_guard<std::mutex> lock(handoff.mutex);
      handoff.images = images;
      handoff.state = Handoff::kReady;
    }
    handoff.cv.notify_all();
  });
  reader.join();
  if (dt_error) std::rethrow_exception(dt_error);
  warnings.insert(warnings.end(), std::make_move_iterator(dt_warnings.begin()),
                  std::make_move_iterator(dt_warnings.end()));
  convert_masks(records.pending, records.dt.results, dt_file.string(), opt.threads);
  return {std::move(gt), std::move(records.dt)};
}

mask::CocoDetections parse_coco_results(std::string_view json, const std::string& file_label,
                                        const CocoGroundTruth& gt, const CocoLoadOptions& opt,
                                        std::vector<std::string>& warnings) {
  simdjson::dom::parser parser;
  simdjson::padded_string keep;
  bool tagged = false;
  const element root = parse_results_json(parser, json, false, file_label, keep, tagged);
  const NonFiniteTagsLive live(tagged);
  return parse_results_root(root, file_label, gt, opt, warnings);
}

mask::ImageId parse_image_id_like(const std::string& text, const CocoGroundTruth& gt) {
  const bool strings = !gt.images.empty() && gt.images[0].id.is_string;
  if (strings) return text;
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return static_cast<int64_t>(v);
  } catch (const std::exception&) {
    throw InputError("", "--img-ids", fmt::format("'{}' is not an integer image id (the GT uses integer ids)", text));
  }
}

}  // namespace glamm::datasets
