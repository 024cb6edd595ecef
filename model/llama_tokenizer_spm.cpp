// SentencePiece BPE model, our own reader and runner. See llama_tokenizer_spm.h.
#include "model/llama_tokenizer_spm.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <queue>
#include <utility>

#include "common/error.h"
#include "model/text_postprocess.h"

namespace glamm::model {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

/// Minimal protobuf wire-format reader (varint, fixed32/64, length-delimited); `ok` turns false on malformed data.
struct Wire {
  const unsigned char* p;
  const unsigned char* end;
  bool ok = true;

  explicit Wire(std::string_view s)
      : p(reinterpret_cast<const unsigned char*>(s.data())), end(reinterpret_cast<const unsigned char*>(s.data()) + s.size()) {}
  bool more() const { return ok && p < end; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) break;
      const unsigned char b = *p++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok = false;
    return 0;
  }
  std::string_view bytes() {
    const uint64_t n = varint();
    if (!ok || n > static_cast<uint64_t>(end - p)) {
      ok = false;
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    p += n;
    return s;
  }
  uint32_t fixed32() {
    if (end - p < 4) {
      ok = false;
      return 0;
    }
    uint32_t v = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
                 static_cast<uint32_t>(p[3]) << 24;
    p += 4;
    return v;
  }
  /// Skip a field of wire type `wt` (groups are not used by sentencepiece and count as malformed).
  void skip(uint32_t wt) {
    switch (wt) {
      case 0: varint(); break;
      case 1:
        if (end - p < 8) ok = false; else p += 8;
        break;
      case 2: bytes(); break;
      case 5: fixed32(); break;
      default: ok = false;
    }
  }
};

std::string byte_piece(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", b);
  return buf;
}

/// The byte of a piece "<0xXX>".
char byte_of_piece(const std::string& piece) {
  return static_cast<char>(std::strtol(piece.substr(3, 2).c_str(), nullptr, 16));
}

}  // namespace

std::size_t utf8_char_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

