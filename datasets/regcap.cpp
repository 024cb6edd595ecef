// Region-caption GT, caption predictions and the coverage guard (dataset-formats.md §6, §8.4).
#include "datasets/regcap.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "datasets/json_util.h"
#include "datasets/coco_captions.h"

namespace glamm::datasets {

namespace {

using caption::ImageId;
using nlohmann::json;

ImageId id_of(const json& v, const std::string& file, const std::string& rec, const char* key) {
  if (v.is_number_integer()) return ImageId::of(v.get<int64_t>());
  if (v.is_string()) return ImageId::of(v.get<std::string>());
  throw InputError(file, rec, fmt::format("'{}' must be an integer or a string", key));
}

/// The integer Python's int(text) gives for a decimal string: surrounding whitespace, an optional sign, digits with
/// single underscores between them ("6", " 6\n", "+6", "1_000"); nullopt for anything else ("6.5", "6x", "", "0x10")
/// and for values outside int64 (std::stoll alone would read "6.5" and "6x" as 6).
std::optional<int64_t> python_int(const std::string& text) {
  const std::size_t b = text.find_first_not_of(" \t\n\r\f\v"), e = text.find_last_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return std::nullopt;
  std::string digits;
  std::size_t k = b;
  const bool negative = text[k] == '-';
  if (text[k] == '+' || text[k] == '-') ++k;
  for (; k <= e; ++k) {
    const char c = text[k];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == '_' && !digits.empty() && k < e && text[k + 1] >= '0' && text[k + 1] <= '9' && text[k - 1] != '_') {
      continue;
    } else {
      return std::nullopt;
    }
  }
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  const unsigned long long v = std::stoull(digits);
  if (v > (negative ? 9223372036854775808ull : 9223372036854775807ull)) return std::nullopt;
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

double dim_of(const json& o, const char* key, const std::string& file, const std::string& rec) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {  // MDETR Flickr files store sizes as strings (§5.2); GLaMM casts with int()
    if (const auto v = python_int(it->get<std::string>())) return static_cast<double>(*v);
    throw InputError(file, rec, fmt::format("'{}' is the string {}, which Python's int() does not read as an integer",
                                            key, it->dump()));
  }
  throw InputError(file, rec, fmt::format("'{}' must be a number", key));
}

std::string list_ids(const std::vector<ImageId>& ids) {
  std::string s;
  for (std::size_t k = 0; k < ids.size() && k < 20; ++k) s += (k ? ", " : "") + ids[k].display();
  if (ids.size() > 20) s += fmt::format(", ... ({} in all)", ids.size());
  return s;
}

}  // namespace

std::string RegionCapGt::regions_layout() const {
  return images_with_many_regions == 0 ? "one region per image entry" : "many regions per image entry";
}

RegionCapGt parse_region_caption_gt(std::string_view text, const std::string& file,
                                    std::vector<std::string>& warnings) {
  json root;
  root = parse_json_noting_duplicates(text, file);  // names syntax errors, too-deep nesting, numbers beyond the double range
  if (!root.is_object() || !root.contains("images") || !root["images"].is_array())
    throw InputError(file, "", "expected a COCO-style object with an 'images' array");
  const json& images = root["images"];
  const json empty = json::array();
  const json& anns = root.contains("annotations") && root["annotations"].is_array() ? root["annotations"] : empty;
  RegionCapGt gt;
  gt.file = file;
  std::unordered_map<std::string, std::size_t> pos;
  std::set<std::string> photos;
  bool mdetr = false;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const json& im = images[i];
    std::string rec = fmt::format("images[{}]", i);
    if (!im.is_object() || !im.contains("id")) throw InputError(file, rec, "an image needs an 'id'");
    CaptionSample s;
    s.image_id = id_of(im["id"], file, rec, "id");
    rec += " (id " + s.image_id.display() + ")";
    if (im.contains("file_name") && im["file_name"].is_string()) s.file_name = im["file_name"].get<std::string>();
    s.height = dim_of(im, "height", file, rec);
    s.width = dim_of(im, "width", file, rec);
    if (im.contains("caption")) {
      if (!im["caption"].is_string()) throw InputError(file, rec, "'caption' must be a string");
      mdetr = true;
      s.references.push_back(im["caption"].get<std::string>());
    }
    if (!pos.emplace(s.image_id.key(), gt.samples.size()).second)
      throw InputError(file, rec, "image id " + s.image_id.display() + " occurs twice");
    photos.insert(s.file_name);
    gt.samples.push_back(std::move(s));
  }
  gt.photos = photos.size();
  gt.layout = mdetr ? "mdetr" : "coco-captions";
  std::vector<std::size_t> n_regions(gt.samples.size(), 0);
  std::set<std::string> ann_ids;
  for (std::size_t i = 0; i < anns.size(); ++i) {
    const json& a = anns[i];
    std::string rec = fmt::format("annotations[{}]", i);
    if (!a.is_object() || !a.contains("id") || !a.contains("image_id"))
      throw InputError(file, rec, "an annotation needs 'id' and 'image_id'");
    const ImageId id = id_of(a["id"], file, rec, "id");
    const ImageId img = id_of(a["image_id"], file, rec, "image_id");
    rec += " (id " + id.display() + ")";
    if (!ann_ids.insert(id.key()).second) throw InputError(file, rec, "annotation id " + id.display() + " occurs twice");
    ++gt.num_annotations;
    auto p = pos.find(img.key());
    if (p == pos.end()) {
      warnings.push_back(fmt::format("{}: {}: image_id {} is not in images[]: ignored", file, rec, img.display()));
      continue;
    }
    CaptionSample& s = gt.samples[p->second];
    ++n_regions[p->second];
    if (!mdetr) {
      if (!a.contains("caption") || !a["caption"].is_string())
        throw InputError(file, rec, "missing string field 'caption'");
      s.references.push_back(a["caption"].get<std::string>());
    }
    if (id == img) {
      if (!a.contains("bbox") || !a["bbox"].is_array() || a["bbox"].size() != 4)
        throw InputError(file, rec, "'bbox' must be [x, y, w, h]");
      for (int k = 0; k < 4; ++k) {
        if (!a["bbox"][k].is_number()) throw InputError(file, rec, "'bbox' must hold numbers");
        s.bbox_xywh[k] = a["bbox"][k].get<double>();
      }
      s.has_box = true;
    }
  }
  std::vector<ImageId> unpaired, without;
  for (std::size_t k = 0; k < gt.samples.size(); ++k) {
    if (n_regions[k] == 0) {
      ++gt.images_without_annotations;
      without.push_back(gt.samples[k].image_id);
      if (!mdetr) continue;
    }
    if (n_regions[k] > 1) ++gt.images_with_many_regions;
    if (!gt.samples[k].has_box) {
      ++gt.images_without_paired_box;
      unpaired.push_back(gt.samples[k].image_id);
    }
  }
  if (!without.empty())
    warnings.push_back(fmt::format("{}: {} image(s) have no annotation{}: {}", file, without.size(),
                                   mdetr ? "" : " (no reference caption; not scored)", list_ids(without)));
  if (!unpaired.empty())
    warnings.push_back(fmt::format("{}: {} image(s) have no annotation whose id equals the image id (GLaMM's "
                                   "RegionCapDDP takes the box from anns[image_id]): {}",
                                   file, unpaired.size(), list_ids(unpaired)));
  if (gt.images_with_many_regions)
    warnings.push_back(fmt::format("{}: {} image entries carry more than one region: GLaMM infers each once (with "
                                   "the box of anns[image_id]) but scores it against every region's caption",
                                   file, gt.images_with_many_regions));
  return gt;
}

