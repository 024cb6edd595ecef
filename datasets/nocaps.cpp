// NoCaps reader (dataset-formats.md §8.3), nlohmann JSON.
#include "datasets/nocaps.h"

#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "datasets/json_util.h"

namespace glamm::datasets::nocaps {

Data parse(std::string_view text, const std::string& file) {
  const nlohmann::json root = parse_json_noting_duplicates(text, file);
  if (!root.is_object() || !root.contains("images") || !root["images"].is_array())
    throw InputError(file, "", "expected a NoCaps object with an 'images' array");
  Data d;
  d.file = file;
  std::unordered_map<int64_t, std::size_t> pos;
  const auto& images = root["images"];
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto& im = images[i];
    std::string rec = fmt::format("images[{}]", i);
    if (!im.is_object() || !im.contains("id") || !im["id"].is_number_integer())
      throw InputError(file, rec, "missing integer field 'id'");
    CaptionSample s;
    const int64_t id = im["id"].get<int64_t>();
    s.image_id = caption::ImageId::of(id);
    rec += fmt::format(" (id {})", id);
    if (im.contains("file_name") && im["file_name"].is_string()) s.file_name = im["file_name"].get<std::string>();
    if (!im.contains("domain") || !im["domain"].is_string()) throw InputError(file, rec, "missing string field 'domain'");
    s.domain = im["domain"].get<std::string>();
    if (!pos.emplace(id, d.samples.size()).second) throw InputError(file, rec, fmt::format("image id {} occurs twice", id));
    ++d.images_per_domain[s.domain];
    d.samples.push_back(std::move(s));
  }
  if (root.contains("annotations")) {
    d.has_annotations = true;
    const auto& anns = root["annotations"];
    if (!anns.is_array()) throw InputError(file, "", "'annotations' must be an array");
    for (std::size_t i = 0; i < anns.size(); ++i) {
      const auto& a = anns[i];
      const std::string rec = fmt::format("annotations[{}]", i);
      if (!a.is_object() || !a.contains("image_id") || !a["image_id"].is_number_integer())
        throw InputError(file, rec, "missing integer field 'image_id'");
      if (!a.contains("caption") || !a["caption"].is_string()) throw InputError(file, rec, "missing string field 'caption'");
      auto p = pos.find(a["image_id"].get<int64_t>());
      if (p == pos.end())
        throw InputError(file, rec, fmt::format("image_id {} is not in images[]", a["image_id"].get<int64_t>()));
      d.samples[p->second].references.push_back(a["caption"].get<std::string>());
      ++d.num_annotations;
    }
  }
  return d;
}

Data load(const std::filesystem::path& file) { return parse(io::read_text_file(file), file.string()); }

}  // namespace glamm::datasets::nocaps
