// Flickr30k Karpathy split reader (dataset-formats.md §8.2), nlohmann JSON.
#include "datasets/flickr30k.h"

#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "datasets/json_util.h"

namespace glamm::datasets::flickr30k {

caption::ImageId photo_id(const std::string& filename) {
  const std::size_t dot = filename.rfind('.');
  const std::string stem = dot == std::string::npos ? filename : filename.substr(0, dot);
  const bool digits = !stem.empty() && stem.size() <= 18 &&
                      stem.find_first_not_of("0123456789") == std::string::npos;
  return digits ? caption::ImageId::of(static_cast<int64_t>(std::stoll(stem))) : caption::ImageId::of(stem);
}

Split parse(std::string_view text, const std::string& file, const std::string& split) {
  const nlohmann::json root = parse_json_noting_duplicates(text, file);
  if (!root.is_object() || !root.contains("images") || !root["images"].is_array())
    throw InputError(file, "", "expected Karpathy's layout {\"images\": [...], \"dataset\": ...}");
  Split out;
  out.file = file;
  out.split = split;
  std::unordered_set<std::string> ids;
  const auto& images = root["images"];
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto& im = images[i];
    std::string rec = fmt::format("images[{}]", i);
    if (!im.is_object() || !im.contains("filename") || !im["filename"].is_string())
      throw InputError(file, rec, "missing string field 'filename'");
    if (!im.contains("split") || !im["split"].is_string()) throw InputError(file, rec, "missing string field 'split'");
    const std::string fname = im["filename"].get<std::string>(), sp = im["split"].get<std::string>();
    rec += " (" + fname + ")";
    const caption::ImageId id = photo_id(fname);
    if (!ids.insert(id.key()).second) throw InputError(file, rec, "photo id " + id.display() + " occurs twice");
    ++out.images_per_split[sp];
    if (sp != split) {
      out.other_ids.push_back(id);
      continue;
    }
    CaptionSample s;
    s.image_id = id;
    s.file_name = fname;
    if (!im.contains("sentences") || !im["sentences"].is_array())
      throw InputError(file, rec, "missing list field 'sentences'");
    for (std::size_t k = 0; k < im["sentences"].size(); ++k) {
      const auto& st = im["sentences"][k];
      if (!st.is_object() || !st.contains("raw") || !st["raw"].is_string())
        throw InputError(file, fmt::format("{} sentences[{}]", rec, k), "missing string field 'raw'");
      s.references.push_back(st["raw"].get<std::string>());
    }
    if (s.references.empty())  // as `captions` (COCOEvalCap needs at least one reference per scored image)
      throw InputError(file, rec,
                       "has no sentence: an image of the evaluated split needs at least one reference caption "
                       "(COCOEvalCap fed by the Karpathy split refuses an image without one)");
    out.sentences += s.references.size();
    if (s.references.size() != 5) ++out.images_not_five_sentences;
    out.samples.push_back(std::move(s));
  }
  if (out.samples.empty()) {
    std::string names;
    for (const auto& [n, c] : out.images_per_split) names += (names.empty() ? "" : ", ") + n;
    throw InputError(file, "--split", fmt::format("split '{}' has no image in this file (splits: {})", split, names));
  }
  return out;
}

Split load(const std::filesystem::path& file, const std::string& split) {
  return parse(io::read_text_file(file), file.string(), split);
}

}  // namespace glamm::datasets::flickr30k
