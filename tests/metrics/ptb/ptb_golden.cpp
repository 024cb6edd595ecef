// Golden parity of the PTB tokenization step against CoreNLP 3.4.1 + the pycocoevalcap wrapper
// (shared golden/ptb: 60 tricky captions and all 25,014 COCO val2017 captions; exact string equality).
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "metrics/ptb/ptb_tokenizer.h"
#include "support/shared_data.h"

namespace glamm::ptb {
namespace {

struct GoldenRow {
  std::string input, raw, final_text;
};

// Reads a golden TSV: header row, then tab-separated columns of which `in`, `raw`, `fin` are JSON strings.
std::vector<GoldenRow> read_rows(const std::filesystem::path& path, size_t in, size_t raw, size_t fin) {
  std::istringstream text(io::read_file(path));
  std::vector<GoldenRow> rows;
  std::string line;
  std::getline(text, line);  // header
  while (std::getline(text, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cols;
    size_t p = 0;
    while (true) {
      size_t q = line.find('\t', p);
      cols.push_back(line.substr(p, q == std::string::npos ? std::string::npos : q - p));
      if (q == std::string::npos) break;
      p = q + 1;
    }
    GoldenRow r;
    r.input = nlohmann::json::parse(cols.at(in)).get<std::string>();
    r.raw = nlohmann::json::parse(cols.at(raw)).get<std::string>();
    r.final_text = nlohmann::json::parse(cols.at(fin)).get<std::string>();
    rows.push_back(std::move(r));
  }
  return rows;
}

// Tokenizes the rows as one pycocoevalcap batch and counts rows whose raw or final string differs.
size_t count_mismatches(const std::vector<GoldenRow>& rows, int threads, double* cpu_seconds = nullptr) {
  std::vector<std::string> caps;
  for (const auto& r : rows) caps.push_back(r.input);
  std::clock_t c0 = std::clock();
  BatchResult b = tokenize_batch(caps, LineBreakMode::kReference, threads);
  if (cpu_seconds) *cpu_seconds = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  EXPECT_EQ(b.raw.size(), rows.size());
  for (const auto& w : b.warnings)  // only the untokenizable-character note may appear, never a line shift
    EXPECT_EQ(w.find("another caption's tokenized line"), std::string::npos) << w;
  size_t bad = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (b.raw[i] == rows[i].raw && b.tokenized[i] == rows[i].final_text) continue;
    if (++bad <= 10)
      ADD_FAILURE() << "row " << i << " input " << nlohmann::json(rows[i].input).dump() << "\n raw   got "
                    << nlohmann::json(b.raw[i]).dump() << " want " << nlohmann::json(rows[i].raw).dump()
                    << "\n final got " << nlohmann::json(b.tokenized[i]).dump() << " want "
                    << nlohmann::json(rows[i].final_text).dump();
  }
  return bad;
}

TEST(PtbGolden, TrickyCasesMatchCoreNlp341) {
  GLAMM_REQUIRE_SHARED(path, "golden/ptb/ptb_cases.tsv");
  auto rows = read_rows(path, 1, 2, 3);
  ASSERT_EQ(rows.size(), 60u);
  EXPECT_EQ(count_mismatches(rows, 1), 0u);
  // Each case alone (end of input after it) gives the same lines: no case depends on its successor.
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(tokenize_line(rows[i].input), rows[i].raw) << "row " << i;
    EXPECT_EQ(filter_punctuation(rows[i].raw), rows[i].final_text) << "row " << i;
  }
}

TEST(PtbGolden, AllCocoVal2017CaptionsMatchCoreNlp341) {
  GLAMM_REQUIRE_SHARED(path, "golden/ptb/val2017_captions_ptb.tsv");
  auto rows = read_rows(path, 2, 3, 4);
  ASSERT_EQ(rows.size(), 25014u);
  double cpu1 = 0, cpu2 = 0;
  EXPECT_EQ(count_mismatches(rows, 1, &cpu1), 0u);
  EXPECT_EQ(count_mismatches(rows, 2, &cpu2), 0u);
  std::cout << "[ timing ] 25,014 captions: " << cpu1 << " s CPU (1 thread), " << cpu2 << " s CPU (2 threads)\n";
  EXPECT_LT(cpu2, 1.0) << "tokenizing 25k captions should take well under 0.2 s";
}

TEST(PtbGolden, DemoResultsTokenizeToTheDemoTestlen) {
  // coco-caption's demo prints BLEU testlen 9893 for these 1000 result captions (caption-metrics.md §3.4 anchor).
  GLAMM_REQUIRE_SHARED(path, "data/captions/captions_val2014_fakecap_results.json");
  nlohmann::json j = io::load_json(path);
  std::vector<std::string> caps;
  for (const auto& r : j) caps.push_back(r.at("caption").get<std::string>());
  ASSERT_EQ(caps.size(), 1000u);
  BatchResult b = tokenize_batch(caps, LineBreakMode::kReference, 2);
  size_t tokens = 0;
  for (const auto& t : b.tokenized) {
    std::istringstream words(t);
    std::string w;
    while (words >> w) ++tokens;
  }
  EXPECT_EQ(tokens, 9893u);
}

}  // namespace
}  // namespace glamm::ptb
