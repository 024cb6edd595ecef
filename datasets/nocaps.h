// NoCaps (nocaps_val_4500_captions.json / nocaps_test_image_info.json) as caption samples with their domain.
// Spec: dataset-formats.md §8.3.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "datasets/regcap.h"

namespace glamm::datasets::nocaps {

struct Data {
  std::string file;
  std::vector<CaptionSample> samples;  ///< images[] order; image_id = images[].id; domain from images[].domain
  bool has_annotations = false;        ///< false for the test file (captions not public)
  std::map<std::string, std::size_t> images_per_domain;
  std::size_t num_annotations = 0;
};

/// Parse a NoCaps file: images[] (id int, file_name, domain), annotations[] (image_id, caption) when present.
/// Throws InputError naming file and record for malformed records, repeated image ids and annotations on unknown
/// images.
Data parse(std::string_view json, const std::string& file_label);
Data load(const std::filesystem::path& file);

}  // namespace glamm::datasets::nocaps
