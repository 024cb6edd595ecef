#include "metrics/meteor/aligner.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "metrics/meteor/paraphrase.h"

namespace glamm::meteor {
namespace {

constexpr int kBeamSize = 40;
// Aligner weights METEOR's scorer installs for evaluation ("best weights for evaluation").
constexpr double kAlignerWeights[4] = {1.0, 0.5, 0.5, 0.5};

bool intersects(const std::vector<int>& a, const std::vector<int>& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return true;
    if (a[i] < b[j]) ++i;
    else ++j;
  }
  return false;
}

// Candidate matches per reference start position plus coverage counts (Stage.java).
struct Stage {
  std::vector<Match> pool;
  std::vector<std::vector<int>> at;  // per ref position: indices into pool, in insertion order
  std::vector<int> cover1, cover2;

  Stage(std::size_t n1, std::size_t n2) : at(n2), cover1(n1, 0), cover2(n2, 0) {}

  void add(const Match& m) {
    at[static_cast<std::size_t>(m.start)].push_back(static_cast<int>(pool.size()));
    pool.push_back(m);
    for (int k = 0; k < m.match_length; ++k) ++cover1[static_cast<std::size_t>(m.match_start + k)];
    for (int k = 0; k < m.length; ++k) ++cover2[static_cast<std::size_t>(m.start + k)];
  }
};

void match_exact(int stage, const Sentence& t, const Sentence& r, Stage& s) {
  for (std::size_t j = 0; j < r.words.size(); ++j)
    for (std::size_t i = 0; i < t.words.size(); ++i)
      if (t.info[i]->hash == r.info[j]->hash)
        s.add({static_cast<int>(j), 1, static_cast<int>(i), 1, stage});
}

void match_stem(int stage, const Sentence& t, const Sentence& r, Stage& s) {
  for (std::size_t j = 0; j < r.words.size(); ++j)
    for (std::size_t i = 0; i < t.words.size(); ++i)
      if (t.info[i]->stem_hash == r.info[j]->stem_hash && t.info[i]->hash != r.info[j]->hash)
        s.add({static_cast<int>(j), 1, static_cast<int>(i), 1, stage});
}

void match_synonym(int stage, const Sentence& t, const Sentence& r, Stage& s) {
  for (std::size_t j = 0; j < r.words.size(); ++j)
    for (std::size_t i = 0; i < t.words.size(); ++i)
      if (t.info[i]->hash != r.info[j]->hash && intersects(t.info[i]->synsets, r.info[j]->synsets))
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
      const std::vector<int>& words = pt.paraphrase(pidx);
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
      const std::vector<int>& words = pt.paraphrase(pidx);
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

// PartialAlignment.java
struct Path {
  std::vector<int> matches;  // per ref position: pool index of the match starting there, or -1
  std::vector<char> used1, used2;
  int matches1 = 0, matches2 = 0, chunks = 0, idx = 0, last_match_end = -1, distance = 0;

  bool is_used(const Match& m) const {
    for (int k = 0; k < m.length; ++k)
      if (used2[static_cast<std::size_t>(m.start + k)]) return true;
    for (int k = 0; k < m.match_length; ++k)
      if (used1[static_cast<std::size_t>(m.match_start + k)]) return true;
    return false;
  }
  void set_used(const Match& m) {
    for (int k = 0; k < m.length; ++k) used2[static_cast<std::size_t>(m.start + k)] = 1;
    for (int k = 0; k < m.match_length; ++k) used1[static_cast<std::size_t>(m.match_start + k)] = 1;
  }
};

// Constants.PARTIAL_COMPARE_TOTAL as a strict ordering: more weighted matches, then fewer chunks, then
// shorter distance. Used with std::stable_sort, which keeps ties in list order as Java's sort does.
bool path_before(const Path& x, const Path& y) {
  int mx = x.matches1 + x.matches2, my = y.matches1 + y.matches2;
  if (mx != my) return mx > my;
  if (x.chunks != y.chunks) return x.chunks < y.chunks;
  return x.distance < y.distance;
}

// Java compound assignment `int += double`: the sum truncated toward zero.
inline int add_weighted(int acc, int len, int module) {
  return static_cast<int>(acc + len * kAlignerWeights[module]);
}

Path resolve(const Stage& s, Path start) {
  const int n2 = static_cast<int>(s.at.size());
  std::vector<Path> paths, next;
  next.push_back(std::move(start));
  for (int current = 0; current <= n2; ++current) {
    paths.swap(next);
    next.clear();
    std::stable_sort(paths.begin(), paths.end(), path_before);
    const int limit = std::min<int>(kBeamSize, static_cast<int>(paths.size()));
    for (int rank = 0; rank < limit; ++rank) {
      Path& path = paths[static_cast<std::size_t>(rank)];
      if (current == n2) {  // complete: close the last chunk
        if (path.last_match_end != -1) ++path.chunks;
        next.push_back(std::move(path));
        continue;
      }
      if (path.used2[static_cast<std::size_t>(current)]) {
        if (current < path.idx) {
          next.push_back(std::move(path));
        } else if (path.matches[static_cast<std::size_t>(path.idx)] != -1) {  // fixed match
          const Match& m = s.pool[static_cast<std::size_t>(path.matches[static_cast<std::size_t>(path.idx)])];
          path.matches1 = add_weighted(path.matches1, m.match_length, m.module);
          path.matches2 = add_weighted(path.matches2, m.length, m.module);
          if (path.last_match_end != -1 && m.match_start != path.last_match_end) ++path.chunks;
          path.idx = m.start + m.length;
          path.last_match_end = m.match_start + m.match_length;
          path.distance += std::abs(m.start - m.match_start);
          next.push_back(std::move(path));
        }
        continue;
      }
      for (int mi : s.at[static_cast<std::size_t>(current)]) {
        const Match& m = s.pool[static_cast<std::size_t>(mi)];
        if (path.is_used(m)) continue;
        Path np = path;
        np.set_used(m);
        np.matches[static_cast<std::size_t>(current)] = mi;
        np.matches1 = add_weighted(np.matches1, m.match_length, m.module);
        np.matches2 = add_weighted(np.matches2, m.length, m.module);
        if (np.last_match_end != -1 && m.match_start != np.last_match_end) ++np.chunks;
        np.idx = m.start + m.length;
        np.last_match_end = m.match_start + m.match_length;
        path.distance += std::abs(m.start - m.match_start);  // upstream: added to the parent, not np
        next.push_back(std::move(np));
      }
      // Skip this reference position.
      if (path.last_match_end != -1) {
        ++path.chunks;
        path.last_match_end = -1;
      }
      ++path.idx;
      next.push_back(std::move(path));
    }
    if (next.empty()) next.push_back(paths[0]);  // every state died: carry the best one on
  }
  std::stable_sort(next.begin(), next.end(), path_before);
  return std::move(next[0]);
}

}  // namespace

AlignmentResult align(const Sentence& test, const Sentence& ref, int n_modules, const ParaphraseTable* para) {
  const std::size_t n1 = test.words.size(), n2 = ref.words.size();
  Stage s(n1, n2);

  int mods_used = n_modules;
  if (n1 == n2) {
    bool same = true;
    for (std::size_t i = 0; i < n1 && same; ++i) same = test.info[i]->hash == ref.info[i]->hash;
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

  Path start;
  start.matches.assign(n2, -1);
  start.used1.assign(n1, 0);
  start.used2.assign(n2, 0);
  // One-to-one, non-overlapping matches are definite.
  for (std::size_t i = 0; i < n2; ++i) {
    if (s.at[i].size() != 1) continue;
    const Match& m = s.pool[static_cast<std::size_t>(s.at[i][0])];
    bool overlap = false;
    for (int k = 0; k < m.length; ++k)
      if (s.cover2[i + static_cast<std::size_t>(k)] != 1) overlap = true;
    for (int k = 0; k < m.match_length; ++k)
      if (s.cover1[static_cast<std::size_t>(m.match_start + k)] != 1) overlap = true;
    if (!overlap) {
      start.matches[i] = s.at[i][0];
      start.set_used(m);
    }
  }

  Path best = resolve(s, std::move(start));

  AlignmentResult a;
  a.test_length = static_cast<int>(n1);
  a.ref_length = static_cast<int>(n2);
  for (std::size_t i = 0; i < n1; ++i) a.test_function += test.info[i]->function ? 1 : 0;
  for (std::size_t j = 0; j < n2; ++j) a.ref_function += ref.info[j]->function ? 1 : 0;
  for (std::size_t j = 0; j < n2; ++j) {
    if (best.matches[j] < 0) continue;
    const Match& m = s.pool[static_cast<std::size_t>(best.matches[j])];
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
    int mi = best.matches[idx];
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
