// METEOR 1.5's matchers and alignment search: reimplements edu.cmu.meteor.aligner.{Stage, ExactMatcher,
// StemMatcher, SynonymMatcher, ParaphraseMatcher, Aligner} for the English modules exact, stem, synonym
// [, paraphrase] with the evaluation settings (aligner weights 1.0/0.5/0.5/0.5, beam 40, PARTIAL_COMPARE_TOTAL).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace glamm::meteor {

class ParaphraseTable;

/// What the matchers need to know about one word (computed once per distinct word).
struct WordInfo {
  std::int32_t hash = 0;        ///< Java String.hashCode of the word (word identity in METEOR)
  std::int32_t stem_hash = 0;   ///< hashCode of its Snowball English stem
  bool function = false;        ///< in english.words
  int paraphrase_id = -1;       ///< ParaphraseTable vocabulary id, -1 if absent
  std::vector<int> synsets;     ///< synsets(w) ∪ stemSynsets(w), sorted, unique
  std::uint64_t synset_mask = 0;  ///< OR of 1 << (id % 64) over `synsets` (quick disjointness test)
};

/// A sentence as the aligner sees it: the words (after normalization, lowercasing, tokenizing) and their info.
struct Sentence {
  std::vector<std::string> words;
  std::vector<const WordInfo*> info;
  std::vector<std::int32_t> hash, stem_hash;  ///< copies of info[i]->hash / stem_hash, contiguous for the matchers
  /// Optional index for the synonym matcher when this sentence is the hypothesis (built by index_synsets;
  /// only for sentences of at most 64 words): synset id → bit set of word positions, sorted by id.
  std::vector<std::pair<int, std::uint64_t>> synset_index;
  std::array<std::uint64_t, 16> synset_bloom{};  ///< 1024-bit filter over the ids in synset_index
};

/// Fill `s.hash` and `s.stem_hash` from `s.info` (call after setting words and info).
void finish_sentence(Sentence& s);

/// Build `s.synset_index` (no-op for sentences longer than 64 words). Speeds up the synonym matcher when the
/// same hypothesis is aligned against several references; results are identical with or without it.
void index_synsets(Sentence& s);

/// One match (Match.java): `start/length` on the reference (line2), `match_start/match_length` on the
/// hypothesis (line1), `module` = stage index 0..3.
struct Match {
  int start = 0, length = 0, match_start = 0, match_length = 0, module = 0;
};

/// The chosen alignment and its counts (Alignment.java fields the scorer uses).
struct AlignmentResult {
  int test_length = 0, ref_length = 0;
  int test_function = 0, ref_function = 0;
  std::array<int, 4> content1{}, content2{}, function1{}, function2{};  ///< per module, test (1) and ref (2)
  int chunks = 0;
  std::vector<Match> matches;  ///< chosen matches in reference order (for debugging)
};

/// Size limits of one alignment (docs/input-rules.md, "METEOR: long captions"). The matchers compare every word
/// pair and the beam search visits every candidate match 40 times, so these bound the work to a few seconds and a
/// few hundred MB; beyond them align() throws InputError instead of running for minutes or exhausting memory.
constexpr long long kMaxWordPairs = 1LL << 30;         ///< hypothesis words × reference words
constexpr std::size_t kMaxCandidateMatches = 8u << 20;  ///< matches found by all modules together (8,388,608)

/// Align hypothesis `test` (line1) against reference `ref` (line2) with `n_modules` modules (3: exact stem
/// synonym; 4: + paraphrase, which needs `para`). Follows Aligner.align: identical sentences use only the
/// exact module; fixed one-to-one matches are taken first; then the beam search (beam 40) with Java int
/// truncation of weighted match counts, stable sorting, the parent-distance bug and the carry-on rule.
/// Throws InputError (no file or record: callers add them) when the sentences exceed kMaxWordPairs or their
/// candidate matches exceed kMaxCandidateMatches. Memory O(n1 + n2 + matches + 40 · n2), time O(n1 · n2 + 40 ·
/// matches · match length).
AlignmentResult align(const Sentence& test, const Sentence& ref, int n_modules, const ParaphraseTable* para);

}  // namespace glamm::meteor
