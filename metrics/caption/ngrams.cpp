#include "metrics/caption/ngrams.h"

#include <algorithm>
#include <functional>
#include <string_view>

#include "common/error.h"
#include "metrics/caption/text_split.h"

namespace glamm::caption {

namespace {

constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;

std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/// Open-addressing map from a token string to a dense id. Keys are views into the caller's strings.
class TokenTable {
 public:
  TokenTable() { rehash(1u << 12); }

  std::uint32_t intern(std::string_view token) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    const std::size_t mask = slots_.size() - 1;
    std::size_t h = std::hash<std::string_view>{}(token) & mask;
    for (;;) {
      Slot& s = slots_[h];
      if (s.id == kEmpty) {
        s.key = token;
        s.id = size_++;
        return s.id;
      }
      if (s.key == token) return s.id;
      h = (h + 1) & mask;
    }
  }
  std::uint32_t size() const { return size_; }

 private:
  struct Slot {
    std::string_view key;
    std::uint32_t id = kEmpty;
  };
  void rehash(std::size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    const std::size_t mask = capacity - 1;
    for (const Slot& s : old) {
      if (s.id == kEmpty) continue;
      std::size_t h = std::hash<std::string_view>{}(s.key) & mask;
      while (slots_[h].id != kEmpty) h = (h + 1) & mask;
      slots_[h] = s;
    }
  }
  std::vector<Slot> slots_;
  std::uint32_t size_ = 0;
};

/// N-gram keys. With fewer than 65535 distinct tokens an n-gram packs into 64 bits (16 bits per token, id + 1, so
/// unused positions are 0 and the order is implied); otherwise two 64-bit words of 32-bit token ids are used.
struct PackedKey16 {
  using type = std::uint64_t;
  static type make(const std::uint32_t* tok, int n) {
    type k = 0;
    for (int i = 0; i < n; ++i) k |= static_cast<type>(tok[i] + 1) << (16 * i);
    return k;
  }
  static bool empty(const type& k) { return k == 0; }
  static std::uint64_t hash(const type& k) { return mix64(k); }
};

struct PackedKey32 {
  struct type {
    std::uint64_t lo = 0, hi = 0;
    bool operator==(const type& o) const { return lo == o.lo && hi == o.hi; }
  };
  static type make(const std::uint32_t* tok, int n) {
    std::uint64_t w[4] = {0, 0, 0, 0};
    for (int i = 0; i < n; ++i) w[i] = static_cast<std::uint64_t>(tok[i]) + 1;
    return type{w[0] | (w[1] << 32), w[2] | (w[3] << 32)};
  }
  static bool empty(const type& k) { return k.lo == 0; }
  static std::uint64_t hash(const type& k) { return mix64(k.lo ^ mix64(k.hi + 0x9e3779b97f4a7c15ULL)); }
};

/// Open-addressing map from a packed n-gram key to a dense id (linear probing, load ≤ 1/2).
template <class K>
class NgramTable {
 public:
  explicit NgramTable(std::size_t expected) {
    std::size_t cap = 1u << 12;
    while (cap < 2 * expected) cap <<= 1;
    slots_.assign(cap, Slot{});
  }

  std::uint32_t intern(const typename K::type& key) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    const std::size_t mask = slots_.size() - 1;
    std::size_t h = K::hash(key) & mask;
    for (;;) {
      Slot& s = slots_[h];
      if (K::empty(s.key)) {
        s.key = key;
        s.id = size_++;
        return s.id;
      }
      if (s.key == key) return s.id;
      h = (h + 1) & mask;
    }
  }
  std::uint32_t size() const { return size_; }
  /// Hint the cache about the slot `key` will probe first (the table is far larger than the caches).
  void prefetch(const typename K::type& key) const {
    __builtin_prefetch(&slots_[K::hash(key) & (slots_.size() - 1)]);
  }

 private:
  struct Slot {
    typename K::type key{};
    std::uint32_t id = 0;
  };
  void rehash(std::size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    const std::size_t mask = capacity - 1;
    for (const Slot& s : old) {
      if (K::empty(s.key)) continue;
      std::size_t h = K::hash(s.key) & mask;
      while (!K::empty(slots_[h].key)) h = (h + 1) & mask;
      slots_[h] = s;
    }
  }
  std::vector<Slot> slots_;
  std::uint32_t size_ = 0;
};

/// All sentences of the corpus as token ids, in order: hypothesis of image 0, its references, hypothesis of
/// image 1, ...
struct TokenizedCorpus {
  std::vector<std::uint32_t> tokens;
  std::vector<std::size_t> offsets{0};  ///< sentence s = tokens[offsets[s] .. offsets[s+1])
  std::uint32_t vocabulary = 0;
};

