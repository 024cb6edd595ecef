// Java string semantics shared by the PTB tokenizer and METEOR (see java_text.h).
#include "common/java_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <utf8proc.h>

#include "common/utf8.h"

namespace glamm::java {


bool decode_utf8_strict(std::string_view in, std::u16string& out, size_t& error_offset) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  size_t i = 0;
  while (i < n) {
    unsigned char b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    uint32_t cp;
    size_t len;
    uint32_t min;
    if ((b & 0xE0) == 0xC0) { cp = b & 0x1F; len = 2; min = 0x80; }
    else if ((b & 0xF0) == 0xE0) { cp = b & 0x0F; len = 3; min = 0x800; }
    else if ((b & 0xF8) == 0xF0) { cp = b & 0x07; len = 4; min = 0x10000; }
    else { error_offset = i; return false; }
    if (i + len > n) { error_offset = i; return false; }
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) { error_offset = i; return false; }
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) { error_offset = i; return false; }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return true;
}

namespace {

void put_cp(uint32_t cp, std::string& out) { glamm::append_utf8(out, cp); }

constexpr uint32_t kUnpaired = 0xFFFFFFFF;

// Code point at unit i (sets `len`), or kUnpaired for a lone surrogate.
uint32_t code_point_at(std::u16string_view t, size_t i, size_t& len) {
  uint32_t u = t[i];
  len = 1;
  if (u >= 0xD800 && u <= 0xDBFF) {
    if (i + 1 < t.size() && t[i + 1] >= 0xDC00 && t[i + 1] <= 0xDFFF) {
      len = 2;
      return 0x10000 + ((u - 0xD800) << 10) + (t[i + 1] - 0xDC00u);
    }
    return kUnpaired;
  }
  if (u >= 0xDC00 && u <= 0xDFFF) return kUnpaired;
  return u;
}

// Java ConditionalSpecialCasing.isCased: Lu, Ll, Lt plus Other_Lowercase/Other_Uppercase.
bool is_cased(uint32_t cp) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT) return true;
  return (cp >= 0x02B0 && cp <= 0x02B8) || (cp >= 0x02C0 && cp <= 0x02C1) || (cp >= 0x02E0 && cp <= 0x02E4) ||
         cp == 0x0345 || cp == 0x037A || (cp >= 0x1D2C && cp <= 0x1D61) || (cp >= 0x2160 && cp <= 0x217F) ||
         (cp >= 0x24B6 && cp <= 0x24E9);
}

// Characters that do not end a word for the final-sigma test: what Java's word BreakIterator keeps inside a word
// between two letters (letters, numbers, marks, format characters, dash and connector punctuation, ' " . U+2027).
bool in_word(uint32_t cp) {
  if (cp == '\'' || cp == '"' || cp == '.' || cp == 0x2027) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_CF:
      return true;
    default:
      return false;
  }
}

// Final sigma: a cased letter before it in the same word and none after it.
bool final_sigma(std::u16string_view t, size_t i) {
  bool cased_before = false;
  for (size_t k = i; k > 0;) {
    size_t start = k - 1;
    if (start > 0 && t[start] >= 0xDC00 && t[start] <= 0xDFFF && t[start - 1] >= 0xD800 && t[start - 1] <= 0xDBFF)
      --start;
    size_t len;
    uint32_t cp = code_point_at(t, start, len);
    if (cp == kUnpaired || !in_word(cp)) break;
    if (is_cased(cp)) { cased_before = true; break; }
    k = start;
  }
  if (!cased_before) return false;
  for (size_t k = i + 1; k < t.size();) {
    size_t len;
    uint32_t cp = code_point_at(t, k, len);
    if (cp == kUnpaired || !in_word(cp)) break;
    if (is_cased(cp)) return false;
    k += len;
  }
  return true;
}

}  // namespace

void append_lower_utf8(std::u16string_view token, std::string& out) {
  for (size_t i = 0; i < token.size();) {
    uint32_t u = token[i];
    if (u < 0x80) {
      out.push_back(static_cast<char>(u >= 'A' && u <= 'Z' ? u + 32 : u));
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp = code_point_at(token, i, len);
    if (cp == kUnpaired) {
      out.push_back('?');
    } else if (cp == 0x0130) {
      out += "i\xCC\x87";  // i + COMBINING DOT ABOVE
    } else if (cp == 0x03A3) {
      put_cp(final_sigma(token, i) ? 0x03C2 : 0x03C3, out);
    } else {
      put_cp(static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))), out);
    }
    i += len;
  }
}

