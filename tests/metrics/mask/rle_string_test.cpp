// Compressed RLE strings (rleToString / rleFrString): spec mask-metrics.md §2.2 worked examples and the inputs
// we reject.
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/mask/rle.h"

namespace glamm::mask {
namespace {

using Counts = std::vector<uint32_t>;

struct StringCase {
  uint32_t h, w;
  Counts counts;
  const char* text;
};

// Readable parameter in test names and failure messages (gtest would print the struct's raw bytes).
void PrintTo(const StringCase& c, std::ostream* os) {
  *os << c.h << "x" << c.w << " counts [";
  for (std::size_t i = 0; i < c.counts.size(); ++i) *os << (i ? " " : "") << c.counts[i];
  *os << "] \"" << c.text << "\"";
}

class SpecStringExamples : public ::testing::TestWithParam<StringCase> {};

TEST_P(SpecStringExamples, EncodeGivesTheSpecStringAndDecodesBack) {
  const StringCase& c = GetParam();
  const Rle r{c.h, c.w, c.counts};
  EXPECT_EQ(to_string(r), c.text);
  const Rle back = from_string(c.text, c.h, c.w);
  EXPECT_EQ(back.h, c.h);
  EXPECT_EQ(back.w, c.w);
  EXPECT_EQ(back.counts, c.counts);
}

INSTANTIATE_TEST_SUITE_P(
    Spec, SpecStringExamples,
    ::testing::Values(StringCase{3, 4, {0, 12}, "0<"},                        // leading empty 0-run
                      StringCase{3, 4, {12}, "<"},                            // empty mask
                      StringCase{3, 4, {5, 1, 1, 1, 4}, "51103"},             // deltas 1-1=0 and 4-1=3
                      StringCase{20, 19, {100, 40, 100, 40, 100}, "T3X1T300"},  // multi-char groups, zero deltas
                      StringCase{10, 100, {10, 500, 5, 485}, ":d?5A"},        // negative deltas
                      StringCase{3, 4, {3, 2, 7}, "327"}),                    // i = 2 stored raw, not 7-3
    [](const ::testing::TestParamInfo<StringCase>& info) {
      return "case" + std::to_string(info.index) + "_" + std::to_string(info.param.h) + "x" +
             std::to_string(info.param.w);
    });

TEST(RleString, DeltaRuleStartsAtIndexThree) {
  // counts[2] is raw; counts[3] is the delta to counts[1]: 9-2 = 7.
  EXPECT_EQ(to_string(Rle{4, 5, {3, 2, 6, 9}}), "3267");
}

TEST(RleString, EmptyCountsGiveEmptyStringValidOnlyForZeroPixels) {
  EXPECT_EQ(to_string(Rle{0, 0, {}}), "");
  EXPECT_TRUE(from_string("", 0, 0).counts.empty());
  EXPECT_THROW(from_string("", 2, 2), RleError);
}

TEST(RleString, LargestCountRoundTrips) {
  // 65537 x 65535 = 2^32 - 1 pixels in one run: needs 7 groups, beyond the C code's int shift.
  const Rle r{65537, 65535, {0xFFFFFFFFu}};
  const std::string s = to_string(r);
  EXPECT_EQ(s.size(), 7u);
  EXPECT_EQ(from_string(s, r.h, r.w).counts, r.counts);
}

TEST(RleString, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_THROW(from_string("0p", 3, 4), RleError);         // 'p' = 112 is past 'o'
  EXPECT_THROW(from_string("/<", 3, 4), RleError);         // '/' = 47 is before '0'
  EXPECT_THROW(from_string(std::string("0\0<", 3), 3, 4), RleError);  // embedded NUL
  try {
    from_string("0 <", 3, 4);
    FAIL() << "space accepted";
  } catch (const RleError& e) {
    EXPECT_NE(std::string(e.what()).find("offset 1"), std::string::npos) << e.what();
  }
}

TEST(RleString, RejectsTruncatedLastGroup) {
  // 'T' = 36 has the continuation bit 0x20 set, so a count is cut short.
  EXPECT_THROW(from_string("T", 20, 19), RleError);
  EXPECT_THROW(from_string("T3X1T30T", 20, 19), RleError);
}

TEST(RleString, RejectsCountsThatDoNotSumToTheImage) {
  EXPECT_THROW(from_string("0<", 3, 5), RleError);   // 12 < 15 (2.0.6 would decode garbage; our departure)
  EXPECT_THROW(from_string("0<", 3, 3), RleError);   // 12 > 9
  // A trailing zero count is harmless when the sum matches.
  EXPECT_EQ(from_string("0<0", 3, 4).counts, (std::vector<uint32_t>{0, 12, 0}));
}

TEST(RleString, RejectsNegativeCountsFromDeltas) {
  // 'O' = 31 has the sign bit 0x10: delta -1, so counts[3] = counts[1] - 1 = 0. 'N' = 30 is delta -2 → -1.
  EXPECT_EQ(from_string("511O", 7, 1).counts, (std::vector<uint32_t>{5, 1, 1, 0}));
  EXPECT_THROW(from_string("511N", 7, 1), RleError);
}

/// rleFrString written out plainly from the spec (int64, no shortcuts): the counts, or nullopt where from_string
/// must throw (with `check_sum` false the h*w test is left out). The oracle for strings long enough for
/// from_string's eight-counts-at-a-time path.
std::optional<Counts> plain_decode(const std::string& s, uint32_t h, uint32_t w, bool check_sum = true) {
  Counts out;
  std::size_t p = 0;
  uint64_t sum = 0;
  while (p < s.size()) {
    int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= s.size() || k >= 12) return std::nullopt;
      const int c = s[p++] - '0';
      if (c < 0 || c > 63) return std::nullopt;
      x |= static_cast<int64_t>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++k;
      if (!more && (c & 0x10)) x |= -(int64_t{1} << (5 * k));
    }
    if (out.size() > 2) x += out[out.size() - 2];
    if (x < 0 || x > 4294967295LL) return std::nullopt;
    sum += static_cast<uint64_t>(x);
    out.push_back(static_cast<uint32_t>(x));
  }
  if (check_sum && sum != uint64_t{h} * w) return std::nullopt;
  return out;
}

