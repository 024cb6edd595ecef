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

/// Open-addressing map from an n-gram (up to 4 token ids; unused positions kEmpty) to a dense id.
class NgramTable {
 public:
  NgramTable() { rehash(1u << 14); }

  std::uint32_t intern(const std::uint32_t* tok, int n) {
    Key k{{kEmpty, kEmpty, kEmpty, kEmpty}};
    for (int i = 0; i < n; ++i) k.w[i] = tok[i];
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    const std::size_t mask = slots_.size() - 1;
    std::size_t h = hash(k) & mask;
    for (;;) {
      Slot& s = slots_[h];
      if (s.id == kEmpty) {
        s.key = k;
        s.id = size_++;
        return s.id;
      }
      if (s.key.w[0] == k.w[0] && s.key.w[1] == k.w[1] && s.key.w[2] == k.w[2] && s.key.w[3] == k.w[3]) return s.id;
      h = (h + 1) & mask;
    }
  }
  std::uint32_t size() const { return size_; }

 private:
  struct Key {
    std::uint32_t w[4];
  };
  struct Slot {
    Key key;
    std::uint32_t id = kEmpty;
  };
  static std::uint64_t hash(const Key& k) {
    const std::uint64_t a = (std::uint64_t{k.w[0]} << 32) | k.w[1];
    const std::uint64_t b = (std::uint64_t{k.w[2]} << 32) | k.w[3];
    return mix64(a ^ mix64(b + 0x9e3779b97f4a7c15ULL));
  }
  void rehash(std::size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    const std::size_t mask = capacity - 1;
    for (const Slot& s : old) {
      if (s.id == kEmpty) continue;
      std::size_t h = hash(s.key) & mask;
      while (slots_[h].id != kEmpty) h = (h + 1) & mask;
      slots_[h] = s;
    }
  }
  std::vector<Slot> slots_;
  std::uint32_t size_ = 0;
};

class Cooker {
 public:
  CookedSentence cook(const std::string& s) {
    CookedSentence out;
    tokens_.clear();
    for (std::string_view t : python_split(s)) tokens_.push_back(tokens_table_.intern(t));
    out.length = static_cast<std::uint32_t>(tokens_.size());
    const std::size_t len = tokens_.size();
    for (int n = 1; n <= kMaxNgram; ++n) {
      out.begin[n - 1] = static_cast<std::uint32_t>(out.entries.size());
      for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= len; ++i) {
        const std::uint32_t id = ngrams_.intern(tokens_.data() + i, n);
        if (id >= slot_of_.size()) slot_of_.resize(std::max<std::size_t>(id + 1, slot_of_.size() * 2), kEmpty);
        std::uint32_t& slot = slot_of_[id];
        if (slot == kEmpty) {
          slot = static_cast<std::uint32_t>(out.entries.size());
          out.entries.push_back(NgramCount{id, 1});
        } else {
          ++out.entries[slot].count;
        }
      }
    }
    out.begin[kMaxNgram] = static_cast<std::uint32_t>(out.entries.size());
    for (const NgramCount& e : out.entries) slot_of_[e.id] = kEmpty;
    return out;
  }
  std::uint32_t num_ngrams() const { return ngrams_.size(); }

 private:
  TokenTable tokens_table_;
  NgramTable ngrams_;
  std::vector<std::uint32_t> tokens_;
  std::vector<std::uint32_t> slot_of_;  ///< n-gram id → index in the sentence being cooked (kEmpty when absent)
};

}  // namespace

NgramCorpus cook_corpus(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs) {
  if (hyps.size() != refs.size())
    throw InputError("", "", "caption scorer: " + std::to_string(hyps.size()) + " hypotheses but " +
                                 std::to_string(refs.size()) + " reference sets");
  NgramCorpus corpus;
  corpus.hyps.reserve(hyps.size());
  corpus.refs.resize(refs.size());
  Cooker cooker;
  for (std::size_t i = 0; i < hyps.size(); ++i) {
    if (refs[i].empty())
      throw InputError("", "image #" + std::to_string(i), "no reference captions (at least one is required)");
    corpus.hyps.push_back(cooker.cook(hyps[i]));
    corpus.refs[i].reserve(refs[i].size());
    for (const std::string& r : refs[i]) corpus.refs[i].push_back(cooker.cook(r));
  }
  corpus.num_ngrams = cooker.num_ngrams();
  return corpus;
}

}  // namespace glamm::caption
