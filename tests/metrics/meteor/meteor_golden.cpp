// METEOR 1.5 parity against the golden outputs of the coco meteor-1.5.jar (shared/golden/meteor/).
#include <zip.h>
#include <zlib.h>

#include <chrono>
#include <clocale>
#include <thread>
#include <ctime>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "metrics/meteor/meteor.h"
#include "support/shared_data.h"

namespace {

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

using glamm::meteor::Config;
using glamm::meteor::Resources;
using glamm::meteor::Scorer;
using glamm::meteor::Stats;

std::vector<std::string> split_tab(const std::string& line) {
  std::vector<std::string> f;
  std::size_t s = 0;
  while (true) {
    auto p = line.find('\t', s);
    if (p == std::string::npos) {
      f.push_back(line.substr(s));
      break;
    }
    f.push_back(line.substr(s, p - s));
    s = p + 1;
  }
  return f;
}

std::vector<std::vector<std::string>> read_tsv(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) rows.push_back(split_tab(line));
  }
  return rows;
}

std::vector<std::string> json_strings(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& x : nlohmann::json::parse(s)) out.push_back(x.get<std::string>());
  return out;
}

std::shared_ptr<const Resources> resources(const std::filesystem::path& dir, bool paraphrase) {
  std::string para = paraphrase ? (dir / "tiny-paraphrase-en.gz").string() : std::string("-");
  return std::make_shared<const Resources>(Resources::load(dir.string(), para));
}

// Both configurations of meteor_cases32.tsv: normalized hyp, 23 stats, segment score and the #AGGREGATE corpus value.
void check_cases32(char config) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  GLAMM_REQUIRE_SHARED(cases, "golden/meteor/meteor_cases32.tsv");
  Scorer scorer(resources(data, config == 'B'), Config{config == 'B'});
  std::vector<Stats> all;
  double expected_corpus = -1, max_seg_delta = 0;
  int n = 0;
  for (const auto& f : read_tsv(cases)) {
    if (f[0] == "#AGGREGATE") {
      if (f[1].size() == 1 && f[1][0] == config) expected_corpus = std::stod(f[3]);
      continue;
    }
    if (f[0][0] != config) continue;
    ASSERT_GE(f.size(), 7u);
    std::string hyp = glamm::meteor::pycocoevalcap_clean_hypothesis(f[2]);
    auto refs = json_strings(f[3]);
    EXPECT_EQ(scorer.normalize(hyp), f[4]) << "case " << f[1];
    Stats st = scorer.segment_stats(hyp, refs);
    EXPECT_EQ(st.to_string(), f[6]) << "case " << f[1] << " hyp '" << hyp << "'\n  " << f[7];
    double seg = scorer.score(st);
    EXPECT_NEAR(seg, std::stod(f[5]), 1e-12) << "case " << f[1];
    max_seg_delta = std::max(max_seg_delta, std::fabs(seg - std::stod(f[5])));
    all.push_back(st);
    ++n;
  }
  EXPECT_EQ(n, 32);
  ASSERT_GE(expected_corpus, 0) << "no #AGGREGATE row for " << config;
  double corpus = scorer.corpus_score(all);
  EXPECT_NEAR(corpus, expected_corpus, 1e-12);
  std::printf("[meteor] config %c: %d cases, max |segment delta| %.3g, corpus %.17g (expected %.17g)\n", config, n,
              max_seg_delta, corpus, expected_corpus);
}

TEST(MeteorGolden, Cases32ConfigurationAWithoutParaphrase) { check_cases32('A'); }
TEST(MeteorGolden, Cases32ConfigurationBWithTinyParaphraseTable) { check_cases32('B'); }