SentencePieceBpe SentencePieceBpe::parse(std::string_view bytes, const std::string& file) {
  SentencePieceBpe m;
  auto fail = [&](const std::string& why) -> InputError {
    return InputError(file, "", "not a usable SentencePiece model: " + why);
  };
  int model_type = 1;  // UNIGRAM unless set
  bool whitespace_suffix = false;
  bool remove_extra_whitespaces = true, escape_whitespaces = true;  // proto defaults
  std::string charsmap;
  Wire w(bytes);
  while (w.more()) {
    const uint64_t tag = w.varint();
    const uint32_t field = static_cast<uint32_t>(tag >> 3), wt = static_cast<uint32_t>(tag & 7);
    if (field == 1 && wt == 2) {  // SentencePiece
      Wire pw(w.bytes());
      Piece piece;
      while (pw.more()) {
        const uint64_t t = pw.varint();
        const uint32_t f = static_cast<uint32_t>(t >> 3), pwt = static_cast<uint32_t>(t & 7);
        if (f == 1 && pwt == 2) {
          piece.text = std::string(pw.bytes());
        } else if (f == 2 && pwt == 5) {
          const uint32_t bits = pw.fixed32();
          std::memcpy(&piece.score, &bits, sizeof bits);
        } else if (f == 3 && pwt == 0) {
          const uint64_t type = pw.varint();
          if (type < kNormal || type > kByte) throw fail("piece " + std::to_string(m.pieces_.size()) + ": unknown type");
          piece.type = static_cast<Type>(type);
        } else {
          pw.skip(pwt);
        }
      }
      if (!pw.ok) throw fail("malformed piece " + std::to_string(m.pieces_.size()));
      m.pieces_.push_back(std::move(piece));
    } else if (field == 2 && wt == 2) {  // TrainerSpec
      Wire tw(w.bytes());
      while (tw.more()) {
        const uint64_t t = tw.varint();
        const uint32_t f = static_cast<uint32_t>(t >> 3), twt = static_cast<uint32_t>(t & 7);
        if (f == 3 && twt == 0) model_type = static_cast<int>(tw.varint());
        else if (f == 35 && twt == 0) m.byte_fallback_ = tw.varint() != 0;
        else if (f == 24 && twt == 0) whitespace_suffix = tw.varint() != 0;
        else if (f == 44 && twt == 2) m.unk_surface_ = std::string(tw.bytes());
        else tw.skip(twt);
      }
      if (!tw.ok) throw fail("malformed trainer_spec");
    } else if (field == 3 && wt == 2) {  // NormalizerSpec
      Wire nw(w.bytes());
      while (nw.more()) {
        const uint64_t t = nw.varint();
        const uint32_t f = static_cast<uint32_t>(t >> 3), nwt = static_cast<uint32_t>(t & 7);
        if (f == 2 && nwt == 2) charsmap = std::string(nw.bytes());
        else if (f == 3 && nwt == 0) m.add_dummy_prefix_ = nw.varint() != 0;
        else if (f == 4 && nwt == 0) remove_extra_whitespaces = nw.varint() != 0;
        else if (f == 5 && nwt == 0) escape_whitespaces = nw.varint() != 0;
        else nw.skip(nwt);
      }
      if (!nw.ok) throw fail("malformed normalizer_spec");
    } else {
      w.skip(wt);
    }
  }
  if (!w.ok) throw fail("malformed protobuf data");
  if (m.pieces_.empty()) throw fail("no pieces");
  if (model_type != 2) throw fail("model_type " + std::to_string(model_type) + " (only BPE = 2 is supported)");
  if (!charsmap.empty()) throw fail("a normalisation charsmap is not supported (identity normaliser only)");
  if (remove_extra_whitespaces) throw fail("remove_extra_whitespaces is not supported");
  if (!escape_whitespaces || whitespace_suffix) throw fail("unsupported whitespace handling");
  for (std::size_t i = 0; i < m.pieces_.size(); ++i) {
    const auto& pc = m.pieces_[i];
    const int id = static_cast<int>(i);
    if (pc.text.empty()) throw fail("empty piece " + std::to_string(i));
    const bool normal = pc.type == kNormal || pc.type == kUserDefined || pc.type == kUnused;
    auto& map = normal ? m.normal_ : m.reserved_;
    if (!map.emplace(pc.text, id).second) throw fail("piece \"" + pc.text + "\" is defined twice");
    if (pc.type == kUserDefined) m.user_defined_.push_back(pc.text);
    if (pc.type == kUnknown) {
      if (m.unk_id_ >= 0) throw fail("several unknown pieces");
      m.unk_id_ = id;
    }
    if (pc.type == kByte) {
      if (!m.byte_fallback_) throw fail("byte piece without byte_fallback");
      if (pc.text.size() != 6 || pc.text.compare(0, 3, "<0x") != 0 || pc.text[5] != '>' ||
          !std::isxdigit(static_cast<unsigned char>(pc.text[3])) || !std::isxdigit(static_cast<unsigned char>(pc.text[4]))) {
        throw fail("byte piece \"" + pc.text + "\" is not of the form <0xXX>");
      }
    }
  }
  if (m.unk_id_ < 0) throw fail("no unknown piece");
  return m;
}

int SentencePieceBpe::piece_to_id(std::string_view piece) const {
  const std::string key(piece);
  if (auto it = reserved_.find(key); it != reserved_.end()) return it->second;
  if (auto it = normal_.find(key); it != normal_.end()) return it->second;
  return unk_id_;
}

