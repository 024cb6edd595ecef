#include "metrics/meteor/aligner.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "common/error.h"
#include "metrics/meteor/paraphrase.h"

namespace glamm::meteor {
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
    if (pool.size() == kMaxCandidateMatches) too_many();
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
  [[noreturn]] void too_many() const {
    throw InputError("", "", "METEOR: hypothesis of " + std::to_string(cover1.size()) + " words against a reference of " +
                                 std::to_string(cover2.size()) + " words has more than " +
                                 std::to_string(kMaxCandidateMatches) +
                                 " candidate word matches, the aligner's limit (docs/input-rules.md, METEOR: long captions)");
  }

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

// PartialAlignment.java without its arrays. Java copies the match array and both "used" arrays (O(n) each) into
// every new search state; here a state holds only its scalars, the match it added is a node of a shared history
// list (parent pointer + reference position + match), and the coverage bit sets are materialized only for the
// (at most kBeamSize) states that survive a level. Memory is O(n · beam), work per candidate state O(match length).
struct Path {
  int matches1 = 0, matches2 = 0, chunks = 0, idx = 0, last_match_end = -1, distance = 0;
  int node = -1;  ///< last history node of this state (-1: only the fixed matches)
};

// One history node: the state chose match `mi` at reference position `pos`; `prev` is the node before it.
struct Node {
  int prev, pos, mi;
};

// A candidate of the next level: the new scalars, the beam slot of its parent and the match it adds (-1: none).
struct Cand {
  Path p;
  int parent = 0, add = -1;
};

// Constants.PARTIAL_COMPARE_TOTAL as a strict ordering: more weighted matches, then fewer chunks, then
// shorter distance. Java sorts the next level stably (Collections.sort) and keeps the first kBeamSize states.
inline bool path_before(const Path& x, const Path& y) {
  int mx = x.matches1 + x.matches2, my = y.matches1 + y.matches2;
  if (mx != my) return mx > my;
  if (x.chunks != y.chunks) return x.chunks < y.chunks;
  return x.distance < y.distance;
}

// The first kBeamSize candidates of a stable sort, kept while candidates arrive in list order: a newcomer goes
// after every kept candidate that is not worse than it (ties keep list order) and is refused when the set is
// full and the last kept one is not worse. Identical to sorting the whole list stably and truncating it.
struct TopK {
  std::vector<Cand> top;
  std::size_t generated = 0;
  void clear() {
    top.clear();
    generated = 0;
  }
  void offer(const Cand& c) {
    ++generated;
    if (top.size() == static_cast<std::size_t>(kBeamSize) && !path_before(c.p, top.back().p)) return;
    std::size_t pos = top.size();
    while (pos > 0 && path_before(c.p, top[pos - 1].p)) --pos;
    if (top.size() == static_cast<std::size_t>(kBeamSize)) top.pop_back();
    top.insert(top.begin() + static_cast<std::ptrdiff_t>(pos), c);
  }
};

// Java compound assignment `int += double`: the sum truncated toward zero.
inline int add_weighted(int acc, int len, int module) {
  return static_cast<int>(acc + len * kAlignerWeights[module]);
}

// Coverage bit sets of the beam: slot r holds used1 (hypothesis, w1 words) then used2 (reference, w2 words).
struct BeamBits {
  std::size_t w1 = 0, w2 = 0;
  std::vector<std::uint64_t> bits;
  void reset(std::size_t n1, std::size_t n2, std::size_t slots) {
    w1 = (n1 + 63) / 64, w2 = (n2 + 63) / 64;
    bits.assign(slots * (w1 + w2), 0);
  }
  std::uint64_t* slot(std::size_t r) { return bits.data() + r * (w1 + w2); }
  const std::uint64_t* slot(std::size_t r) const { return bits.data() + r * (w1 + w2); }
  static bool test(const std::uint64_t* b, int k) { return (b[k >> 6] >> (k & 63)) & 1u; }
  static void set(std::uint64_t* b, int k) { b[k >> 6] |= std::uint64_t{1} << (k & 63); }
  bool used2(std::size_t r, int j) const { return test(slot(r) + w1, j); }
  bool is_used(std::size_t r, const Match& m) const {
    const std::uint64_t* u1 = slot(r);
    const std::uint64_t* u2 = u1 + w1;
    for (int k = 0; k < m.length; ++k)
      if (test(u2, m.start + k)) return true;
    for (int k = 0; k < m.match_length; ++k)
      if (test(u1, m.match_start + k)) return true;
    return false;
  }
  void set_used(std::size_t r, const Match& m) {
    std::uint64_t* u1 = slot(r);
    std::uint64_t* u2 = u1 + w1;
    for (int k = 0; k < m.length; ++k) set(u2, m.start + k);
    for (int k = 0; k < m.match_length; ++k) set(u1, m.match_start + k);
  }
};

struct Workspace {
  Stage stage;
  std::vector<int> fixed;      // fixed one-to-one matches per reference position (-1: none), shared by all states
  std::vector<Node> history;   // grows by at most kBeamSize nodes per level
  std::vector<Path> beam;      // the surviving states of the current level, in sorted order
  BeamBits bits, spare;        // their coverage sets (slot r ↔ beam[r])
  TopK next;
};

// Aligner.resolve's beam search over reference positions 0..n2 (see the header): `ws.beam` holds the start state
// (slot 0 of `ws.bits`); returns the best complete state.
Path resolve(Workspace& ws, std::size_t n1, std::size_t n2) {
  const Stage& s = ws.stage;
  TopK& next = ws.next;
  for (int current = 0; current <= static_cast<int>(n2); ++current) {
    next.clear();
    const int limit = static_cast<int>(ws.beam.size());
    for (int rank = 0; rank < limit; ++rank) {
      Path path = ws.beam[static_cast<std::size_t>(rank)];
      const std::size_t r = static_cast<std::size_t>(rank);
      if (current == static_cast<int>(n2)) {  // complete: close the last chunk
        if (path.last_match_end != -1) ++path.chunks;
        next.offer({path, rank, -1});
        continue;
      }
      if (ws.bits.used2(r, current)) {
        if (current < path.idx) {
          next.offer({path, rank, -1});
        } else if (ws.fixed[static_cast<std::size_t>(path.idx)] != -1) {  // fixed match
          const Match& m = s.pool[static_cast<std::size_t>(ws.fixed[static_cast<std::size_t>(path.idx)])];
          path.matches1 = add_weighted(path.matches1, m.match_length, m.module);
          path.matches2 = add_weighted(path.matches2, m.length, m.module);
          if (path.last_match_end != -1 && m.match_start != path.last_match_end) ++path.chunks;
          path.idx = m.start + m.length;
          path.last_match_end = m.match_start + m.match_length;
          path.distance += std::abs(m.start - m.match_start);
          next.offer({path, rank, -1});
        }
        continue;
      }
      for (int k = s.begin[static_cast<std::size_t>(current)]; k < s.begin[static_cast<std::size_t>(current) + 1]; ++k) {
        const int mi = s.order[static_cast<std::size_t>(k)];
        const Match& m = s.pool[static_cast<std::size_t>(mi)];
        if (ws.bits.is_used(r, m)) continue;
        Cand c{path, rank, mi};
        Path& np = c.p;
        np.matches1 = add_weighted(np.matches1, m.match_length, m.module);
        np.matches2 = add_weighted(np.matches2, m.length, m.module);
        if (np.last_match_end != -1 && m.match_start != np.last_match_end) ++np.chunks;
        np.idx = m.start + m.length;
        np.last_match_end = m.match_start + m.match_length;
        path.distance += std::abs(m.start - m.match_start);  // upstream: added to the parent, not np
        next.offer(c);
      }
      // Skip this reference position.
      if (path.last_match_end != -1) {
        ++path.chunks;
        path.last_match_end = -1;
      }
      ++path.idx;
      next.offer({path, rank, -1});
    }
    if (next.generated == 0) next.offer({ws.beam[0], 0, -1});  // every state died: carry the best one on
    // Materialize the survivors: coverage copied from the parent plus the added match, one history node each.
    ws.spare.reset(n1, n2, next.top.size());
    ws.beam.clear();
    for (std::size_t q = 0; q < next.top.size(); ++q) {
      Cand& c = next.top[q];
      std::copy_n(ws.bits.slot(static_cast<std::size_t>(c.parent)), ws.bits.w1 + ws.bits.w2, ws.spare.slot(q));
      if (c.add >= 0) {
        ws.spare.set_used(q, s.pool[static_cast<std::size_t>(c.add)]);
        ws.history.push_back({c.p.node, current, c.add});
        c.p.node = static_cast<int>(ws.history.size()) - 1;
      }
      ws.beam.push_back(c.p);
    }
    std::swap(ws.bits, ws.spare);
  }
  return ws.beam[0];
}

}  // namespace

