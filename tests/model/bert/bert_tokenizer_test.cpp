// WordPiece tokenizer (BertTokenizerFast, uncased) on a small in-memory vocabulary: text cleaning, whitespace,
// CJK spacing, accent stripping, lowercasing, punctuation, greedy longest-match pieces, [UNK], truncation.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/io.h"
#include "model/bert_tokenizer.h"

using glamm::model::BertTokenizer;
using V = std::vector<std::string>;

namespace {

BertTokenizer small() {
  return BertTokenizer::from_tokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "man", "un", "##aff", "##able", "a", ".",
                                     ",", "!", "cafe", "ecole", "北", "京", "x", "##x", "aaa", "##aa", "##a", "—", "¿",
                                     "b", "c", "σ", "ς", "straße", "'", "s"});
}

TEST(BertTokenizer, GreedyLongestMatchWithContinuationPieces) {
  const BertTokenizer t = small();
  EXPECT_EQ(t.tokenize("unaffable"), (V{"un", "##aff", "##able"}));
  EXPECT_EQ(t.tokenize("aaaaaaa"), (V{"aaa", "##aa", "##aa"}));
  EXPECT_EQ(t.tokenize("aaaaaa"), (V{"aaa", "##aa", "##a"}));
}

TEST(BertTokenizer, AWordWithAnUnmatchablePositionIsOneUnk) {
  const BertTokenizer t = small();
  EXPECT_EQ(t.tokenize("unaffablez the"), (V{"[UNK]", "the"}));
  EXPECT_EQ(t.encode("zzz"), (std::vector<int64_t>{2, 1, 3}));
}

TEST(BertTokenizer, WordsLongerThan100CodePointsAreUnk) {
  const BertTokenizer t = small();
  EXPECT_EQ(t.tokenize(std::string(101, 'x')), (V{"[UNK]"}));
  const V hundred = t.tokenize(std::string(100, 'x'));
  ASSERT_EQ(hundred.size(), 100u);
  EXPECT_EQ(hundred.front(), "x");
  EXPECT_EQ(hundred.back(), "##x");
  // The limit counts code points after accent stripping: 60 × (x + U+0301) is 180 bytes but 60 characters.
  std::string accented;
  for (int k = 0; k < 60; ++k) accented += "x\xcc\x81";  // x + combining acute (stripped)
  EXPECT_EQ(t.tokenize(accented).size(), 60u);
}

TEST(BertTokenizer, LowercasesAndStripsAccents) {
  const BertTokenizer t = small();
  EXPECT_EQ(t.tokenize("ÉCOLE Café THE"), (V{"ecole", "cafe", "the"}));
  EXPECT_EQ(t.tokenize("STRASSE straße"), (V{"[UNK]", "straße"}));  // ß has no decomposition and stays
  // Per-character lowercasing as the fast tokenizer does: a final capital sigma becomes σ, not ς.
  EXPECT_EQ(t.tokenize("Σ"), (V{"σ"}));
}

TEST(BertTokenizer, PunctuationIsIsolated) {
  const BertTokenizer t = small();
  EXPECT_EQ(t.tokenize("a.b,c!"), (V{"a", ".", "b", ",", "c", "!"}));
  EXPECT_EQ(t.tokenize("man's"), (V{"man", "'", "s"}));
  EXPECT_EQ(t.tokenize("a—b ¿c"), (V{"a", "—", "b", "¿", "c"}));  // Pd and Po
  EXPECT_EQ(t.tokenize("a$b"), (V{"a", "[UNK]", "b"}));         // '$' (Sc) is ASCII punctuation for BERT
}

TEST(BertTokenizer, CjkIdeographsAreSpacedOut) {
  const BertTokenizer t = small();
  EXPECT_EQ(t.tokenize("北京x"), (V{"北", "京", "x"}));
}

TEST(BertTokenizer, CleansControlsReplacementCharsAndWhitespace) {
  const BertTokenizer t = small();
  EXPECT_EQ(t.basic_tokenize("a\x07" "b \xef\xbf\xbd" "c"), (V{"ab", "c"}));     // BEL and U+FFFD dropped
  EXPECT_EQ(t.basic_tokenize("a\xe2\x80\x8b" "b"), (V{"ab"}));                    // U+200B (Cf) dropped
  EXPECT_EQ(t.basic_tokenize("a\tb\nc\r\xc2\xa0" "the"), (V{"a", "b", "c", "the"}));  // NBSP is whitespace
  EXPECT_EQ(t.basic_tokenize("a\xe2\x80\xa8" "b"), (V{"a", "b"}));                // U+2028: whitespace (fast)
  EXPECT_EQ(t.basic_tokenize("a\xff" "b"), (V{"ab"}));                            // invalid UTF-8 byte dropped
  EXPECT_EQ(t.basic_tokenize(std::string("a\0b", 3)), (V{"ab"}));                 // NUL dropped
  EXPECT_TRUE(t.basic_tokenize("   ").empty());
  EXPECT_EQ(t.encode(""), (std::vector<int64_t>{2, 3}));
}

TEST(BertTokenizer, EncodeAddsSpecialsAndTruncatesTo512) {
  const BertTokenizer t = small();
  EXPECT_EQ(t.encode("the man."), (std::vector<int64_t>{2, 4, 5, 10, 3}));
  std::string many;
  for (int k = 0; k < 600; ++k) many += "the ";
  const std::vector<int64_t> ids = t.encode(many);
  ASSERT_EQ(ids.size(), 512u);
  EXPECT_EQ(ids.front(), 2);
  EXPECT_EQ(ids[510], 4);
  EXPECT_EQ(ids.back(), 3);
  EXPECT_EQ(t.encode(many, 5), (std::vector<int64_t>{2, 4, 4, 4, 3}));
  EXPECT_THROW(t.encode("x", 1), std::invalid_argument);
}

TEST(BertTokenizer, VocabularyFileRules) {
  const auto dir = std::filesystem::temp_directory_path() / ("glamm_bert_tok_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // Ids are line numbers; a repeated token keeps its last id; no trailing newline needed.
  glamm::io::write_file_atomic(dir / "v.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nman\nthe");
  const BertTokenizer t = BertTokenizer::load(dir / "v.txt");
  EXPECT_EQ(t.size(), 7u);
  EXPECT_EQ(t.id("the"), 6);
  EXPECT_EQ(t.token(5), "man");
  EXPECT_EQ(t.id("nothing"), t.unk_id());
  EXPECT_THROW(t.token(7), std::out_of_range);
  glamm::io::write_file_atomic(dir / "nocls.txt", "[PAD]\n[UNK]\n[SEP]\n");
  try {
    BertTokenizer::load(dir / "nocls.txt");
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("[CLS]"), std::string::npos);
    EXPECT_EQ(e.file(), (dir / "nocls.txt").string());
  }
  EXPECT_THROW(BertTokenizer::load(dir / "absent.txt"), glamm::InputError);
  std::filesystem::remove_all(dir);
}

}  // namespace
