// METEOR's paraphrase table: reimplements edu.cmu.meteor.aligner.ParaphraseTransducer (a word trie over the
// table's phrases; each complete phrase emits the indices of its paraphrases, in file order).
// Stored in flat arrays (open-addressing hash tables for the vocabulary and the trie edges, CSR lists for the
// emits and the paraphrases) so that a binary cache can hold it as is; see docs/meteor-resources.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glamm::meteor {

class ParaphraseTable {
 public:
  /// A read-only view of the word ids of one paraphrase.
  struct Words {
    const std::int32_t* p = nullptr;
    std::size_t n = 0;
    std::size_t size() const { return n; }
    int operator[](std::size_t i) const { return p[i]; }
    const std::int32_t* begin() const { return p; }
    const std::int32_t* end() const { return p + n; }
  };

  /// Where load_gz_cached() got the table from.
  enum class CacheUse { kParsed, kParsedAndCached, kFromCache };

  /// Parse the decompressed table text: records of three lines (probability, phrase, paraphrase), lines
  /// ending in \n, \r\n or \r. `source` names the file in errors. Throws InputError naming the record on an
  /// incomplete record, a probability line that is not a number, or a line longer than 64 KiB.
  static ParaphraseTable parse(const std::string& text, const std::string& source);

  /// Read a gzip file (several members allowed) and parse it. Throws InputError naming the file when it is
  /// unreadable, not gzip, or truncated.
  static ParaphraseTable load_gz(const std::string& path);
  /// Same from the gzip bytes already in memory (`source` names the file in errors). The stream is parsed while
  /// it is inflated, so a bad first record fails after the first block; output above 64 MiB that is more than
  /// 200× the compressed size consumed so far is refused as a gzip bomb.
  static ParaphraseTable load_gz_bytes(const std::string& data, const std::string& source);

  /// load_gz_bytes() through a binary cache: `cache_dir`/paraphrase-<sha256_hex>.bin (sha256_hex: SHA-256 of
  /// `data`) is read when it exists and is valid for this table and tool version (magic, sizes, CRC-32, index
  /// bounds); otherwise the table is parsed and the cache written atomically (write failures are ignored).
  /// `cache_dir` "" = no cache. The table is the same either way. `used` (optional) says which happened.
  static ParaphraseTable load_gz_cached(const std::string& data, const std::string& sha256_hex,
                                        const std::string& source, const std::string& cache_dir,
                                        CacheUse* used = nullptr);

  /// $XDG_CACHE_HOME/glamm-eval, else $HOME/.cache/glamm-eval; "" when neither variable is set, or when
  /// GLAMM_NO_CACHE is set to a non-empty value other than "0".
  static std::string default_cache_dir();

  /// The binary cache image of this table for content hash `sha256_hex` (format in paraphrase.cpp).
  std::string serialize(const std::string& sha256_hex) const;
  /// Read a cache image written by serialize(); false (and `out` untouched) when the file is absent, of another
  /// table / tool version, or fails any check.
  static bool read_cache(const std::string& path, const std::string& sha256_hex, ParaphraseTable& out);

  /// Vocabulary id of a word, -1 when the table never mentions it (ParaphraseTransducer.translate).
  int translate(std::string_view word) const;

  /// Phrases of the table that start at words[start]: pairs (phrase length, paraphrase index), shorter phrases
  /// first, equal phrases in file order (ParaphraseTransducer.getReferencePaths).
  void paths(const std::vector<int>& words, std::size_t start, std::vector<std::pair<int, int>>& out) const;

  /// Word ids of paraphrase `idx` (0 ≤ idx < size()).
  Words paraphrase(int idx) const {
    const std::size_t i = static_cast<std::size_t>(idx);
    return {para_words_.data() + para_off_[i], para_off_[i + 1] - para_off_[i]};
  }

  /// Number of records (paraphrases).
  std::size_t size() const { return para_off_.size() - 1; }
  /// Number of distinct words.
  std::size_t vocabulary_size() const { return word_off_.size() - 1; }

  /// Same content, array for array (the loaded table is identical whether parsed or read from the cache).
  bool operator==(const ParaphraseTable& o) const;

  ParaphraseTable();

 private:
  struct Builder;
  friend int find_word(const ParaphraseTable& t, std::string_view w, std::uint64_t hash, std::size_t& slot);
  std::string words_;                      ///< vocabulary words, concatenated
  std::vector<std::uint32_t> word_off_;    ///< word i = words_[word_off_[i], word_off_[i+1])
  std::vector<std::uint64_t> word_slots_;  ///< open addressing over word hashes: (hash >> 32) << 32 | word id, ~0 = empty
  std::vector<std::uint64_t> edge_keys_;   ///< open addressing: (node << 32 | word), ~0 = empty
  std::vector<std::int32_t> edge_vals_;    ///< child node of edge_keys_[k]
  std::vector<std::uint32_t> emit_off_;    ///< node n emits emit_ids_[emit_off_[n], emit_off_[n+1]) (file order)
  std::vector<std::int32_t> emit_ids_;
  std::vector<std::uint32_t> para_off_;    ///< paraphrase i = para_words_[para_off_[i], para_off_[i+1])
  std::vector<std::int32_t> para_words_;
};

}  // namespace glamm::meteor