void finish_sentence(Sentence& s) {
  s.hash.resize(s.info.size());
  s.stem_hash.resize(s.info.size());
  for (std::size_t i = 0; i < s.info.size(); ++i) {
    s.hash[i] = s.info[i]->hash;
    s.stem_hash[i] = s.info[i]->stem_hash;
  }
}

void index_synsets(Sentence& s) {
  s.synset_index.clear();
  s.synset_bloom.fill(0);
  if (s.words.size() > 64) return;
  for (std::size_t i = 0; i < s.words.size(); ++i)
    for (int id : s.info[i]->synsets) s.synset_index.emplace_back(id, std::uint64_t{1} << i);
  std::sort(s.synset_index.begin(), s.synset_index.end());
  std::size_t w = 0;
  for (std::size_t k = 0; k < s.synset_index.size(); ++k) {
    if (w > 0 && s.synset_index[w - 1].first == s.synset_index[k].first) s.synset_index[w - 1].second |= s.synset_index[k].second;
    else s.synset_index[w++] = s.synset_index[k];
  }
  s.synset_index.resize(w);
  for (const auto& e : s.synset_index) {
    const unsigned k = bloom_bit(e.first);
    s.synset_bloom[k >> 6] |= std::uint64_t{1} << (k & 63);
  }
}

AlignmentResult align(const Sentence& test_in, const Sentence& ref_in, int n_modules, const ParaphraseTable* para) {
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
  if (static_cast<long long>(n1) * static_cast<long long>(n2) > kMaxWordPairs)
    throw InputError("", "", "METEOR: hypothesis of " + std::to_string(n1) + " words against a reference of " +
                                 std::to_string(n2) + " words is over the aligner's limit of " +
                                 std::to_string(kMaxWordPairs) + " word pairs (docs/input-rules.md, METEOR: long captions)");
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

  ws.fixed.assign(n2 + 1, -1);  // + 1: a state may look up idx == n2
  ws.history.clear();
  ws.bits.reset(n1, n2, 1);
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
      ws.fixed[i] = mi;
      ws.bits.set_used(0, m);
    }
  }
  ws.beam.assign(1, Path{});

  const Path best = resolve(ws, n1, n2);
  std::vector<int> chosen(ws.fixed.begin(), ws.fixed.begin() + static_cast<std::ptrdiff_t>(n2));
  for (int nd = best.node; nd >= 0; nd = ws.history[static_cast<std::size_t>(nd)].prev)
    chosen[static_cast<std::size_t>(ws.history[static_cast<std::size_t>(nd)].pos)] = ws.history[static_cast<std::size_t>(nd)].mi;

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

}  // namespace glamm::meteor
