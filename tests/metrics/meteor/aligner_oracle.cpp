// Test oracle: the METEOR aligner as it was before the beam search stored its states as deltas. Every search
// state copies the full match and coverage arrays (as Java's PartialAlignment does), so it costs O(n) memory and
// time per state; the production aligner (metrics/meteor/aligner.cpp) must return the same alignment.
#include "tests/metrics/meteor/aligner_oracle.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "metrics/meteor/paraphrase.h"

namespace glamm::meteor::oracle {
namespace {

constexpr int kBeamSize = 40;
// Aligner weights METEOR's scorer installs for evaluation ("best weights for evaluation").
constexpr double kAlignerWeights[4] = {1.0, 0.5, 0.5, 0.5};

inline unsigned bloom_bit(int id) { return (static_cast<std::uint32_t>(id) * 2654435761u) >> 22; }  // 0..1023
inline bool bloom_has(const std::array<std::uint64_t, 16>& b, int id) {
  const unsigned k = bloom_bit(id);
  return (b[k >> 6] >> (k & 63)) & 1u;
}

bool intersects(const std::vector<int>& a, const std::vector<int>& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return true;
    if (a[i] < b[j]) ++i;
    else ++j;
  }
  return false;
}

// Candidate matches plus coverage counts (Stage.java). Matches are collected in matcher order into `pool`;
// finish() buckets them by reference start position keeping that order (s.matches.get(j) in Java).
struct Stage {
  std::vector<Match> pool;
  std::vector<int> order, begin;  // matches starting at j: pool[order[begin[j] .. begin[j+1])]
  std::vector<int> cover1, cover2;

  void reset(std::size_t n1, std::size_t n2) {
    pool.clear();
    cover1.assign(n1, 0);
    cover2.assign(n2, 0);
  }
  void add(const Match& m) {
    pool.push_back(m);
    for (int k = 0; k < m.match_length; ++k) ++cover1[static_cast<std::size_t>(m.match_start + k)];
    for (int k = 0; k < m.length; ++k) ++cover2[static_cast<std::size_t>(m.start + k)];
  }
  void finish(std::size_t n2) {
    begin.assign(n2 + 1, 0);
    for (const Match& m : pool) ++begin[static_cast<std::size_t>(m.start) + 1];
    for (std::size_t j = 0; j < n2; ++j) begin[j + 1] += begin[j];
    order.assign(pool.size(), 0);
    std::vector<int>& fill = cover_tmp;
    fill.assign(begin.begin(), begin.end() - 1);
    for (std::size_t k = 0; k < pool.size(); ++k)
      order[static_cast<std::size_t>(fill[static_cast<std::size_t>(pool[k].start)]++)] = static_cast<int>(k);
  }
  int count_at(std::size_t j) const { return begin[j + 1] - begin[j]; }

