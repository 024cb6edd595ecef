// METEOR 1.5's English normalizer with punctuation kept (`-norm`): reimplements
// edu.cmu.meteor.util.Normalizer.normalizeLine(line, LANG_EN, keepPunctuation = true), whose rules come from
// the Moses tokenizer plus METEOR's quote/dash/dot additions (spec caption-metrics.md §5.3).
#pragma once

#include <string>
#include <unordered_set>

namespace glamm::meteor {

/// Non-breaking prefixes (english.prefixes): entries that keep their dot, and entries that keep it only
/// before a number (tagged #NUMERIC_ONLY#).
struct NonbreakingPrefixes {
  std::unordered_set<std::string> any;
  std::unordered_set<std::string> numeric_only;
};

/// Normalize one line (UTF-8) exactly as Normalizer.normalizeLine does for English with punctuation kept.
/// Does NOT lowercase (METEOR lowercases afterwards). Each regex pass is emulated with Java's left-to-right,
/// non-overlapping match semantics over code points.
std::string normalize_english(const std::string& line, const NonbreakingPrefixes& nbp);

}  // namespace glamm::meteor