TEST(MeteorGolden, Val2017First2000ItemsStatsScoresAndCorpus) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  GLAMM_REQUIRE_SHARED(items, "golden/meteor/val2017_2000_items.tsv");
  GLAMM_REQUIRE_SHARED(corpus_json, "golden/meteor/val2017_corpus.json");
  Scorer scorer(resources(data, false), Config{});
  auto rows = read_tsv(items);
  ASSERT_EQ(rows.size(), 2000u);
  std::vector<Stats> all;
  int stats_mismatch = 0;
  double max_delta = 0, seg_sum = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : rows) {
    Stats st = scorer.segment_stats(glamm::meteor::pycocoevalcap_clean_hypothesis(f[3]), json_strings(f[4]));
    if (st.to_string() != f[5]) {
      ++stats_mismatch;
      ADD_FAILURE() << "item " << f[0] << ": stats " << st.to_string() << " expected " << f[5] << "\n  hyp: " << f[3]
                    << "\n  refs: " << f[4];
    }
    double seg = scorer.score(st);
    max_delta = std::max(max_delta, std::fabs(seg - std::stod(f[6])));
    seg_sum += seg;
    all.push_back(st);
  }
  auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(stats_mismatch, 0);
  EXPECT_LE(max_delta, 1e-12);
  auto j = glamm::io::load_json(corpus_json);
  double corpus = scorer.corpus_score(all);
  EXPECT_NEAR(corpus, j["corpus_meteor_2000_items"].get<double>(), 1e-12);
  EXPECT_NEAR(seg_sum / 2000.0, j["mean_of_segment_scores_2000"].get<double>(), 1e-12);
  std::printf("[meteor] val2017 2000: stats mismatches %d, max |segment delta| %.3g, corpus delta %.3g, %.1f ms\n",
              stats_mismatch, max_delta, std::fabs(corpus - j["corpus_meteor_2000_items"].get<double>()),
              std::chrono::duration<double, std::milli>(t1 - t0).count());
}

TEST(MeteorGolden, Val2017All5000ImagesCorpusFromPtbCaptions) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  GLAMM_REQUIRE_SHARED(ptb, "golden/ptb/val2017_captions_ptb.tsv");
  GLAMM_REQUIRE_SHARED(ann, "data/captions/captions_val2017.json");
  GLAMM_REQUIRE_SHARED(corpus_json, "golden/meteor/val2017_corpus.json");
  // Tokenized captions grouped by image in annotation-file order.
  std::map<long long, std::vector<std::string>> by_image;
  for (const auto& f : read_tsv(ptb)) {
    ASSERT_GE(f.size(), 5u);
    by_image[std::stoll(f[1])].push_back(nlohmann::json::parse(f[4]).get<std::string>());
  }
  auto coco = glamm::io::load_json(ann);
  std::vector<std::string> hyps;
  std::vector<std::vector<std::string>> refs;
  for (const auto& img : coco["images"]) {
    auto& caps = by_image.at(img["id"].get<long long>());
    ASSERT_GE(caps.size(), 2u);
    hyps.push_back(caps[0]);
    refs.emplace_back(caps.begin() + 1, caps.end());
  }
  ASSERT_EQ(hyps.size(), 5000u);
  Scorer scorer(resources(data, false), Config{});
  auto t0 = std::chrono::steady_clock::now();
  double c0 = thread_cpu_ms();
  std::vector<Stats> all;
  all.reserve(hyps.size());
  for (std::size_t i = 0; i < hyps.size(); ++i)
    all.push_back(scorer.segment_stats(glamm::meteor::pycocoevalcap_clean_hypothesis(hyps[i]), refs[i]));
  double corpus = scorer.corpus_score(all);
  auto t1 = std::chrono::steady_clock::now();
  double c1 = thread_cpu_ms();
  double expected = glamm::io::load_json(corpus_json)["corpus_meteor_all_5000_images"].get<double>();
  EXPECT_NEAR(corpus, expected, 1e-12);
  std::printf("[meteor] val2017 5000 images: corpus %.17g (expected %.17g), 1 thread %.1f ms wall, %.1f ms CPU\n", corpus,
              expected, std::chrono::duration<double, std::milli>(t1 - t0).count(), c1 - c0);
}

// ------------------------------------------------------------------------------------------ published anchors
// nlg-eval (Maluuba/nlg-eval test_nlgeval.py) runs the coco jar on raw strings; caption-metrics.md §5.1 gives full precision.
TEST(MeteorGolden, NlgEvalSinglePairAnchor) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  Scorer sc(resources(data, false), Config{});
  Stats s = sc.segment_stats("this is a good test", {"this is a test", "this is also a test"});
  EXPECT_NEAR(sc.score(s), 0.4443438716486749, 1e-12);
  EXPECT_NEAR(sc.corpus_score({s}), 0.4443438716486749, 1e-12);
}

TEST(MeteorGolden, NlgEvalFrenchAnchorNormalizesAndLowercasesRawText) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  Scorer sc(resources(data, false), Config{});
  Stats s = sc.segment_stats("Le test est en fran\xC3\xA7" "ais.", {"Test en fran\xC3\xA7" "ais.", "Le test en fran\xC3\xA7" "ais."});
  EXPECT_NEAR(sc.score(s), 0.48372379050300296, 1e-12);
  // Non-alphanumeric scripts are split per character; identical lines score 1 (nlg-eval's "テスト" test).
  EXPECT_EQ(sc.score(sc.segment_stats("\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88", {"\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88"})), 1.0);
}

