#include "metrics/meteor/word_table.h"

#include <stdexcept>

namespace glamm::meteor {
namespace {

std::uint64_t hash_word(std::string_view w) {  // FNV-1a 64 with a splitmix64 finalizer
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : w) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

// Non-zero 32-bit tag of a hash (a slot value 0 marks an empty slot).
std::uint32_t tag_of(std::uint64_t h) {
  auto t = static_cast<std::uint32_t>(h >> 32);
  return t ? t : 1u;
}

}  // namespace

void WordTable::reserve(std::size_t n) {
  std::size_t cap = 16;
  while (cap * 3 < n * 5) cap <<= 1;  // load factor <= 0.6
  if (cap <= slots_.size()) return;
  std::vector<std::uint64_t> old;
  old.swap(slots_);
  slots_.assign(cap, 0);
  const std::size_t mask = cap - 1;
  for (std::uint64_t v : old) {
    if (!v) continue;
    std::size_t i = static_cast<std::uint32_t>(v >> 32) & mask;
    while (slots_[i]) i = (i + 1) & mask;
    slots_[i] = v;
  }
  entries_.reserve(n);
}

std::size_t WordTable::probe(std::string_view word, std::uint64_t h) const {
  const std::uint32_t tag = tag_of(h);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = tag & mask;
  while (std::uint64_t v = slots_[i]) {
    if (static_cast<std::uint32_t>(v >> 32) == tag) {
      const Entry& e = entries_[static_cast<std::uint32_t>(v) - 1];
      if (std::string_view(keys_.data() + e.key_off, e.key_len) == word) return i;
    }
    i = (i + 1) & mask;
  }
  return i;
}

void WordTable::put(std::string_view word, const std::vector<int>& ids) {
  if (word.size() > 0xFFFF || ids.size() > 0xFFFF) throw std::length_error("WordTable: entry too long");
  if (5 * (entries_.size() + 1) > 3 * slots_.size()) reserve(slots_.empty() ? 16 : slots_.size() * 2 * 3 / 5);
  const std::uint64_t h = hash_word(word);
  const std::size_t i = probe(word, h);
  Entry* e;
  if (!slots_[i]) {
    entries_.push_back(Entry{});
    e = &entries_.back();
    e->key_off = static_cast<std::uint32_t>(keys_.size());
    e->key_len = static_cast<std::uint16_t>(word.size());
    keys_.append(word.data(), word.size());
    slots_[i] = (static_cast<std::uint64_t>(tag_of(h)) << 32) | static_cast<std::uint32_t>(entries_.size());
  } else {
    e = &entries_[static_cast<std::uint32_t>(slots_[i]) - 1];
  }
  e->ids_off = static_cast<std::uint32_t>(ids_.size());
  e->ids_len = static_cast<std::uint16_t>(ids.size());
  ids_.insert(ids_.end(), ids.begin(), ids.end());
}

WordTable::Ids WordTable::find(std::string_view word, bool* found) const {
  if (found) *found = false;
  if (slots_.empty()) return {};
  const std::size_t i = probe(word, hash_word(word));
  if (!slots_[i]) return {};
  if (found) *found = true;
  const Entry& e = entries_[static_cast<std::uint32_t>(slots_[i]) - 1];
  return {ids_.data() + e.ids_off, e.ids_len};
}

}  // namespace glamm::meteor