std::vector<std::string> SentencePieceBpe::encode(std::string_view text) const {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::string norm;
  if (add_dummy_prefix_) norm += kSentencePieceSpace;
  for (char c : text) {
    if (c == ' ') norm += kSentencePieceSpace;
    else norm.push_back(c);
  }

  struct Symbol {
    int prev, next;
    bool freeze;
    std::size_t begin, len;
  };
  std::vector<Symbol> symbols;
  for (std::size_t i = 0; i < norm.size();) {
    std::size_t len = 0;
    bool freeze = false;
    for (const auto& u : user_defined_) {
      if (u.size() > len && norm.compare(i, u.size(), u) == 0) len = u.size(), freeze = true;
    }
    if (len == 0) len = std::max<std::size_t>(utf8_char_length(norm, i), 1);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, i + len < norm.size() ? index + 1 : -1, freeze, i, len});
    i += len;
  }

  struct Pair {
    int left, right;
    float score;
    std::size_t size;
  };
  auto lower = [](const Pair& a, const Pair& b) { return a.score < b.score || (a.score == b.score && a.left > b.left); };
  std::priority_queue<Pair, std::vector<Pair>, decltype(lower)> agenda(lower);
  std::map<std::string, std::pair<std::string, std::string>> rev_merge;  // UNUSED piece → its two halves
  auto add_pair = [&](int left, int right) {
    if (left < 0 || right < 0 || symbols[left].freeze || symbols[right].freeze) return;
    const std::string_view merged(norm.data() + symbols[left].begin, symbols[left].len + symbols[right].len);
    const auto it = normal_.find(std::string(merged));
    if (it == normal_.end()) return;
    agenda.push({left, right, pieces_[static_cast<std::size_t>(it->second)].score, merged.size()});
    if (pieces_[static_cast<std::size_t>(it->second)].type == kUnused) {
      rev_merge[std::string(merged)] = {norm.substr(symbols[left].begin, symbols[left].len),
                                        norm.substr(symbols[right].begin, symbols[right].len)};
    }
  };
  for (std::size_t i = 1; i < symbols.size(); ++i) add_pair(static_cast<int>(i) - 1, static_cast<int>(i));
  while (!agenda.empty()) {
    const Pair top = agenda.top();
    agenda.pop();
    Symbol& l = symbols[top.left];
    Symbol& r = symbols[top.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != top.size) continue;  // stale
    l.len += r.len;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = top.left;
    r.len = 0;
    add_pair(l.prev, top.left);
    add_pair(top.left, l.next);
  }

  std::function<void(const std::string&)> emit = [&](const std::string& piece) {
    const int id = piece_to_id(piece);
    if (id != unk_id_ && pieces_[static_cast<std::size_t>(id)].type == kUnused) {
      if (auto it = rev_merge.find(piece); it != rev_merge.end()) {
        emit(it->second.first);
        emit(it->second.second);
        return;
      }
    }
    if (id == unk_id_ && byte_fallback_) {
      for (unsigned char b : piece) out.push_back(byte_piece(b));
    } else {
      out.push_back(piece);
    }
  };
  if (!symbols.empty()) {
    for (int i = 0; i != -1; i = symbols[i].next) emit(norm.substr(symbols[i].begin, symbols[i].len));
  }
  return out;
}

std::string SentencePieceBpe::decode(const std::vector<std::string>& pieces) const {
  std::string text;
  std::string bytes;
  auto flush_bytes = [&]() {
    std::size_t i = 0;
    while (i < bytes.size()) {
      const std::size_t n = utf8_char_length(bytes, i);
      if (n == 0) {
        text += "\xEF\xBF\xBD";
        ++i;
      } else {
        text.append(bytes, i, n);
        i += n;
      }
    }
    bytes.clear();
  };
  bool at_start = true;     // may the next piece still lose a leading "▁"?
  bool prefix_eaten = false;  // did the previous piece lose its leading "▁"?
  for (const auto& piece : pieces) {
    const int id = piece_to_id(piece);
    const Type type = pieces_[static_cast<std::size_t>(id)].type;
    if (type == kByte) {
      bytes.push_back(static_cast<char>(byte_of_piece(piece)));
      continue;
    }
    flush_bytes();
    if (prefix_eaten || !text.empty()) at_start = false;
    prefix_eaten = false;
    if (type == kControl) continue;
    if (id == unk_id_) {
      text += (piece == id_to_piece(unk_id_)) ? unk_surface_ : piece;
      continue;
    }
    std::string_view p(piece);
    if (at_start && add_dummy_prefix_ && starts_with(p, kSentencePieceSpace)) {
      p.remove_prefix(kSentencePieceSpace.size());
      prefix_eaten = true;
    }
    text += py_replace(p, kSentencePieceSpace, " ");
  }
  flush_bytes();
  return text;
}

}  // namespace glamm::model
