// Slow LLaMA tokenizer (transformers 4.29) with GLaMM's added tokens. See llama_tokenizer.h.
#include "model/llama_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <queue>
#include <unordered_map>

#include "common/error.h"
#include "common/io.h"
#include "model/text_postprocess.h"

namespace glamm::model {
namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's word boundary
constexpr std::string_view kImageMarker = "<image>";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

/// Byte length of the well-formed UTF-8 character at s[i] (no overlongs, surrogates or values above U+10FFFF),
/// or 0 when the bytes there are not one.
std::size_t valid_utf8_char(std::string_view s, std::size_t i) {
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

/// True when `s` is well-formed UTF-8, as every Python str is.
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = valid_utf8_char(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

/// A special token's text from special_tokens_map.json: a string or an AddedToken object {"content": …}.
std::string special_text(const nlohmann::json& v, const std::string& file, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  throw InputError(file, key, "expected a string or an object with a string \"content\"");
}

/// One piece of the split text: either a token that must not be split (added or special) or plain text.
struct Chunk {
  std::string text;
  bool is_token = false;
  bool strips_neighbours = false;  ///< added tokens: rstrip the left text, lstrip the right text
};

// ---------------------------------------------------------------------------------------------------------------
// SentencePiece BPE model, reimplemented (no libsentencepiece: its Debian build exports its own copy of protobuf,
// which collides with libtorch's libprotobuf in one process). Reference: sentencepiece 0.1.97
// src/sentencepiece_model.proto (file layout), normalizer.cc (identity normalisation, dummy prefix, "▁"),
// bpe_model.cc Model::Encode (greedy highest-score merges, leftmost on ties; UNUSED pieces re-split),
// sentencepiece_processor.cc PopulateSentencePieceText (byte fallback) and Decode.
// ---------------------------------------------------------------------------------------------------------------

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

enum PieceType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

class SpmBpe {
 public:
  /// Parse a serialized ModelProto. Throws InputError(file) when it is malformed or uses a feature this
  /// reimplementation does not cover (non-BPE model, a normalisation charsmap, remove_extra_whitespaces,
  /// whitespace as suffix).
  static SpmBpe parse(std::string_view bytes, const std::string& file) {
    SpmBpe m;
    auto fail = [&](const std::string& why) -> InputError {
      return InputError(file, "", "not a usable SentencePiece model: " + why);
    };
    int model_type = 1;  // UNIGRAM unless set
    bool whitespace_suffix = false;
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
            piece.type = static_cast<int>(pw.varint());
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
          else if (f == 4 && nwt == 0) m.remove_extra_whitespaces_ = nw.varint() != 0;
          else if (f == 5 && nwt == 0) m.escape_whitespaces_ = nw.varint() != 0;
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
    if (m.remove_extra_whitespaces_) throw fail("remove_extra_whitespaces is not supported");
    if (!m.escape_whitespaces_ || whitespace_suffix) throw fail("unsupported whitespace handling");
    for (std::size_t i = 0; i < m.pieces_.size(); ++i) {
      const auto& pc = m.pieces_[i];
      const int id = static_cast<int>(i);
      if (pc.text.empty()) throw fail("empty piece " + std::to_string(i));
      if (pc.type < kNormal || pc.type > kByte) throw fail("piece " + std::to_string(i) + " has an unknown type");
      const bool normal = pc.type == kNormal || pc.type == kUserDefined || pc.type == kUnused;
      auto& map = normal ? m.normal_ : m.reserved_;
      if (!map.emplace(pc.text, id).second) throw fail("piece \"" + pc.text + "\" is defined twice");
      if (pc.type == kUserDefined) m.user_defined_.push_back(pc.text);
      if (pc.type == kUnknown) {
        if (m.unk_id_ >= 0) throw fail("several unknown pieces");
        m.unk_id_ = id;
      }
      if (pc.type == kByte && !m.byte_fallback_) throw fail("byte piece without byte_fallback");
    }
    if (m.unk_id_ < 0) throw fail("no unknown piece");
    return m;
  }

  int size() const { return static_cast<int>(pieces_.size()); }
  const std::string& id_to_piece(int id) const { return pieces_[static_cast<std::size_t>(id)].text; }
  /// Reserved pieces first, then normal ones; the unknown id when absent.
  int piece_to_id(std::string_view piece) const {
    const std::string key(piece);
    if (auto it = reserved_.find(key); it != reserved_.end()) return it->second;
    if (auto it = normal_.find(key); it != normal_.end()) return it->second;
    return unk_id_;
  }

  /// `sp.encode(text, out_type=str)`: normalise, BPE, byte fallback for unknown symbols. `text` is valid UTF-8.
  std::vector<std::string> encode(std::string_view text) const {
    std::vector<std::string> out;
    if (text.empty()) return out;
    std::string norm;
    if (add_dummy_prefix_) norm += kSpaceSymbol;
    for (char c : text) {
      if (c == ' ') norm += kSpaceSymbol;
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
      if (len == 0) len = utf8_len(norm, i);
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

  /// `sp.decode(pieces)`: control pieces vanish, "<unk>" becomes the unknown surface, runs of byte pieces are
  /// decoded as UTF-8 (U+FFFD per invalid byte), "▁" becomes " ". Dummy prefix: while the text is still empty,
  /// a piece loses its leading "▁" — but only one piece does (after it, the next ones keep theirs).
  std::string decode(const std::vector<std::string>& pieces) const {
    std::string text;
    std::string bytes;
    auto flush_bytes = [&]() {
      std::size_t i = 0;
      while (i < bytes.size()) {
        const std::size_t n = valid_utf8_char(bytes, i);
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
      const int type = pieces_[static_cast<std::size_t>(id)].type;
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
      if (at_start && add_dummy_prefix_ && starts_with(p, kSpaceSymbol)) {
        p.remove_prefix(kSpaceSymbol.size());
        prefix_eaten = true;
      }
      text += py_replace(p, kSpaceSymbol, " ");
    }
    flush_bytes();
    return text;
  }

 private:
  struct Piece {
    std::string text;
    float score = 0.0f;
    int type = kNormal;
  };

  static std::size_t utf8_len(std::string_view s, std::size_t i) {
    const std::size_t n = valid_utf8_char(s, i);
    return n == 0 ? 1 : n;
  }
  static std::string byte_piece(unsigned char b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    return buf;
  }
  static int byte_of_piece(const std::string& piece) {
    return static_cast<int>(std::strtol(piece.substr(3, 2).c_str(), nullptr, 16));
  }

  std::vector<Piece> pieces_;
  std::unordered_map<std::string, int> normal_, reserved_;
  std::vector<std::string> user_defined_;
  int unk_id_ = -1;
  bool byte_fallback_ = false;
  bool add_dummy_prefix_ = true, remove_extra_whitespaces_ = true, escape_whitespaces_ = true;
  std::string unk_surface_ = " \xE2\x81\x87 ";
};

}  // namespace

struct LlamaTokenizer::Impl {
  explicit Impl(SpmBpe model) : sp(std::move(model)) {}
  std::filesystem::path folder;
  SpmBpe sp;
  int64_t sp_size = 0;
  std::vector<std::pair<std::string, int64_t>> added;       ///< in id order
  std::unordered_map<std::string, int64_t> added_ids;        ///< token → id
  std::string bos = "<s>", eos = "</s>", unk = "<unk>", pad = "<unk>";
  int64_t bos_id = 1, eos_id = 2, unk_id = 0, pad_id = 0;
  std::vector<std::string> special_texts;  ///< all_special_tokens: bos, eos, unk, pad (distinct)
  std::vector<std::string> no_split;       ///< added tokens + special tokens, matched longest first

  bool is_special_text(std::string_view t) const {
    return std::find(special_texts.begin(), special_texts.end(), t) != special_texts.end();
  }

  /// Trie.split: scan left to right; at each position take the longest no-split token that starts there.
  std::vector<Chunk> split(std::string_view text) const {
    std::vector<Chunk> out;
    std::size_t start = 0, i = 0;
    while (i < text.size()) {
      const std::string* best = nullptr;
      for (const auto& tok : no_split) {
        if ((best == nullptr || tok.size() > best->size()) && text.compare(i, tok.size(), tok) == 0) best = &tok;
      }
      if (best == nullptr) {
        ++i;
        continue;
      }
      if (i > start) out.push_back({std::string(text.substr(start, i - start)), false, false});
      out.push_back({*best, true, added_ids.count(*best) > 0});
      i += best->size();
      start = i;
    }
    if (start < text.size()) out.push_back({std::string(text.substr(start)), false, false});
    return out;
  }

  std::vector<std::string> sp_pieces(std::string_view text) const { return sp.encode(text); }

  /// LlamaTokenizer._tokenize of one text piece.
  std::vector<std::string> tokenize_piece(std::string piece, bool legacy) const {
    if (legacy) return sp_pieces(piece);
    const bool is_first = starts_with(piece, kSpaceSymbol);
    if (is_first) piece.erase(0, kSpaceSymbol.size());
    std::vector<std::string> tokens = sp_pieces(piece);
    if (!is_first && !starts_with(piece, " ") && !tokens.empty() && starts_with(tokens[0], kSpaceSymbol)) {
      if (tokens[0].size() > kSpaceSymbol.size()) {
        tokens[0].erase(0, kSpaceSymbol.size());
      } else {
        tokens.erase(tokens.begin());
      }
    }
    return tokens;
  }

  /// LlamaTokenizer.convert_tokens_to_string (4.29) of a run without added tokens.
  std::string tokens_to_string(const std::vector<std::string>& tokens) const {
    std::string out;
    std::vector<std::string> current;
    bool prev_is_special = false;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (is_special_text(tokens[i])) {
        if (!prev_is_special && i != 0) out += ' ';
        out += sp_decode(current) + tokens[i];
        prev_is_special = true;
        current.clear();
      } else {
        current.push_back(tokens[i]);
        prev_is_special = false;
      }
    }
    return out + sp_decode(current);
  }

  std::string sp_decode(const std::vector<std::string>& pieces) const { return sp.decode(pieces); }
};

LlamaTokenizer LlamaTokenizer::load(const std::filesystem::path& folder, bool legacy) {

  // tokenizer.model
  const auto model_path = folder / "tokenizer.model";
  if (!std::filesystem::is_regular_file(model_path)) {
    throw InputError(model_path.string(), "", "missing SentencePiece model (tokenizer.model)");
  }
  auto impl = std::make_shared<Impl>(SpmBpe::parse(io::read_file(model_path), model_path.string()));
  impl->folder = folder;
  impl->sp_size = impl->sp.size();

  // special_tokens_map.json (optional)
  const auto special_path = folder / "special_tokens_map.json";
  if (std::filesystem::exists(special_path)) {
    const auto j = io::load_json(special_path);
    if (!j.is_object()) throw InputError(special_path.string(), "", "expected a JSON object");
    const std::string file = special_path.string();
    if (j.contains("bos_token")) impl->bos = special_text(j["bos_token"], file, "bos_token");
    if (j.contains("eos_token")) impl->eos = special_text(j["eos_token"], file, "eos_token");
    if (j.contains("unk_token")) impl->unk = special_text(j["unk_token"], file, "unk_token");
    impl->pad = impl->unk;
    if (j.contains("pad_token") && !j["pad_token"].is_null()) {
      impl->pad = special_text(j["pad_token"], file, "pad_token");
    }
  }
  auto piece_id = [&](const std::string& text, const char* role) -> int64_t {
    const int id = impl->sp.piece_to_id(text);
    if (text.empty() || impl->sp.id_to_piece(id) != text) {
      throw InputError(special_path.string(), role,
                       "special token \"" + text + "\" is not a piece of " + model_path.string());
    }
    return id;
  };
  impl->bos_id = piece_id(impl->bos, "bos_token");
  impl->eos_id = piece_id(impl->eos, "eos_token");
  impl->unk_id = piece_id(impl->unk, "unk_token");
  impl->pad_id = piece_id(impl->pad, "pad_token");
  for (const std::string* t : {&impl->bos, &impl->eos, &impl->unk, &impl->pad}) {
    if (!impl->is_special_text(*t)) impl->special_texts.push_back(*t);
  }

  // added_tokens.json (required)
  const auto added_path = folder / "added_tokens.json";
  if (!std::filesystem::is_regular_file(added_path)) {
    throw InputError(added_path.string(), "", "missing added-token table (added_tokens.json)");
  }
  const auto added = io::load_json(added_path);
  if (!added.is_object()) throw InputError(added_path.string(), "", "expected a JSON object {token: id}");
  std::map<int64_t, std::string> by_id;
  for (const auto& [token, value] : added.items()) {
    if (!value.is_number_integer()) {
      throw InputError(added_path.string(), token, "id must be an integer, got " + value.dump());
    }
    const int64_t id = value.get<int64_t>();
    if (token.empty() || !valid_utf8(token)) throw InputError(added_path.string(), token, "empty or non-UTF-8 token");
    if (impl->sp.id_to_piece(impl->sp.piece_to_id(token)) == token) {
      throw InputError(added_path.string(), token, "token is already a piece of " + model_path.string());
    }
    if (!by_id.emplace(id, token).second) {
      throw InputError(added_path.string(), token, "id " + std::to_string(id) + " is used twice");
    }
  }
  int64_t expected = impl->sp_size;
  for (const auto& [id, token] : by_id) {
    if (id != expected) {
      throw InputError(added_path.string(), token,
                       "non-consecutive added token: id " + std::to_string(id) + ", expected " +
                           std::to_string(expected) + " (ids must continue the SentencePiece vocabulary)");
    }
    impl->added.emplace_back(token, id);
    impl->added_ids.emplace(token, id);
    ++expected;
  }
  for (const auto& [token, id] : impl->added) impl->no_split.push_back(token);
  for (const auto& t : impl->special_texts) impl->no_split.push_back(t);

  LlamaTokenizer tok;
  tok.impl_ = std::move(impl);
  tok.legacy_ = legacy;
  return tok;
}

std::vector<std::string> LlamaTokenizer::tokenize(std::string_view text) const {
  if (!valid_utf8(text)) throw InputError("", "tokenizer input", "text is not valid UTF-8");
  std::string input(text);
  if (!legacy_) input = std::string(kSpaceSymbol) + py_replace(input, kSpaceSymbol, " ");

  std::vector<Chunk> chunks = impl_->split(input);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (!chunks[i].is_token || !chunks[i].strips_neighbours) continue;
    if (i + 1 < chunks.size() && !chunks[i + 1].is_token) chunks[i + 1].text = py_lstrip(chunks[i + 1].text);
    if (i > 0 && !chunks[i - 1].is_token) chunks[i - 1].text = py_rstrip(chunks[i - 1].text);
  }
  std::vector<std::string> tokens;
  for (const auto& c : chunks) {
    if (c.text.empty()) continue;
    if (c.is_token) {
      tokens.push_back(c.text);
    } else {
      for (auto& p : impl_->tokenize_piece(c.text, legacy_)) tokens.push_back(std::move(p));
    }
  }
  return tokens;
}

std::vector<int64_t> LlamaTokenizer::encode(std::string_view text) const {
  std::vector<int64_t> ids{impl_->bos_id};
  for (const auto& t : tokenize(text)) ids.push_back(token_to_id(t));
  return ids;
}

std::vector<int64_t> LlamaTokenizer::encode_with_image(std::string_view prompt) const {
  std::vector<int64_t> ids{impl_->bos_id};
  std::size_t start = 0;
  bool first = true;
  while (true) {
    const std::size_t hit = prompt.find(kImageMarker, start);
    const std::string_view chunk =
        prompt.substr(start, hit == std::string_view::npos ? std::string_view::npos : hit - start);
    if (!first) ids.push_back(kImageTokenIndex);
    const auto chunk_ids = encode(chunk);
    ids.insert(ids.end(), chunk_ids.begin() + 1, chunk_ids.end());  // every chunk starts with BOS
    first = false;
    if (hit == std::string_view::npos) break;
    start = hit + kImageMarker.size();
  }
  return ids;
}

std::string LlamaTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<std::string> sub_texts;
  std::vector<std::string> current;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= size()) {
      throw InputError("", "token " + std::to_string(i),
                       "id " + std::to_string(ids[i]) + " is outside the vocabulary [0, " + std::to_string(size()) +
                           ")" + (ids[i] == kImageTokenIndex ? " (remove the image placeholder first)" : ""));
    }
    if (is_added(ids[i])) {
      if (!current.empty()) {
        sub_texts.push_back(impl_->tokens_to_string(current));
        current.clear();
      }
      sub_texts.push_back(impl_->added[static_cast<std::size_t>(ids[i] - impl_->sp_size)].first);
    } else {
      current.push_back(impl_->sp.id_to_piece(static_cast<int>(ids[i])));
    }
  }
  if (!current.empty()) sub_texts.push_back(impl_->tokens_to_string(current));
  std::string text;
  for (std::size_t i = 0; i < sub_texts.size(); ++i) {
    if (i > 0) text += ' ';
    text += sub_texts[i];
  }
  return text;
}

