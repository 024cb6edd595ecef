// The whole COCOEvalCap pipeline (PTB tokenizer + BLEU + METEOR + ROUGE-L + CIDEr-D) against pycocoevalcap:
// COCO val2017 leave-one-out (5000 images) through the API and through `glamm-eval captions`, and the CLIPScore
// example (good and bad candidates). Every corpus and per-image value to 1e-12, counts and METEOR statistics exact.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "datasets/coco_captions.h"
#include "metrics/caption/coco_eval_cap.h"
#include "support/shared_data.h"

namespace {

using namespace glamm;
namespace fs = std::filesystem;
constexpr double kTol = 1e-12;

const char* kMetricNames[] = {"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"};

std::shared_ptr<const meteor::Scorer> meteor_scorer(const fs::path& dir) {
  auto res = std::make_shared<const meteor::Resources>(meteor::Resources::load(dir.string(), "-"));
  return std::make_shared<const meteor::Scorer>(res, meteor::Config{});
}

double metric(const caption::EvalCapResult& r, const std::string& name) {
  for (const auto& [k, v] : r.metrics)
    if (k == name) return v;
  ADD_FAILURE() << "metric " << name << " missing";
  return NAN;
}

double per_image_value(const caption::ImageEval& im, const std::string& name) {
  if (name.rfind("Bleu_", 0) == 0) return im.bleu[name[5] - '1'];
  if (name == "METEOR") return im.meteor;
  if (name == "ROUGE_L") return im.rouge_l;
  return im.cider;
}

struct TsvRow {
  std::int64_t image_id;
  std::map<std::string, double> values;
  std::string meteor_stats, tokenized;
};

std::vector<TsvRow> read_per_image_tsv(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);  // header
  std::vector<TsvRow> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) f.push_back(cell);
    if (f.size() == 10) f.emplace_back();  // empty tokenized candidate
    EXPECT_EQ(f.size(), 11u) << line;
    TsvRow r;
    r.image_id = std::stoll(f[0]);
    for (int k = 0; k < 7; ++k) r.values[kMetricNames[k]] = std::strtod(f[2 + k].c_str(), nullptr);
    r.meteor_stats = f[9];
    r.tokenized = f[10];
    rows.push_back(std::move(r));
  }
  return rows;
}

class LeaveOneOut : public ::testing::Test {
 protected:
  void SetUp() override {
    GLAMM_REQUIRE_SHARED(dir, "golden/captions");
    GLAMM_REQUIRE_SHARED(meteor_dir, "data/meteor");
    dir_ = dir;
    meteor_dir_ = meteor_dir;
    expected_ = nlohmann::json::parse(io::read_file(dir_ / "coco_val2017_loo_expected.json"));
  }
  fs::path dir_, meteor_dir_;
  nlohmann::json expected_;
};