RegionCapGt load_region_caption_gt(const std::filesystem::path& file, std::vector<std::string>& warnings) {
  return parse_region_caption_gt(io::read_text_file(file), file.string(), warnings);
}

std::vector<CaptionPrediction> load_caption_predictions(const std::filesystem::path& path,
                                                        std::vector<std::string>& files_read) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(path))
      if (e.is_regular_file() && e.path().extension() == ".json" && e.path().filename() != "merged.json")
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw InputError(path.string(), "", "no *.json prediction file in this folder");
  } else {
    files.push_back(path);
  }
  std::vector<CaptionPrediction> out;
  for (const auto& f : files) {
    files_read.push_back(f.string());
    const auto res = parse_coco_caption_results(io::read_text_file(f), f.string());
    for (std::size_t i = 0; i < res.size(); ++i) out.push_back({res[i].image_id, res[i].caption, f.string(), i});
  }
  return out;
}

Pairing pair_predictions(const std::vector<CaptionSample>& samples, const std::vector<CaptionPrediction>& preds,
                         const std::vector<ImageId>& other_ids, Coverage coverage, const std::string& pred_label) {
  std::unordered_map<std::string, std::size_t> sample_pos;
  for (std::size_t k = 0; k < samples.size(); ++k) sample_pos.emplace(samples[k].image_id.key(), k);
  std::unordered_map<std::string, bool> other;
  for (const auto& id : other_ids) other.emplace(id.key(), true);
  std::vector<const CaptionPrediction*> by_sample(samples.size(), nullptr);
  Pairing out;
  std::map<std::string, const CaptionPrediction*> seen_outside;
  for (const CaptionPrediction& p : preds) {
    const std::string rec = fmt::format("[{}] (image_id {})", p.index, p.image_id.display());
    auto it = sample_pos.find(p.image_id.key());
    if (it == sample_pos.end()) {
      if (!other.count(p.image_id.key()))
        throw InputError(p.file, rec, "image_id " + p.image_id.display() + " is not an image of the annotations");
      auto [o, fresh] = seen_outside.emplace(p.image_id.key(), &p);
      if (!fresh)
        throw InputError(p.file, rec, fmt::format("duplicate prediction for image_id {} (also {} [{}])",
                                                  p.image_id.display(), o->second->file, o->second->index));
      out.outside.push_back(p.image_id);
      continue;
    }
    if (const CaptionPrediction* first = by_sample[it->second])
      throw InputError(p.file, rec, fmt::format("duplicate prediction for image_id {} (also {} [{}])",
                                                p.image_id.display(), first->file, first->index));
    by_sample[it->second] = &p;
  }
  for (std::size_t k = 0; k < samples.size(); ++k) {
    if (samples[k].references.empty()) continue;
    if (!by_sample[k]) {
      out.missing.push_back(samples[k].image_id);
      if (coverage == Coverage::kOnlyPresent) continue;
    }
    out.input.image_ids.push_back(samples[k].image_id);
    out.input.refs.push_back(samples[k].references);
    out.input.hyps.push_back(by_sample[k] ? by_sample[k]->caption : std::string());
    out.sample_index.push_back(k);
    out.predicted.push_back(by_sample[k] != nullptr);
  }
  if (!out.missing.empty() && coverage == Coverage::kComplete)
    throw InputError(pred_label, "",
                     fmt::format("{} of {} samples have no prediction: image_id {}. Pass --allow-missing to score them "
                                 "as empty captions or --only-present to score only the predicted ones (GLaMM's "
                                 "silent behaviour)",
                                 out.missing.size(), out.input.image_ids.size(),
                                 list_ids(out.missing)));
  if (out.input.image_ids.empty()) throw InputError(pred_label, "", "no prediction matches a scorable sample");
  return out;
}

}  // namespace glamm::datasets