int64_t LlamaTokenizer::token_to_id(std::string_view token) const {
  const auto it = impl_->added_ids.find(std::string(token));
  if (it != impl_->added_ids.end()) return it->second;
  return impl_->sp.piece_to_id(token);
}

std::string LlamaTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= size()) {
    throw InputError("", "token id", std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(size()) + ")");
  }
  if (is_added(id)) return impl_->added[static_cast<std::size_t>(id - impl_->sp_size)].first;
  return impl_->sp.id_to_piece(static_cast<int>(id));
}

bool LlamaTokenizer::is_added(int64_t id) const { return id >= impl_->sp_size && id < size(); }

const std::vector<std::pair<std::string, int64_t>>& LlamaTokenizer::added_tokens() const { return impl_->added; }
int64_t LlamaTokenizer::sp_size() const { return impl_->sp_size; }
int64_t LlamaTokenizer::size() const { return impl_->sp_size + static_cast<int64_t>(impl_->added.size()); }
int64_t LlamaTokenizer::bos_id() const { return impl_->bos_id; }
int64_t LlamaTokenizer::eos_id() const { return impl_->eos_id; }
int64_t LlamaTokenizer::unk_id() const { return impl_->unk_id; }
int64_t LlamaTokenizer::pad_id() const { return impl_->pad_id; }
bool LlamaTokenizer::legacy() const { return legacy_; }

LlamaTokenizer LlamaTokenizer::with_legacy(bool legacy) const {
  LlamaTokenizer t = *this;
  t.legacy_ = legacy;
  return t;
}

std::vector<int64_t> without_image_tokens(const std::vector<int64_t>& ids) {
  std::vector<int64_t> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    if (id != kImageTokenIndex) out.push_back(id);
  }
  return out;
}

}  // namespace glamm::model
