// PTB tokenization as pycocoevalcap runs it (see ptb_tokenizer.h).
#include "metrics/ptb/ptb_tokenizer.h"

#include <algorithm>
#include <array>

#include "common/error.h"
#include "common/java_text.h"
#include "metrics/parallel.h"
#include "metrics/ptb/ptb_lexer.h"

namespace glamm::ptb {

namespace {

using detail::PtbLexer;
using detail::Token;
using detail::TokenList;

// Characters Java's lexer treats as line breaks that survive the wrapper's '\n' -> ' ' replacement.
bool java_line_break(char16_t c) {
  return c == u'\r' || c == 0x2028 || c == 0x2029 || c == 0x000B || c == 0x000C;
}

// Tokens' texts joined by single spaces, lowercased (the -preserveLines -lowerCase writer for one line).
// In strict mode a token never carries a line break into the output ('\n'/'\r' inside an SGML tag -> ' ').
void append_tokens(const TokenList& list, size_t begin, size_t end, std::string& line, bool blank_breaks = false) {
  for (size_t k = begin; k < end; ++k) {
    if (!line.empty()) line.push_back(' ');
    size_t before = line.size();
    java::append_lower_utf8(list.text(list.tokens[k]), line);
    if (blank_breaks)
      for (size_t j = before; j < line.size(); ++j)
        if (line[j] == '\n' || line[j] == '\r') line[j] = ' ';
  }
}

// Python str.isspace() for one code point.
bool python_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

// Lex the whole buffer in `threads` chunks that start at caption starts; the result equals one sequential run
// because a chunk whose predecessor's last match overran the chunk start is lexed again from where that match ended.
TokenList lex_parallel(std::u16string_view text, const std::vector<size_t>& starts, int threads,
                                bool& untokenizable) {
  const PtbLexer& lexer = PtbLexer::instance();
  size_t chunks = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), starts.size()));
  if (text.size() < 4096) chunks = 1;
  std::vector<size_t> bound(chunks + 1);
  for (size_t c = 0; c < chunks; ++c) bound[c] = starts[c * starts.size() / chunks];
  bound[0] = 0;
  bound[chunks] = text.size();
  std::vector<TokenList> part(chunks);
  std::vector<size_t> stop_at(chunks);
  std::vector<char> flags(chunks, 0);
  auto work = [&](size_t c) {
    bool u = false;
    part[c].tokens.reserve((bound[c + 1] - bound[c]) / 4 + 16);
    part[c].arena.reserve(bound[c + 1] - bound[c] + 16);
    stop_at[c] = lexer.scan(text, bound[c], bound[c + 1], part[c], u);
    flags[c] = u;
  };
  metrics::parallel_for(chunks, static_cast<int>(chunks), work, 1);  // one chunk per worker
  for (size_t c = 1; c < chunks; ++c) {
    if (stop_at[c - 1] != bound[c]) {  // rare: a match ran across the chunk start
      part[c] = TokenList();
      bool u = false;
      stop_at[c] = lexer.scan(text, stop_at[c - 1], bound[c + 1], part[c], u);
      flags[c] = u;
    }
  }
  for (size_t c = 0; c < chunks; ++c) untokenizable = untokenizable || flags[c];
  if (chunks == 1) return std::move(part[0]);
  TokenList all;
  size_t total = 0, chars = 0;
  for (const auto& p : part) {
    total += p.tokens.size();
    chars += p.arena.size();
  }
  all.tokens.reserve(total);
  all.arena.reserve(chars);
  for (const auto& p : part) all.append(p);
  return all;
}

}  // namespace

std::string tokenize_line(std::string_view utf8_line) {
  std::u16string text;
  size_t bad = 0;
  if (!java::decode_utf8_strict(utf8_line, text, bad))
    throw InputError("", "", "invalid UTF-8 at byte " + std::to_string(bad) + " of the caption");
  for (auto& c : text)
    if (c == u'\n' || java_line_break(c)) c = u' ';
  TokenList toks;
  bool untok = false;
  PtbLexer::instance().scan(text, 0, text.size(), toks, untok);
  std::string line;
  append_tokens(toks, 0, toks.tokens.size(), line);
  return line;
}

std::string filter_punctuation(std::string_view raw_line) {
  static const std::array<std::string_view, 17> kPunct = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
                                                          ".",  "?", "!",  ",", ":",     "-",     "--",    "...",
                                                          ";"};
  // rstrip(): drop trailing Python whitespace (decode code points backwards).
  size_t end = raw_line.size();
  while (end > 0) {
    size_t s = end - 1;
    while (s > 0 && (static_cast<unsigned char>(raw_line[s]) & 0xC0) == 0x80) --s;
    std::u16string cp16;
    size_t bad = 0;
    if (!java::decode_utf8_strict(raw_line.substr(s, end - s), cp16, bad) || cp16.size() != 1 || !python_space(cp16[0]))
      break;
    end = s;
  }
  std::string_view line = raw_line.substr(0, end);
  std::string out;
  bool first = true;
  size_t p = 0;
  while (true) {  // split(' ') keeps empty fields
    size_t q = line.find(' ', p);
    std::string_view w = line.substr(p, q == std::string_view::npos ? std::string_view::npos : q - p);
    if (std::find(kPunct.begin(), kPunct.end(), w) == kPunct.end()) {
      if (!first) out.push_back(' ');
      out.append(w);
      first = false;
    }
    if (q == std::string_view::npos) break;
    p = q + 1;
  }
  return out;
}

