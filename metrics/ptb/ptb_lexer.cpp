// PTB lexer scanning loop and rule actions (see ptb_lexer.h).
#include "metrics/ptb/ptb_lexer.h"

#include <stdexcept>
#include <unordered_set>

namespace glamm::ptb::detail {

namespace {

using Out = std::u16string;

// PTBLexer.removeSoftHyphens: drop U+00AD; an all-soft-hyphen token becomes "-".
void remove_soft_hyphens(std::u16string_view t, Out& out) {
  size_t before = out.size();
  for (char16_t c : t)
    if (c != 0x00AD) out.push_back(c);
  if (out.size() == before && !t.empty()) out.push_back(u'-');
}

char16_t ascii_lower(char16_t c) { return static_cast<char16_t>(c >= 'A' && c <= 'Z' ? c + 32 : c); }

// "&amp;" in any letter case -> "&".
void normalize_amp(std::u16string_view t, Out& out) {
  for (size_t i = 0; i < t.size();) {
    if (t[i] == '&' && i + 5 <= t.size() && ascii_lower(t[i + 1]) == 'a' && ascii_lower(t[i + 2]) == 'm' &&
        ascii_lower(t[i + 3]) == 'p' && t[i + 4] == ';') {
      out.push_back('&');
      i += 5;
      continue;
    }
    out.push_back(t[i++]);
  }
}

// PTBLexer.latexQuotes: ' and &apos; -> ` or ', " and &quot; -> `` or '', then the curly/angle quotes.
void latex_quotes(std::u16string_view t, Out& out, bool probably_left) {
  for (size_t i = 0; i < t.size(); ++i) {
    char16_t c = t[i];
    if (c == '&' && t.substr(i, 6) == u"&apos;") {
      c = '\'';
      i += 5;
    } else if (c == '&' && t.substr(i, 6) == u"&quot;") {
      c = '"';
      i += 5;
    }
    switch (c) {
      case '\'': out += probably_left ? u"`" : u"'"; break;
      case '"': out += probably_left ? u"``" : u"''"; break;
      case 0x0091: case 0x2018: case 0x201B: case 0x2039: out += u"`"; break;
      case 0x0092: case 0x2019: case 0x203A: out += u"'"; break;
      case 0x0093: case 0x201C: case 0x00AB: out += u"``"; break;
      case 0x0094: case 0x201D: case 0x00BB: out += u"''"; break;
      default: out.push_back(c);
    }
  }
}

void normalize_fractions(std::u16string_view t, Out& out) {
  for (char16_t c : t) {
    switch (c) {
      case 0x00BC: out += u"1/4"; break;
      case 0x00BD: out += u"1/2"; break;
      case 0x00BE: out += u"3/4"; break;
      case 0x2153: out += u"1/3"; break;
      case 0x2154: out += u"2/3"; break;
      default: out.push_back(c);
    }
  }
}

void normalize_currency(std::u16string_view t, Out& out) {
  for (char16_t c : t) {
    switch (c) {
      case 0x00A2: out += u"cents"; break;
      case 0x00A3: out += u"#"; break;
      case 0x0080: case 0x00A4: case 0x20A0: case 0x20AC: out += u"$"; break;
      default: out.push_back(c);
    }
  }
}

void map_chars(std::u16string_view t, Out& out, bool space_to_nbsp, bool parens) {
  for (char16_t c : t) {
    if (space_to_nbsp && c == ' ') out.push_back(0x00A0);
    else if (parens && c == '(') out += u"-LRB-";
    else if (parens && c == ')') out += u"-RRB-";
    else out.push_back(c);
  }
}

// The whitespace the lexer's look-ahead work-around trims from a token end.
bool trailing_space(char16_t c) { return c == ' ' || c == '\t' || (c >= '\n' && c <= '\r') || c == 0x0085; }

}  // namespace

void TokenList::append(const TokenList& o) {
  auto base = static_cast<uint32_t>(arena.size());
  arena += o.arena;
  tokens.reserve(tokens.size() + o.tokens.size());
  for (Token t : o.tokens) {
    t.offset += base;
    tokens.push_back(t);
  }
}

const PtbLexer& PtbLexer::instance() {
  static const PtbLexer lexer;
  return lexer;
}

PtbLexer::PtbLexer() : rules_(ptb_rules()) {
  PatternCompiler pc(/*caseless=*/true);
  define_ptb_macros(pc);
  std::vector<NodePtr> full, heads, tails;
  for (const auto& r : rules_) {
    NodePtr head = pc.parse(r.text);
    if (r.lookahead.empty()) {
      full.push_back(head);
      heads.push_back(nullptr);
      tails.push_back(nullptr);
    } else {
      NodePtr tail = pc.parse(r.lookahead);
      auto cat = std::make_shared<Node>();
      cat->kind = Node::kCat;
      cat->kids = {head, tail};
      full.push_back(cat);
      heads.push_back(head);
      tails.push_back(tail);
    }
  }
  AutomatonBuilder builder(pc.sets());
  cmap_ = builder.class_map();
  main_ = builder.build(full);
  head_.resize(rules_.size());
  tail_.resize(rules_.size());
  for (size_t k = 0; k < rules_.size(); ++k) {
    if (!heads[k]) continue;
    head_[k] = builder.build({heads[k]});
    tail_[k] = builder.build({tails[k]});
  }
}

// JFlex general look-ahead: the token ends at the largest p such that r1 matches [start,p) and r2 matches [p,end).
size_t PtbLexer::split_lookahead(size_t rule, std::u16string_view text, size_t start, size_t end) const {
  const Dfa& h = head_[rule];
  const Dfa& t = tail_[rule];
  std::vector<size_t> heads;
  int s = Dfa::kStart;
  if (h.accept(s) >= 0) heads.push_back(start);
  for (size_t p = start; p < end; ++p) {
    s = h.step(s, cmap_[text[p]]);
    if (s < 0) break;
    if (h.accept(s) >= 0) heads.push_back(p + 1);
  }
  for (auto it = heads.rbegin(); it != heads.rend(); ++it) {
    int q = Dfa::kStart;
    size_t p = *it;
    for (; p < end && q >= 0; ++p) q = t.step(q, cmap_[text[p]]);
    if (q >= 0 && t.accept(q) >= 0) return *it;
  }
  throw std::logic_error("PTB lexer: look-ahead split failed for rule " + rules_[rule].name);
}

size_t PtbLexer::scan(std::u16string_view text, size_t from, size_t stop, TokenList& out,
                      bool& untokenizable) const {
  size_t pos = from;
  const size_t n = text.size();
  Out& arena = out.arena;
  // Reps' memo for linear-time maximal munch: (state, position) pairs from which the DFA is known to reach no
  // accepting state. Recorded only after long fruitless runs (e.g. "a,a,a,..." where the e-mail pattern scans to
  // the end each time), so ordinary text never pays for it.
  constexpr size_t kRecordAfter = 16;
  std::vector<uint8_t> marked;  // per position from `from`: some failing pair recorded there
  std::unordered_set<uint64_t> failed;
  std::vector<uint64_t> trail;
  auto key = [](int state, size_t p) { return (static_cast<uint64_t>(p) << 20) | static_cast<uint64_t>(state); };
  while (pos < stop && pos < n) {
    // Longest match; the DFA's accept value is the earliest rule among those matching that length.
    int state = Dfa::kStart;
    int rule = -1;
    size_t end = pos;
    trail.clear();
    for (size_t p = pos; p < n;) {
      if (!marked.empty() && marked[p - from] && failed.count(key(state, p))) break;
      state = main_.step(state, cmap_[text[p]]);
      if (state < 0) break;
      ++p;
      int a = main_.accept(state);
      if (a >= 0) {
        rule = a;
        end = p;
        trail.clear();
      } else {
        trail.push_back(key(state, p));
      }
    }
    if (trail.size() > kRecordAfter) {
      if (marked.empty()) marked.assign(n - from + 1, 0);
      for (uint64_t k : trail) {
        failed.insert(k);
        marked[static_cast<size_t>(k >> 20) - from] = 1;
      }
    }
    if (rule < 0) throw std::logic_error("PTB lexer: no rule matched");
    const Rule& r = rules_[static_cast<size_t>(rule)];
    if (!r.lookahead.empty()) end = split_lookahead(static_cast<size_t>(rule), text, pos, end);
    std::u16string_view m = text.substr(pos, end - pos);
    size_t next = end;
    const auto mark = static_cast<uint32_t>(arena.size());
    bool token = true;
    switch (r.action) {
      case Action::kPlain: arena += m; break;
      case Action::kSoftHyphens: remove_soft_hyphens(m, arena); break;
      case Action::kPushback:
        next = pos + static_cast<size_t>(r.keep);
        arena += text.substr(pos, static_cast<size_t>(r.keep));
        break;
      case Action::kSpaceToNbsp: map_chars(m, arena, true, false); break;
      case Action::kDash: arena += u"--"; break;
      case Action::kAmp: normalize_amp(m, arena); break;
      case Action::kQuoteLeft: latex_quotes(m, arena, true); break;
      case Action::kQuoteRight: latex_quotes(m, arena, false); break;
      case Action::kFraction: normalize_fractions(m, arena); break;
      case Action::kCurrency: normalize_currency(m, arena); break;
      case Action::kAcronym: {
        size_t e = end;
        while (e > pos && trailing_space(text[e - 1])) --e;
        if (e - pos == 2) {  // "I." etc.: the letter now, the period next time
          arena += text.substr(pos, 1);
          next = pos + 1;
        } else {  // the acronym with its period, and the period again next time
          arena += text.substr(pos, e - pos);
          next = e - 1;
        }
        break;
      }
      case Action::kTrimTrailingSpace: {
        size_t e = end;
        while (e > pos && trailing_space(text[e - 1])) --e;
        arena += text.substr(pos, e - pos);
        next = e;
        break;
      }
      case Action::kAbbrevPeriod:
        arena += m;
        next = end - 1;
        break;
      case Action::kPhone: map_chars(m, arena, true, true); break;
      case Action::kLessThan: arena += u"<"; break;
      case Action::kGreaterThan: arena += u">"; break;
      case Action::kParens: map_chars(m, arena, false, true); break;
      case Action::kLiteral: arena.append(r.literal.begin(), r.literal.end()); break;
      case Action::kHyphens:
        if (m.size() >= 3 && m.size() <= 4) arena += u"--";
        else arena += m;
        break;
      case Action::kEllipsis: arena += u"..."; break;
      case Action::kNewline:
        out.tokens.push_back(Token{static_cast<uint32_t>(pos), mark, 0, true});
        token = false;
        break;
      case Action::kUntokenizable:
        untokenizable = true;
        token = false;
        break;
      case Action::kSkip: token = false; break;
    }
    if (token)
      out.tokens.push_back(Token{static_cast<uint32_t>(pos), mark, static_cast<uint32_t>(arena.size()) - mark, false});
    if (next <= pos) throw std::logic_error("PTB lexer: no progress in rule " + r.name);
    pos = next;
  }
  return pos < from ? from : pos;
}

}  // namespace glamm::ptb::detail