TEST_F(LeaveOneOut, PipelineApiMatchesPycocoevalcapCorpusAndEveryImage) {
  std::vector<std::string> warnings;
  const auto gt = datasets::load_coco_caption_gt(dir_ / "coco_val2017_loo_gt.json", warnings);
  const auto res = datasets::load_coco_caption_results(dir_ / "coco_val2017_loo_results.json");
  const caption::EvalCapInput input = datasets::pair_captions(gt, res, "results");
  ASSERT_EQ(input.image_ids.size(), expected_.at("num_images").get<std::size_t>());
  const auto scorer = meteor_scorer(meteor_dir_);
  caption::EvalCapOptions opt;
  opt.meteor = scorer.get();
  opt.threads = 2;
  const caption::EvalCapResult r = caption::evaluate(input, opt);

  double max_corpus = 0, max_image = 0;
  ASSERT_EQ(r.metrics.size(), 7u);
  for (int k = 0; k < 7; ++k) {
    EXPECT_EQ(r.metrics[k].first, kMetricNames[k]);
    const double want = expected_.at("corpus").at(kMetricNames[k]).get<double>();
    EXPECT_NEAR(r.metrics[k].second, want, kTol) << kMetricNames[k];
    max_corpus = std::max(max_corpus, std::fabs(r.metrics[k].second - want));
  }
  const auto& bi = expected_.at("bleu_info");
  EXPECT_EQ(r.bleu_total.testlen, bi.at("testlen").get<std::int64_t>());
  EXPECT_EQ(r.bleu_total.reflen, bi.at("reflen").get<std::int64_t>());
  EXPECT_EQ(r.bleu_total.guess, (bi.at("guess").get<std::array<std::int64_t, 4>>()));
  EXPECT_EQ(r.bleu_total.correct, (bi.at("correct").get<std::array<std::int64_t, 4>>()));

  const auto rows = read_per_image_tsv(dir_ / "coco_val2017_loo_per_image.tsv");
  ASSERT_EQ(rows.size(), r.per_image.size());
  int stats_mismatch = 0, token_mismatch = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& im = r.per_image[i];
    ASSERT_EQ(im.image_id, caption::ImageId::of(rows[i].image_id)) << "image order differs at " << i;
    for (const auto& [name, want] : rows[i].values) {
      const double got = per_image_value(im, name);
      max_image = std::max(max_image, std::fabs(got - want));
      EXPECT_NEAR(got, want, kTol) << name << " image " << rows[i].image_id;
    }
    if (im.meteor_stats.to_string() != rows[i].meteor_stats) ++stats_mismatch;
    if (r.hyps_tokenized[i] != rows[i].tokenized) ++token_mismatch;
  }
  EXPECT_EQ(stats_mismatch, 0);
  EXPECT_EQ(token_mismatch, 0);
  std::cout << "[parity] val2017 leave-one-out: corpus max |delta| = " << max_corpus
            << ", per-image max |delta| = " << max_image << "\n";
}

