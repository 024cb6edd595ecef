// Image identifiers of caption evaluation: COCO uses integers, other caption sets use strings; pycocotools accepts
// any hashable id, so both are kept exactly as the input file spells them.
#pragma once

#include <cstdint>
#include <string>

namespace glamm::caption {

/// An image id as read from a JSON file: an integer or a string (never both).
struct ImageId {
  bool is_string = false;
  std::int64_t number = 0;  ///< when !is_string
  std::string text;         ///< when is_string

  static ImageId of(std::int64_t n) { return ImageId{false, n, {}}; }
  static ImageId of(std::string s) { return ImageId{true, 0, std::move(s)}; }

  /// For messages: 397133 or "image1" (strings quoted).
  std::string display() const { return is_string ? "\"" + text + "\"" : std::to_string(number); }
  /// A map key that keeps integers and strings apart ("i:397133", "s:image1").
  std::string key() const { return is_string ? "s:" + text : "i:" + std::to_string(number); }

  friend bool operator==(const ImageId& a, const ImageId& b) {
    return a.is_string == b.is_string && (a.is_string ? a.text == b.text : a.number == b.number);
  }
};

}  // namespace glamm::caption