/// Cook every sentence of `tc` in order into `out` (shaped like `refs`).
template <class K>
void cook_all(const TokenizedCorpus& tc, const std::vector<std::vector<std::string>>& refs, NgramCorpus& out) {
  const std::size_t num_sentences = tc.offsets.size() - 1;
  // 1. Every n-gram occurrence as a key, sentence by sentence, order n = 1..4, position ascending.
  std::vector<typename K::type> keys;
  std::vector<std::size_t> key_begin(num_sentences + 1, 0);
  {
    std::size_t total = 0;
    for (std::size_t s = 0; s < num_sentences; ++s) {
      const std::size_t len = tc.offsets[s + 1] - tc.offsets[s];
      for (int n = 1; n <= kMaxNgram; ++n) total += len >= static_cast<std::size_t>(n) ? len - n + 1 : 0;
    }
    keys.reserve(total);
  }
  for (std::size_t s = 0; s < num_sentences; ++s) {
    key_begin[s] = keys.size();
    const std::uint32_t* tok = tc.tokens.data() + tc.offsets[s];
    const std::size_t len = tc.offsets[s + 1] - tc.offsets[s];
    for (int n = 1; n <= kMaxNgram; ++n)
      for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= len; ++i) keys.push_back(K::make(tok + i, n));
  }
  key_begin[num_sentences] = keys.size();

  // 2. Intern them in one stream, prefetching the slots a few keys ahead (the lookups are cache-miss bound).
  NgramTable<K> table(keys.size() / 4);
  std::vector<std::uint32_t> ids(keys.size());
  constexpr std::size_t kAhead = 16;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (k + kAhead < keys.size()) table.prefetch(keys[k + kAhead]);
    ids[k] = table.intern(keys[k]);
  }

  // 3. Per sentence: distinct n-grams in first-occurrence order with counts.
  std::vector<std::uint32_t> slot_of(table.size(), kEmpty);  // id → index in the current sentence's entries
  auto cook = [&](std::size_t s) {
    CookedSentence cs;
    const std::size_t len = tc.offsets[s + 1] - tc.offsets[s];
    cs.length = static_cast<std::uint32_t>(len);
    cs.entries.reserve(key_begin[s + 1] - key_begin[s]);
    std::size_t k = key_begin[s];
    for (int n = 1; n <= kMaxNgram; ++n) {
      cs.begin[n - 1] = static_cast<std::uint32_t>(cs.entries.size());
      const std::size_t count = len >= static_cast<std::size_t>(n) ? len - n + 1 : 0;
      for (std::size_t i = 0; i < count; ++i, ++k) {
        const std::uint32_t id = ids[k];
        std::uint32_t& slot = slot_of[id];
        if (slot == kEmpty) {
          slot = static_cast<std::uint32_t>(cs.entries.size());
          cs.entries.push_back(NgramCount{id, 1});
        } else {
          ++cs.entries[slot].count;
        }
      }
    }
    cs.begin[kMaxNgram] = static_cast<std::uint32_t>(cs.entries.size());
    for (const NgramCount& e : cs.entries) slot_of[e.id] = kEmpty;
    return cs;
  };
  std::size_t s = 0;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    out.hyps.push_back(cook(s++));
    out.refs[i].reserve(refs[i].size());
    for (std::size_t j = 0; j < refs[i].size(); ++j) out.refs[i].push_back(cook(s++));
  }
  out.num_ngrams = table.size();
}

}  // namespace

NgramCorpus cook_corpus(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs) {
  if (hyps.size() != refs.size())
    throw InputError("", "", "caption scorer: " + std::to_string(hyps.size()) + " hypotheses but " +
                                 std::to_string(refs.size()) + " reference sets");
  NgramCorpus corpus;
  corpus.hyps.reserve(hyps.size());
  corpus.refs.resize(refs.size());
  TokenTable vocabulary;
  TokenizedCorpus tc;
  tc.offsets.reserve(hyps.size() * 7);
  auto add = [&](const std::string& sentence) {
    for (std::string_view t : python_split(sentence)) tc.tokens.push_back(vocabulary.intern(t));
    tc.offsets.push_back(tc.tokens.size());
  };
  for (std::size_t i = 0; i < hyps.size(); ++i) {
    if (refs[i].empty())
      throw InputError("", "image #" + std::to_string(i), "no reference captions (at least one is required)");
    add(hyps[i]);
    for (const std::string& r : refs[i]) add(r);
  }
  tc.vocabulary = vocabulary.size();
  if (tc.vocabulary < 0xFFFFu)
    cook_all<PackedKey16>(tc, refs, corpus);
  else
    cook_all<PackedKey32>(tc, refs, corpus);
  return corpus;
}

}  // namespace glamm::caption
