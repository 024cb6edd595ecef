// Flickr30k in Karpathy's split file (dataset_flickr30k.json) as caption samples. Spec: dataset-formats.md §8.2.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/regcap.h"

namespace glamm::datasets::flickr30k {

/// The chosen split and what else the file holds.
struct Split {
  std::string file, split;
  std::vector<CaptionSample> samples;          ///< images of the split, file order; references = sentences[].raw
  std::vector<caption::ImageId> other_ids;     ///< images of the other splits (predictions for them are ignored)
  std::map<std::string, std::size_t> images_per_split;  ///< every split name in the file → image count
  std::size_t sentences = 0;                   ///< references in the split
  std::size_t images_not_five_sentences = 0;   ///< split images with a sentence count other than 5
};

/// Parse the Karpathy JSON: images[] with filename, split, sentences[{raw}] (other fields ignored). The image id is
/// the Flickr photo id = filename without extension, an integer when it is all digits, else the string. Throws
/// InputError naming file and record for malformed records, an image of `split` with no sentence (as `captions`),
/// a repeated photo id, or a split name absent from the file (listing the names it has). `restval` is training data, never test.
Split parse(std::string_view json, const std::string& file_label, const std::string& split);
Split load(const std::filesystem::path& file, const std::string& split);

/// The image id of a Karpathy `filename` ("1000092795.jpg" → 1000092795, "abc.jpg" → "abc").
caption::ImageId photo_id(const std::string& filename);

}  // namespace glamm::datasets::flickr30k
