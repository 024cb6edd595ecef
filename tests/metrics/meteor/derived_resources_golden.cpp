// The METEOR resources the build derives from Debian's WordNet (share/glamm-eval/meteor in the build tree) against
// METEOR 1.5's own files (shared data/meteor): english.synsets and english.exceptions byte-identical, and the two
// copied lists equal.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/shared_data.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << p;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

/// Two-line records (key line, space-separated value line) of english.synsets / english.exceptions.
std::map<std::string, std::vector<std::string>> records(const std::string& text) {
  std::map<std::string, std::vector<std::string>> out;
  std::vector<std::string> lines = split(text, '\n');
  EXPECT_EQ(lines.size() % 2, 0u);
  for (std::size_t i = 0; i + 1 < lines.size(); i += 2) out[lines[i]] = split(lines[i + 1], ' ');
  return out;
}

fs::path derived_dir() { return fs::path(GLAMM_METEOR_DATA_DIR); }

}  // namespace

TEST(MeteorDerivedResources, SynsetsEqualMeteorsFile) {
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor/english.synsets");
  const std::string derived = slurp(derived_dir() / "english.synsets");
  const std::string reference = slurp(meteor);
  auto d = records(derived), r = records(reference);
  // Same words and the same id set per word (what the loader keeps) ...
  ASSERT_EQ(d.size(), r.size());
  std::size_t pairs = 0, differing = 0;
  std::set<std::string> ids;
  for (const auto& [word, rid] : r) {
    auto it = d.find(word);
    ASSERT_NE(it, d.end()) << "missing word " << word;
    std::set<std::string> a(it->second.begin(), it->second.end()), b(rid.begin(), rid.end());
    if (a != b) ++differing;
    pairs += it->second.size();
    ids.insert(it->second.begin(), it->second.end());
  }
  EXPECT_EQ(differing, 0u);
  EXPECT_EQ(d.size(), 147306u);  // words
  EXPECT_EQ(pairs, 206941u);     // word-id pairs
  EXPECT_EQ(ids.size(), 117374u);  // distinct ids
  // ... and byte for byte (word order, id order, line ends).
  EXPECT_EQ(derived.size(), 3702066u);
  EXPECT_TRUE(derived == reference) << "derived english.synsets differs from METEOR's";
  // Cross-POS merge reproduced: the noun "weather" and the adjective "racist" share an id.
  std::set<std::string> w(d["weather"].begin(), d["weather"].end());
  EXPECT_TRUE(std::any_of(d["racist"].begin(), d["racist"].end(), [&](const std::string& x) { return w.count(x); }));
}

TEST(MeteorDerivedResources, ExceptionsEqualMeteorsFileWithRepeatsKept) {
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor/english.exceptions");
  const std::string derived = slurp(derived_dir() / "english.exceptions");
  const std::string reference = slurp(meteor);
  auto d = records(derived), r = records(reference);
  ASSERT_EQ(d.size(), r.size());
  std::size_t with_repeats = 0, forms = 0;
  for (const auto& [base, rforms] : r) {
    auto it = d.find(base);
    ASSERT_NE(it, d.end()) << "missing base " << base;
    std::multiset<std::string> a(it->second.begin(), it->second.end()), b(rforms.begin(), rforms.end());
    EXPECT_EQ(a, b) << base;  // set-equal, repeats included
    if (std::set<std::string>(a.begin(), a.end()).size() != a.size()) ++with_repeats;
    forms += it->second.size();
  }
  EXPECT_EQ(d.size(), 4270u);    // base forms (records)
  EXPECT_EQ(forms, 6053u);       // base-form pairs
  EXPECT_EQ(with_repeats, 7u);   // diastema, gas, militate_against, quiz, sudatorium, vagus, well
  EXPECT_EQ(d["well"], (std::vector<std::string>{"better", "best", "better"}));
  EXPECT_TRUE(derived == reference) << "derived english.exceptions differs from METEOR's";
}

TEST(MeteorDerivedResources, CopiedListsEqualMeteorsFiles) {
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor");
  for (const char* name : {"english.words", "english.prefixes"}) {
    const std::string derived = slurp(derived_dir() / name);
    EXPECT_FALSE(derived.empty()) << name;
    EXPECT_TRUE(derived == slurp(meteor / name)) << name;
  }
  EXPECT_TRUE(fs::is_regular_file(derived_dir() / "WORDNET-LICENSE"));
}
