// SPICE-style corpus scoring: captions → Link Grammar tuples → SPICE scene graphs (all references of an image
// merged into one graph, the candidate in its own) → SPICE's per-image P/R/F and subsets → mean over images as
// pycocoevalcap reports it (np.mean of scores['All']['f']). Follows spice-1.0 SpiceScorer / SpiceStats with the
// parser replaced (spice-style-parser-notes.md). Always report it as "SPICE-style (Link Grammar parser)".
#pragma once

#include <string>
#include <vector>

#include "metrics/spice/lg_parser.h"
#include "metrics/spice/scene_graph.h"

namespace glamm::spice {

/// The signature name of this metric (never plain "SPICE").
inline constexpr const char* kMetricName = "SPICE-style (Link Grammar parser)";

/// One image: its candidate caption and reference captions (already tokenized/lowercased as SPICE receives them).
struct ImageInput {
  std::string id;
  std::string candidate;
  std::vector<std::string> refs;
};

/// How the unique captions of a corpus were parsed (each distinct caption string counted once).
struct ParseCounts {
  int complete = 0;          ///< full linkage, caption as given
  int with_prefix = 0;       ///< full linkage after a restored leading article ("a ") and/or an "it shows " /
                             ///< "this is " / "there are " prefix
  int null_links = 0;        ///< linkage with null links (unlinked nouns added as objects)
  int nouns_only = 0;        ///< no linkage or too long: objects from known nouns only
  int empty = 0;             ///< empty caption (no tuples)
  int total() const { return complete + with_prefix + null_links + nouns_only + empty; }
};

struct ImageScore {
  std::string id;
  std::vector<Evaluation> scores;  ///< kSubsets order ("All" first)
};

struct CorpusScore {
  double spice = 0;                   ///< mean over images of the "All" F (pycocoevalcap's SPICE value)
  std::vector<Evaluation> average;    ///< SpiceStats.macroAverage per subset, kSubsets order
  std::vector<ImageScore> per_image;  ///< input order
  ParseCounts counts;
};

/// Score a corpus. `threads` ≥ 1 parse distinct captions in parallel (results do not depend on it).
/// Empty input → spice 0 and no images.
CorpusScore score_corpus(const LinkParser& parser, const SynsetLookup& synsets, const std::vector<ImageInput>& images,
                         int threads = 1);

}  // namespace glamm::spice
