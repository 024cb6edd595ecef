// Character properties from utf8proc (see unicode_props.h).
#include "metrics/ptb/unicode_props.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>
#include <utility>

#include <utf8proc.h>

namespace glamm::ptb::detail {

namespace {

// JFlex 1.5.1 classifies characters with Unicode 6.3 data; utf8proc is newer. These BMP code points are letters or
// digits for utf8proc but not for the CoreNLP 3.4.1 lexer (assigned after Unicode 6.3, or re-categorized since);
// the lexer deletes them as untokenizable. Established by comparing every BMP code point against PTBLexer v3.4.1.
constexpr std::pair<uint32_t, uint32_t> kNewerThanJflex[] = {
    {0x037F, 0x037F}, {0x0528, 0x052F}, {0x0560, 0x0560}, {0x0588, 0x0588}, {0x05EF, 0x05EF}, {0x0860, 0x086A},
    {0x0870, 0x0887}, {0x0889, 0x088E}, {0x08A1, 0x08A1}, {0x08AD, 0x08C9}, {0x0978, 0x0978}, {0x0980, 0x0980},
    {0x09FC, 0x09FC}, {0x0AF9, 0x0AF9}, {0x0C34, 0x0C34}, {0x0C5A, 0x0C5A}, {0x0C5D, 0x0C5D}, {0x0C80, 0x0C80},
    {0x0CDD, 0x0CDD}, {0x0D04, 0x0D04}, {0x0D54, 0x0D56}, {0x0D5F, 0x0D5F}, {0x0DE6, 0x0DEF}, {0x0E86, 0x0E86},
    {0x0E89, 0x0E89}, {0x0E8C, 0x0E8C}, {0x0E8E, 0x0E93}, {0x0E98, 0x0E98}, {0x0EA0, 0x0EA0}, {0x0EA8, 0x0EA9},
    {0x0EAC, 0x0EAC}, {0x13F5, 0x13F5}, {0x13F8, 0x13FD}, {0x16F1, 0x16F8}, {0x170D, 0x170D}, {0x171F, 0x171F},
    {0x1878, 0x1878}, {0x191D, 0x191E}, {0x19B0, 0x19C0}, {0x19C8, 0x19C9}, {0x1B4C, 0x1B4C}, {0x1C80, 0x1C88},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1CF2, 0x1CF3}, {0x1CFA, 0x1CFA}, {0x2C2F, 0x2C2F}, {0x2C5F, 0x2C5F},
    {0x312E, 0x312F}, {0x31BB, 0x31BF}, {0x4DB6, 0x4DBF}, {0x9FCD, 0x9FFF}, {0xA698, 0xA69D}, {0xA78F, 0xA78F},
    {0xA794, 0xA79F}, {0xA7AB, 0xA7CA}, {0xA7D0, 0xA7D1}, {0xA7D3, 0xA7D3}, {0xA7D5, 0xA7D9}, {0xA7F2, 0xA7F7},
    {0xA8FD, 0xA8FE}, {0xA9E0, 0xA9E4}, {0xA9E6, 0xA9FE}, {0xAA7E, 0xAA7F}, {0xAB30, 0xAB5A}, {0xAB5C, 0xAB69},
    {0xAB70, 0xABBF}};

bool newer_than_jflex(uint32_t c) {
  auto it = std::upper_bound(std::begin(kNewerThanJflex), std::end(kNewerThanJflex), c,
                             [](uint32_t v, const std::pair<uint32_t, uint32_t>& r) { return v < r.first; });
  return it != std::begin(kNewerThanJflex) && std::prev(it)->second >= c;
}

utf8proc_category_t category(uint32_t c) {
  if (c >= 0xD800 && c <= 0xDFFF) return UTF8PROC_CATEGORY_CS;
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}
}  // namespace

bool jflex_letter(uint32_t c) {
  if (c == 0x1885 || c == 0x1886) return true;  // Mongolian letters, marks (Mn) since Unicode 9
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return !newer_than_jflex(c);
    default:
      return false;
  }
}

bool jflex_digit(uint32_t c) { return category(c) == UTF8PROC_CATEGORY_ND && !newer_than_jflex(c); }

bool jflex_uppercase(uint32_t c) {
  if ((c >= 0x2160 && c <= 0x216F) || (c >= 0x24B6 && c <= 0x24CF)) return true;  // Other_Uppercase
  if (c >= 0x13A0 && c <= 0x13F5) return false;  // Cherokee: Lo in Unicode 6.3
  return category(c) == UTF8PROC_CATEGORY_LU && !newer_than_jflex(c);
}

std::vector<uint32_t> caseless_variants(uint32_t c) {
  // Equivalence classes of the relation "is the simple lower/upper/title case of", closed transitively (so 'k'
  // also matches U+212A KELVIN SIGN, 's' matches U+017F LONG S, 'i' matches U+0130 and U+0131), as JFlex builds them.
  static const std::unordered_map<uint32_t, std::vector<uint32_t>> classes = [] {
    std::vector<uint32_t> parent(0x10000);
    for (uint32_t k = 0; k < 0x10000; ++k) parent[k] = k;
    auto find = [&](uint32_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    for (uint32_t k = 0; k < 0x10000; ++k) {
      if (k >= 0xD800 && k <= 0xDFFF) continue;
      auto cp = static_cast<utf8proc_int32_t>(k);
      for (utf8proc_int32_t m : {utf8proc_tolower(cp), utf8proc_toupper(cp), utf8proc_totitle(cp)}) {
        if (m == cp || m > 0xFFFF) continue;
        uint32_t a = find(k), b = find(static_cast<uint32_t>(m));
        if (a != b) parent[std::max(a, b)] = std::min(a, b);
      }
    }
    std::unordered_map<uint32_t, std::vector<uint32_t>> members;
    for (uint32_t k = 0; k < 0x10000; ++k) {
      uint32_t r = find(k);
      if (r != k || members.count(r)) members[r].push_back(k);
    }
    for (auto& [r, m] : members)
      if (std::find(m.begin(), m.end(), r) == m.end()) m.insert(m.begin(), r);
    std::unordered_map<uint32_t, std::vector<uint32_t>> by_char;
    for (const auto& [r, m] : members)
      for (uint32_t k : m) by_char[k] = m;
    return by_char;
  }();
  std::vector<uint32_t> v;
  auto it = classes.find(c);
  if (it == classes.end()) return v;
  for (uint32_t k : it->second)
    if (k != c) v.push_back(k);
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace glamm::ptb::detail
