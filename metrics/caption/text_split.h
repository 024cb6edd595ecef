// Python string splitting as the caption scorers use it: str.split() (BLEU, CIDEr-D) and str.split(" ") (ROUGE-L).
#pragma once

#include <string_view>
#include <vector>

namespace glamm::caption {

/// Python 3 `s.split()` on a UTF-8 string: splits on runs of Unicode whitespace as Python's str.isspace() defines
/// it (U+0009–U+000D, U+001C–U+001F, U+0020, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F,
/// U+205F, U+3000) and drops empty pieces; "" and all-space strings give no tokens. Bytes that are not valid
/// UTF-8 are treated as non-space. The views point into `s`. Used by bleu_scorer.py / cider_scorer.py precook.
std::vector<std::string_view> python_split(std::string_view s);

/// Python `s.split(" ")`: splits on every single ASCII space and keeps empty pieces, so "" → [""] and
/// "a  b" → ["a", "", "b"]. The views point into `s`. Used by rouge.py.
std::vector<std::string_view> python_split_space(std::string_view s);

}  // namespace glamm::caption
