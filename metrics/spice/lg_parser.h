// SPICE-style caption → tuples with the CMU Link Grammar parser (Debian liblink-grammar 5.12, English 4.0.dict)
// in place of SPICE's CoreNLP 3.6.0 PCFG + SceneGraphParser rules. Settings, fallbacks, link → tuple mapping and
// attachment rules follow specs/spice-style-parser-notes.md §§1–2, §5; the tuple kinds follow SPICE's
// SpiceParser rules (specs/caption-metrics.md §6). Not bit-exact with SPICE: report it as
// "SPICE-style (Link Grammar parser)".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "metrics/spice/scene_graph.h"

namespace glamm::spice {

class Lemmatizer;

/// Revision of the caption → tuple rules (re-ranking penalties, caption variants, linkage repairs, link → tuple
/// mapping). Records name it in their signature, so scores from different rule sets are told apart. 2: the issue #17
/// rules (restored leading article, noun + participle repair, variant choice by penalty).
inline constexpr int kRulesRevision = 2;

/// Parser settings (defaults = the notes' recommended pipeline).
struct ParserOptions {
  int linkage_limit = 300;    ///< LG linkage_limit (repeatable sampling). The notes use 1000; 300 costs
                              ///< ~35 % less CPU on COCO and keeps the notes' 30 examples at F 0.912 (0.917 at 1000)
  int short_length = 16;      ///< LG short_length
  int max_parse_time_s = 5;   ///< LG max_parse_time per attempt
  int rerank_linkages = 10;   ///< how many of the sorted linkages the re-ranker looks at
  int max_words = 60;         ///< captions longer than this skip the parser (noun-only fallback)
  bool prefix_fallback = true;  ///< "it shows " / "this is " / "there are " before null links
};

/// How a caption was parsed.
enum class ParseMode {
  Complete,   ///< a linkage with no null link (caption as given or with a prefix)
  NullLinks,  ///< only linkages with null links; unlinked nouns are added as objects
  NounsOnly,  ///< parser not used or gave nothing (empty, too long, no linkage): objects from known nouns only
};

/// One caption's tuples. Tuples are in SceneGraph.addTuple order: (obj), (obj, attr), (subj, obj, predicate).
struct CaptionParse {
  std::vector<RawTuple> tuples;
  ParseMode mode = ParseMode::NounsOnly;
  std::string prefix;  ///< the prefix used ("" or "it shows " ...)
  int null_count = 0;
};

/// Readable tuple for tests and reports: "(a)", "(a, b)", "(subj, predicate, obj)" (SPICE's display order).
std::string display(const RawTuple& t);

/// The Link Grammar front end. The dictionary is loaded once (≈0.15 s); parse() is thread-safe.
class LinkParser {
 public:
  /// Throws glamm::InputError when the English dictionary or the WordNet files cannot be loaded.
  explicit LinkParser(ParserOptions opt = {}, const std::string& wordnet_dir = "");
  ~LinkParser();
  LinkParser(const LinkParser&) = delete;
  LinkParser& operator=(const LinkParser&) = delete;

  /// Tuples of one caption (lowercased, PTB-tokenized, punctuation-stripped as SPICE receives it from
  /// pycocoevalcap; other text is lowercased and split on spaces). Never throws for bad text: empty input gives
  /// no tuples, unparsable input falls back to nouns only (see ParseMode). A caption that starts with a singular
  /// noun or an adjective and no determiner is parsed with "a " restored; complete linkages are tried for the
  /// caption variants (article restored, as given, "it shows " / "this is " / "there are " prefixes) and the one with
  /// the lowest re-ranking penalty wins (the first with none); a noun + "-ing" compound linkage is read as noun +
  /// participle (bench/README.md, "SPICE-style against real SPICE").
  CaptionParse parse(const std::string& caption) const;

  const Lemmatizer& lemmatizer() const;
  /// "link-grammar <version> <dictionary version>".
  std::string version() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glamm::spice
