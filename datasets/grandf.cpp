#include "datasets/grandf.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <unordered_set>

#include <simdjson.h>

#include "datasets/json_util.h"
#include "datasets/segmentation_json.h"

#include "common/error.h"
#include "common/io.h"
#include "metrics/mask/rle.h"

namespace glamm::datasets::grandf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string id_text(const json& v, const std::string& file, const std::string& record, const char* field) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  throw InputError(file, record, std::string("`") + field + "` must be a string or an integer");
}

const json& field(const json& obj, const char* name, const std::string& file, const std::string& record) {
  if (!obj.is_object()) throw InputError(file, record, "expected a JSON object");
  auto it = obj.find(name);
  if (it == obj.end()) throw InputError(file, record, std::string("missing field `") + name + "`");
  return *it;
}

std::vector<std::string> string_list(const json& v, const std::string& file, const std::string& record,
                                     const char* name) {
  if (!v.is_array()) throw InputError(file, record, std::string("`") + name + "` must be a list of strings");
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const auto& s : v) {
    if (!s.is_string()) throw InputError(file, record, std::string("`") + name + "` must hold strings only");
    out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

CaptionGt load_caption_gt(const fs::path& path) {
  const std::string file = path.string();
  const json j = parse_json_noting_duplicates(io::read_text_file(path), file);
  CaptionGt gt;
  const json& images = field(j, "images", file, "");
  if (!images.is_array() || images.empty()) throw InputError(file, "images", "the image list is empty");
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::string rec = "images[" + std::to_string(i) + "]";
    const json& id = field(images[i], "id", file, rec);
    if (!id.is_string()) gt.image_ids_are_strings = false;
    std::string s = id_text(id, file, rec, "id");
    if (!seen.insert(s).second) throw InputError(file, rec, "duplicate image id " + s);
    gt.image_ids.push_back(std::move(s));
  }
  const json& anns = field(j, "annotations", file, "");
  if (!anns.is_array()) throw InputError(file, "annotations", "must be a list");
  for (std::size_t i = 0; i < anns.size(); ++i) {
    const std::string rec = "annotations[" + std::to_string(i) + "]";
    CaptionAnnotation a;
    a.id = id_text(field(anns[i], "id", file, rec), file, rec, "id");
    a.image_id = id_text(field(anns[i], "image_id", file, rec), file, rec, "image_id");
    const json& cap = field(anns[i], "caption", file, rec);
    if (!cap.is_string()) throw InputError(file, rec, "`caption` must be a string");
    a.caption = cap.get<std::string>();
    a.labels = string_list(field(anns[i], "labels", file, rec), file, rec, "labels");
    gt.annotations.push_back(std::move(a));
  }
  return gt;
}

std::optional<Prediction> load_prediction(const fs::path& dir, const std::string& image_id) {
  return load_prediction_file(dir / (image_id + ".json"), image_id);
}

