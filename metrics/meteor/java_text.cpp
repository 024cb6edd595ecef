#include "metrics/meteor/java_text.h"

#include "common/utf8.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <utf8proc.h>

namespace glamm::meteor::java {

std::u32string decode_utf8(const std::string& s) {
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
    for (char32_t cp : decode_utf8(utf8)) {
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

static bool is_cased_letter(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
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
  std::u32string cps = decode_utf8(s);
  std::u32string out;
  out.reserve(cps.size() + 2);
  for (std::size_t i = 0; i < cps.size(); ++i) {
    char32_t cp = cps[i];
    if (cp == 0x0130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE → i + COMBINING DOT ABOVE
      out.push_back(U'i');
      out.push_back(0x0307);
    } else if (cp == 0x03A3) {  // GREEK CAPITAL SIGMA: final form at the end of a word
      bool before = i > 0 && is_cased_letter(cps[i - 1]);
      bool after = i + 1 < cps.size() && is_cased_letter(cps[i + 1]);
      out.push_back(before && !after ? 0x03C2 : 0x03C3);
    } else {
      out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
  }
  return encode_utf8(out);
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

}  // namespace glamm::meteor::java
