// The one image-id type of glamm-eval. Image ids are kept exactly as the input file spells them: COCO files use
// integers, GLaMM's GCG files and other caption sets use strings, and pycocotools / pycocoevalcap accept any hashable
// id, so 30 and "30" are different images.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

namespace glamm {

/// An image id as read from a JSON file: an integer or a string (never both).
/// Ordering: integers numerically, before strings; strings by bytes (= code points for UTF-8) — np.unique's order for
/// an all-int or all-str id list (mixed lists are rejected by the loaders that sort).
struct ImageId {
  bool is_string = false;
  std::int64_t number = 0;  ///< when !is_string
  std::string text;         ///< when is_string

  ImageId() = default;
  ImageId(std::int64_t n) : number(n) {}                        // NOLINT: implicit, an integer id
  ImageId(std::string s) : is_string(true), text(std::move(s)) {}  // NOLINT: implicit, a string id
  static ImageId of(std::int64_t n) { return ImageId(n); }
  static ImageId of(std::string s) { return ImageId(std::move(s)); }

  /// For messages: 397133 or "image1" (strings quoted).
  std::string display() const { return is_string ? "\"" + text + "\"" : std::to_string(number); }
  /// The id without quotes: "397133" or "image1" (as GCG file names use it).
  std::string plain() const { return is_string ? text : std::to_string(number); }
  /// A map key that keeps integers and strings apart ("i:397133", "s:image1").
  std::string key() const { return is_string ? "s:" + text : "i:" + std::to_string(number); }

  friend bool operator==(const ImageId& a, const ImageId& b) {
    return a.is_string == b.is_string && (a.is_string ? a.text == b.text : a.number == b.number);
  }
  friend bool operator!=(const ImageId& a, const ImageId& b) { return !(a == b); }
  friend bool operator<(const ImageId& a, const ImageId& b) {
    if (a.is_string != b.is_string) return !a.is_string;
    return a.is_string ? a.text < b.text : a.number < b.number;
  }
};

}  // namespace glamm

template <>
struct std::hash<glamm::ImageId> {
  std::size_t operator()(const glamm::ImageId& id) const noexcept {
    return id.is_string ? std::hash<std::string>()(id.text) ^ 0x9e3779b97f4a7c15ULL
                        : std::hash<std::int64_t>()(id.number);
  }
};
