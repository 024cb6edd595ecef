// BERT uncased WordPiece tokenizer. See bert_tokenizer.h.
#include "model/bert_tokenizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "common/error.h"
#include "common/io.h"

namespace glamm::model {
namespace {

constexpr std::size_t kMaxCharsPerWord = 100;

/// Unicode White_Space (Rust char::is_whitespace), plus \t \n \r.
bool is_whitespace(int32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/// Category C* (Cc, Cf, Cs, Co, Cn) except \t \n \r.
bool is_control(int32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return true;
    default:
      return false;
  }
}

/// CJK ideograph blocks as tokenizers' BertNormalizer lists them.
bool is_chinese_char(int32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_punctuation(int32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

void append_utf8(std::string& out, int32_t c) {
  utf8proc_uint8_t buf[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(c, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

/// Decode UTF-8; an invalid byte becomes U+FFFD.
std::vector<int32_t> decode(std::string_view s) {
  std::vector<int32_t> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    int32_t c = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &c);
    if (n <= 0) {
      c = 0xFFFD;
      n = 1;
    }
    out.push_back(c);
    p += n;
    left -= n;
  }
  return out;
}

}  // namespace

BertTokenizer BertTokenizer::from_tokens(std::vector<std::string> tokens, const std::string& source) {
  if (tokens.empty()) throw InputError(source, "", "empty WordPiece vocabulary");
  BertTokenizer t;
  t.tokens_ = std::move(tokens);
  t.ids_.reserve(t.tokens_.size());
  for (std::size_t k = 0; k < t.tokens_.size(); ++k) t.ids_[t.tokens_[k]] = static_cast<int64_t>(k);
  auto need = [&](const char* name) {
    auto it = t.ids_.find(name);
    if (it == t.ids_.end()) throw InputError(source, "", std::string("vocabulary has no ") + name + " token");
    return it->second;
  };
  t.cls_ = need("[CLS]");
  t.sep_ = need("[SEP]");
  t.unk_ = need("[UNK]");
  return t;
}

BertTokenizer BertTokenizer::load(const std::filesystem::path& vocab_txt) {
  const std::string text = io::read_file(vocab_txt);
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    tokens.emplace_back(text, start, nl - start);
    start = nl + 1;
  }
  return from_tokens(std::move(tokens), vocab_txt.string());
}

std::vector<std::string> BertTokenizer::basic_tokenize(std::string_view text) const {
  // 1. Clean: drop NUL, U+FFFD and controls; whitespace → ' '. 2. Space out CJK ideographs.
  std::string cleaned;
  cleaned.reserve(text.size() + 8);
  for (int32_t c : decode(text)) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      cleaned.push_back(' ');
    } else if (is_chinese_char(c)) {
      cleaned.push_back(' ');
      append_utf8(cleaned, c);
      cleaned.push_back(' ');
    } else {
      append_utf8(cleaned, c);
    }
  }
  // 3. NFD (with canonical reordering), then drop Mn and lowercase per character.
  std::unique_ptr<utf8proc_uint8_t, void (*)(void*)> nfd(
      utf8proc_NFD(reinterpret_cast<const utf8proc_uint8_t*>(cleaned.c_str())), std::free);
  if (!nfd) throw std::bad_alloc();
  // 4. Split on whitespace (removed) and punctuation (isolated).
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(std::move(cur));
    cur.clear();
  };
  for (int32_t c : decode(reinterpret_cast<const char*>(nfd.get()))) {
    if (utf8proc_category(c) == UTF8PROC_CATEGORY_MN) continue;
    c = utf8proc_tolower(c);
    if (is_whitespace(c)) {
      flush();
    } else if (is_punctuation(c)) {
      flush();
      append_utf8(cur, c);
      flush();
    } else {
      append_utf8(cur, c);
    }
  }
  flush();
  return words;
}

std::vector<std::string> BertTokenizer::wordpiece(std::string_view word) const {
  const std::vector<int32_t> cps = decode(word);
  if (cps.size() > kMaxCharsPerWord) return {"[UNK]"};
  // Byte offset of each code point boundary, so substrings are cut on characters.
  std::vector<std::size_t> at(cps.size() + 1, 0);
  std::string utf8;
  for (std::size_t k = 0; k < cps.size(); ++k) {
    at[k] = utf8.size();
    append_utf8(utf8, cps[k]);
  }
  at[cps.size()] = utf8.size();
  std::vector<std::string> pieces;
  std::string probe;
  std::size_t start = 0;
  while (start < cps.size()) {
    std::size_t end = cps.size();
    bool found = false;
    while (start < end) {
      probe.assign(start > 0 ? "##" : "");
      probe.append(utf8, at[start], at[end] - at[start]);
      if (ids_.count(probe)) {
        found = true;
        break;
      }
      --end;
    }
    if (!found) return {"[UNK]"};
    pieces.push_back(probe);
    start = end;
  }
  return pieces;
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (const std::string& w : basic_tokenize(text))
    for (std::string& p : wordpiece(w)) out.push_back(std::move(p));
  return out;
}

std::vector<int64_t> BertTokenizer::encode(std::string_view text, std::size_t max_length) const {
  if (max_length < 2) throw std::invalid_argument("BertTokenizer::encode: max_length must be at least 2");
  const std::vector<std::string> pieces = tokenize(text);
  const std::size_t n = std::min(pieces.size(), max_length - 2);
  std::vector<int64_t> ids;
  ids.reserve(n + 2);
  ids.push_back(cls_);
  for (std::size_t k = 0; k < n; ++k) ids.push_back(id(pieces[k]));
  ids.push_back(sep_);
  return ids;
}

int64_t BertTokenizer::id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? unk_ : it->second;
}

const std::string& BertTokenizer::token(int64_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size())
    throw std::out_of_range("BertTokenizer::token: id " + std::to_string(id) + " out of range");
  return tokens_.at(static_cast<std::size_t>(id));
}

}  // namespace glamm::model