BatchResult tokenize_batch(const std::vector<std::string>& captions, LineBreakMode mode, int threads) {
  BatchResult res;
  const size_t n = captions.size();
  res.tokenized.assign(n, "");
  res.raw.assign(n, "");
  if (n == 0) return res;

  // Decode each caption; '\n' -> ' ' as the wrapper does; strict mode also blanks the other line breaks.
  std::u16string text;
  size_t bytes = 0;
  for (const auto& c : captions) bytes += c.size() + 1;
  text.reserve(bytes);
  std::vector<size_t> starts(n);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) text.push_back(u'\n');
    starts[i] = text.size();
    size_t bad = 0;
    if (!java::decode_utf8_strict(captions[i], text, bad))
      throw InputError("", "caption " + std::to_string(i), "invalid UTF-8 at byte " + std::to_string(bad));
    bool has_break = false;
    for (size_t k = starts[i]; k < text.size(); ++k) {
      char16_t& c = text[k];
      if (c == u'\n') {
        c = u' ';
      } else if (java_line_break(c)) {
        has_break = true;
        if (mode == LineBreakMode::kStrict) c = u' ';
      }
    }
    if (has_break) ++res.captions_with_line_breaks;
  }

  bool untokenizable = false;
  TokenList list = lex_parallel(text, starts, threads, untokenizable);
  const std::vector<Token>& toks = list.tokens;

  if (mode == LineBreakMode::kStrict) {
    // Each token belongs to the caption its match started in; separators' line-break tokens are dropped.
    size_t cap = 0;
    size_t k = 0;
    while (k < toks.size()) {
      while (cap + 1 < n && toks[k].start >= starts[cap + 1]) ++cap;
      size_t e = k;
      while (e < toks.size() && (cap + 1 >= n || toks[e].start < starts[cap + 1])) ++e;
      size_t b = k;
      for (size_t j = k; j < e; ++j) {
        if (toks[j].newline) {
          append_tokens(list, b, j, res.raw[cap], true);
          b = j + 1;
        }
      }
      append_tokens(list, b, e, res.raw[cap], true);
      k = e;
    }
    if (res.captions_with_line_breaks > 0)
      res.warnings.push_back(std::to_string(res.captions_with_line_breaks) +
                             " caption(s) contain line-break characters (\\r, U+000B, U+000C, U+2028, U+2029); "
                             "strict mode treated them as spaces");
  } else {
    // The text the Java writer prints (tokens joined by ' ', a line break per line-break token), split on '\n' as
    // Python does; caption i receives line i (zip truncates). A token may itself contain '\n' (an SGML tag whose
    // quoted attribute spans captions); Python splits there too.
    std::string out;
    out.reserve(list.arena.size() + toks.size() + 16);
    std::vector<size_t> breaks_before(n, 0);  // '\n' printed before caption i's first match
    size_t breaks = 0, cap = 0;
    bool begin_line = true;
    for (const Token& t : toks) {
      while (cap < n && starts[cap] <= t.start) breaks_before[cap++] = breaks;
      if (t.newline) {
        out.push_back('\n');
        ++breaks;
        begin_line = true;
        continue;
      }
      if (!begin_line) out.push_back(' ');
      begin_line = false;
      size_t before = out.size();
      java::append_lower_utf8(list.text(t), out);
      breaks += static_cast<size_t>(std::count(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(), '\n'));
    }
    while (cap < n) breaks_before[cap++] = breaks;
    size_t line = 0, pos = 0;
    while (line < n) {
      size_t e = out.find('\n', pos);
      res.raw[line++] = out.substr(pos, e == std::string::npos ? std::string::npos : e - pos);
      if (e == std::string::npos) break;
      pos = e + 1;
    }
    const size_t printed_lines = breaks + 1;
    size_t shifted = 0, first_shifted = n;
    for (size_t i = 0; i < n; ++i)
      if (breaks_before[i] != i) {
        ++shifted;
        first_shifted = std::min(first_shifted, i);
      }
    if (shifted > 0)
      res.warnings.push_back(
          std::to_string(shifted) + " caption(s) from index " + std::to_string(first_shifted) +
          " on receive another caption's tokenized line: the tokenizer printed " + std::to_string(printed_lines) +
          " lines for " + std::to_string(n) + " captions (line-break characters inside " +
          std::to_string(res.captions_with_line_breaks) +
          " caption(s)); pycocoevalcap's zip misaligns them the same way (use strict mode to avoid this)");
    if (printed_lines < n)
      res.warnings.push_back(std::to_string(n - printed_lines) +
                             " caption(s) at the end received no tokenizer line and were given \"\"");
  }
  for (size_t i = 0; i < n; ++i) res.tokenized[i] = filter_punctuation(res.raw[i]);
  if (untokenizable) res.warnings.push_back("untokenizable characters were deleted (as CoreNLP PTBTokenizer does)");
  return res;
}

}  // namespace glamm::ptb
