// METEOR's paraphrase table: reimplements edu.cmu.meteor.aligner.ParaphraseTransducer (a word trie over the
// table's phrases; each complete phrase emits the indices of its paraphrases, in file order).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace glamm::meteor {

class ParaphraseTable {
 public:
  /// Parse the decompressed table text: records of three lines (probability, phrase, paraphrase), lines
  /// ending in \n, \r\n or \r. `source` names the file in errors. Throws InputError on an incomplete record.
  static ParaphraseTable parse(const std::string& text, const std::string& source);

  /// Read a gzip file (several members allowed) and parse it. Throws InputError naming the file when it is
  /// unreadable, not gzip, or truncated.
  static ParaphraseTable load_gz(const std::string& path);
  /// Same from the gzip bytes already in memory (`source` names the file in errors).
  static ParaphraseTable load_gz_bytes(const std::string& data, const std::string& source);

  /// Vocabulary id of a word, -1 when the table never mentions it (ParaphraseTransducer.translate).
  int translate(const std::string& word) const;

  /// Phrases of the table that start at words[start]: pairs (phrase length, paraphrase index), shorter phrases
  /// first, equal phrases in file order (ParaphraseTransducer.getReferencePaths).
  void paths(const std::vector<int>& words, std::size_t start, std::vector<std::pair<int, int>>& out) const;

  /// Word ids of paraphrase `idx`.
  const std::vector<int>& paraphrase(int idx) const { return paraphrases_[static_cast<std::size_t>(idx)]; }

  std::size_t size() const { return paraphrases_.size(); }

 private:
  int map_word(const std::string& w);
  void add_path(const std::vector<int>& words, int emit);

  std::unordered_map<std::string, int> vocab_;
  std::unordered_map<std::uint64_t, int> edges_;  // (node << 32 | word) → child node
  std::vector<std::vector<int>> emits_;           // per node
  std::vector<std::vector<int>> paraphrases_;
};

}  // namespace glamm::meteor
