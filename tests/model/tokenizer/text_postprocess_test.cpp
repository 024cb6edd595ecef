// Text post-processing with Python semantics (glamm-model.md §3.7, §4.4, §4.6): str.strip/split whitespace set,
// one-pass replace, the last "ASSISTANT: ", non-greedy tag removal, phrases, and the [SEG] hidden positions.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "model/text_postprocess.h"

namespace m = glamm::model;
using Strings = std::vector<std::string>;

TEST(PyStrip, RemovesAsciiAndInformationSeparatorWhitespace) {
  EXPECT_EQ(m::py_strip("\t\n\v\f\r x y \x1c\x1d\x1e\x1f"), "x y");
  EXPECT_EQ(m::py_lstrip("\n\n a \n"), "a \n");
  EXPECT_EQ(m::py_rstrip("\n a \n"), "\n a");
}

TEST(PyStrip, RemovesUnicodeWhitespaceAsPythonDefinesIt) {
  // U+0085 NEL, U+00A0 NBSP, U+1680, U+2000, U+200A, U+2028, U+2029, U+202F, U+205F, U+3000
  EXPECT_EQ(m::py_strip("\xC2\x85\xC2\xA0\xE1\x9A\x80\xE2\x80\x80x\xE2\x80\x8A\xE2\x80\xA8\xE2\x80\xA9"), "x");
  EXPECT_EQ(m::py_strip("\xE2\x80\xAF\xE2\x81\x9Fx\xE3\x80\x80"), "x");
}

TEST(PyStrip, KeepsCharactersPythonDoesNotCallWhitespace) {
  // U+200B ZERO WIDTH SPACE and U+180E MONGOLIAN VOWEL SEPARATOR are not str.isspace() in Python 3.7+.
  EXPECT_EQ(m::py_strip("\xE2\x80\x8Bx\xE2\x80\x8B"), "\xE2\x80\x8Bx\xE2\x80\x8B");
  EXPECT_EQ(m::py_strip(" \xE1\xA0\x8E "), "\xE1\xA0\x8E");
  // A multi-byte letter whose last byte looks like the tail of NBSP (U+00E0 = C3 A0) is kept.
  EXPECT_EQ(m::py_rstrip("x\xC3\xA0"), "x\xC3\xA0");
  EXPECT_EQ(m::py_strip(""), "");
  EXPECT_EQ(m::py_strip(" \n "), "");
}

TEST(PyStripChars, StripsOnlyTheGivenCharacters) {
  EXPECT_EQ(m::py_strip_chars("''a'b' ", "'"), "a'b' ");
  EXPECT_EQ(m::py_strip_chars("'''", "'"), "");
}

