// Text post-processing of GLaMM outputs as the official eval scripts do it, plus the [SEG] hidden-state gathering
// index logic, all torch-free:
//  * Python `str` helpers with CPython semantics on UTF-8 text (strip/lstrip/rstrip/split with the str.isspace
//    whitespace set, one-pass non-overlapping replace);
//  * decoded text → text_output (remove "\n", one pass "  " → " ", keep after the last "ASSISTANT: ");
//  * text_output → cleaned caption and <p>…</p> phrases;
//  * the [SEG] positions in the expanded hidden-state sequence.
// Reference: groundingLMM eval/gcg/infer.py and eval/region_captioning/infer.py (post-processing of
// `tokenizer.decode`), model/GLaMM.py `evaluate` / `_create_seg_token_mask`. Spec: glamm-model.md §3.7, §4.4, §4.6.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace glamm::model {

/// True for the code points Python's str.isspace() accepts (bidirectional class WS/B/S or category Zs):
/// U+0009–U+000D, U+001C–U+001F, U+0020, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F,
/// U+3000. (U+200B and U+180E are not whitespace, as in CPython 3.7+.)
bool py_isspace(char32_t c);

/// Python `s.strip()` / `s.lstrip()` / `s.rstrip()` on UTF-8 text: removes leading/trailing code points for which
/// py_isspace holds. Bytes that are not valid UTF-8 count as non-whitespace (never removed).
std::string py_strip(std::string_view s);
std::string py_lstrip(std::string_view s);
std::string py_rstrip(std::string_view s);

/// Python `s.strip(chars)` where every character of `chars` is ASCII (removes any of those bytes at both ends).
std::string py_strip_chars(std::string_view s, std::string_view ascii_chars);

/// Python `s.split()` (no argument): the maximal runs of non-whitespace code points, empty list for an all-space
/// string.
std::vector<std::string> py_split_whitespace(std::string_view s);

/// Python `s.replace(old, new)`: one left-to-right pass over non-overlapping occurrences of a non-empty `old`
/// (so "   " with old "  " → new " " gives "  "). Throws std::invalid_argument for an empty `old`.
std::string py_replace(std::string_view s, std::string_view old_text, std::string_view new_text);

/// The eval scripts' text_output from the full decoded text (prompt included):
/// `t.replace("\n", "").replace("  ", " ").split("ASSISTANT: ")[-1]`, i.e. newlines removed, one pass of
/// double-space → single space, then the text after the LAST "ASSISTANT: " (the whole text when absent).
std::string text_output_from_decoded(std::string_view decoded);

/// Python `re.sub(r'<.*?>', '', t)`: removes every non-greedy `<…>` span (leftmost "<" up to the first ">"
/// after it; "." does not match "\n", so a span never crosses a newline). A "<" without a later ">" on its
/// line is kept.
std::string remove_angle_tags(std::string_view t);

/// The cleaned caption of §4.6 (GCG and region captioning): remove_angle_tags, remove every literal "[SEG]",
/// collapse whitespace (split + join with " "), strip "'" at both ends, then strip whitespace.
std::string clean_caption(std::string_view text_output);

/// The phrases of §4.6: every non-greedy capture of `<p>(.*?)</p>` (re.findall: leftmost, non-overlapping,
/// "." not matching "\n"), each passed through py_strip. Empty captures give empty strings.
std::vector<std::string> extract_phrases(std::string_view text_output);

/// All three outputs of a GCG run from the full decoded text.
struct GcgText {
  std::string text_output;
  std::string caption;
  std::vector<std::string> phrases;
};

/// text_output_from_decoded, then clean_caption and extract_phrases of it.
GcgText postprocess_gcg(std::string_view decoded);

/// Positions, in the last step's expanded hidden-state sequence, of the vectors used for the [SEG] masks.
/// `sequence` is the final token sequence S (prompt with its single image placeholder −200, plus generated ids;
/// or the whole teacher-forced input). The reference builds the boolean mask `[0]*(image_tokens−1) ++
/// (S[1:] == seg_id)` (teacher-forced: plus one trailing 0), so the result is `image_tokens − 2 + i` for every
/// index i ≥ 1 with S[i] == seg_id, ascending. For a [SEG] after the image this is the hidden state of the
/// token preceding the [SEG] (the vector whose logits chose it). Every [SEG] of the sequence is included (also
/// those of the prompt / earlier turns). `image_tokens` = 576 (CLIP ViT-L/14-336 patches).
/// Throws glamm::InputError when S does not contain exactly one −200 or image_tokens < 1.
std::vector<int64_t> seg_hidden_positions(const std::vector<int64_t>& sequence, int64_t seg_id = 32004,
                                          int64_t image_tokens = 576);

}  // namespace glamm::model
