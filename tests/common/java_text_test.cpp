// The one Java-text module (common/java_text.h) used by the PTB tokenizer and METEOR: Java's toLowerCase rules,
// final sigma included, through both entry points.
#include <gtest/gtest.h>

#include <string>

#include "common/java_text.h"

namespace glamm::java {
namespace {

std::string lower16(const std::string& utf8) {
  std::u16string units;
  std::size_t bad = 0;
  EXPECT_TRUE(decode_utf8_strict(utf8, units, bad));
  std::string out;
  append_lower_utf8(units, out);
  return out;
}

TEST(JavaText, FinalSigmaFollowsJavaWordRules) {
  // Java: "Α'Σ".toLowerCase() == "α'ς" — the apostrophe does not end the word, so the sigma is final.
  EXPECT_EQ(to_lower("\xCE\x91'\xCE\xA3"), "\xCE\xB1'\xCF\x82");
  EXPECT_EQ(lower16("\xCE\x91'\xCE\xA3"), "\xCE\xB1'\xCF\x82");
  // "ΟΔΟΣ" → "οδος" with a final sigma; "ΣΑ" → "σα" (a letter follows); a lone "Σ" has no cased letter before it.
  EXPECT_EQ(to_lower("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3"), "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82");
  EXPECT_EQ(to_lower("\xCE\xA3\xCE\x91"), "\xCF\x83\xCE\xB1");
  EXPECT_EQ(to_lower("\xCE\xA3"), "\xCF\x83");
  // Word ends at a space: "ΟΣ Α" → "ος α".
  EXPECT_EQ(to_lower("\xCE\x9F\xCE\xA3 \xCE\x91"), "\xCE\xBF\xCF\x82 \xCE\xB1");
}

TEST(JavaText, LowercaseSpecialCasesAgreeBetweenEntryPoints) {
  for (const std::string s : {"ABC \xC3\x87", "\xC4\xB0stanbul", "\xF0\x90\x90\x80x", "Mixed \xCE\xA3\xCE\xA3"})
    EXPECT_EQ(to_lower(s), lower16(s)) << s;
  EXPECT_EQ(to_lower("\xC4\xB0"), "i\xCC\x87");        // İ → i + U+0307
  EXPECT_EQ(to_lower("\xF0\x90\x90\x80"), "\xF0\x90\x90\xA8");  // Deseret capital (supplementary plane)
}

TEST(JavaText, DecodersDifferOnlyInWhatTheyDoWithBadBytes) {
  std::u16string units;
  std::size_t bad = 0;
  EXPECT_FALSE(decode_utf8_strict("a\xC3(", units, bad));
  EXPECT_EQ(bad, 1u);
  EXPECT_EQ(decode_utf8_lenient("a\xC3("), std::u32string(U"a\uFFFD("));
  EXPECT_EQ(to_lower("A\xC3"), "a\xEF\xBF\xBD");  // METEOR reads the bad byte as U+FFFD
}

}  // namespace
}  // namespace glamm::java
