// METEOR 1.5 (English, `-l en -norm`, default "rank" task) as pycocoevalcap's coco build runs it:
// normalization, exact/stem/synonym/paraphrase matching, the upstream beam-search aligner and the score from
// sufficient statistics, number for number. Reimplements cmu-mtlab/meteor @ 57a9ec5 (Normalizer, Aligner,
// the matchers, MeteorScorer.computeMetrics, MeteorStats.addStats); see specs/caption-metrics.md §5.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "metrics/meteor/word_table.h"

namespace glamm::meteor {

/// METEOR's 23 sufficient statistics in METEOR's order:
///   [0] tstLen [1] refLen [2] tstFuncWords [3] refFuncWords,
///   modules 1..4 × (tstContent refContent tstFunction refFunction) at [4 + 4*m .. 7 + 4*m],
///   [20] chunks [21] tstWordMatches [22] refWordMatches.
/// All values are non-negative integers stored as doubles (as METEOR prints them).
struct Stats {
  std::array<double, 23> v{};
  /// Space-separated values in Java Double.toString format ("10.0"), as METEOR's SCORE reply prints them.
  std::string to_string() const;
};

class ParaphraseTable;  // defined in paraphrase.h

/// METEOR's English language resources and where they came from (for the metric signature).
struct Resources {
  std::string synsets_source, exceptions_source, function_words_source, prefixes_source;
  std::string paraphrase_source;  ///< path, "jar:PATH!entry", or "" when paraphrase is off
  std::string paraphrase_sha256;  ///< SHA-256 (hex) of the paraphrase table's gzip file, "" when off
  bool paraphrase_official = false;  ///< the table is pycocoevalcap's paraphrase-en.gz (git blob id, discovery.h)
  std::string checksum;           ///< SHA-256 (hex) over the contents of all loaded resource files, in a fixed order
  /// The resource files whose bytes differ from METEOR 1.5's (meteor15_sha256()), among english.synsets,
  /// english.exceptions, english.words, english.prefixes in that order; empty = METEOR 1.5's own files (the
  /// build derives byte-identical copies).
  std::vector<std::string> modified_files;

  /// "official" when modified_files is empty, else "modified(english.synsets,...)" (the signature's
  /// meteor_resources_variant, reports/SCHEMA.md).
  std::string variant() const;

  // Loaded tables.
  WordTable synsets;                                                        ///< word → synset ids (sorted, unique)
  std::unordered_map<std::string, std::vector<std::string>> exceptions;      ///< irregular form → base forms
  std::unordered_set<std::string> function_words;                           ///< english.words (lowercase)
  std::unordered_set<std::string> nonbreaking_prefixes;                     ///< english.prefixes (plain entries)
  std::unordered_set<std::string> numeric_only_prefixes;                    ///< entries tagged #NUMERIC_ONLY#
  std::shared_ptr<const ParaphraseTable> paraphrase;                        ///< null when paraphrase is off