void append_utf16_as_utf8(std::u16string_view token, std::string& out) {
  for (size_t i = 0; i < token.size();) {
    size_t len;
    uint32_t cp = code_point_at(token, i, len);
    if (cp == kUnpaired) out.push_back('?');
    else put_cp(cp, out);
    i += len;
  }
}



std::u32string decode_utf8_lenient(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      out.push_back(c);
      ++i;
      continue;
    }
    int len = 0;
    char32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string encode_utf8(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) glamm::append_utf8(out, static_cast<uint32_t>(cp));
  return out;
}

std::int32_t string_hash(const std::string& utf8) {
  std::uint32_t h = 0;
  bool ascii = true;
  for (unsigned char c : utf8) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    h = 31u * h + c;
  }
  if (!ascii) {
    h = 0;
    for (char32_t cp : decode_utf8_lenient(utf8)) {
      if (cp >= 0x10000) {
        char32_t v = cp - 0x10000;
        h = 31u * h + static_cast<std::uint32_t>(0xD800 + (v >> 10));
        h = 31u * h + static_cast<std::uint32_t>(0xDC00 + (v & 0x3FF));
      } else {
        h = 31u * h + static_cast<std::uint32_t>(cp);
      }
    }
  }
  return static_cast<std::int32_t>(h);
}

std::string trim(const std::string& s) {
  // Every code point <= U+0020 is a single byte in UTF-8, so byte-wise trimming is exact.
  std::size_t b = 0, e = s.size();
  while (b < e && static_cast<unsigned char>(s[b]) <= 0x20) ++b;
  while (e > b && static_cast<unsigned char>(s[e - 1]) <= 0x20) --e;
  return s.substr(b, e - b);
}

static inline bool is_tokenizer_delim(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::vector<std::string> tokenize(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0, n = s.size();
  while (i < n) {
    while (i < n && is_tokenizer_delim(s[i])) ++i;
    std::size_t j = i;
    while (j < n && !is_tokenizer_delim(s[j])) ++j;
    if (j > i) out.emplace_back(s, i, j - i);
    i = j;
  }
  return out;
}

std::string to_lower(const std::string& s) {
  bool ascii = true;
  for (unsigned char c : s) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    std::string out = s;
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
  // Java lowercases UTF-16 text; the lenient decoder leaves no unpaired surrogate, so this is exact.
  std::u16string units;
  units.reserve(s.size());
  for (char32_t cp : decode_utf8_lenient(s)) {
    if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      units.push_back(static_cast<char16_t>(0xD800 + (v >> 10)));
      units.push_back(static_cast<char16_t>(0xDC00 + (v & 0x3FF)));
    } else {
      units.push_back(static_cast<char16_t>(cp));
    }
  }
  std::string out;
  out.reserve(s.size() + 2);
  append_lower_utf8(units, out);
  return out;
}

std::string double_to_string(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e7) {
    if (v == std::floor(v)) return fmt::format("{:.1f}", v);
    return fmt::format("{}", v);
  }
  // Java scientific form "d.dddE[-]n": the shortest mantissa that reads back as v, at least one fractional digit.
  std::string s;
  for (int prec = 0; prec <= 17; ++prec) {
    s = fmt::format("{:.{}e}", v, prec);
    double back = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), back);
    if (r.ec == std::errc() && back == v) break;
  }
  auto epos = s.find('e');
  std::string mant = s.substr(0, epos);
  int exp = std::atoi(s.c_str() + epos + 1);
  if (mant.find('.') == std::string::npos) mant += ".0";
  return mant + "E" + std::to_string(exp);
}

std::vector<std::string> split_bars(const std::string& line) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = line.find("|||", start);
    if (pos == std::string::npos) {
      parts.emplace_back(line, start);
      break;
    }
    parts.emplace_back(line, start, pos - start);
    start = pos + 3;
  }
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts;
}

}  // namespace glamm::java