TEST(PySplitWhitespace, SplitsOnRunsOfAnyPythonWhitespace) {
  EXPECT_EQ(m::py_split_whitespace("  a\xC2\xA0" "b\xE3\x80\x80 \tc\n"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(m::py_split_whitespace(" \n\t "), Strings{});
  EXPECT_EQ(m::py_split_whitespace("a\xE2\x80\x8B" "b"), Strings{"a\xE2\x80\x8B" "b"});
}

TEST(PyReplace, IsOneNonOverlappingLeftToRightPass) {
  EXPECT_EQ(m::py_replace("a   b", "  ", " "), "a  b");       // three spaces → two
  EXPECT_EQ(m::py_replace("a    b", "  ", " "), "a  b");      // four → two
  EXPECT_EQ(m::py_replace("     ", "  ", " "), "   ");        // five → three
  EXPECT_EQ(m::py_replace("aaa", "aa", "b"), "ba");
  EXPECT_THROW(m::py_replace("x", "", "y"), std::invalid_argument);
}

TEST(TextOutput, KeepsTextAfterTheLastAssistantMarker) {
  EXPECT_EQ(m::text_output_from_decoded("USER: a ASSISTANT: b ASSISTANT: c d</s>"), "c d</s>");
  EXPECT_EQ(m::text_output_from_decoded("no marker here"), "no marker here");
  EXPECT_EQ(m::text_output_from_decoded("x ASSISTANT: "), "");
  EXPECT_EQ(m::text_output_from_decoded("x ASSISTANT:"), "x ASSISTANT:");
}

TEST(TextOutput, RemovesNewlinesBeforeCollapsingDoubleSpaces) {
  // "\n" removal joins "  " that then becomes " ", so the marker is found.
  EXPECT_EQ(m::text_output_from_decoded("USER: q ASSISTANT:\n  answer"), "answer");
  EXPECT_EQ(m::text_output_from_decoded("ASSISTANT:  x"), "x");
  // Three spaces become two, so one space is left in front.
  EXPECT_EQ(m::text_output_from_decoded("ASSISTANT:   x"), " x");
  EXPECT_EQ(m::text_output_from_decoded("[SEG]  .</s>"), "[SEG] .</s>");
  EXPECT_EQ(m::text_output_from_decoded("a\nb"), "ab");
}

TEST(RemoveAngleTags, IsNonGreedyAndDoesNotCrossNewlines) {
  EXPECT_EQ(m::remove_angle_tags("<p> a </p>"), " a ");
  EXPECT_EQ(m::remove_angle_tags("a < b > c > d"), "a  c > d");
  EXPECT_EQ(m::remove_angle_tags("<<p>x>"), "x>");  // leftmost '<' up to the first '>'
  EXPECT_EQ(m::remove_angle_tags("x < y"), "x < y");
  EXPECT_EQ(m::remove_angle_tags("a <b\n> c <d>"), "a <b\n> c ");
  EXPECT_EQ(m::remove_angle_tags("<>"), "");
}

TEST(CleanCaption, RemovesTagsSegAndCollapsesSpaces) {
  EXPECT_EQ(m::clean_caption("<p> A man </p> [SEG] on <p> a road </p> [SEG] .</s>"), "A man on a road .");
  EXPECT_EQ(m::clean_caption("The person is here.</s>"), "The person is here.");
  EXPECT_EQ(m::clean_caption("a[SEG]b <bbox>\xC2\xA0 c"), "ab c");
  EXPECT_EQ(m::clean_caption(""), "");
}

TEST(CleanCaption, StripsQuotesBeforeWhitespace) {
  // split/join first ("' a '"), then strip("'") (" a "), then strip() ("a").
  EXPECT_EQ(m::clean_caption(" ' a ' "), "a");
  EXPECT_EQ(m::clean_caption("''it's'"), "it's");
  // A quote behind a tag is reached only after the tag is gone.
  EXPECT_EQ(m::clean_caption("'x' </s>"), "x");
}

TEST(ExtractPhrases, CapturesNonGreedyAndStrips) {
  EXPECT_EQ(m::extract_phrases("<p> A man </p> [SEG] on <p> a road </p> [SEG] ."), (Strings{"A man", "a road"}));
  EXPECT_EQ(m::extract_phrases("no phrases"), Strings{});
}

TEST(ExtractPhrases, NestedLookingTagsEndAtTheFirstClose) {
  EXPECT_EQ(m::extract_phrases("<p> a <p> b </p> c </p>"), Strings{"a <p> b"});
  EXPECT_EQ(m::extract_phrases("<p>x</p></p><p>y</p>"), (Strings{"x", "y"}));
}

TEST(ExtractPhrases, KeepsEmptyPhrases) {
  EXPECT_EQ(m::extract_phrases("<p></p> and <p>  \xE3\x80\x80</p>"), (Strings{"", ""}));
}

TEST(ExtractPhrases, UnclosedOrNewlineSplitPhrasesAreSkipped) {
  EXPECT_EQ(m::extract_phrases("<p> a"), Strings{});
  EXPECT_EQ(m::extract_phrases("<p>a\n</p><p>b</p>"), Strings{"b"});
}

TEST(PostprocessGcg, ChainsTheThreeSteps) {
  const auto r = m::postprocess_gcg("USER: hi ASSISTANT: <p> A  man </p> [SEG]  .</s>");
  EXPECT_EQ(r.text_output, "<p> A man </p> [SEG] .</s>");
  EXPECT_EQ(r.caption, "A man .");
  EXPECT_EQ(r.phrases, Strings{"A man"});
}

TEST(SegHiddenPositions, PointsAtTheTokenBeforeEachSegAfterTheImage) {
  // S = [1, 5, -200, 7, SEG, 9, SEG]: SEG at indices 4 and 6 → mask indices 575 + 3 and 575 + 5.
  const std::vector<int64_t> s{1, 5, -200, 7, 32004, 9, 32004};
  EXPECT_EQ(m::seg_hidden_positions(s), (std::vector<int64_t>{578, 580}));
  // With a 4-token image the offset is 3.
  EXPECT_EQ(m::seg_hidden_positions(s, 32004, 4), (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(m::seg_hidden_positions({1, -200, 3}), std::vector<int64_t>{});
}

TEST(SegHiddenPositions, IgnoresASegAtIndexZero) {
  EXPECT_EQ(m::seg_hidden_positions({32004, -200, 32004}), std::vector<int64_t>{576});
}

TEST(SegHiddenPositions, RequiresExactlyOneImagePlaceholder) {
  EXPECT_THROW(m::seg_hidden_positions({1, 32004}), glamm::InputError);
  EXPECT_THROW(m::seg_hidden_positions({1, -200, -200, 32004}), glamm::InputError);
  EXPECT_THROW(m::seg_hidden_positions({1, -200}, 32004, 0), glamm::InputError);
}