  /// Load from a directory holding english.synsets, english.exceptions, english.words, english.prefixes
  /// (and paraphrase-en.gz, used when present and `paraphrase_gz` is empty), or from a meteor-1.5.jar (zip with
  /// entries synonym/english.{synsets,exceptions}, function/english.words, nonbreaking/english.prefixes, also
  /// accepted under a "resources/" prefix; the jar's paraphrase table is looked for where METEOR looks for it,
  /// <jar folder>/data/paraphrase-en.gz).
  /// `paraphrase_gz`: explicit paraphrase table (gzip of 3-line records prob/phrase/paraphrase); "" = only the
  /// one found next to the other resources, if any; "-" = no paraphrase table.
  /// Throws glamm::InputError naming the file (or jar entry) on unreadable, missing, empty or truncated input
  /// (docs/input-rules.md, "METEOR resource files"): a file must end with a line break (METEOR's do);
  /// english.synsets / english.exceptions are pairs of lines, a one-token word (base form) line and a non-empty
  /// line of integer synset ids (inflected forms); english.words / english.prefixes need one entry.
  /// Files that pass but differ from METEOR 1.5's are listed in modified_files.
  static Resources load(const std::string& dir_or_jar, const std::string& paraphrase_gz = "");
};

/// SHA-256 (hex) of METEOR 1.5's English resource files as distributed (resources/ of the METEOR 1.5 release, the
/// same bytes as inside pycocoevalcap's meteor-1.5.jar), by file name: english.synsets, english.exceptions,
/// english.words, english.prefixes.
const std::map<std::string, std::string>& meteor15_sha256();

/// The warning for resources that differ from METEOR 1.5's ("" when r.modified_files is empty).
std::string resources_variant_warning(const Resources& r);

/// Resolve the resource location: `cli_value` if non-empty, else env GLAMM_METEOR_RESOURCES, else a
/// pycocoevalcap install's `pycocoevalcap/meteor/meteor-1.5.jar` in the user's Python environments (the python3
/// on PATH, CONDA_PREFIX, VIRTUAL_ENV, ~/.local, /usr/lib, /usr/local/lib; see discover() in discovery.h).
/// Returns "" when nothing is found (callers then report where to get the resources).
std::string find_resources(const std::string& cli_value);

/// Module configuration. Modules exact, stem, synonym [, paraphrase]; module weights 1.0 0.6 0.8 0.6;
/// α = 0.85, β = 0.2, γ = 0.6, δ = 0.75; aligner weights 1.0 0.5 0.5 0.5, beam 40.
struct Config {
  bool paraphrase = false;  ///< run the paraphrase module (needs Resources::paraphrase)
};

/// Longest hypothesis or reference Scorer::segment_stats accepts, in bytes (1 MiB): longer text is refused at once
/// with an InputError rather than tokenized and aligned (docs/input-rules.md, "METEOR: long captions").
constexpr std::size_t kMaxSegmentBytes = std::size_t{1} << 20;

/// METEOR scorer. Immutable after construction; all methods are const and thread-safe.
class Scorer {
 public:
  /// Throws InputError when cfg.paraphrase is set but `res` has no paraphrase table.
  Scorer(std::shared_ptr<const Resources> res, Config cfg);
  ~Scorer();
  Scorer(Scorer&&) noexcept;
  Scorer& operator=(Scorer&&) noexcept;

  /// One SCORE line: Java-trim, normalize and lowercase hyp and refs, align hyp against each ref, return the stats
  /// of the best-scoring ref (strictly greater score wins; the first ref wins ties; no refs → all zeros). Input is
  /// already-tokenized text; refs are used as given (pycocoevalcap joins them with " ||| ", so a ref containing
  /// "|||" would split into more refs there: callers that must mimic that split it first). Follows Meteor's
  /// stdio SCORE handling and MeteorScorer.getMeteorStats(String, List<String>).
  /// Throws InputError (without file or record: callers add them) when hyp or a ref is longer than
  /// kMaxSegmentBytes, or when a pair is over the aligner's limits (kMaxWordPairs, kMaxCandidateMatches).
  Stats segment_stats(const std::string& hyp, const std::vector<std::string>& refs) const;

  /// MeteorScorer.computeMetrics on one stats vector: the segment score in [0, 1] (NaN → 0; clamped at ≥ 0).
  double score(const Stats& s) const;

  /// The EVAL corpus score: computeMetrics of the stats summed with MeteorStats.addStats (a perfect segment's
  /// chunks — all words matched on both sides and one chunk — are not added). Empty input → 0.
  double corpus_score(const std::vector<Stats>& all) const;

  /// The normalized, lowercased form of a line (Normalizer.normalizeLine, English, punctuation kept).
  std::string normalize(const std::string& line) const;

  const Resources& resources() const;
  const Config& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// pycocoevalcap's preprocessing of the hypothesis before it is sent to METEOR: every "|||" removed, then every
/// "  " (two spaces) replaced by one space (a single Python str.replace pass). References are sent unchanged.
std::string pycocoevalcap_clean_hypothesis(std::string hyp);

}  // namespace glamm::meteor
