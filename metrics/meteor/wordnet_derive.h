// METEOR 1.5's English synonym resources (english.synsets, english.exceptions) derived from a WordNet 3.0 database
// in Debian's wordnet-base layout (data.{noun,verb,adj,adv}, {adj,adv,noun,verb}.exc), byte for byte as METEOR
// ships them. The build runs this once (metrics/meteor/tools/derive_meteor_resources.cpp) and the product reads
// the result from share/glamm-eval/meteor (origin and licences: metrics/meteor/data/README.md).
#pragma once

#include <string>
#include <vector>

namespace glamm::meteor::wordnet {

/// The text of one WordNet file and the name used in error messages (normally its path).
struct SourceText {
  std::string name;
  std::string text;
};

/// The eight WordNet 3.0 files the derivation reads.
struct Files {
  SourceText data_noun, data_verb, data_adj, data_adv;  ///< data.noun, data.verb, data.adj, data.adv
  SourceText exc_adj, exc_adv, exc_noun, exc_verb;      ///< adj.exc, adv.exc, noun.exc, verb.exc

  /// Read the eight files from `dir` (e.g. /usr/share/wordnet). Throws InputError naming a missing or unreadable
  /// file.
  static Files read(const std::string& dir);
};

/// One correction from a Debian synset offset to METEOR's id: offsets in [from, to) of the data file of `pos`
/// ("noun", "verb", "adj", "adv") get `delta` added.
struct OffsetShift {
  const char* pos;
  long from, to;  ///< to = std::numeric_limits<long>::max(): up to the end of the file
  long delta;
};

/// METEOR's ids are the synset byte offsets of a copy of WordNet 3.0 whose data files differ slightly from
/// Debian's wordnet-base (1:3.0): adjective offsets from 1681478 on are one less, verb offsets in
/// [613036, 2422967) 18 less; all other offsets are equal. The derivation checks that a synset starts at each
/// boundary (a different layout is rejected instead of giving wrong ids).
const std::vector<OffsetShift>& meteor_offset_shifts();

/// english.synsets as METEOR 1.5 ships it, from the four data files.
///
/// Every word of every synset becomes a lemma: its adjective marker ("(a)", "(p)", "(ip)") removed, ASCII letters
/// lower-cased, underscores kept (multiword lemmas are written "ice_cream"). The file holds, for each lemma in
/// byte order, two lines: the lemma, then the ids of its synsets as 8-digit offsets separated by one space. The
/// part of speech is dropped (METEOR's behaviour: a noun and an adjective synset at the same offset are one id),
/// offsets are corrected with meteor_offset_shifts(), and ids are listed in the order of the WordNet sense keys
/// `lemma%ss_type:lex_filenum:lex_id:head_word:head_id` (compared as strings; ss_type 1 noun, 2 verb, 3 adjective,
/// 4 adverb, 5 adjective satellite, whose head is the first word of the adjective its "&" pointer names), each id
/// once (first occurrence kept). Every line ends with "\n".
/// Throws InputError(file, "line N", ...) on a malformed data line, a satellite without a head adjective, or a
/// layout the offset corrections do not fit.
std::string derive_synsets(const Files& files);

/// english.exceptions as METEOR 1.5 ships it: WordNet's exception lists inverted. Each .exc line
/// "form base1 base2 ..." adds `form` to each base; bases are listed in byte order, each as two lines (the base,
/// then its forms separated by one space in the order met over adj.exc, adv.exc, noun.exc, verb.exc, line by line).
/// Repeated forms are kept (noun.exc lists "diastemata diastema" twice; "well" gets "better" from adj.exc and
/// adv.exc). Throws InputError(file, "line N", ...) on a line with fewer than two fields.
std::string derive_exceptions(const Files& files);

}  // namespace glamm::meteor::wordnet