 private:
  std::vector<int> cover_tmp;
};

void match_exact(int stage, const Sentence& t, const Sentence& r, Stage& s) {
  for (std::size_t j = 0; j < r.words.size(); ++j)
    for (std::size_t i = 0; i < t.words.size(); ++i)
      if (t.hash[i] == r.hash[j])
        s.add({static_cast<int>(j), 1, static_cast<int>(i), 1, stage});
}

void match_stem(int stage, const Sentence& t, const Sentence& r, Stage& s) {
  for (std::size_t j = 0; j < r.words.size(); ++j)
    for (std::size_t i = 0; i < t.words.size(); ++i)
      if (t.stem_hash[i] == r.stem_hash[j] && t.hash[i] != r.hash[j])
        s.add({static_cast<int>(j), 1, static_cast<int>(i), 1, stage});
}

void match_synonym(int stage, const Sentence& t, const Sentence& r, Stage& s) {
  if (!t.synset_index.empty()) {
    // Indexed path: for each ref word, the set of hypothesis positions sharing a synset with it.
    const auto& idx = t.synset_index;
    for (std::size_t j = 0; j < r.words.size(); ++j) {
      std::uint64_t share = 0;
      const std::vector<int>& syn = r.info[j]->synsets;
      auto lo = idx.begin();
      for (int id : syn) {
        if (!bloom_has(t.synset_bloom, id)) continue;
        lo = std::lower_bound(lo, idx.end(), id, [](const std::pair<int, std::uint64_t>& e, int v) { return e.first < v; });
        if (lo == idx.end()) break;
        if (lo->first == id) share |= lo->second;
      }
      while (share) {
        const int i = __builtin_ctzll(share);
        share &= share - 1;
        if (t.hash[static_cast<std::size_t>(i)] != r.hash[j])
          s.add({static_cast<int>(j), 1, i, 1, stage});
      }
    }
    return;
  }
  for (std::size_t j = 0; j < r.words.size(); ++j)
    for (std::size_t i = 0; i < t.words.size(); ++i)
      if ((t.info[i]->synset_mask & r.info[j]->synset_mask) != 0 && t.info[i]->hash != r.info[j]->hash &&
          intersects(t.info[i]->synsets, r.info[j]->synsets))
        s.add({static_cast<int>(j), 1, static_cast<int>(i), 1, stage});
}

void match_paraphrase(int stage, const Sentence& t, const Sentence& r, const ParaphraseTable& pt, Stage& s) {
  std::vector<int> line1(t.words.size()), line2(r.words.size());
  for (std::size_t i = 0; i < line1.size(); ++i) line1[i] = t.info[i]->paraphrase_id;
  for (std::size_t j = 0; j < line2.size(); ++j) line2[j] = r.info[j]->paraphrase_id;
  std::vector<std::pair<int, int>> pars;
  const int n1 = static_cast<int>(line1.size()), n2 = static_cast<int>(line2.size());
  // Phrases of the reference found (as paraphrases) in the hypothesis.
  for (int j = 0; j < n2; ++j) {
    pt.paths(line2, static_cast<std::size_t>(j), pars);
    for (auto [len, pidx] : pars) {
      const ParaphraseTable::Words words = pt.paraphrase(pidx);
      const int wl = static_cast<int>(words.size());
      for (int i = 0; i < n1; ++i) {
        bool ok = true;
        for (int k = 0; k < wl; ++k)
          if (i + k == n1 || line1[static_cast<std::size_t>(i + k)] != words[static_cast<std::size_t>(k)]) {
            ok = false;
            break;
          }
        if (ok) s.add({j, len, i, wl, stage});
      }
    }
  }
  // Phrases of the hypothesis found (as paraphrases) in the reference.
  for (int i = 0; i < n1; ++i) {
    pt.paths(line1, static_cast<std::size_t>(i), pars);
    for (auto [len, pidx] : pars) {
      const ParaphraseTable::Words words = pt.paraphrase(pidx);
      const int wl = static_cast<int>(words.size());
      for (int j = 0; j < n2; ++j) {
        bool ok = true;
        for (int k = 0; k < wl; ++k)
          if (j + k == n2 || line2[static_cast<std::size_t>(j + k)] != words[static_cast<std::size_t>(k)]) {
            ok = false;
            break;
          }
        if (ok) s.add({j, wl, i, len, stage});
      }
    }
  }
}

// PartialAlignment.java. The arrays (matches per ref position, used flags of both lines) live in a shared
// arena block: [matches: n2][used1: n1][used2: n2]; a block is never changed once another state copied it.
struct Path {
  int matches1 = 0, matches2 = 0, chunks = 0, idx = 0, last_match_end = -1, distance = 0;
  std::size_t block = 0;
};

struct Arena {
  std::vector<std::int32_t> data;  // used as raw storage: [0, used) holds blocks
  std::size_t used = 0;
  std::size_t n1 = 0, n2 = 0, size = 0;
  void reset(std::size_t a, std::size_t b) {
    n1 = a, n2 = b, size = 2 * b + a;
    used = 0;
  }
  std::size_t grab() {  // room for one more block (contents unspecified)
    if (used + size > data.size()) data.resize(std::max<std::size_t>(2 * data.size(), used + size + 256));
    std::size_t off = used;
    used += size;
    return off;
  }
  std::size_t fresh() {
    std::size_t off = grab();
    std::fill(data.begin() + static_cast<std::ptrdiff_t>(off), data.begin() + static_cast<std::ptrdiff_t>(off + size), 0);
    for (std::size_t j = 0; j < n2; ++j) data[off + j] = -1;
    return off;
  }
  std::size_t copy(std::size_t src) {
    std::size_t off = grab();
    std::copy_n(data.data() + src, size, data.data() + off);
    return off;
  }
  /// Copy block `src` of `from` (same shape) into this arena.
  std::size_t copy_from(const Arena& from, std::size_t src) {
    std::size_t off = grab();
    std::copy_n(from.data.data() + src, size, data.data() + off);
    return off;
  }
  std::int32_t* matches(std::size_t b) { return data.data() + b; }
  std::int32_t* used1(std::size_t b) { return data.data() + b + n2; }
  std::int32_t* used2(std::size_t b) { return data.data() + b + n2 + n1; }

