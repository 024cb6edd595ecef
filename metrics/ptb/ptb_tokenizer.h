// PTB tokenization as pycocoevalcap runs it: Stanford CoreNLP 3.4.1 PTBTokenizer with `-preserveLines -lowerCase`
// followed by the Python wrapper's punctuation filter (spec caption-metrics.md §3).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace glamm::ptb {

/// How characters that Java's lexer treats as line breaks inside one caption (\r, U+2028, U+2029, U+000B,
/// U+000C; \n is replaced by a space by the wrapper) are handled in a batch.
enum class LineBreakMode {
  kReference,  ///< reproduce pycocoevalcap's line shift (every extra output line moves later captions down)
  kStrict      ///< treat the line-break characters as spaces (each caption gets its own line)
};

/// Tokenize ONE caption as `PTBTokenizer -preserveLines -lowerCase` prints it when the caption is the last line of
/// the input: tokens joined by one space, no trailing newline. Untokenizable characters (e.g. non-BMP emoji) are
/// deleted. Java line breaks inside (\n, \r, U+000B, U+000C, U+2028, U+2029) are treated as spaces. In a batch the
/// next caption is look-ahead context ("etc." before an upper-case start repeats its period): use tokenize_batch
/// to reproduce pycocoevalcap exactly. Reimplements CoreNLP v3.4.1 PTBLexer.flex + PTBTokenizer's writer.
/// Throws glamm::InputError on invalid UTF-8.
std::string tokenize_line(std::string_view utf8_line);

/// The pycocoevalcap wrapper's filter (ptbtokenizer.py): rstrip() (Python whitespace), split(' '), drop tokens
/// exactly in {'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;} (case-sensitive, so "-lrb-" stays; empty
/// fields from double spaces stay, as in Python), join with ' '. Input is a raw tokenizer line (UTF-8).
std::string filter_punctuation(std::string_view raw_line);

struct BatchResult {
  std::vector<std::string> tokenized;  ///< final strings, one per input caption, in input order (after the shift
                                       ///< in kReference mode; captions pushed past the end get "" and are counted)
  std::vector<std::string> raw;        ///< raw tokenizer lines (before the filter), same indexing
  size_t captions_with_line_breaks = 0;  ///< captions containing a Java line-break character
  std::vector<std::string> warnings;     ///< human-readable warnings (line shift etc.)
};

/// pycocoevalcap PTBTokenizer.tokenize over a list of captions: replace '\n' by ' ', join with '\n', tokenize as one
/// Java run, split the printed text on '\n', zip with the captions. kReference reproduces the misalignment exactly
/// (caption-metrics.md §3.3): caption i receives printed line i, lines beyond the caption count are dropped, and a warning names
/// the first shifted caption. kStrict blanks the line-break characters first, so each caption gets its own tokens.
/// Runs in `threads` chunks (>= 1) whose results equal one sequential run. Throws glamm::InputError with record
/// "caption <index>" on invalid UTF-8.
BatchResult tokenize_batch(const std::vector<std::string>& captions, LineBreakMode mode, int threads = 1);

}  // namespace glamm::ptb
