// Text post-processing of GLaMM outputs. See text_postprocess.h.
#include "model/text_postprocess.h"

#include <stdexcept>

#include "common/error.h"

namespace glamm::model {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFFu;

/// Decode the UTF-8 code point starting at s[i]; sets `len` to its byte length. Returns kInvalid (len 1) for a
/// malformed, overlong or truncated sequence.
char32_t decode_at(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b0 < 0x80) return b0;
  std::size_t n = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return kInvalid;
  }
  if (i + n > s.size()) return kInvalid;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return kInvalid;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF) return kInvalid;
  len = n;
  return cp;
}

/// Byte length of the whitespace code point at s[i], or 0 when s[i] does not start one.
std::size_t space_len_at(std::string_view s, std::size_t i) {
  std::size_t len = 0;
  const char32_t c = decode_at(s, i, len);
  return (c != kInvalid && py_isspace(c)) ? len : 0;
}

/// Byte length of the whitespace code point that ends exactly at s[end), or 0.
std::size_t space_len_before(std::string_view s, std::size_t end) {
  for (std::size_t n = 1; n <= 4 && n <= end; ++n) {
    const auto b = static_cast<unsigned char>(s[end - n]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: look further back for the lead byte
    std::size_t len = 0;
    const char32_t c = decode_at(s, end - n, len);
    return (c != kInvalid && len == n && py_isspace(c)) ? n : 0;
  }
  return 0;
}

std::size_t lstrip_begin(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = space_len_at(s, i);
    if (n == 0) break;
    i += n;
  }
  return i;
}

std::size_t rstrip_end(std::string_view s, std::size_t begin) {
  std::size_t end = s.size();
  while (end > begin) {
    const std::size_t n = space_len_before(s, end);
    if (n == 0 || end - n < begin) break;
    end -= n;
  }
  return end;
}

}  // namespace

bool py_isspace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string py_strip(std::string_view s) {
  const std::size_t b = lstrip_begin(s);
  return std::string(s.substr(b, rstrip_end(s, b) - b));
}

std::string py_lstrip(std::string_view s) { return std::string(s.substr(lstrip_begin(s))); }

std::string py_rstrip(std::string_view s) { return std::string(s.substr(0, rstrip_end(s, 0))); }

std::string py_strip_chars(std::string_view s, std::string_view ascii_chars) {
  std::size_t b = 0, e = s.size();
  while (b < e && ascii_chars.find(s[b]) != std::string_view::npos) ++b;
  while (e > b && ascii_chars.find(s[e - 1]) != std::string_view::npos) --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> py_split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = space_len_at(s, i);
    if (n > 0) {
      i += n;
      continue;
    }
    const std::size_t start = i;
    while (i < s.size() && space_len_at(s, i) == 0) {
      std::size_t len = 0;
      decode_at(s, i, len);
      i += len;
    }
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

std::string py_replace(std::string_view s, std::string_view old_text, std::string_view new_text) {
  if (old_text.empty()) throw std::invalid_argument("py_replace: empty search string");
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = s.find(old_text, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(new_text);
    pos = hit + old_text.size();
  }
  out.append(s.substr(pos));
  return out;
}

std::string text_output_from_decoded(std::string_view decoded) {
  const std::string t = py_replace(py_replace(decoded, "\n", ""), "  ", " ");
  static constexpr std::string_view kMarker = "ASSISTANT: ";
  const std::size_t last = t.rfind(kMarker);
  return last == std::string::npos ? t : t.substr(last + kMarker.size());
}

std::string remove_angle_tags(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  std::size_t i = 0;
  while (i < t.size()) {
    if (t[i] == '<') {
      // Non-greedy: the first '>' after the '<' with no newline in between.
      std::size_t j = i + 1;
      while (j < t.size() && t[j] != '>' && t[j] != '\n') ++j;
      if (j < t.size() && t[j] == '>') {
        i = j + 1;
        continue;
      }
    }
    out.push_back(t[i]);
    ++i;
  }
  return out;
}

std::string clean_caption(std::string_view text_output) {
  const std::string no_tags = py_replace(remove_angle_tags(text_output), "[SEG]", "");
  std::string joined;
  for (const auto& w : py_split_whitespace(no_tags)) {
    if (!joined.empty()) joined.push_back(' ');
    joined += w;
  }
  return py_strip(py_strip_chars(joined, "'"));
}

std::vector<std::string> extract_phrases(std::string_view text_output) {
  static constexpr std::string_view kOpen = "<p>";
  static constexpr std::string_view kClose = "</p>";
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text_output.size()) {
    if (text_output.compare(i, kOpen.size(), kOpen) == 0) {
      const std::size_t body = i + kOpen.size();
      const std::size_t close = text_output.find(kClose, body);
      const std::size_t newline = text_output.find('\n', body);
      if (close != std::string_view::npos && (newline == std::string_view::npos || newline >= close)) {
        out.push_back(py_strip(text_output.substr(body, close - body)));
        i = close + kClose.size();
        continue;
      }
    }
    ++i;
  }
  return out;
}

GcgText postprocess_gcg(std::string_view decoded) {
  GcgText r;
  r.text_output = text_output_from_decoded(decoded);
  r.caption = clean_caption(r.text_output);
  r.phrases = extract_phrases(r.text_output);
  return r;
}

std::vector<int64_t> seg_hidden_positions(const std::vector<int64_t>& sequence, int64_t seg_id,
                                          int64_t image_tokens) {
  if (image_tokens < 1) {
    throw InputError("", "seg_hidden_positions", "image_tokens must be ≥ 1, got " + std::to_string(image_tokens));
  }
  std::size_t images = 0;
  for (int64_t id : sequence) images += (id == -200) ? 1 : 0;
  if (images != 1) {
    throw InputError("", "seg_hidden_positions",
                     "the token sequence must contain exactly one image placeholder (-200), found " +
                         std::to_string(images));
  }
  std::vector<int64_t> positions;
  for (std::size_t i = 1; i < sequence.size(); ++i) {
    if (sequence[i] == seg_id) positions.push_back(image_tokens - 2 + static_cast<int64_t>(i));
  }
  return positions;
}

}  // namespace glamm::model