/// Run glamm-eval with `args` (and an optional environment prefix); returns the exit status, stdout in `out`.
int run_cli(const std::string& env, const std::string& args, std::string& out, const fs::path& tmp) {
  const fs::path out_file = tmp / "stdout.txt", err_file = tmp / "stderr.txt";
  const std::string cmd = env + " \"" + std::string(GLAMM_EVAL_BINARY) + "\" " + args + " > \"" + out_file.string() +
                          "\" 2> \"" + err_file.string() + "\"";
  const int rc = std::system(cmd.c_str());
  out = io::read_file(out_file);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST_F(LeaveOneOut, CliMatchesAndIsLocaleIndependent) {
  GLAMM_REQUIRE(fs::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
  const fs::path tmp = fs::temp_directory_path() / ("glamm_caption_cli_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const std::string base = "captions --gt \"" + (dir_ / "coco_val2017_loo_gt.json").string() + "\" --res \"" +
                           (dir_ / "coco_val2017_loo_results.json").string() + "\" --meteor-resources \"" +
                           meteor_dir_.string() + "\" --threads 2 -q --json ";
  std::string out_c, out_de;
  ASSERT_EQ(run_cli("LC_ALL=C", base + "\"" + (tmp / "c.json").string() + "\"", out_c, tmp), 0);
  ASSERT_EQ(run_cli("LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8", base + "\"" + (tmp / "de.json").string() + "\"", out_de, tmp), 0);
  EXPECT_EQ(out_c, out_de);
  EXPECT_NE(out_c.find("Bleu_1: 0.634\n"), std::string::npos) << out_c;
  EXPECT_NE(out_c.find("CIDEr: 0.887\n"), std::string::npos) << out_c;
  EXPECT_NE(out_c.find("{'testlen': 52056, 'reflen': 50202, 'guess': [52056, 47056, 42056, 37056], 'correct': "
                       "[33028, 14188, 5594, 2129]}"),
            std::string::npos)
      << out_c;
  const auto jc = nlohmann::json::parse(io::read_file(tmp / "c.json"));
  const auto jd = nlohmann::json::parse(io::read_file(tmp / "de.json"));
  EXPECT_EQ(jc.at("metrics").dump(), jd.at("metrics").dump());
  EXPECT_EQ(jc.at("per_sample").dump(), jd.at("per_sample").dump());
  for (const char* name : kMetricNames)
    EXPECT_NEAR(jc.at("metrics").at(name).get<double>(), expected_.at("corpus").at(name).get<double>(), kTol) << name;
  ASSERT_EQ(jc.at("per_sample").size(), 5000u);
  const auto& first = jc.at("per_sample").at(0);
  EXPECT_EQ(first.at("image_id").get<std::int64_t>(), 397133);
  EXPECT_EQ(first.at("bleu_counts").at("testlen").get<int>(), 8);
  EXPECT_EQ(first.at("meteor_stats").size(), 23u);
  EXPECT_EQ(jc.at("signature").at("tokenizer").get<std::string>(), "ptb-corenlp-3.4.1+pycocoevalcap-filter:reference");
  EXPECT_EQ(jc.at("signature").at("meteor_paraphrase").get<std::string>(), "off");
  EXPECT_EQ(jc.at("details").at("bleu_info").at("testlen").get<int>(), 52056);
  fs::remove_all(tmp);
}

void check_clipscore_set(const std::string& which) {
  GLAMM_REQUIRE_SHARED(data, "data/captions/clipscore_example");
  GLAMM_REQUIRE_SHARED(golden, "golden/captions/clipscore_example_expected.json");
  GLAMM_REQUIRE_SHARED(meteor_dir, "data/meteor");
  const auto expected = nlohmann::json::parse(io::read_file(golden)).at(which);
  const auto refs = nlohmann::json::parse(io::read_file(data / "refs.json"));
  const auto cands = nlohmann::json::parse(io::read_file(data / (which + "_captions.json")));
  caption::EvalCapInput in;
  for (const char* image : {"image1", "image2"}) {
    in.image_ids.push_back(caption::ImageId::of(std::string(image)));
    in.refs.push_back(refs.at(image).get<std::vector<std::string>>());
    in.hyps.push_back(cands.at(image).get<std::string>());
  }
  const auto scorer = meteor_scorer(meteor_dir);
  caption::EvalCapOptions opt;
  opt.meteor = scorer.get();
  const auto r = caption::evaluate(in, opt);
  for (const char* name : kMetricNames)
    EXPECT_NEAR(metric(r, name), expected.at("corpus").at(name).get<double>(), kTol) << which << " " << name;
  EXPECT_EQ(r.bleu_total.testlen, expected.at("bleu_info").at("testlen").get<std::int64_t>());
  EXPECT_EQ(r.bleu_total.reflen, expected.at("bleu_info").at("reflen").get<std::int64_t>());
  EXPECT_EQ(r.bleu_total.correct, (expected.at("bleu_info").at("correct").get<std::array<std::int64_t, 4>>()));
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& e = expected.at("per_image").at(i);
    for (const char* name : kMetricNames)
      EXPECT_NEAR(per_image_value(r.per_image[i], name), e.at(name).get<double>(), kTol) << which << " " << i << name;
    EXPECT_EQ(r.per_image[i].meteor_stats.to_string(), e.at("meteor_stats").get<std::string>());
    EXPECT_EQ(r.hyps_tokenized[i], expected.at("tokenized").at("cands").at(i).get<std::string>());
    EXPECT_EQ(r.refs_tokenized[i], (expected.at("tokenized").at("refs").at(i).get<std::vector<std::string>>()));
  }
  // The published 4-decimal values (CLIPScore README).
  for (const char* name : kMetricNames)
    EXPECT_NEAR(metric(r, name), expected.at("published_4dp").at(name).get<double>(), 5.0001e-5) << which << name;
}

TEST(ClipscoreExample, GoodCandidatesMatchPycocoevalcapAndPublishedValues) { check_clipscore_set("good"); }
TEST(ClipscoreExample, BadCandidatesMatchPycocoevalcapAndPublishedValues) { check_clipscore_set("bad"); }

TEST(CaptionPipelineFailureReports, EmptyAndPunctuationOnlyPredictionsScoreWithoutCrash) {
  GLAMM_REQUIRE_SHARED(meteor_dir, "data/meteor");
  caption::EvalCapInput in;
  in.image_ids = {caption::ImageId::of(1), caption::ImageId::of(2), caption::ImageId::of(3)};
  in.refs = {{"A dog runs on the grass.", "A brown dog running."},
             {"Two cats sleep on a sofa.", "Cats on a couch."},
             {"A man rides a bike.", "A cyclist on the road."}};
  in.hyps = {"", "... !!! ?", "A man riding a bike."};  // empty; punctuation only ("!!!" survives the filter)
  const auto scorer = meteor_scorer(meteor_dir);
  caption::EvalCapOptions opt;
  opt.meteor = scorer.get();
  const auto r = caption::evaluate(in, opt);
  EXPECT_EQ(r.hyps_tokenized[0], "");
  EXPECT_EQ(r.per_image[0].bleu[0], 0.0);
  EXPECT_EQ(r.per_image[0].meteor, 0.0);
  EXPECT_EQ(r.per_image[0].rouge_l, 0.0);
  EXPECT_EQ(r.per_image[0].cider, 0.0);
  EXPECT_EQ(r.per_image[1].meteor, 0.0);
  EXPECT_EQ(r.per_image[1].cider, 0.0);
  EXPECT_GT(r.per_image[2].cider, 0.0);
  for (const auto& [name, v] : r.metrics) EXPECT_TRUE(std::isfinite(v)) << name;
}

// nlg-eval's published corpus METEOR (coco jar on raw strings): segments 0.1556568826170604 and 0.39012536521249613
// aggregate to 0.2957971080379661 from summed statistics (not their mean, 0.27289); the second segment needs the
// paraphrase module (has been ↔ was), which the tiny table provides. Spec §5.1.
TEST(NlgEvalAnchors, CorpusMeteorComesFromSummedStatistics) {
  GLAMM_REQUIRE_SHARED(meteor_dir, "data/meteor");
  auto res = std::make_shared<const meteor::Resources>(
      meteor::Resources::load(meteor_dir.string(), (meteor_dir / "tiny-paraphrase-en.gz").string()));
  meteor::Config cfg;
  cfg.paraphrase = true;
  const meteor::Scorer scorer(res, cfg);
  caption::EvalCapOptions opt;
  opt.meteor = &scorer;
  opt.threads = 2;
  const auto r = caption::score_tokenized(
      {caption::ImageId::of(0), caption::ImageId::of(1)},
      {{"this is one reference sentence for sentence1", "this is one more reference sentence for sentence1"},
       {"this is a reference sentence for sentence2 which was generated by your model",
        "this is the second reference sentence for sentence2"}},
      {"this is the model generated sentence1 which seems good enough",
       "this is sentence2 which has been generated by your model"},
      opt);
  EXPECT_NEAR(r.per_image[0].meteor, 0.1556568826170604, 1e-15);
  EXPECT_NEAR(r.per_image[1].meteor, 0.39012536521249613, 1e-15);
  EXPECT_NEAR(metric(r, "METEOR"), 0.2957971080379661, 1e-15);
  EXPECT_NEAR(metric(r, "Bleu_4"), 0.20114343061802883, 1e-15);
  EXPECT_NEAR(metric(r, "ROUGE_L"), 0.5221037854154413, 1e-15);
  EXPECT_NEAR(metric(r, "CIDEr"), 1.2421919556558583, 1e-14);

  const auto single = caption::score_tokenized({caption::ImageId::of(0)}, {{"this is a test", "this is also a test"}},
                                               {"this is a good test"}, opt);
  EXPECT_NEAR(metric(single, "METEOR"), 0.4443438716486749, 1e-15);
  EXPECT_EQ(metric(single, "CIDEr"), 0.0);
  ASSERT_EQ(single.warnings.size(), 1u);
  EXPECT_NE(single.warnings[0].find("CIDEr needs a corpus"), std::string::npos);
  const auto french = caption::score_tokenized(
      {caption::ImageId::of(0)}, {{"Test en français.", "Le test en français."}}, {"Le test est en français."}, opt);
  EXPECT_NEAR(metric(french, "METEOR"), 0.48372379050300296, 1e-15);
}

}  // namespace
