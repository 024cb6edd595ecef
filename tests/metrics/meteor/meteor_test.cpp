// METEOR unit tests on small self-made fixtures (no shared data): Java string semantics, the normalizer rules of
// caption-metrics.md §5.3, the score formula and aggregation rules (§5.6), the matchers and aligner quirks (§5.4–5.5) on a tiny
// hand-written synonym table, and resource-loading errors.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "common/error.h"
#include "common/java_text.h"
#include "metrics/meteor/meteor.h"
#include "metrics/meteor/normalizer.h"
#include "metrics/meteor/paraphrase.h"

namespace {

namespace fs = std::filesystem;
using namespace glamm::meteor;
namespace java = glamm::java;

Stats parse_stats(const std::string& line) {
  Stats s;
  std::size_t pos = 0;
  for (double& x : s.v) {
    std::size_t used = 0;
    x = std::stod(line.substr(pos), &used);
    pos += used;
  }
  return s;
}

// A temporary resource folder with a tiny synonym table, written fresh for each test that needs it.
class TinyResources : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("glamm_meteor_unit_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    // couch/sofa share synset 2; "automobile" and "car" share 7; "mice" → base "mouse" (exceptions); "mouse" 9.
    write("english.synsets", "couch\n1 2\nsofa\n2\ncar\n7 8\nautomobile\n7\nmouse\n9\nrun\n20\nrunning\n21\n");
    write("english.exceptions", "mouse\nmice\n");
    write("english.words", "a\nthe\non\nof\n's\n'\n.\n,\n");
    write("english.prefixes", "# comment\nMr\nNo #NUMERIC_ONLY#\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::shared_ptr<const Resources> load(const std::string& para = "-") {
    return std::make_shared<const Resources>(Resources::load(dir_.string(), para));
  }
  fs::path dir_;
};

// ---------------------------------------------------------------------------------------------- Java semantics
TEST(MeteorJava, StringHashMatchesJavaIncludingCollisions) {
  EXPECT_EQ(java::string_hash("hello"), 99162322);
  EXPECT_EQ(java::string_hash(""), 0);
  EXPECT_EQ(java::string_hash("Aa"), java::string_hash("BB"));  // the classic Java collision (2112)
  EXPECT_EQ(java::string_hash("Aa"), 2112);
  // UTF-16 units: 'ç' = U+00E7 is one unit; an emoji is a surrogate pair (0xD83D, 0xDE00).
  EXPECT_EQ(java::string_hash("\xC3\xA7"), 0xE7);
  EXPECT_EQ(java::string_hash("\xF0\x9F\x98\x80"), 31 * 0xD83D + 0xDE00);
  // Overflow wraps like Java int: "polygenelubricants".hashCode() == Integer.MIN_VALUE.
  EXPECT_EQ(java::string_hash("polygenelubricants"), INT32_MIN);
}

TEST(MeteorJava, DoubleToStringPrintsIntegralStatsWithPointZero) {
  EXPECT_EQ(java::double_to_string(10.0), "10.0");
  EXPECT_EQ(java::double_to_string(0.0), "0.0");
  EXPECT_EQ(java::double_to_string(0.85), "0.85");
  EXPECT_EQ(java::double_to_string(0.4497196124097984), "0.4497196124097984");
  EXPECT_EQ(java::double_to_string(1e7), "1.0E7");
}

TEST(MeteorJava, SplitOnTripleBarDropsTrailingEmptyParts) {
  EXPECT_EQ(java::split_bars("a ||| b |||"), (std::vector<std::string>{"a ", " b "}));
  EXPECT_EQ(java::split_bars("a ||| b ||| "), (std::vector<std::string>{"a ", " b ", " "}));
  EXPECT_EQ(java::split_bars("no bars"), (std::vector<std::string>{"no bars"}));
}

TEST(MeteorJava, TrimAndTokenizerFollowJava) {
  EXPECT_EQ(java::trim("\x01 a b \t\n"), "a b");
  EXPECT_EQ(java::tokenize(" a\tb\f c \r\n"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(java::to_lower("ABC \xC3\x87"), "abc \xC3\xA7");       // Ç → ç
  EXPECT_EQ(java::to_lower("\xC4\xB0"), "i\xCC\x87");               // İ → i + U+0307
}

TEST(MeteorJava, PycocoevalcapHypothesisCleaning) {
  EXPECT_EQ(pycocoevalcap_clean_hypothesis("a ||| b"), "a b");
  EXPECT_EQ(pycocoevalcap_clean_hypothesis("a    b"), "a  b");  // one replace pass, as Python's str.replace
}

// ---------------------------------------------------------------------------------------------- Normalizer §5.3
NonbreakingPrefixes english_like_prefixes() {
  NonbreakingPrefixes p;
  p.any = {"Mr", "Dr", "e.g", "vs"};
  p.numeric_only = {"No", "pp"};
  return p;
}

TEST(MeteorNormalizer, ApostrophesSplitAsSpecified) {
  auto p = english_like_prefixes();
  EXPECT_EQ(normalize_english("a man 's dog is n't happy", p), "a man ' s dog is n 't happy");
  EXPECT_EQ(normalize_english("isn't", p), "isn 't");
  EXPECT_EQ(normalize_english("dog's", p), "dog 's");
  EXPECT_EQ(normalize_english("the 1990's", p), "the 1990 's");
  EXPECT_EQ(normalize_english("the dogs ' toys", p), "the dogs ' toys");
}

TEST(MeteorNormalizer, DotsDashesCommasAndQuotes) {
  auto p = english_like_prefixes();
  EXPECT_EQ(normalize_english("a u.s. flag", p), "a us flag");           // mixed dots and letters: dots dropped
  EXPECT_EQ(normalize_english("U.S.-based firm", p), "US based firm");   // dash after a dot removed, then dots
  EXPECT_EQ(normalize_english("state-of-the-art", p), "state of the art");
  EXPECT_EQ(normalize_english("a-b-c", p), "a b-c");                     // Java regex consumption: no overlap
  EXPECT_EQ(normalize_english("see etc.", p), "see etc .");              // final dot split off
  EXPECT_EQ(normalize_english("Mr. Smith", p), "Mr. Smith");             // non-breaking prefix
  EXPECT_EQ(normalize_english("No. 5", p), "No. 5");                     // numeric-only prefix before a number
  EXPECT_EQ(normalize_english("No. way", p), "No. way");                 // next word lowercase keeps the dot
  EXPECT_EQ(normalize_english("say No. Then", p), "say No . Then");
  EXPECT_EQ(normalize_english("wait...", p), "wait ...");
  EXPECT_EQ(normalize_english("1,000 cats,dogs", p), "1,000 cats , dogs");
  EXPECT_EQ(normalize_english("\xE2\x80\x9Csmart\xE2\x80\x9D `x' ''y''", p), "\" smart \" ' x ' \" y \"");
  EXPECT_EQ(normalize_english("a \xE2\x80\x93 b -- c", p), "a - b - c");
  EXPECT_EQ(normalize_english("cats&dogs (maybe) 50%", p), "cats & dogs ( maybe ) 50 %");
  EXPECT_EQ(normalize_english("  a\xC2\xA0\xE3\x80\x80 b  ", p), "a b");  // NBSP, ideographic space collapse
  EXPECT_EQ(normalize_english("", p), "");
}

TEST(MeteorNormalizer, FastPathAgreesWithFullRules) {
  auto p = english_like_prefixes();
  // Plain [a-z0-9 ] lines take a shortcut; the result must equal what the rules give (spaces collapsed, trimmed).
  EXPECT_EQ(normalize_english("  two  dogs 2 ", p), "two dogs 2");
  EXPECT_EQ(normalize_english("two  dogs\t2", p), "two dogs 2");  // full rules: words re-joined by one space
}

// ---------------------------------------------------------------------------------------------- Score §5.6
TEST_F(TinyResources, ScoreFromStatsFollowsComputeMetrics) {
  Scorer sc(load(), Config{});
  // Golden stats of the spec's dogs example (P = R = 1/3, 1 chunk over 2+2 matches) → 0.15922322067410846.
  Stats dogs = parse_stats("6.0 6.0 3.0 3.0 1.0 1.0 1.0 1.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 1.0 2.0 2.0");
  EXPECT_DOUBLE_EQ(sc.score(dogs), 0.15922322067410846);
  // Cat/sofa: all words matched (exact + stem + synonym) in one chunk → Fmean 0.85, no penalty.
  Stats cat = parse_stats("6.0 6.0 3.0 3.0 1.0 1.0 3.0 3.0 1.0 1.0 0.0 0.0 1.0 1.0 0.0 0.0 0.0 0.0 0.0 0.0 1.0 6.0 6.0");
  EXPECT_DOUBLE_EQ(sc.score(cat), 0.85);
  // Empty hypothesis: 0/0 → NaN → 0.
  Stats empty = parse_stats("0.0 5.0 0.0 2.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0");
  EXPECT_EQ(sc.score(empty), 0.0);
}

TEST_F(TinyResources, CorpusSkipsChunksOfPerfectSegments) {
  Scorer sc(load(), Config{});
  Stats perfect = parse_stats("4.0 4.0 1.0 1.0 3.0 3.0 1.0 1.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 1.0 4.0 4.0");
  EXPECT_EQ(sc.score(perfect), 1.0);
  // Summing two perfect segments: chunks stay 0 (not 2), so the corpus is perfect too. With the chunks added the
  // corpus would be frag = 2 / 8 and a score below 1.
  EXPECT_EQ(sc.corpus_score({perfect, perfect}), 1.0);
  Stats split = perfect;
  split.v[20] = 2.0;  // all words matched but two chunks: its chunks count
  EXPECT_LT(sc.corpus_score({perfect, split}), 1.0);
  EXPECT_EQ(sc.corpus_score({}), 0.0);
}

// ---------------------------------------------------------------------------------------------- Matchers §5.4
TEST_F(TinyResources, ExactStemAndSynonymModulesAreCountedPerModule) {
  Scorer sc(load(), Config{});
  // "cat" exact, "sits"~"sitting" stem, "couch"~"sofa" synonym (shared synset 2).
  Stats s = sc.segment_stats("a cat sitting on a couch", {"a cat sits on a sofa"});
  EXPECT_EQ(s.to_string(), "6.0 6.0 3.0 3.0 1.0 1.0 3.0 3.0 1.0 1.0 0.0 0.0 1.0 1.0 0.0 0.0 0.0 0.0 0.0 0.0 1.0 6.0 6.0");
  EXPECT_DOUBLE_EQ(sc.score(s), 0.85);
}

TEST_F(TinyResources, SynonymsIncludeExceptionBasesAndMorphStems) {
  Scorer sc(load(), Config{});
  // "mice" → base "mouse" via exceptions; "automobiles" → morph "automobile" (rule s → "") shares synset 7 with car.
  Stats m = sc.segment_stats("mice", {"mouse"});
  EXPECT_EQ(m.v[12], 1.0);  // module 3 (synonym) test content matches
  Stats c = sc.segment_stats("automobiles", {"car"});
  EXPECT_EQ(c.v[12], 1.0);
}

TEST_F(TinyResources, FixedOneToOneMatchesAreKeptEvenWhenTheyAddAChunk) {
  Scorer sc(load(), Config{});
  // Every reference word here has exactly one candidate with coverage 1, so the pre-pass fixes all of them
  // (dogs~dog and running~runs by stem) although they split the alignment into two chunks.
  Stats s = sc.segment_stats("two dogs running in the grass", {"a dog runs on the grass"});
  EXPECT_EQ(s.to_string(), "6.0 6.0 1.0 3.0 1.0 1.0 1.0 1.0 2.0 2.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 2.0 4.0 4.0");
}

TEST_F(TinyResources, SingleWordNonExactMatchIsDroppedWhenItCostsAChunk) {
  // Give "dog" a second candidate (synonym of "two") so nothing is fixed for it: the aligner weights truncate a
  // one-word stem/synonym match to 0, so it never beats the state with fewer chunks (caption-metrics.md §5.5, the 0.1592 case).
  write("english.synsets", "two\n30\ndog\n30 31\n");
  Scorer sc(load(), Config{});
  Stats s = sc.segment_stats("two dogs in the grass", {"a dog on the grass"});
  EXPECT_EQ(s.to_string(), "5.0 5.0 1.0 3.0 1.0 1.0 1.0 1.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 1.0 2.0 2.0");
}

TEST_F(TinyResources, BestReferenceIsStrictlyGreaterFirstWinsTies) {
  Scorer sc(load(), Config{});
  Stats one = sc.segment_stats("a cat", {"a cat"});
  Stats two = sc.segment_stats("a cat", {"the dog", "a cat", "a cat on"});
  EXPECT_EQ(one.to_string(), two.to_string());
  EXPECT_EQ(sc.score(two), 1.0);
  // No references: nothing to align, all-zero stats.
  EXPECT_EQ(sc.segment_stats("a cat", {}).to_string(),
            "0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0");
}

TEST_F(TinyResources, EmptyAndPunctuationOnlyHypothesesScoreZero) {
  Scorer sc(load(), Config{});
  Stats e = sc.segment_stats("", {"a dog on the grass"});
  EXPECT_EQ(e.v[0], 0.0);
  EXPECT_EQ(sc.score(e), 0.0);
  Stats p = sc.segment_stats("... !! ?", {"a dog on the grass"});
  EXPECT_GT(p.v[0], 0.0);
  EXPECT_EQ(sc.score(p), 0.0);
  EXPECT_EQ(sc.corpus_score({e, p}), 0.0);
}

TEST_F(TinyResources, ParaphraseModuleMatchesMultiWordPhrases) {
  // gzip a 1-record table "next to" → "beside" at run time.
  fs::path gz = dir_ / "para.gz";
  {
    gzFile f = gzopen(gz.string().c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string rec = "0.5\nnext to\nbeside\n";
    gzwrite(f, rec.data(), static_cast<unsigned>(rec.size()));
    gzclose(f);
  }
  auto res = load(gz.string());
  ASSERT_NE(res->paraphrase, nullptr);
  Scorer with(res, Config{true});
  Stats s = with.segment_stats("a giraffe beside a tree", {"a giraffe next to a tree"});
  // Paraphrase module: 1 test word, 2 ref words (one content "next", one function? "to" is not in the tiny list).
  EXPECT_EQ(s.v[16] + s.v[18], 1.0);  // test side: "beside"
  EXPECT_EQ(s.v[17] + s.v[19], 2.0);  // ref side: "next to"
  Scorer without(res, Config{false});
  Stats n = without.segment_stats("a giraffe beside a tree", {"a giraffe next to a tree"});
  EXPECT_EQ(n.v[16] + n.v[17] + n.v[18] + n.v[19], 0.0);
}

// ---------------------------------------------------------------------------------------------- Errors
TEST_F(TinyResources, MissingOrTruncatedResourcesAreInputErrors) {
  fs::remove(dir_ / "english.words");
  try {
    load();
    FAIL() << "expected InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("english.words"), std::string::npos) << e.what();
  }
  write("english.words", "a\n");
  write("english.synsets", "couch\n1 2\nsofa\n");  // odd line count: a word without its synset line
  EXPECT_THROW(load(), glamm::InputError);
  write("english.synsets", "couch\n1 x2\n");
  EXPECT_THROW(load(), glamm::InputError);
}

TEST_F(TinyResources, TruncatedOrBrokenParaphraseGzipIsAnInputError) {
  fs::path gz = dir_ / "para.gz";
  {
    gzFile f = gzopen(gz.string().c_str(), "wb");
    std::string rec;
    for (int i = 0; i < 200; ++i) rec += "0.5\nphrase " + std::to_string(i) + "\nother " + std::to_string(i) + "\n";
    gzwrite(f, rec.data(), static_cast<unsigned>(rec.size()));
    gzclose(f);
  }
  auto full = fs::file_size(gz);
  fs::resize_file(gz, full / 2);
  try {
    load(gz.string());
    FAIL() << "expected InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("para.gz"), std::string::npos) << e.what();
  }
  write("plain.gz", "not gzip at all");
  EXPECT_THROW(load((dir_ / "plain.gz").string()), glamm::InputError);
  // A record cut after its phrase line.
  EXPECT_THROW(ParaphraseTable::parse("0.5\nnext to\n", "x.gz"), glamm::InputError);
}

TEST_F(TinyResources, ParaphraseRequestedWithoutTableIsRejected) {
  EXPECT_THROW(Scorer(load(), Config{true}), glamm::InputError);
}

TEST(MeteorResources, FindResourcesPrefersTheCommandLineThenTheEnvironment) {
  EXPECT_EQ(find_resources("/some/where"), "/some/where");
  ::setenv("GLAMM_METEOR_RESOURCES", "/from/env", 1);
  EXPECT_EQ(find_resources(""), "/from/env");
  ::unsetenv("GLAMM_METEOR_RESOURCES");
}

TEST_F(TinyResources, FolderWithoutSynonymFilesIsAnErrorNotAFallback) {
  // The synonym files come from the build (derived from WordNet); a folder with only the two lists is incomplete.
  fs::remove(dir_ / "english.synsets");
  fs::remove(dir_ / "english.exceptions");
  try {
    load();
    FAIL() << "expected InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("english.synsets"), std::string::npos) << e.what();
  }
}

TEST_F(TinyResources, LongHypothesesUseTheUnindexedSynonymPath) {
  Scorer sc(load(), Config{});
  // More than 64 words: the synonym index is not built; couch~sofa must still be found.
  std::string hyp = "a cat sitting on a couch";
  for (int i = 0; i < 70; ++i) hyp += " w" + std::to_string(i);
  Stats s = sc.segment_stats(hyp, {"a cat sits on a sofa"});
  EXPECT_EQ(s.v[0], 76.0);
  EXPECT_EQ(s.v[12], 1.0);
  EXPECT_EQ(s.v[13], 1.0);
}

TEST_F(TinyResources, RepetitiveLongSegmentsStayBoundedAndDeterministic) {
  Scorer sc(load(), Config{});
  std::string hyp, ref;
  for (int i = 0; i < 60; ++i) hyp += "a cat ";
  for (int i = 0; i < 50; ++i) ref += "cat a ";
  Stats s1 = sc.segment_stats(hyp, {ref});
  Stats s2 = sc.segment_stats(hyp, {ref});
  EXPECT_EQ(s1.to_string(), s2.to_string());
  EXPECT_EQ(s1.v[0], 120.0);
  EXPECT_EQ(s1.v[1], 100.0);
  EXPECT_EQ(s1.v[22], 100.0);  // every reference word is matched
}

}  // namespace

namespace {

TEST_F(TinyResources, CaptionsOverTheSizeLimitsAreInputErrors) {
  Scorer sc(load(), Config{});
  // 1 MiB of text is accepted (a looping caption against an ordinary reference); one byte more is refused.
  std::string hyp;
  while (hyp.size() + 6 <= kMaxSegmentBytes) hyp += "a cat ";
  hyp.append(kMaxSegmentBytes - hyp.size(), 'x');
  ASSERT_EQ(hyp.size(), kMaxSegmentBytes);
  Stats ok = sc.segment_stats(hyp, {"a cat on a couch"});
  EXPECT_EQ(ok.v[1], 5.0);
  EXPECT_EQ(ok.v[22], 3.0);  // a, cat, a matched in the reference
  try {
    sc.segment_stats(hyp + "x", {"a cat"});
    FAIL() << "no error for a hypothesis over the limit";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("hypothesis of 1048577 bytes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sc.segment_stats("a cat", {"a cat", hyp + " "}), glamm::InputError);
  // Word pairs: 33,000 × 33,000 > 2^30 with no match at all.
  std::string a, b;
  for (int i = 0; i < 33000; ++i) a += "p ", b += "q ";
  EXPECT_THROW(sc.segment_stats(a, {b}), glamm::InputError);
  // Candidate matches: 3,000 × 3,000 identical words = 9,000,000 exact matches > 8,388,608.
  std::string c;
  for (int i = 0; i < 3000; ++i) c += "cat ";
  try {
    sc.segment_stats(c, {c + "a"});
    FAIL() << "no error for too many candidate matches";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("candidate word matches"), std::string::npos) << e.what();
  }
  // 2,800 × 2,800 = 7,840,000 matches is under the limit and aligns every word.
  std::string d;
  for (int i = 0; i < 2800; ++i) d += "cat ";
  EXPECT_EQ(sc.segment_stats(d, {d + "a"}).v[22], 2800.0);
}

}  // namespace
