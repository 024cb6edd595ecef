// The delta-state METEOR aligner (metrics/meteor/aligner.cpp) against the former array-copying beam search kept in
// aligner_oracle.cpp: same chosen matches, chunks and per-module counts on seeded random sentences — short and long
// (up to ~20 KB of text), repetitive and not, with stem, synonym and paraphrase matches from a synthetic vocabulary.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/meteor/aligner.h"
#include "metrics/meteor/paraphrase.h"
#include "tests/metrics/meteor/aligner_oracle.h"

namespace {

using namespace glamm::meteor;

// A synthetic vocabulary "v0".."v<n-1>": words i and i+1 share a stem when i % 5 == 0, synsets drawn from a small
// pool (so synonym matches are frequent), every 4th word a function word, paraphrase ids from `para`.
struct Vocab {
  std::vector<std::string> words;
  std::vector<std::unique_ptr<WordInfo>> info;
  Vocab(int n, std::mt19937& rng, const ParaphraseTable* para) {
    std::uniform_int_distribution<int> syn(0, 11), count(0, 2);
    for (int i = 0; i < n; ++i) {
      words.push_back("v" + std::to_string(i));
      auto w = std::make_unique<WordInfo>();
      w->hash = 1000003 * i + 17;
      w->stem_hash = (i % 5 == 1) ? 1000003 * (i - 1) + 17 : w->hash;
      w->function = i % 4 == 0;
      const int k = count(rng);
      for (int j = 0; j < k; ++j) w->synsets.push_back(syn(rng));
      std::sort(w->synsets.begin(), w->synsets.end());
      w->synsets.erase(std::unique(w->synsets.begin(), w->synsets.end()), w->synsets.end());
      for (int id : w->synsets) w->synset_mask |= std::uint64_t{1} << (id % 64);
      w->paraphrase_id = para ? para->translate(words.back()) : -1;
      info.push_back(std::move(w));
    }
  }
  Sentence sentence(const std::vector<int>& ids, bool hypothesis) const {
    Sentence s;
    for (int id : ids) {
      s.words.push_back(words[static_cast<std::size_t>(id)]);
      s.info.push_back(info[static_cast<std::size_t>(id)].get());
    }
    finish_sentence(s);
    if (hypothesis) index_synsets(s);  // as the scorer does for the hypothesis
    return s;
  }
};

// Words drawn uniformly from the first `vocab` words, or a random block of `period` words repeated.
std::vector<int> random_ids(std::mt19937& rng, int n, int vocab, int period) {
  std::uniform_int_distribution<int> pick(0, vocab - 1);
  std::vector<int> ids;
  if (period <= 0) {
    for (int i = 0; i < n; ++i) ids.push_back(pick(rng));
  } else {
    std::vector<int> block;
    for (int i = 0; i < period; ++i) block.push_back(pick(rng));
    for (int i = 0; i < n; ++i) ids.push_back(block[static_cast<std::size_t>(i % period)]);
    if (n > 0 && pick(rng) % 2 == 0) ids[static_cast<std::size_t>(pick(rng)) % ids.size()] = pick(rng);  // a glitch
  }
  return ids;
}

std::size_t text_bytes(const Sentence& s) {
  std::size_t b = 0;
  for (const auto& w : s.words) b += w.size() + 1;
  return b;
}

void expect_same(const AlignmentResult& a, const AlignmentResult& o, const std::string& what) {
  ASSERT_EQ(a.matches.size(), o.matches.size()) << what;
  for (std::size_t k = 0; k < a.matches.size(); ++k) {
    const Match& x = a.matches[k];
    const Match& y = o.matches[k];
    ASSERT_TRUE(x.start == y.start && x.length == y.length && x.match_start == y.match_start &&
                x.match_length == y.match_length && x.module == y.module)
        << what << " match " << k;
  }
  EXPECT_EQ(a.chunks, o.chunks) << what;
  EXPECT_EQ(a.test_length, o.test_length) << what;
  EXPECT_EQ(a.ref_length, o.ref_length) << what;
  EXPECT_EQ(a.test_function, o.test_function) << what;
  EXPECT_EQ(a.ref_function, o.ref_function) << what;
  EXPECT_EQ(a.content1, o.content1) << what;
  EXPECT_EQ(a.content2, o.content2) << what;
  EXPECT_EQ(a.function1, o.function1) << what;
  EXPECT_EQ(a.function2, o.function2) << what;
}

// Paraphrases among the first words of the vocabulary, in both directions and of several lengths.
ParaphraseTable tiny_paraphrases() {
  return ParaphraseTable::parse(
      "0.5\nv1 v2\nv3\n"
      "0.5\nv3\nv1 v2\n"
      "0.4\nv4 v5 v6\nv7 v8\n"
      "0.3\nv2\nv9 v10\n"
      "0.3\nv11 v12\nv13 v14\n"
      "0.2\nv5\nv6\n",
      "tiny-paraphrase");
}

struct Case {
  int n_test, n_ref, vocab, test_period, ref_period;
};

void run_cases(const std::vector<Case>& cases, int repeats, unsigned seed, long long* matched = nullptr) {
  const ParaphraseTable para = tiny_paraphrases();
  std::mt19937 rng(seed);
  for (const Case& c : cases) {
    for (int r = 0; r < repeats; ++r) {
      Vocab v(std::max(c.vocab, 16), rng, &para);
      const Sentence t = v.sentence(random_ids(rng, c.n_test, c.vocab, c.test_period), true);
      const Sentence f = v.sentence(random_ids(rng, c.n_ref, c.vocab, c.ref_period), false);
      for (int mods : {3, 4}) {
        const AlignmentResult a = align(t, f, mods, &para);
        const AlignmentResult o = oracle::align_oracle(t, f, mods, &para);
        const std::string what = "seed " + std::to_string(seed) + " test " + std::to_string(c.n_test) + " (" +
                                 std::to_string(text_bytes(t)) + " B) ref " + std::to_string(c.n_ref) + " vocab " +
                                 std::to_string(c.vocab) + " periods " + std::to_string(c.test_period) + "/" +
                                 std::to_string(c.ref_period) + " modules " + std::to_string(mods) + " try " +
                                 std::to_string(r);
        expect_same(a, o, what);
        if (matched) *matched += static_cast<long long>(a.matches.size());
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

TEST(MeteorAlignerOracle, SmallAndMediumRandomSentencesAlignAsTheOracle) {
  std::vector<Case> cases;
  for (int n : {0, 1, 2, 5, 9, 14, 23, 40, 64, 65, 90})
    for (int m : {0, 1, 3, 8, 15, 30, 70})
      for (int vocab : {3, 8, 20, 60}) cases.push_back({n, m, vocab, 0, 0});
  long long matched = 0;
  run_cases(cases, 2, 20261207u, &matched);
  EXPECT_GT(matched, 5000);  // the sentences do share words: the comparison is not vacuous
}

TEST(MeteorAlignerOracle, RepetitiveSentencesAlignAsTheOracle) {
  std::vector<Case> cases;
  for (int n : {30, 120, 400})
    for (int m : {6, 12, 40, 120})
      for (int period : {1, 2, 6, 11}) cases.push_back({n, m, 20, period, m % 3 == 0 ? period : 0});
  run_cases(cases, 1, 7u);
}

TEST(MeteorAlignerOracle, LongHypothesesUpToTwentyKilobytesAlignAsTheOracle) {
  // ~3,600 words of 5-6 bytes ≈ 20 KB: a looping caption (period 40: each word ~90 times) and an ordinary
  // long text, each against a caption-sized reference; and a 2 KB hypothesis against a 2 KB reference.
  run_cases({{3600, 12, 60, 40, 0}, {3600, 15, 3000, 0, 0}, {380, 360, 200, 0, 0}, {380, 360, 30, 7, 0}}, 1, 99u);
}

}  // namespace
