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

/// Tokenize ONE line (no line-break characters expected) as `PTBTokenizer -preserveLines -lowerCase` prints it:
/// tokens joined by one space, no trailing newline. Untokenizable characters are deleted. Should the input
/// nevertheless contain Java line breaks (\n, \r, U+2028, ...), they are treated as spaces.
/// Reimplements CoreNLP v3.4.1 PTBLexer.flex + PTBTokenizer's writer. Throws glamm::InputError on invalid UTF-8.
std::string tokenize_line(std::string_view utf8_line);

/// The pycocoevalcap wrapper's filter (ptbtokenizer.py): rstrip (Python whitespace), split on ' ', drop tokens
/// exactly in {'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;} (and empty strings), join with ' '.
std::string filter_punctuation(std::string_view raw_line);

struct BatchResult {
  std::vector<std::string> tokenized;  ///< final strings, one per input caption, in input order (after the shift
                                       ///< in kReference mode; captions pushed past the end get "" and are counted)
  std::vector<std::string> raw;        ///< raw tokenizer lines (before the filter), same indexing
  size_t captions_with_line_breaks = 0;  ///< captions containing a Java line-break character
  std::vector<std::string> warnings;     ///< human-readable warnings (line shift etc.)
};

/// pycocoevalcap PTBTokenizer.tokenize over a list of captions: replace '\n' by ' ', join with '\n', tokenize,
/// split output lines, zip with the captions. kReference reproduces the misalignment exactly (spec §3.3): caption i
/// receives output line i, lines beyond the caption count are dropped. Parallel over captions (`threads` >= 1)
/// with deterministic output. Throws glamm::InputError on invalid UTF-8 naming the caption index.
BatchResult tokenize_batch(const std::vector<std::string>& captions, LineBreakMode mode, int threads = 1);

}  // namespace glamm::ptb
