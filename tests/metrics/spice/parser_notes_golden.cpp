// The 30 worked examples of specs/spice-style-parser-notes.md §6 (an external fixed set): our Link Grammar
// front end's tuples against the hand gold (extracted − wrong/extra + missed), micro P/R/F overall and per kind.
// Acceptance: overall F ≥ 0.88, relations F > 0.75 (the notes' prototype figure).
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "metrics/spice/lg_parser.h"
#include "support/shared_data.h"

namespace glamm::spice {
namespace {

struct Example {
  int id = 0;
  std::string caption;
  std::set<std::string> gold;
};

std::vector<std::string> split_tuples(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while ((i = s.find('(', i)) != std::string::npos) {
    std::size_t j = s.find(')', i);
    if (j == std::string::npos) break;
    out.push_back(s.substr(i, j - i + 1));
    i = j + 1;
  }
  return out;
}

std::vector<Example> load_examples(const std::string& path) {
  std::ifstream in(path);
  std::vector<Example> out;
  std::string line;
  std::regex head(R"(^\*\*\[(\d+)\] `([^`]*)`\*\*)");
  Example cur;
  bool open = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, head)) {
      if (open) out.push_back(cur);
      cur = Example{std::stoi(m[1]), m[2], {}};
      open = true;
    } else if (open && line.rfind("- extracted:", 0) == 0) {
      for (auto& t : split_tuples(line)) cur.gold.insert(t);
    } else if (open && line.rfind("- wrong/extra:", 0) == 0) {
      std::size_t miss = line.find("missed:");
      for (auto& t : split_tuples(line.substr(0, miss))) cur.gold.erase(t);
      if (miss != std::string::npos)
        for (auto& t : split_tuples(line.substr(miss))) cur.gold.insert(t);
    }
  }
  if (open) out.push_back(cur);
  return out;
}

int arity(const std::string& t) { return 1 + static_cast<int>(std::count(t.begin(), t.end(), ',')); }

TEST(SpiceParserNotes, ThirtyWorkedExamplesReachTupleF) {
  GLAMM_REQUIRE_SHARED(notes, "specs/spice-style-parser-notes.md");
  auto examples = load_examples(notes.string());
  ASSERT_EQ(examples.size(), 30u);
  LinkParser parser;
  int tp[4] = {}, np[4] = {}, ng[4] = {};
  int exact = 0;
  for (const auto& ex : examples) {
    auto parse = parser.parse(ex.caption);
    std::set<std::string> got;
    for (const auto& t : parse.tuples) got.insert(display(t));
    for (const auto& t : got) {
      ++np[0], ++np[arity(t)];
      if (ex.gold.count(t)) ++tp[0], ++tp[arity(t)];
    }
    for (const auto& t : ex.gold) ++ng[0], ++ng[arity(t)];
    if (got == ex.gold) {
      ++exact;
    } else {
      std::string extra, missed;
      for (const auto& t : got)
        if (!ex.gold.count(t)) extra += t + " ";
      for (const auto& t : ex.gold)
        if (!got.count(t)) missed += t + " ";
      std::printf("[%d] %s | prefix '%s' nulls %d | extra: %s| missed: %s\n", ex.id, ex.caption.c_str(),
                  parse.prefix.c_str(), parse.null_count, extra.c_str(), missed.c_str());
    }
  }
  double f[4];
  const char* names[4] = {"all", "objects", "attributes", "relations"};
  for (int k = 0; k < 4; ++k) {
    double p = np[k] ? double(tp[k]) / np[k] : 0, r = ng[k] ? double(tp[k]) / ng[k] : 0;
    f[k] = p + r > 0 ? 2 * p * r / (p + r) : 0;
    std::printf("%-10s P %.3f R %.3f F %.3f (tp %d, ours %d, gold %d)\n", names[k], p, r, f[k], tp[k], np[k], ng[k]);
  }
  std::printf("captions exact: %d/30\n", exact);
  EXPECT_GE(f[0], 0.88);
  EXPECT_GT(f[3], 0.75);
}

}  // namespace
}  // namespace glamm::spice
