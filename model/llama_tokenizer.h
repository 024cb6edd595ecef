// The slow LLaMA tokenizer of the GLaMM releases (SentencePiece BPE `tokenizer.model` + the 7 added tokens of
// `added_tokens.json`), as transformers 4.29 `LlamaTokenizer` runs it, plus LLaVA's `tokenizer_image_token`.
// Torch-free, and free of libsentencepiece: the SentencePiece BPE model is run by model/llama_tokenizer_spm.h (Debian's
// libsentencepiece exports its private protobuf copy, which crashes processes that also load libtorch's protobuf).
// Reference: transformers 4.29 PreTrainedTokenizer.tokenize (Trie.split, neighbour stripping of added tokens),
// LlamaTokenizer._tokenize / convert_tokens_to_string, PreTrainedTokenizer._decode; transformers 4.31
// LlamaTokenizer.tokenize/_tokenize for the non-legacy switch; groundingLMM model/llava/mm_utils.py
// tokenizer_image_token. Spec: glamm-model.md §3.1–§3.3, §3.6, §3.7.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glamm::model {

/// LLaVA's IMAGE_TOKEN_INDEX: the placeholder id tokenizer_image_token puts where "<image>" was.
inline constexpr int64_t kImageTokenIndex = -200;

class LlamaTokenizer {
 public:
  /// Load `folder`/tokenizer.model (required), `folder`/added_tokens.json (required: a JSON object token → id
  /// whose ids run consecutively from the SentencePiece vocabulary size, tokens non-empty and not already
  /// SentencePiece pieces, as transformers' from_pretrained demands) and, when present,
  /// `folder`/special_tokens_map.json (bos/eos/unk/pad as a string or {"content": …}; defaults <s>, </s>, <unk>,
  /// pad = unk; each must be a piece of the SentencePiece model). `legacy` = true is the transformers 4.29
  /// behaviour the reference ran (the `"legacy": false` of tokenizer_config.json is ignored, as 4.29 did);
  /// false gives the transformers ≥ 4.31 non-legacy encoding (see encode()).
  /// Throws glamm::InputError naming the file for a missing, unreadable or corrupt file and for each violated
  /// rule above.
  static LlamaTokenizer load(const std::filesystem::path& folder, bool legacy = true);

  /// Token strings of `text` (UTF-8) without BOS, as transformers' `tokenizer.tokenize(text)`:
  ///  1. split with a longest-match scan over the added tokens and the special tokens <s>, </s>, <unk>;
  ///  2. for each ADDED token: Python-rstrip() the text piece on its left and lstrip() the one on its right
  ///     (str.isspace whitespace, "\n" included); <s>/</s>/<unk> strip nothing;
  ///  3. drop empty text pieces;
  ///  4. SentencePiece-encode each text piece on its own (each gets the dummy-prefix "▁").
  /// Non-legacy mode (transformers 4.31): the text becomes "▁" + text with every "▁" replaced by " "; the first
  /// piece is encoded without that "▁"; any later piece not starting with " " loses the "▁" of its first
  /// SentencePiece token (dropped when it was just "▁") — so "?" after <bbox> gives "?" (29973), not "▁?" (1577).
  /// Throws glamm::InputError when `text` is not valid UTF-8.
  std::vector<std::string> tokenize(std::string_view text) const;

  /// `tokenizer(text).input_ids`: BOS (1) followed by the ids of tokenize(text) (added tokens → their
  /// added_tokens.json ids, SentencePiece pieces → piece ids; unknown pieces → unk id 0). Never adds EOS.
  std::vector<int64_t> encode(std::string_view text) const;

  /// LLaVA tokenizer_image_token: split `prompt` on the literal "<image>", encode each chunk with encode(), and
  /// join as [BOS] + chunk0[1:] + [−200] + chunk1[1:] + [−200] + … (one −200 per "<image>").
  std::vector<int64_t> encode_with_image(std::string_view prompt) const;

  /// `tokenizer.decode(ids, skip_special_tokens=False)` of transformers 4.29 with clean_up_tokenization_spaces
  /// off: ids → pieces; cut at every added token (each becomes its own sub-text); each run of ordinary pieces is
  /// converted with LlamaTokenizer.convert_tokens_to_string (at <s>/</s>/<unk>: a " " first unless the previous
  /// piece was special or it is the run's first piece, then the SentencePiece decode of the pieces so far, then
  /// the token text; the rest is SentencePiece-decoded, which drops the leading "▁" of its first piece); the
  /// sub-texts are joined with one space. Same in both modes.
  /// Throws glamm::InputError naming the position for an id outside [0, size()) — e.g. the −200 placeholder,
  /// which callers remove first (without_image_tokens).
  std::string decode(const std::vector<int64_t>& ids) const;

  /// Id of a token string: an added token's id, else the SentencePiece piece id (unk id when unknown).
  int64_t token_to_id(std::string_view token) const;
  /// Token string of an id in [0, size()); throws glamm::InputError otherwise.
  std::string id_to_token(int64_t id) const;
  /// True when `id` is one of the added tokens (ids ≥ sp_size()).
  bool is_added(int64_t id) const;

  /// The added tokens (token, id) in id order.
  const std::vector<std::pair<std::string, int64_t>>& added_tokens() const;
  /// SentencePiece vocabulary size (32000 for LLaMA).
  int64_t sp_size() const;
  /// Full vocabulary size: sp_size() + number of added tokens (32007 for GLaMM).
  int64_t size() const;
  int64_t bos_id() const;
  int64_t eos_id() const;
  int64_t unk_id() const;
  int64_t pad_id() const;
  bool legacy() const;
  /// The same tokenizer (shared model) in the other mode.
  LlamaTokenizer with_legacy(bool legacy) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  bool legacy_ = true;
};

/// `ids` without the −200 image placeholders (what the eval scripts decode).
std::vector<int64_t> without_image_tokens(const std::vector<int64_t>& ids);

}  // namespace glamm::model
