// N-gram counting shared by BLEU and CIDEr-D: every sentence split with Python str.split() and cooked into
// counts of its 1..4-grams, kept in first-occurrence order (the insertion order of the Python dicts, which fixes
// the floating-point summation order of CIDEr-D's norms and dot products).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glamm::caption {

/// Highest n-gram order used by BLEU and CIDEr-D.
constexpr int kMaxNgram = 4;

/// One n-gram of a sentence with its count in that sentence.
struct NgramCount {
  std::uint32_t id;     ///< corpus-wide n-gram id (equal ids ⇔ equal token sequences of equal order)
  std::uint32_t count;  ///< occurrences in the sentence (≥ 1)
};

/// A sentence cooked like precook() in bleu_scorer.py / cider_scorer.py: its token count and, per order
/// n = 1..4, its distinct n-grams in order of first occurrence (entries[begin[n-1] .. begin[n])).
struct CookedSentence {
  std::uint32_t length = 0;  ///< number of tokens (len(s.split()))
  std::vector<NgramCount> entries;
  std::uint32_t begin[kMaxNgram + 1] = {0, 0, 0, 0, 0};

  const NgramCount* order_begin(int n) const { return entries.data() + begin[n - 1]; }
  const NgramCount* order_end(int n) const { return entries.data() + begin[n]; }
};

/// The evaluated corpus in n-gram form: one hypothesis and ≥ 1 references per image, in evaluation order.
struct NgramCorpus {
  std::vector<CookedSentence> hyps;               ///< hyps[i]: the hypothesis of image i
  std::vector<std::vector<CookedSentence>> refs;  ///< refs[i][j]: reference j of image i
  std::uint32_t num_ngrams = 0;                   ///< ids are in [0, num_ngrams)
};

/// Cook hypotheses and references (parallel arrays indexed by image, in evaluation order). Each string is split
/// with Python str.split() semantics. Throws glamm::InputError when the arrays differ in length or an image has
/// no reference (pycocoevalcap asserts ≥ 1 reference per image). Serial (n-gram ids are interned in one table).
NgramCorpus cook_corpus(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs);

}  // namespace glamm::caption
