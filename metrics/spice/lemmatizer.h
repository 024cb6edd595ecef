// A small WordNet "morphy" lemmatizer over a WordNet 3.0 database folder (Debian wordnet-base:
// index.{noun,verb,adj,adv} and {noun,verb,adj,adv}.exc), used to approximate CoreNLP's lemmas for SPICE-style
// tuples (spice-style-parser-notes.md §2 "Lemmas"). Follows WordNet's morphy (morph.c): exception list, then the
// word itself if it is a lemma, then the detachment rules of its part of speech; plus a comparative/superlative
// → base rule for adjectives (CoreNLP's JJR/JJS lemmas, e.g. older → old, bigger → big).
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>

namespace glamm::spice {

enum class Pos { Noun, Verb, Adj, Adv };

class Lemmatizer {
 public:
  /// Load from `wordnet_dir` (index.* and *.exc). Throws glamm::InputError naming the missing/unreadable file.
  explicit Lemmatizer(const std::string& wordnet_dir);

  /// Default WordNet folder: env GLAMM_WORDNET if set, else /usr/share/wordnet (Debian wordnet-base).
  static std::string default_dir();

  /// The lemma of lowercase `word` as `pos` (the word itself when no rule applies). Nouns ending in "s" try the
  /// plural rules before the "word is itself a lemma" check (CoreNLP-like: cows → cow). Thread-safe (const).
  std::string lemma(const std::string& word, Pos pos) const;
  /// Comparative/superlative adjective (LG .a-c / .a-s) → base form: morphy's er/est rules without the
  /// "word is itself a lemma" shortcut, plus undoubling (bigger → big); the word itself when nothing applies.
  std::string adjective_base(const std::string& word) const;
  /// True when `word` is a lemma of `pos` in the index (or an inflected form morphy can reduce to one).
  bool known(const std::string& word, Pos pos) const;

 private:
  std::unordered_set<std::string> index_[4];
  std::unordered_map<std::string, std::string> exc_[4];
};

}  // namespace glamm::spice
