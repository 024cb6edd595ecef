#include "metrics/caption/text_split.h"

#include <cstdint>

namespace glamm::caption {

namespace {

/// Length in bytes of the Python whitespace character starting at s[i], or 0 when s[i] does not start one.
std::size_t whitespace_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return ((b0 >= 0x09 && b0 <= 0x0D) || (b0 >= 0x1C && b0 <= 0x20)) ? 1 : 0;
  const std::size_t left = s.size() - i;
  if (b0 == 0xC2 && left >= 2) {  // U+0085, U+00A0
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    return (b1 == 0x85 || b1 == 0xA0) ? 2 : 0;
  }
  if ((b0 == 0xE1 || b0 == 0xE2 || b0 == 0xE3) && left >= 3) {
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    const auto b2 = static_cast<unsigned char>(s[i + 2]);
    if ((b2 & 0xC0) != 0x80) return 0;
    const std::uint32_t cp = ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
    if ((b1 & 0xC0) != 0x80) return 0;
    if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000)
      return 3;
  }
  return 0;
}

}  // namespace

std::vector<std::string_view> python_split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    std::size_t w;
    while (i < n && (w = whitespace_length(s, i)) > 0) i += w;
    if (i >= n) break;
    const std::size_t start = i;
    while (i < n && whitespace_length(s, i) == 0) ++i;
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> python_split_space(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = s.find(' ', start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace glamm::caption