TEST(MeteorGolden, NlgEvalTwoSegmentCorpusWithHasBeenWasParaphrase) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  // The second segment needs the paraphrase "has been" <-> "was" (caption-metrics.md §5.1): write that 2-record table.
  auto gz = std::filesystem::temp_directory_path() / ("glamm_meteor_hasbeen_" + std::to_string(::getpid()) + ".gz");
  {
    gzFile f = gzopen(gz.string().c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string rec = "0.5\nhas been\nwas\n0.5\nwas\nhas been\n";
    gzwrite(f, rec.data(), static_cast<unsigned>(rec.size()));
    gzclose(f);
  }
  auto res = std::make_shared<const Resources>(Resources::load(data.string(), gz.string()));
  std::filesystem::remove(gz);
  Scorer sc(res, Config{true});
  Stats s1 = sc.segment_stats("this is the model generated sentence1 which seems good enough",
                              {"this is one reference sentence for sentence1", "this is one more reference sentence for sentence1"});
  Stats s2 = sc.segment_stats("this is sentence2 which has been generated by your model",
                              {"this is a reference sentence for sentence2 which was generated by your model",
                               "this is the second reference sentence for sentence2"});
  EXPECT_NEAR(sc.score(s1), 0.1556568826170604, 1e-12);
  EXPECT_NEAR(sc.score(s2), 0.39012536521249613, 1e-12);
  EXPECT_NEAR(sc.corpus_score({s1, s2}), 0.2957971080379661, 1e-12);
}

TEST(MeteorGolden, SpecAnchorsDogsAndCatSofa) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  Scorer sc(resources(data, false), Config{});
  EXPECT_NEAR(sc.score(sc.segment_stats("two dogs running in the grass", {"a dog runs on the grass"})),
              0.15922322067410846, 1e-12);
  EXPECT_EQ(sc.score(sc.segment_stats("a cat sitting on a couch", {"a cat sits on a sofa"})), 0.85);
}

// ------------------------------------------------------------------------------------------ jar, errors, locale
// Build a meteor-1.5.jar look-alike (zip with the resource entries at the jar's layout) at run time.
std::filesystem::path write_jar(const std::filesystem::path& data, const std::filesystem::path& jar) {
  int err = 0;
  zip_t* z = zip_open(jar.string().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!z) return {};
  static std::vector<std::string> keep;  // buffers must live until zip_close
  keep.clear();
  const std::vector<std::pair<std::string, std::string>> entries = {
      {"synonym/english.synsets", "english.synsets"},
      {"synonym/english.exceptions", "english.exceptions"},
      {"function/english.words", "english.words"},
      {"nonbreaking/english.prefixes", "english.prefixes"}};
  keep.reserve(entries.size());
  for (const auto& [entry, file] : entries) {
    keep.push_back(glamm::io::read_file(data / file));
    zip_source_t* src = zip_source_buffer(z, keep.back().data(), keep.back().size(), 0);
    zip_file_add(z, entry.c_str(), src, ZIP_FL_OVERWRITE);
  }
  zip_close(z);
  return jar;
}

TEST(MeteorGolden, JarResourcesScoreLikeTheFolderAndTruncatedJarIsAnInputError) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  GLAMM_REQUIRE_SHARED(cases, "golden/meteor/meteor_cases32.tsv");
  auto jar = std::filesystem::temp_directory_path() / ("glamm_meteor_" + std::to_string(::getpid()) + ".jar");
  ASSERT_FALSE(write_jar(data, jar).empty());
  auto from_jar = std::make_shared<const Resources>(Resources::load(jar.string()));
  EXPECT_EQ(from_jar->synsets_source, "jar:" + jar.string() + "!synonym/english.synsets");
  auto from_dir = resources(data, false);
  EXPECT_EQ(from_jar->checksum, from_dir->checksum);
  Scorer a(from_jar, Config{}), b(from_dir, Config{});
  for (const auto& f : read_tsv(cases)) {
    if (f[0][0] != 'A') continue;
    auto refs = json_strings(f[3]);
    EXPECT_EQ(a.segment_stats(f[2], refs).to_string(), f[6]) << "case " << f[1];
  }
  // Truncated jar: the zip central directory is gone.
  auto size = std::filesystem::file_size(jar);
  std::filesystem::resize_file(jar, size / 2);
  try {
    Resources::load(jar.string());
    ADD_FAILURE() << "expected InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(jar.string()), std::string::npos) << e.what();
  }
  std::filesystem::remove(jar);
}

