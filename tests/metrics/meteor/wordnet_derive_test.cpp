// Deriving METEOR's english.synsets / english.exceptions from WordNet files: the rules on a hand-written fixture in
// WordNet 3.0's data / exception file format (offsets chosen around METEOR's offset corrections).
#include "metrics/meteor/wordnet_derive.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.h"
#include "metrics/meteor/meteor.h"

namespace {

namespace fs = std::filesystem;
namespace wn = glamm::meteor::wordnet;

// Nouns: "Bright" shares offset 100 with the adjective "bright"; the two "light" synsets are in lexicographer files
// 11 and 07 (sense-key order puts offset 400 first); "weather" shares offset 500 with the adjective "racist"; "dash"
// sits at 613018, the id the verb synset at Debian offset 613036 gets.
const char* kNoun =
    "  1 A hand-written fixture in the format of WordNet 3.0's data files (header lines start with spaces).  \n"
    "00000100 07 n 01 Bright 0 000 | shares its offset with an adjective  \n"
    "00000300 11 n 02 light 0 visible_light 0 000 | lexicographer file 11  \n"
    "00000400 07 n 01 Light 1 000 | lexicographer file 07  \n"
    "00000500 20 n 01 weather 0 000 | shares its offset with the adjective racist  \n"
    "00613018 04 n 01 dash 0 000 | the corrected id of the verb synset at 613036  \n";
// Verbs: offsets in [613036, 2422967) are 18 less in METEOR's ids.
const char* kVerb =
    "00613035 38 v 01 run 0 000 01 + 02 00 | below the corrected range  \n"
    "00613036 38 v 02 run 1 dash 0 001 @ 00613035 v 0000 01 + 02 00 | first corrected offset  \n"
    "01000000 30 v 02 Run_out 0 run 2 000 01 + 02 00 | inside the corrected range  \n"
    "02422967 41 v 01 quench 0 000 01 + 08 00 | end of the corrected range: unchanged  \n";
// Adjectives: offsets from 1681478 on are one less; the satellite's head is "brilliant" (lex_id 0).
const char* kAdj =
    "00000100 00 a 01 bright 0 000 | head adjective  \n"
    "00000200 00 a 01 brilliant 0 000 | head of the satellite below  \n"
    "00000500 00 a 01 racist(a) 0 000 | adjective marker (a)  \n"
    "01681477 00 a 01 galore(ip) 0 000 | last unchanged offset, marker (ip)  \n"
    "01681478 00 s 02 bright 1 Shining 0 001 & 00000200 a 0000 | satellite at the first corrected offset  \n";
const char* kAdv = "02000000 02 r 02 brightly 0 bright 0 000 | adverb  \n";

wn::Files fixture() {
  wn::Files f;
  f.data_noun = {"data.noun", kNoun};
  f.data_verb = {"data.verb", kVerb};
  f.data_adj = {"data.adj", kAdj};
  f.data_adv = {"data.adv", kAdv};
  f.exc_adj = {"adj.exc", "better good well\n"};
  f.exc_adv = {"adv.exc", "best well\nbetter well\n"};
  f.exc_noun = {"noun.exc", "mice mouse\ndiastemata diastema\ndiastemata diastema\n"};
  f.exc_verb = {"verb.exc", "ran run\nbested best\n"};
  return f;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const glamm::InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

}  // namespace

TEST(WordNetDerive, SynsetsDropThePosCorrectOffsetsAndFollowSenseKeyOrder) {
  const std::string expected =
      // noun 100 (bright%1:07:00), adjective 100 again (dropped), adverb 2000000 (bright%4:02:00), satellite
      // 1681478 - 1 (bright%5:00:01:brilliant:00)
      "bright\n00000100 02000000 01681477\n"
      "brightly\n02000000\n"
      "brilliant\n00000200\n"
      "dash\n00613018\n"  // noun 613018 and verb 613036 - 18: one id
      "galore\n01681477\n"
      "light\n00000400 00000300\n"  // light%1:07:01 before light%1:11:00
      "quench\n02422967\n"
      "racist\n00000500\n"
      "run\n00999982 00613035 00613018\n"  // run%2:30:02, run%2:38:00, run%2:38:01
      "run_out\n00999982\n"
      "shining\n01681477\n"
      "visible_light\n00000300\n"
      "weather\n00000500\n";
  EXPECT_EQ(wn::derive_synsets(fixture()), expected);
}

TEST(WordNetDerive, ExceptionsAreTheInvertedListsWithRepeatsKept) {
  EXPECT_EQ(wn::derive_exceptions(fixture()),
            "best\nbested\n"
            "diastema\ndiastemata diastemata\n"
            "good\nbetter\n"
            "mouse\nmice\n"
            "run\nran\n"
            "well\nbetter best better\n");
}

TEST(WordNetDerive, DerivedFilesLoadAndMakeCrossPosSynonyms) {
  const fs::path dir = fs::temp_directory_path() / ("glamm_wordnet_derive_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const wn::Files f = fixture();
  std::ofstream(dir / "english.synsets", std::ios::binary) << wn::derive_synsets(f);
  std::ofstream(dir / "english.exceptions", std::ios::binary) << wn::derive_exceptions(f);
  std::ofstream(dir / "english.words", std::ios::binary) << "the\n";
  std::ofstream(dir / "english.prefixes", std::ios::binary) << "Mr\n";
  auto res = std::make_shared<const glamm::meteor::Resources>(glamm::meteor::Resources::load(dir.string(), "-"));
  fs::remove_all(dir);
  auto ids = res->synsets.find("racist");
  ASSERT_EQ(ids.size, 1u);
  EXPECT_EQ(ids.data[0], 500);
  ASSERT_EQ(res->exceptions.at("better").size(), 3u);  // good, well (adj.exc), well (adv.exc)
  // METEOR's ids drop the part of speech: the noun "weather" and the adjective "racist" become synonyms.
  glamm::meteor::Scorer sc(res, glamm::meteor::Config{});
  glamm::meteor::Stats s = sc.segment_stats("weather", {"racist"});
  EXPECT_EQ(s.v[12], 1.0);  // one synonym-module match on the test side
}

TEST(WordNetDerive, BadInputIsAnInputErrorNamingFileAndLine) {
  wn::Files f = fixture();
  f.exc_noun.text = "mice mouse\nmice\n";
  std::string e = error_of([&] { wn::derive_exceptions(f); });
  EXPECT_NE(e.find("noun.exc: line 2"), std::string::npos) << e;

  f = fixture();
  f.data_adj.text = std::string(kAdj) + "00000900 00 s 01 lonely 0 000 | satellite without a head  \n";
  e = error_of([&] { wn::derive_synsets(f); });
  EXPECT_NE(e.find("data.adj: line 6"), std::string::npos) << e;
  EXPECT_NE(e.find("head adjective"), std::string::npos) << e;

  f = fixture();
  f.data_noun.text = "00000100 07 n 03 Bright 0 000 | fewer words than w_cnt  \n";
  e = error_of([&] { wn::derive_synsets(f); });
  EXPECT_NE(e.find("data.noun: line 1"), std::string::npos) << e;

  f = fixture();
  f.data_verb.text = "00613035 38 v 01 run 0 000 | the corrected range's boundaries are missing  \n";
  e = error_of([&] { wn::derive_synsets(f); });
  EXPECT_NE(e.find("data.verb"), std::string::npos) << e;
  EXPECT_NE(e.find("613036"), std::string::npos) << e;

  const fs::path empty = fs::temp_directory_path() / ("glamm_wordnet_empty_" + std::to_string(::getpid()));
  fs::create_directories(empty);
  e = error_of([&] { wn::Files::read(empty.string()); });
  fs::remove_all(empty);
  EXPECT_NE(e.find("data.noun"), std::string::npos) << e;
  EXPECT_NE(e.find("wordnet-base"), std::string::npos) << e;
}

TEST(WordNetDerive, OffsetShiftsAreMeteorsCorrections) {
  const auto& s = wn::meteor_offset_shifts();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_STREQ(s[0].pos, "adj");
  EXPECT_EQ(s[0].from, 1681478);
  EXPECT_EQ(s[0].delta, -1);
  EXPECT_STREQ(s[1].pos, "verb");
  EXPECT_EQ(s[1].from, 613036);
  EXPECT_EQ(s[1].to, 2422967);
  EXPECT_EQ(s[1].delta, -18);
}