  bool is_used(std::size_t b, const Match& m) {
    const std::int32_t* u2 = used2(b);
    const std::int32_t* u1 = used1(b);
    for (int k = 0; k < m.length; ++k)
      if (u2[m.start + k]) return true;
    for (int k = 0; k < m.match_length; ++k)
      if (u1[m.match_start + k]) return true;
    return false;
  }
  void set_used(std::size_t b, const Match& m) {
    std::int32_t* u2 = used2(b);
    std::int32_t* u1 = used1(b);
    for (int k = 0; k < m.length; ++k) u2[m.start + k] = 1;
    for (int k = 0; k < m.match_length; ++k) u1[m.match_start + k] = 1;
  }
};

// Constants.PARTIAL_COMPARE_TOTAL as a strict ordering: more weighted matches, then fewer chunks, then
// shorter distance. Sorted stably, which keeps ties in list order as Java's Collections.sort does.
inline bool path_before(const Path& x, const Path& y) {
  int mx = x.matches1 + x.matches2, my = y.matches1 + y.matches2;
  if (mx != my) return mx > my;
  if (x.chunks != y.chunks) return x.chunks < y.chunks;
  return x.distance < y.distance;
}

void stable_sort_paths(std::vector<Path>& v) {
  if (v.size() <= 48) {  // insertion sort: stable, no allocation
    for (std::size_t i = 1; i < v.size(); ++i) {
      Path x = v[i];
      std::size_t j = i;
      while (j > 0 && path_before(x, v[j - 1])) {
        v[j] = v[j - 1];
        --j;
      }
      v[j] = x;
    }
  } else {
    std::stable_sort(v.begin(), v.end(), path_before);
  }
}

// Java compound assignment `int += double`: the sum truncated toward zero.
inline int add_weighted(int acc, int len, int module) {
  return static_cast<int>(acc + len * kAlignerWeights[module]);
}

struct Workspace {
  Stage stage;
  Arena arena, spare;
  std::vector<Path> paths, next;
};

Path resolve(Workspace& ws, Path start) {
  const Stage& s = ws.stage;
  const int n2 = static_cast<int>(ws.arena.n2);
  std::vector<Path>& paths = ws.paths;
  std::vector<Path>& next = ws.next;
  paths.clear();
  next.clear();
  next.push_back(start);
  for (int current = 0; current <= n2; ++current) {
    paths.swap(next);
    next.clear();
    stable_sort_paths(paths);
    const int limit = std::min<int>(kBeamSize, static_cast<int>(paths.size()));
    // Only the first `limit` states are ever used again: move their blocks into a fresh arena so memory stays
    // bounded by one level of the search (Java's garbage collector does the same for the dropped states).
    paths.resize(static_cast<std::size_t>(limit));
    ws.spare.reset(ws.arena.n1, ws.arena.n2);
    for (Path& p : paths) p.block = ws.spare.copy_from(ws.arena, p.block);
    std::swap(ws.arena, ws.spare);
    Arena& ar = ws.arena;
    for (int rank = 0; rank < limit; ++rank) {
      Path& path = paths[static_cast<std::size_t>(rank)];
      if (current == n2) {  // complete: close the last chunk
        if (path.last_match_end != -1) ++path.chunks;
        next.push_back(path);
        continue;
      }
      if (ar.used2(path.block)[current]) {
        if (current < path.idx) {
          next.push_back(path);
        } else if (ar.matches(path.block)[path.idx] != -1) {  // fixed match
          const Match& m = s.pool[static_cast<std::size_t>(ar.matches(path.block)[path.idx])];
          path.matches1 = add_weighted(path.matches1, m.match_length, m.module);
          path.matches2 = add_weighted(path.matches2, m.length, m.module);
          if (path.last_match_end != -1 && m.match_start != path.last_match_end) ++path.chunks;
          path.idx = m.start + m.length;
          path.last_match_end = m.match_start + m.match_length;
          path.distance += std::abs(m.start - m.match_start);
          next.push_back(path);
        }
        continue;
      }
      for (int k = s.begin[static_cast<std::size_t>(current)]; k < s.begin[static_cast<std::size_t>(current) + 1]; ++k) {
        const int mi = s.order[static_cast<std::size_t>(k)];
        const Match& m = s.pool[static_cast<std::size_t>(mi)];
        if (ar.is_used(path.block, m)) continue;
        Path np = path;
        np.block = ar.copy(path.block);
        ar.set_used(np.block, m);
        ar.matches(np.block)[current] = mi;
        np.matches1 = add_weighted(np.matches1, m.match_length, m.module);
        np.matches2 = add_weighted(np.matches2, m.length, m.module);
        if (np.last_match_end != -1 && m.match_start != np.last_match_end) ++np.chunks;
        np.idx = m.start + m.length;
        np.last_match_end = m.match_start + m.match_length;
        path.distance += std::abs(m.start - m.match_start);  // upstream: added to the parent, not np
        next.push_back(np);
      }
      // Skip this reference position.
      if (path.last_match_end != -1) {
        ++path.chunks;
        path.last_match_end = -1;
      }
      ++path.idx;
      next.push_back(path);
    }
    if (next.empty()) next.push_back(paths[0]);  // every state died: carry the best one on
  }
  stable_sort_paths(next);
  return next[0];
}

}  // namespace