TEST(RleString, LongStringsOfOneCharacterCountsDecodeAsTheSpecSays) {
  // Mostly one-character counts (small deltas, some negative) with some two-character groups; some strings
  // broken inside a run of eight (a count going negative, a stray character, a sum one past the image): the same
  // counts, or an RleError, as the plain decoder.
  uint64_t state = 99;
  auto next = [&state](uint32_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>((state >> 33) % n);
  };
  int decoded = 0, rejected = 0;
  for (int it = 0; it < 3000; ++it) {
    std::string s;
    const int n = 3 + static_cast<int>(next(60));
    for (int i = 0; i < n; ++i) {
      if (i < 3) {
        s += static_cast<char>('0' + next(16));  // first counts: no delta
      } else if (next(10) == 0) {
        s += static_cast<char>('0' + 0x20 + next(32));  // a two-character group
        s += static_cast<char>('0' + next(16));
      } else {
        s += static_cast<char>('0' + (next(8) == 0 ? 16 + next(16) : next(3)));  // delta, sometimes negative
      }
    }
    if (it % 50 == 0) s[next(static_cast<uint32_t>(s.size()))] = 'z';  // outside '0'..'o'
    // The image sized to the counts' sum (so that most strings are valid), now and then one pixel more.
    const auto raw = plain_decode(s, 0, 0, false);
    uint64_t sum = 0;
    if (raw)
      for (uint32_t c : *raw) sum += c;
    const uint32_t w = static_cast<uint32_t>(raw ? sum : 7) + (it % 7 == 0 ? 1 : 0);
    const auto want = plain_decode(s, 1, w);
    if (want) {
      EXPECT_EQ(from_string(s, 1, w).counts, *want) << s;
      ++decoded;
    } else {
      EXPECT_THROW(from_string(s, 1, w), RleError) << s;
      ++rejected;
    }
  }
  EXPECT_GT(decoded, 700);
  EXPECT_GT(rejected, 300);
}

TEST(RleString, RejectsOverlongGroups) {
  EXPECT_THROW(from_string(std::string(12, 'o') + "0", 1, 1), RleError);
}

}  // namespace
}  // namespace glamm::mask
