// Scorer-level parity with pycocoevalcap (no tokenizer, no METEOR): BLEU-1..4, ROUGE-L and CIDEr-D on the
// 6-image hand example and the 300-image synthetic corpus, every per-image and corpus value to 1e-12.
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "metrics/caption/bleu.h"
#include "metrics/caption/cider.h"
#include "metrics/caption/rouge.h"
#include "support/shared_data.h"

namespace {

using glamm::caption::bleu_score;
using glamm::caption::cider_d_score;
using glamm::caption::rouge_score;

struct ScorerCase {
  std::vector<std::string> hyps;
  std::vector<std::vector<std::string>> refs;
  nlohmann::ordered_json scores;
};

/// gts/res keyed by image id; JSON key order is the evaluation order.
ScorerCase load_case(const std::filesystem::path& path) {
  const auto j = nlohmann::ordered_json::parse(glamm::io::read_file(path));
  ScorerCase c;
  for (const auto& [id, refs] : j.at("gts").items()) {
    c.refs.push_back(refs.get<std::vector<std::string>>());
    const auto& res = j.at("res").at(id);
    EXPECT_EQ(res.size(), 1u) << "image " << id;
    c.hyps.push_back(res.at(0).get<std::string>());
  }
  // Two layouts: small6 {"Bleu": {corpus, per_image}, "Rouge": ..., "Cider": ...} and synth300 flat keys
  // {Bleu_corpus, Bleu_per_image, ROUGE_L_mean, ROUGE_L_per_image, CIDEr_mean, CIDEr_per_image}.
  const auto& s = j.at("scores");
  if (s.contains("Bleu")) {
    c.scores = s;
  } else {
    c.scores["Bleu"]["corpus"] = s.at("Bleu_corpus");
    c.scores["Bleu"]["per_image"] = s.at("Bleu_per_image");
    c.scores["Rouge"]["corpus"] = nlohmann::ordered_json::array({s.at("ROUGE_L_mean")});
    c.scores["Rouge"]["per_image"] = s.at("ROUGE_L_per_image");
    c.scores["Cider"]["corpus"] = nlohmann::ordered_json::array({s.at("CIDEr_mean")});
    c.scores["Cider"]["per_image"] = s.at("CIDEr_per_image");
  }
  return c;
}

constexpr double kTol = 1e-12;

void expect_all_scores(const ScorerCase& c, int threads, const std::string& name) {
  const auto bleu = bleu_score(c.hyps, c.refs, threads);
  const auto rouge = rouge_score(c.hyps, c.refs, threads);
  const auto cider = cider_d_score(c.hyps, c.refs, threads);
  double max_delta = 0;
  auto check = [&](double got, double want, const std::string& what) {
    const double d = std::fabs(got - want);
    max_delta = std::max(max_delta, d);
    EXPECT_NEAR(got, want, kTol) << name << " " << what;
  };
  const auto& b = c.scores.at("Bleu");
  for (int k = 0; k < 4; ++k) {
    check(bleu.corpus[k], b.at("corpus").at(k).get<double>(), "Bleu_" + std::to_string(k + 1) + " corpus");
    const auto& per = b.at("per_image").at(k);
    ASSERT_EQ(per.size(), c.hyps.size());
    for (size_t i = 0; i < c.hyps.size(); ++i)
      check(bleu.per_image[i][k], per.at(i).get<double>(), "Bleu_" + std::to_string(k + 1) + " image #" + std::to_string(i));
  }
  check(rouge.mean, c.scores.at("Rouge").at("corpus").at(0).get<double>(), "ROUGE_L mean");
  for (size_t i = 0; i < c.hyps.size(); ++i)
    check(rouge.per_image[i], c.scores.at("Rouge").at("per_image").at(i).get<double>(), "ROUGE_L image #" + std::to_string(i));
  check(cider.mean, c.scores.at("Cider").at("corpus").at(0).get<double>(), "CIDEr mean");
  for (size_t i = 0; i < c.hyps.size(); ++i)
    check(cider.per_image[i], c.scores.at("Cider").at("per_image").at(i).get<double>(), "CIDEr image #" + std::to_string(i));
  std::cout << "[parity] " << name << " threads=" << threads << " max |delta| = " << max_delta << "\n";
}

TEST(CaptionScorersGolden, Small6MatchesPycocoevalcapPerImageAndCorpus) {
  GLAMM_REQUIRE_SHARED(path, "golden/captions/small6_bleu_rouge_cider.json");
  const ScorerCase c = load_case(path);
  ASSERT_EQ(c.hyps.size(), 6u);
  expect_all_scores(c, 1, "small6");
}

TEST(CaptionScorersGolden, Synth300MatchesPycocoevalcapPerImageAndCorpus) {
  GLAMM_REQUIRE_SHARED(path, "golden/captions/synth300_bleu_rouge_cider.json");
  const ScorerCase c = load_case(path);
  ASSERT_EQ(c.hyps.size(), 300u);
  expect_all_scores(c, 1, "synth300");
}

TEST(CaptionScorersGolden, Synth300IsIdenticalForAnyThreadCount) {
  GLAMM_REQUIRE_SHARED(path, "golden/captions/synth300_bleu_rouge_cider.json");
  const ScorerCase c = load_case(path);
  const auto c1 = cider_d_score(c.hyps, c.refs, 1);
  const auto c4 = cider_d_score(c.hyps, c.refs, 4);
  EXPECT_EQ(c1.per_image, c4.per_image);
  EXPECT_EQ(c1.mean, c4.mean);
  const auto b1 = bleu_score(c.hyps, c.refs, 1);
  const auto b3 = bleu_score(c.hyps, c.refs, 3);
  EXPECT_EQ(b1.per_image, b3.per_image);
  EXPECT_EQ(b1.corpus, b3.corpus);
  const auto r1 = rouge_score(c.hyps, c.refs, 1);
  const auto r5 = rouge_score(c.hyps, c.refs, 5);
  EXPECT_EQ(r1.per_image, r5.per_image);
  expect_all_scores(c, 4, "synth300");
}

}  // namespace
