// Slow LLaMA tokenizer (transformers 4.29) with GLaMM's added tokens. See llama_tokenizer.h.
#include "model/llama_tokenizer.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "common/error.h"
#include "common/io.h"
#include "model/llama_tokenizer_spm.h"
#include "model/text_postprocess.h"

namespace glamm::model {
namespace {

constexpr std::string_view kSpaceSymbol = kSentencePieceSpace;
constexpr std::string_view kImageMarker = "<image>";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

/// True when `s` is well-formed UTF-8, as every Python str is.
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_char_length(s, i);
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

}  // namespace

struct LlamaTokenizer::Impl {
  explicit Impl(SentencePieceBpe model) : sp(std::move(model)) {}
  std::filesystem::path folder;
  SentencePieceBpe sp;
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
  auto impl = std::make_shared<Impl>(SentencePieceBpe::parse(io::read_file(model_path), model_path.string()));
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
