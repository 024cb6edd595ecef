// A compact read-only map word → list of integers (METEOR's synonym table: word → synset ids), built once
// and copied cheaply; open addressing over one key buffer and one id buffer (fast to load: ~150k entries).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace glamm::meteor {

class WordTable {
 public:
  /// A view of the ids stored for a word (empty when absent).
  struct Ids {
    const int* data = nullptr;
    std::size_t size = 0;
    const int* begin() const { return data; }
    const int* end() const { return data + size; }
    bool empty() const { return size == 0; }
  };

  /// Reserve room for about `n` words.
  void reserve(std::size_t n);
  /// Set the ids of `word` (a later call for the same word replaces the earlier list, as Hashtable.put does).
  void put(std::string_view word, const std::vector<int>& ids);
  /// The ids of `word`; `found` (optional) tells whether the word is a key at all.
  Ids find(std::string_view word, bool* found = nullptr) const;
  bool contains(std::string_view word) const {
    bool f = false;
    find(word, &f);
    return f;
  }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint32_t key_off = 0, ids_off = 0;
    std::uint16_t key_len = 0, ids_len = 0;
  };
  /// Slot index of `word` (its slot, or the empty slot where it would go).
  std::size_t probe(std::string_view word, std::uint64_t h) const;

  std::string keys_;
  std::vector<int> ids_;
  std::vector<Entry> entries_;
  std::vector<std::uint64_t> slots_;  // (tag << 32) | (entry index + 1); 0 = empty
};

}  // namespace glamm::meteor