std::optional<Prediction> load_prediction_file(const fs::path& path, const std::string& image_id) {
  const std::string file = path.string();
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::nullopt;  // a dangling link is an error, below
  const simdjson::padded_string text(io::read_text_file(path));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text).get(root); err != simdjson::SUCCESS)
    throw io::json_syntax_error(std::string_view(text.data(), text.size()), file, simdjson::error_message(err));
  simdjson::dom::object top;
  if (root.get_object().get(top) != simdjson::SUCCESS || top.size() == 0)
    throw InputError(file, "", "a prediction file must hold a non-empty JSON object");
  // evaluate.py: pred = pred[first key]; try pred['caption'] / pred['phrases'], else fall back to the flat dict.
  const DuplicateKeyScope duplicate_keys(file);  // collected by take_duplicate_key_warnings()
  Prediction p;
  p.file = file;
  simdjson::dom::object body = top;
  std::string rec;
  {
    // The first key keeps its place in a Python dict but holds the value of its last occurrence.
    const std::string_view first_key = (*top.begin()).key;
    simdjson::dom::element first_value;
    last_field(top, first_key, first_value);
    simdjson::dom::object inner;
    simdjson::dom::element tmp;
    const std::string first_rec(first_key);
    const auto in_first = [&] { return first_rec; };
    if (first_value.get_object().get(inner) == simdjson::SUCCESS && last_field(inner, "caption", tmp, in_first) &&
        last_field(inner, "phrases", tmp, in_first)) {
      body = inner;
      p.nested = true;
      rec = first_rec;
      // A second record under another key: which one is meant is ambiguous (evaluate.py would take the first and
      // ignore the rest without a word), so the file is refused.
      for (auto field : top) {
        if (field.key == first_key) continue;
        simdjson::dom::object other;
        simdjson::dom::element c;
        if (field.value.get_object().get(other) == simdjson::SUCCESS &&
            other.at_key("caption").get(c) == simdjson::SUCCESS)
          throw InputError(file, std::string(field.key),
                           "a second nested prediction record (besides '" + first_rec +
                               "'): a prediction file holds one record, flat or nested under a single key");
      }
    }
  }
  auto need = [&](const char* name) {
    simdjson::dom::element e;
    if (!last_field(body, name, e, [&] { return rec; }))
      throw InputError(file, rec, std::string("missing field `") + name + "` (the official evaluation fails with KeyError)");
    return e;
  };
  std::string_view cap;
  if (need("caption").get_string().get(cap) != simdjson::SUCCESS)
    throw InputError(file, rec, "`caption` must be a string");
  p.caption = std::string(cap);
  simdjson::dom::array phrases;
  if (need("phrases").get_array().get(phrases) != simdjson::SUCCESS)
    throw InputError(file, rec, "`phrases` must be a list of strings");
  for (simdjson::dom::element e : phrases) {
    std::string_view ph;
    if (e.get_string().get(ph) != simdjson::SUCCESS) throw InputError(file, rec, "`phrases` must hold strings only");
    p.phrases.emplace_back(ph);
  }
  simdjson::dom::array masks;
  if (need("pred_masks").get_array().get(masks) != simdjson::SUCCESS)
    throw InputError(file, rec, "`pred_masks` must be a list of RLE dicts");
  std::size_t k = 0;
  const auto mask_rec = [&] { return "pred_masks[" + std::to_string(k) + "]"; };
  const JsonSource mask_src{file, mask_rec};
  p.pred_masks.reserve(masks.size());
  for (simdjson::dom::element m : masks) {
    p.pred_masks.push_back(read_rle(m, mask_src));
    ++k;
  }
  p.image_id = image_id;  // evaluate.py keys everything by the file's image id, not the `image_id` field
  return p;
}

namespace {

/// An id (string or integer) as text; false for another type.
bool sj_id_text(simdjson::dom::element v, std::string& out) {
  std::string_view s;
  int64_t i = 0;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    out = std::string(s);
    return true;
  }
  if (v.get_int64().get(i) == simdjson::SUCCESS) {
    out = std::to_string(i);
    return true;
  }
  return false;
}

}  // namespace

MaskGt load_mask_gt(const fs::path& path) {
  const std::string file = path.string();
  simdjson::dom::parser parser;
  const simdjson::padded_string text(io::read_text_file(path));
  simdjson::dom::element root;
  if (auto err = parser.parse(text).get(root); err != simdjson::SUCCESS)
    throw io::json_syntax_error(std::string_view(text.data(), text.size()), file, simdjson::error_message(err));
  const DuplicateKeyScope duplicate_keys(file);  // collected by take_duplicate_key_warnings()
  simdjson::dom::object top;
  simdjson::dom::element anns_el;
  simdjson::dom::array anns;
  if (root.get_object().get(top) != simdjson::SUCCESS || !last_field(top, "annotations", anns_el) ||
      anns_el.get_array().get(anns) != simdjson::SUCCESS)
    throw InputError(file, "", "missing `annotations` list");
  MaskGt gt;
  simdjson::dom::element images_el;
  simdjson::dom::array images;
  if (last_field(top, "images", images_el) && images_el.get_array().get(images) == simdjson::SUCCESS) {
    std::size_t i = 0;
    for (simdjson::dom::element im_el : images) {
      const std::string rec = "images[" + std::to_string(i++) + "]";
      const auto in_rec = [&] { return rec; };
      simdjson::dom::object im;
      simdjson::dom::element id, name;
      std::string id_text;
      std::string_view n;
      // Only overlays read file names (GCG's image list is the caption GT's): an entry without a usable id or
      // file name is left out, and its overlay falls back to "<id>.jpg".
      if (im_el.get_object().get(im) != simdjson::SUCCESS || !last_field(im, "id", id, in_rec) ||
          !last_field(im, "file_name", name, in_rec) || !sj_id_text(id, id_text) ||
          name.get_string().get(n) != simdjson::SUCCESS)
        continue;
      gt.file_names[id_text] = std::string(n);
    }
  }
  gt.annotations.reserve(anns.size());
  std::size_t i = 0;
  for (simdjson::dom::element a_el : anns) {
    const std::string rec = "annotations[" + std::to_string(i++) + "]";
    const auto in_rec = [&] { return rec; };
    simdjson::dom::object a;
    if (a_el.get_object().get(a) != simdjson::SUCCESS) throw InputError(file, rec, "missing field `image_id`");
    MaskGtAnnotation m;
    simdjson::dom::element img;
    if (!last_field(a, "image_id", img, in_rec)) throw InputError(file, rec, "missing field `image_id`");
    if (!sj_id_text(img, m.image_id)) throw InputError(file, rec, "`image_id` must be a string or an integer");
    int64_t cat = 0;
    simdjson::dom::element cat_el;
    if (last_field(a, "category_id", cat_el, in_rec) && cat_el.get_int64().get(cat) == simdjson::SUCCESS)
      m.category_id = cat;
    simdjson::dom::element crowd;
    if (last_field(a, "iscrowd", crowd, in_rec))
      m.iscrowd = crowd.is_bool() ? bool(crowd.get_bool()) : (crowd.is_int64() && int64_t(crowd.get_int64()) != 0);
    simdjson::dom::element seg;
    if (!last_field(a, "segmentation", seg, in_rec)) {
      m.form = "missing";
    } else if (seg.is_array()) {
      m.form = "polygons";  // not read: GLaMM's mIoU decodes GT with maskUtils.decode (the caller refuses it)
    } else if (seg.is_object()) {
      const JsonSource src{file, rec};
      auto rle = read_rle_view(seg, src);
      if (const auto* c = std::get_if<CompressedRleView>(&rle)) {
        try {
          m.rle = mask::from_string(c->counts, c->h, c->w);
        } catch (const mask::RleError& e) {
          throw InputError(file, rec, e.what());
        }
        m.form = "compressed";
      } else {
        m.form = "uncompressed";
      }
    } else {
      throw InputError(file, rec, "`segmentation` must be polygons or an RLE dict");
    }
    gt.annotations.push_back(std::move(m));
  }
  return gt;
}