TEST(MeteorGolden, ResultsDoNotDependOnTheLocale) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  GLAMM_REQUIRE_SHARED(cases, "golden/meteor/meteor_cases32.tsv");
  auto rows = read_tsv(cases);
  Scorer sc(resources(data, true), Config{true});
  std::vector<std::string> before;
  for (const auto& f : rows)
    if (f[0][0] == 'B') before.push_back(sc.segment_stats(f[2], json_strings(f[3])).to_string() + " " + sc.normalize(f[2]));
  const char* got = std::setlocale(LC_ALL, "de_DE.UTF-8");
  if (!got) got = std::setlocale(LC_ALL, "tr_TR.UTF-8");
  if (!got) {
    std::setlocale(LC_ALL, "C");
    GLAMM_REQUIRE(false, "no de_DE.UTF-8 / tr_TR.UTF-8 locale installed (scripts/setup.sh generates de_DE.UTF-8)");
  }
  Scorer sc2(resources(data, true), Config{true});  // load under the locale too
  std::size_t k = 0;
  for (const auto& f : rows)
    if (f[0][0] == 'B') {
      EXPECT_EQ(sc2.segment_stats(f[2], json_strings(f[3])).to_string() + " " + sc2.normalize(f[2]), before[k]);
      ++k;
    }
  std::setlocale(LC_ALL, "C");
}

TEST(MeteorGolden, ParallelScoringIsDeterministic) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  GLAMM_REQUIRE_SHARED(items, "golden/meteor/val2017_2000_items.tsv");
  auto rows = read_tsv(items);
  Scorer sc(resources(data, false), Config{});
  std::vector<Stats> par(rows.size());
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < rows.size(); i += 4)
        par[i] = sc.segment_stats(rows[i][3], json_strings(rows[i][4]));
    });
  for (auto& th : pool) th.join();
  for (std::size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(par[i].to_string(), rows[i][5]) << "item " << i;
}

// ------------------------------------------------------------------------------------------ command line
TEST(MeteorGolden, CommandLinePrintsSegmentScoresStatsAndCorpus) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  GLAMM_REQUIRE_SHARED(cases, "golden/meteor/meteor_cases32.tsv");
  auto rows = read_tsv(cases);
  auto input = std::filesystem::temp_directory_path() / ("glamm_meteor_cli_" + std::to_string(::getpid()) + ".txt");
  std::vector<const std::vector<std::string>*> expected;
  double corpus_expected = -1;
  {
    std::ofstream out(input);
    for (const auto& f : rows) {
      if (f[0] == "#AGGREGATE" && f[1] == "B") corpus_expected = std::stod(f[3]);
      if (f[0][0] != 'B') continue;
      out << f[2];
      for (const auto& r : json_strings(f[3])) out << " ||| " << r;
      out << "\n";
      expected.push_back(&f);
    }
  }
  std::string cmd = std::string(GLAMM_EVAL_BINARY) + " meteor --stats -q --threads 3 --meteor-resources '" + data.string() +
                    "' --meteor-paraphrase '" + (data / "tiny-paraphrase-en.gz").string() + "' < '" + input.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), p)) output.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << output;
  std::filesystem::remove(input);
  std::vector<std::string> lines;
  std::istringstream is(output);
  for (std::string l; std::getline(is, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), expected.size() + 2);  // --stats header, segments, labelled corpus score
  EXPECT_EQ(lines.front().rfind("segment_score\tsufficient_statistics", 0), 0u) << lines.front();
  lines.erase(lines.begin());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& f = *expected[i];
    auto tab = lines[i].find('\t');
    ASSERT_NE(tab, std::string::npos);
    EXPECT_EQ(lines[i].substr(0, tab), f[5]) << "case " << f[1];  // Java Double.toString text of the score
    EXPECT_EQ(lines[i].substr(tab + 1), f[6]) << "case " << f[1];
  }
  ASSERT_EQ(lines.back().rfind("corpus METEOR: ", 0), 0u) << lines.back();
  EXPECT_NEAR(std::stod(lines.back().substr(15)), corpus_expected, 1e-12);
}

}  // namespace