AlignmentResult align_oracle(const Sentence& test_in, const Sentence& ref_in, int n_modules, const ParaphraseTable* para) {
  // Sentences built without finish_sentence get their hash arrays here.
  Sentence test_fixed, ref_fixed;
  const Sentence* tp = &test_in;
  const Sentence* rp = &ref_in;
  if (test_in.hash.size() != test_in.info.size()) {
    test_fixed = test_in;
    finish_sentence(test_fixed);
    tp = &test_fixed;
  }
  if (ref_in.hash.size() != ref_in.info.size()) {
    ref_fixed = ref_in;
    finish_sentence(ref_fixed);
    rp = &ref_fixed;
  }
  const Sentence& test = *tp;
  const Sentence& ref = *rp;
  thread_local Workspace ws;
  const std::size_t n1 = test.words.size(), n2 = ref.words.size();
  Stage& s = ws.stage;
  s.reset(n1, n2);

  int mods_used = n_modules;
  if (n1 == n2) {
    bool same = true;
    for (std::size_t i = 0; i < n1 && same; ++i) same = test.hash[i] == ref.hash[i];
    if (same) mods_used = 1;
  }
  for (int mod = 0; mod < mods_used; ++mod) {
    switch (mod) {
      case 0: match_exact(mod, test, ref, s); break;
      case 1: match_stem(mod, test, ref, s); break;
      case 2: match_synonym(mod, test, ref, s); break;
      case 3:
        if (para) match_paraphrase(mod, test, ref, *para, s);
        break;
      default: break;
    }
  }
  s.finish(n2);

  Arena& ar = ws.arena;
  ar.reset(n1, n2);
  Path start;
  start.block = ar.fresh();
  // One-to-one, non-overlapping matches are definite.
  for (std::size_t i = 0; i < n2; ++i) {
    if (s.count_at(i) != 1) continue;
    const int mi = s.order[static_cast<std::size_t>(s.begin[i])];
    const Match& m = s.pool[static_cast<std::size_t>(mi)];
    bool overlap = false;
    for (int k = 0; k < m.length; ++k)
      if (s.cover2[i + static_cast<std::size_t>(k)] != 1) overlap = true;
    for (int k = 0; k < m.match_length; ++k)
      if (s.cover1[static_cast<std::size_t>(m.match_start + k)] != 1) overlap = true;
    if (!overlap) {
      ar.matches(start.block)[i] = mi;
      ar.set_used(start.block, m);
    }
  }

  Path best = resolve(ws, start);
  const std::vector<int> chosen(ws.arena.matches(best.block), ws.arena.matches(best.block) + n2);

  AlignmentResult a;
  a.test_length = static_cast<int>(n1);
  a.ref_length = static_cast<int>(n2);
  for (std::size_t i = 0; i < n1; ++i) a.test_function += test.info[i]->function ? 1 : 0;
  for (std::size_t j = 0; j < n2; ++j) a.ref_function += ref.info[j]->function ? 1 : 0;
  for (std::size_t j = 0; j < n2; ++j) {
    if (chosen[j] < 0) continue;
    const Match& m = s.pool[static_cast<std::size_t>(chosen[j])];
    a.matches.push_back(m);
    for (int k = 0; k < m.match_length; ++k) {
      if (test.info[static_cast<std::size_t>(m.match_start + k)]->function) ++a.function1[static_cast<std::size_t>(m.module)];
      else ++a.content1[static_cast<std::size_t>(m.module)];
    }
    for (int k = 0; k < m.length; ++k) {
      if (ref.info[static_cast<std::size_t>(m.start + k)]->function) ++a.function2[static_cast<std::size_t>(m.module)];
      else ++a.content2[static_cast<std::size_t>(m.module)];
    }
  }
  // Chunks recounted over the final match array (Aligner.getCountAndChunks).
  int chunks = 0, last_end = -1;
  std::size_t idx = 0;
  while (idx < n2) {
    int mi = chosen[idx];
    if (mi < 0) {
      if (last_end != -1) {
        ++chunks;
        last_end = -1;
      }
      ++idx;
    } else {
      const Match& m = s.pool[static_cast<std::size_t>(mi)];
      if (last_end != -1 && m.match_start != last_end) ++chunks;
      idx = static_cast<std::size_t>(m.start + m.length);
      last_end = m.match_start + m.match_length;
    }
  }
  if (last_end != -1) ++chunks;
  a.chunks = chunks;
  return a;
}

}  // namespace glamm::meteor::oracle
