#include "metrics/meteor/normalizer.h"

#include <vector>

#include "common/java_text.h"

namespace glamm::meteor {
namespace {

using U32 = std::u32string;

// Normalizer's `alpha` class: ASCII letters, Latin-1/Latin Extended-A letters as listed, Cyrillic blocks.
bool is_alpha(char32_t c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  if (c < 0xC0) return false;
  if (c == 0x160 || c == 0x17D || c == 0x161 || c == 0x17E || c == 0x178) return true;
  if (c >= 0xC0 && c <= 0xD6) return true;
  if (c >= 0xD8 && c <= 0xF6) return true;
  if (c >= 0xF8 && c <= 0x17E) return true;
  if (c >= 0x400 && c <= 0x4FF) return true;
  if (c >= 0x500 && c <= 0x527) return true;
  if (c >= 0xA640 && c <= 0xA66E) return true;
  if (c >= 0xA67E && c <= 0xA697) return true;
  if (c >= 0x1D00 && c <= 0x1D7F) return true;
  return false;
}
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }  // Java \p{Digit} (ASCII)
bool is_alnum(char32_t c) { return is_digit(c) || is_alpha(c); }
bool is_regex_space(char32_t c) {  // Java \s (ASCII)
  return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
}
bool is_unicode_white(char32_t c) {  // r_white's character list
  return c == ' ' || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000;
}

const U32 kDotMulti = U"DOTMULTI";
const U32 kDotMultiDot = U"DOTMULTI.";
const U32 kDotDotMulti = U"DOTDOTMULTI";

bool contains(const U32& s, const U32& sub) { return s.find(sub) != U32::npos; }

// String.replace(CharSequence, CharSequence): non-overlapping, left to right.
U32 replace_literal(const U32& s, const U32& from, const U32& to) {
  U32 out;
  out.reserve(s.size() + 8);
  std::size_t i = 0;
  while (true) {
    std::size_t p = s.find(from, i);
    if (p == U32::npos) break;
    out.append(s, i, p - i);
    out += to;
    i = p + from.size();
  }
  out.append(s, i, U32::npos);
  return out;
}

// replaceAll of a pattern "(A)x(B)" (three code points, literal middle) with "$1" + mid + "$2".
template <class P1, class P2>
U32 replace_triple(const U32& s, P1 a, char32_t x, P2 b, const U32& mid) {
  U32 out;
  out.reserve(s.size() + 8);
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    if (i + 2 < n && s[i + 1] == x && a(s[i]) && b(s[i + 2])) {
      out.push_back(s[i]);
      out += mid;
      out.push_back(s[i + 2]);
      i += 3;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

std::size_t utf16_length(const U32& w) {
  std::size_t n = w.size();
  for (char32_t c : w)
    if (c >= 0x10000) ++n;
  return n;
}

std::vector<U32> tokenize32(const U32& s) {
  auto delim = [](char32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
  std::vector<U32> out;
  std::size_t i = 0, n = s.size();
  while (i < n) {
    while (i < n && delim(s[i])) ++i;
    std::size_t j = i;
    while (j < n && !delim(s[j])) ++j;
    if (j > i) out.emplace_back(s, i, j - i);
    i = j;
  }
  return out;
}

}  // namespace

std::string normalize_english(const std::string& line, const NonbreakingPrefixes& nbp) {
  // Fast path: a line of only [a-z0-9] and spaces triggers no rule; the result is its words joined by one space.
  bool simple = true;
  for (char c : line) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ')) {
      simple = false;
      break;
    }
  }
  if (simple) {
    std::string out;
    out.reserve(line.size());
    std::size_t i = 0, n = line.size();
    while (i < n) {
      while (i < n && line[i] == ' ') ++i;
      std::size_t j = i;
      while (j < n && line[j] != ' ') ++j;
      if (j > i) {
        if (!out.empty()) out.push_back(' ');
        out.append(line, i, j - i);
      }
      i = j;
    }
    return out;
  }

  U32 w = U" " + java::decode_utf8_lenient(line) + U" ";

  // Separate every character that is not alphanumeric, whitespace or one of . ' ` , - ‘ ’
  {
    U32 out;
    out.reserve(w.size() * 2);
    for (char32_t c : w) {
      bool keep = is_alnum(c) || is_regex_space(c) || c == '.' || c == '\'' || c == '`' || c == ',' || c == '-' ||
                  c == 0x2018 || c == 0x2019;
      if (keep) {
        out.push_back(c);
      } else {
        out.push_back(' ');
        out.push_back(c);
        out.push_back(' ');
      }
    }
    w.swap(out);
  }

  // Escape runs of two or more dots: "\.([\.]+)" → " DOTMULTI$1".
  {
    U32 out;
    out.reserve(w.size() + 16);
    std::size_t i = 0, n = w.size();
    while (i < n) {
      if (w[i] == '.' && i + 1 < n && w[i + 1] == '.') {
        std::size_t j = i + 1;
        while (j < n && w[j] == '.') ++j;
        out += U" DOTMULTI";
        out.append(j - i - 1, U'.');
        i = j;
      } else {
        out.push_back(w[i]);
        ++i;
      }
    }
    w.swap(out);
  }
  while (contains(w, kDotMultiDot)) {
    // "DOTMULTI\.([^\.])" → "DOTDOTMULTI $1"
    U32 out;
    out.reserve(w.size() + 16);
    std::size_t i = 0, n = w.size();
    while (i < n) {
      if (i + 9 < n && w.compare(i, 9, kDotMultiDot) == 0 && w[i + 9] != '.') {
        out += U"DOTDOTMULTI ";
        out.push_back(w[i + 9]);
        i += 10;
      } else {
        out.push_back(w[i]);
        ++i;
      }
    }
    w = replace_literal(out, kDotMultiDot, kDotDotMulti);
  }

  // Separate commas except within numbers.
  auto digit = [](char32_t c) { return is_digit(c); };
  auto nondigit = [](char32_t c) { return !is_digit(c); };
  w = replace_triple(w, nondigit, ',', nondigit, U" , ");
  w = replace_triple(w, digit, ',', nondigit, U" , ");
  w = replace_triple(w, nondigit, ',', digit, U" , ");

  // Quotes: ` ‘ ’ → '; then “ ” '' → " \" ".
  for (char32_t& c : w)
    if (c == '`' || c == 0x2018 || c == 0x2019) c = '\'';
  {
    U32 out;
    out.reserve(w.size() + 8);
    std::size_t i = 0, n = w.size();
    while (i < n) {
      if (w[i] == 0x201C || w[i] == 0x201D) {
        out += U" \" ";
        ++i;
      } else if (w[i] == '\'' && i + 1 < n && w[i + 1] == '\'') {
        out += U" \" ";
        i += 2;
      } else {
        out.push_back(w[i]);
        ++i;
      }
    }
    w.swap(out);
  }

  // Dashes: – → -, -- → -, then a dash between [alnum.] and alnum becomes a space.
  for (char32_t& c : w)
    if (c == 0x2013) c = '-';
  w = replace_literal(w, U"--", U"-");
  w = replace_triple(
      w, [](char32_t c) { return is_alnum(c) || c == '.'; }, '-', [](char32_t c) { return is_alnum(c); }, U" ");

  // English apostrophes (contractions split to the right).
  auto alpha = [](char32_t c) { return is_alpha(c); };
  auto nonalpha = [](char32_t c) { return !is_alpha(c); };
  auto nonalnum = [](char32_t c) { return !is_alpha(c) && !is_digit(c); };
  w = replace_triple(w, nonalpha, '\'', nonalpha, U" ' ");
  w = replace_triple(w, nonalnum, '\'', alpha, U" ' ");
  w = replace_triple(w, alpha, '\'', nonalpha, U" ' ");
  w = replace_triple(w, alpha, '\'', alpha, U" '");
  w = replace_triple(w, digit, '\'', [](char32_t c) { return c == 's'; }, U" '");

  // Rebuild the line word by word, splitting final dots unless non-breaking.
  {
    std::vector<U32> words = tokenize32(w);
    U32 out;
    out.reserve(w.size() + 8);
    for (std::size_t i = 0; i < words.size(); ++i) {
      const U32& word = words[i];
      if (utf16_length(word) > 1 && word.back() == '.') {
        U32 pre = word.substr(0, word.size() - 1);
        std::string pre8 = java::encode_utf8(pre);
        bool any = nbp.any.count(pre8) > 0;
        bool num_only = !any && nbp.numeric_only.count(pre8) > 0;
        bool has_dot = pre.find(U'.') != U32::npos;
        bool has_alpha = false;
        for (char32_t c : pre)
          if (is_alpha(c)) {
            has_alpha = true;
            break;
          }
        bool next_lower = i + 1 < words.size() && words[i + 1][0] >= 'a' && words[i + 1][0] <= 'z';
        bool next_digit = i + 1 < words.size() && is_digit(words[i + 1][0]);
        if (has_dot && has_alpha) {
          for (char32_t c : word)
            if (c != '.') out.push_back(c);
        } else if (any || next_lower) {
          out += word;
        } else if (num_only && next_digit) {
          out += word;
        } else {
          out += pre;
          out += U" .";
        }
      } else {
        out += word;
      }
      out.push_back(' ');
    }
    w.swap(out);
  }

  // Unescape dots.
  while (contains(w, kDotDotMulti)) w = replace_literal(w, kDotDotMulti, kDotMultiDot);
  w = replace_literal(w, kDotMulti, U".");

  // Collapse the listed whitespace characters, then String.trim().
  {
    U32 out;
    out.reserve(w.size());
    std::size_t i = 0, n = w.size();
    while (i < n) {
      if (is_unicode_white(w[i])) {
        while (i < n && is_unicode_white(w[i])) ++i;
        out.push_back(' ');
      } else {
        out.push_back(w[i]);
        ++i;
      }
    }
    std::size_t b = 0, e = out.size();
    while (b < e && out[b] <= 0x20) ++b;
    while (e > b && out[e - 1] <= 0x20) --e;
    return java::encode_utf8(out.substr(b, e - b));
  }
}

}  // namespace glamm::meteor