std::vector<MaskGtAnnotation> load_mask_gt_annotations(const fs::path& path) {
  return load_mask_gt(path).annotations;
}

std::vector<mask::Rle> pred_mask_rles(const Prediction& p) {
  std::vector<mask::Rle> out;
  out.reserve(p.pred_masks.size());
  for (std::size_t k = 0; k < p.pred_masks.size(); ++k) {
    try {
      out.push_back(mask::to_rle(p.pred_masks[k], 0, 0, false));  // RLE forms keep their own size
    } catch (const mask::RleError& e) {
      throw InputError(p.file, "pred_masks[" + std::to_string(k) + "]", e.what());
    }
  }
  return out;
}

double SimilarityTable::lookup(const std::string& gt_label, const std::string& pred_label) const {
  auto it = values.find(gt_label + '\t' + pred_label);
  return it == values.end() ? 0.0 : it->second;
}

SimilarityTable load_similarity_table(const fs::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(file, "", "is a folder, not a similarity table file");
  std::istringstream in(io::read_text_file(path));
  SimilarityTable t;
  std::unordered_map<std::string, std::size_t> first_line;  // pair -> line that listed it first
  std::string line;
  std::size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::size_t a = line.find('\t');
    const std::size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos)
      throw InputError(file, "line " + std::to_string(lineno), "expected gt_label<TAB>pred_label<TAB>similarity");
    const std::string num = line.substr(b + 1);
    double v = 0.0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec == std::errc::result_out_of_range && p == num.data() + num.size())
      throw InputError(file, "line " + std::to_string(lineno), "similarity '" + num + "' is beyond the double range");
    if (ec != std::errc() || p != num.data() + num.size()) {
      if (lineno == 1) continue;  // header
      throw InputError(file, "line " + std::to_string(lineno), "similarity '" + num + "' is not a number");
    }
    if (!std::isfinite(v))
      throw InputError(file, "line " + std::to_string(lineno), "similarity '" + num + "' is not a finite number");
    const std::string key = line.substr(0, b);  // "gt\tpred"
    auto [it, fresh] = t.values.emplace(key, v);
    if (fresh) {
      first_line.emplace(key, lineno);
    } else if (it->second != v) {
      throw InputError(file, "line " + std::to_string(lineno),
                       "pair '" + line.substr(0, a) + "' / '" + line.substr(a + 1, b - a - 1) + "' listed again with " +
                           num + " (line " + std::to_string(first_line[key]) + " has another value)");
    }
  }
  if (t.values.empty())
    throw InputError(file, "",
                     lineno == 0 ? "the similarity table is empty"
                                 : "the similarity table has no gt_label<TAB>pred_label<TAB>similarity rows");
  return t;
}

}  // namespace glamm::datasets::grandf
