// The PTB lexer: longest match over all rules (earliest rule wins ties), JFlex 1.5.1 trailing-context semantics,
// and the PTB3 token normalizations of CoreNLP v3.4.1 PTBLexer with options "tokenizeNLs" (PTB3 defaults).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/ptb/ptb_rules.h"
#include "metrics/ptb/regex_automaton.h"

namespace glamm::ptb::detail {

/// One token: where its match began (UTF-16 offset into the input), whether it is a line break, and where its
/// (not yet lowercased) text after PTB3 normalization lies in the owning TokenList's arena.
struct Token {
  uint32_t start = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  bool newline = false;
};

/// Tokens in input order with their texts stored back to back in one buffer.
struct TokenList {
  std::vector<Token> tokens;
  std::u16string arena;

  std::u16string_view text(const Token& t) const { return std::u16string_view(arena).substr(t.offset, t.length); }
  /// Append all of `o` (texts re-based into this arena).
  void append(const TokenList& o);
};

class PtbLexer {
 public:
  /// The shared lexer (automata built once on first use, thread-safe; read-only afterwards).
  static const PtbLexer& instance();

  /// Lex `text` from offset `from`, appending tokens, until the next match would start at or after `stop`
  /// (matches may read and extend past `stop`; `text` ends where the Java input ends). Returns the offset where the
  /// next match starts (>= stop, or `from` when from >= stop). Sets `untokenizable` when a character was deleted.
  size_t scan(std::u16string_view text, size_t from, size_t stop, TokenList& out, bool& untokenizable) const;

 private:
  PtbLexer();
  size_t split_lookahead(size_t rule, std::u16string_view text, size_t start, size_t end) const;

  std::vector<Rule> rules_;
  std::vector<uint16_t> cmap_;
  Dfa main_;
  std::vector<Dfa> head_, tail_;  ///< per rule: DFAs of r1 and r2 (empty for rules without lookahead)
};

}  // namespace glamm::ptb::detail
