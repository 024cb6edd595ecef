// The lexical rules of CoreNLP v3.4.1 PTBLexer (state YyTraditionalTreebank3, default PTB3 options plus
// tokenizeNLs), restated as data: named macros and an ordered rule list. Earlier rules win ties of equal length.
#pragma once

#include <string>
#include <vector>

#include "metrics/ptb/regex_automaton.h"

namespace glamm::ptb::detail {

/// What a rule does with its matched text (the PTB3-escaping actions of PTBLexer).
enum class Action {
  kPlain,          ///< token = text
  kSoftHyphens,    ///< token = text without U+00AD (or "-" if that leaves nothing)
  kPushback,       ///< keep only the first `keep` units (the rest is scanned again)
  kSpaceToNbsp,    ///< ' ' -> U+00A0 (SGML, FRAC)
  kDash,           ///< token = "--"
  kAmp,            ///< "&amp;" (any case) -> "&"
  kQuoteLeft,      ///< latex quotes, probably a left quote
  kQuoteRight,     ///< latex quotes, probably a right quote
  kFraction,       ///< vulgar fractions -> "1/2" etc.
  kCurrency,       ///< cent/pound/euro signs normalized
  kAcronym,        ///< acronym before a sentence start: token (+ the period again as its own token)
  kTrimTrailingSpace,  ///< drop trailing whitespace from the text (JFlex lookahead work-around)
  kAbbrevPeriod,   ///< token = text (with its period), then the period again as its own token
  kPhone,          ///< ' ' -> U+00A0, ( ) -> -LRB- -RRB-
  kSkip,           ///< no token
  kLessThan,       ///< token = "<"
  kGreaterThan,    ///< token = ">"
  kParens,         ///< ( ) -> -LRB- -RRB- (smileys)
  kLiteral,        ///< token = `literal`
  kHyphens,        ///< 3 or 4 hyphens -> "--"
  kEllipsis,       ///< token = "..."
  kNewline,        ///< a line-break token
  kUntokenizable,  ///< deleted (reported once)
};

struct Rule {
  std::string name;      ///< for diagnostics
  std::string text;      ///< pattern of the token part (JFlex syntax)
  std::string lookahead; ///< trailing context r2 of "r1/r2", or "" for none
  Action action = Action::kPlain;
  int keep = 0;          ///< kPushback: units kept
  std::string literal;   ///< kLiteral: the token text
};

/// Defines the PTBLexer macros (SGML, WORD, APOWORD, ...) in `pc`.
void define_ptb_macros(PatternCompiler& pc);
/// The rules active in state YyTraditionalTreebank3, in file order.
const std::vector<Rule>& ptb_rules();

}  // namespace glamm::ptb::detail
