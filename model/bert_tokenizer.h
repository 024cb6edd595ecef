// WordPiece tokenizer of bert-base-uncased as GLaMM's GCG recall metric runs it (`AutoTokenizer` →
// BertTokenizerFast, uncased; max_length 512, truncation on, no padding). Pure C++ (utf8proc), no torch.
// Reference: huggingface/tokenizers 0.13 BertNormalizer + BertPreTokenizer + WordPiece + BertProcessing, which
// transformers' slow BertTokenizer (BasicTokenizer + WordpieceTokenizer) matches on ordinary text.
// Spec: glamm-model.md §7; mask-metrics.md §4.2 step 5.
//
// Where the fast and slow tokenizers differ this follows the fast one (the one GLaMM runs):
//  * U+2028 / U+2029 (and every other Unicode White_Space character) are whitespace; the slow tokenizer only
//    treats space, \t, \n, \r and category Zs as whitespace.
//  * Lowercasing is per character (a final capital sigma becomes σ, not ς as Python's str.lower() gives).
//  * The CJK range U+2B820–U+2B91F is not spaced (tokenizers' table starts that block at U+2B920).
// Character properties come from utf8proc's Unicode tables (newer than the Rust crates of 2023; only characters
// assigned since then can differ).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace glamm::model {

class BertTokenizer {
 public:
  /// Read a WordPiece vocabulary (`vocab.txt`: one token per line, id = 0-based line number; a trailing "\n" is
  /// removed from each line as transformers' load_vocab does; a repeated token keeps its last id).
  /// Throws InputError naming the file when it cannot be read, is empty, or lacks [CLS], [SEP] or [UNK].
  static BertTokenizer load(const std::filesystem::path& vocab_txt);

  /// Build from an in-memory token list (id = position). Same checks as load(); `source` names it in errors.
  static BertTokenizer from_tokens(std::vector<std::string> tokens, const std::string& source = "vocabulary");

  /// Normalise and pre-tokenise `text` (UTF-8): drop U+0000, U+FFFD and control/format/unassigned characters
  /// (category C*, except \t \n \r), turn whitespace into spaces, space out CJK ideographs, NFD, drop
  /// non-spacing marks (Mn), lowercase, then split on whitespace and isolate punctuation (ASCII 33–47, 58–64,
  /// 91–96, 123–126 and Unicode P*). Invalid UTF-8 bytes count as U+FFFD (dropped). Returns the words in order.
  std::vector<std::string> basic_tokenize(std::string_view text) const;

  /// WordPiece of one pre-tokenised word: greedy longest match from the left, continuation pieces prefixed
  /// "##"; the single piece "[UNK]" when some position has no match or the word has more than 100 code points.
  std::vector<std::string> wordpiece(std::string_view word) const;

  /// basic_tokenize + wordpiece over every word (no special tokens).
  std::vector<std::string> tokenize(std::string_view text) const;

  /// Model input ids: [CLS] pieces… [SEP], the pieces truncated so that the whole has at most `max_length`
  /// (≥ 2) ids — what `tokenizer(text, max_length=512, truncation=True)["input_ids"]` gives.
  std::vector<int64_t> encode(std::string_view text, std::size_t max_length = 512) const;

  /// Id of a token, or the [UNK] id when absent.
  int64_t id(std::string_view token) const;
  /// Token of an id in [0, size()); throws std::out_of_range otherwise.
  const std::string& token(int64_t id) const;
  std::size_t size() const { return tokens_.size(); }
  int64_t cls_id() const { return cls_; }
  int64_t sep_id() const { return sep_; }
  int64_t unk_id() const { return unk_; }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  int64_t cls_ = -1, sep_ = -1, unk_ = -1;
};

}  // namespace glamm::model
