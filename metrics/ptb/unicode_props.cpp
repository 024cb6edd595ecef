// Character properties from utf8proc (see unicode_props.h).
#include "metrics/ptb/unicode_props.h"

#include <algorithm>

#include <utf8proc.h>

namespace glamm::ptb::detail {

namespace {
utf8proc_category_t category(uint32_t c) {
  if (c >= 0xD800 && c <= 0xDFFF) return UTF8PROC_CATEGORY_CS;
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}
}  // namespace

bool jflex_letter(uint32_t c) {
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

bool jflex_digit(uint32_t c) { return category(c) == UTF8PROC_CATEGORY_ND; }

bool jflex_uppercase(uint32_t c) { return category(c) == UTF8PROC_CATEGORY_LU; }

std::vector<uint32_t> caseless_variants(uint32_t c) {
  std::vector<uint32_t> v;
  if (c >= 0xD800 && c <= 0xDFFF) return v;
  auto cp = static_cast<utf8proc_int32_t>(c);
  for (utf8proc_int32_t m : {utf8proc_tolower(cp), utf8proc_toupper(cp), utf8proc_totitle(cp)})
    if (m != cp && m <= 0xFFFF) v.push_back(static_cast<uint32_t>(m));
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace glamm::ptb::detail
