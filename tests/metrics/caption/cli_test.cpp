// `glamm-eval captions` end to end on small fixtures (METEOR left out): printed lines, JSON record, warnings
// (single-image CIDEr, line breaks, --strict) and exit status 2 with file/record-named errors. The opt-in
// SPICE-style (Link Grammar parser) score (--spice; METEOR's english.synsets as the build ships them): equal to what
// metrics/spice computes for the same captions, labelled, absent without --spice. The CLIPScore example is in
// clipscore_cli_golden.cpp.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>
#include <zlib.h>

#include "common/io.h"
#include "tests/eval/imagecap/spice_reference.h"
#include "support/shared_data.h"
#include "tests/metrics/caption/captions_cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using glamm::testing::CaptionsCli;

const char* kGt = R"({"images": [{"id": 1}, {"id": 2}, {"id": 3}],
 "annotations": [{"image_id": 1, "caption": "A dog runs on the grass."}, {"image_id": 1, "caption": "A brown dog."},
                 {"image_id": 2, "caption": "Two cats sleep on a sofa."}, {"image_id": 3, "caption": "A red bus."}]})";

TEST_F(CaptionsCli, PrintsTheReferenceLinesAndWritesTheRecord) {
  const auto gt = write("gt.json", kGt);
  const auto res = write("res.json", R"([{"image_id": 2, "caption": "Two cats on a sofa."},
      {"image_id": 1, "caption": "A dog runs."}])");
  ASSERT_EQ(run(files(gt, res) + " --json \"" + (tmp_ / "r.json").string() + "\""), 0) << err_;
  EXPECT_NE(out_.find("{'testlen': 8, 'reflen': 9, 'guess': [8, 6, 4, 2], 'correct': [8, 5, 2, 0]}\nratio: "),
            std::string::npos)
      << out_;
  // reflen 3 + 6 (closest lengths), ratio < 1: brevity penalty.
  EXPECT_NE(out_.find("ratio: 0.8888888887901236\nBleu_1: 0.882\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("\nROUGE_L: "), std::string::npos);
  EXPECT_NE(out_.find("\nCIDEr: "), std::string::npos);
  EXPECT_EQ(out_.find("METEOR"), std::string::npos);
  const auto j = nlohmann::json::parse(glamm::io::read_file(tmp_ / "r.json"));
  EXPECT_EQ(j.at("task"), "captions");
  EXPECT_EQ(j.at("metric_order"), (nlohmann::json{"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr"}));
  ASSERT_EQ(j.at("per_sample").size(), 2u);
  EXPECT_EQ(j.at("per_sample").at(0).at("image_id"), 1);  // GT order, not results order
  EXPECT_EQ(j.at("per_sample").at(0).at("caption_tokenized"), "a dog runs");
  EXPECT_EQ(j.at("per_sample").at(1).at("bleu_counts").at("guess"), (nlohmann::json{5, 4, 3, 2}));
  EXPECT_EQ(j.at("signature").at("strict"), "off");
  EXPECT_EQ(j.at("signature").at("metrics"), "bleu,rouge,cider");
  EXPECT_EQ(j.at("input_sha256").size(), 2u);
}

TEST_F(CaptionsCli, SingleImageWarnsThatCiderNeedsACorpus) {
  const auto gt = write("gt.json", kGt);
  const auto res = write("res.json", R"([{"image_id": 3, "caption": "A red bus."}])");
  ASSERT_EQ(run(files(gt, res)), 0) << err_;
  EXPECT_NE(out_.find("CIDEr: 0.000"), std::string::npos) << out_;
  EXPECT_NE(err_.find("CIDEr needs a corpus"), std::string::npos) << err_;
}

TEST_F(CaptionsCli, LineBreakCharactersShiftCaptionsUnlessStrict) {
  // U+2028 inside image 1's caption: pycocoevalcap's tokenizer emits an extra line, so image 2's reference becomes
  // "on the grass" (image 1's tail) and image 2's own caption is dropped.
  const auto gt = write("gt.json", "{\"images\": [{\"id\": 1}, {\"id\": 2}], \"annotations\": ["
                                   "{\"image_id\": 1, \"caption\": \"a dog runs\\u2028on the grass\"},"
                                   "{\"image_id\": 2, \"caption\": \"two cats sleep\"}]}");
  const auto res = write("res.json", R"([{"image_id": 1, "caption": "a dog runs"}, {"image_id": 2, "caption": "two cats sleep"}])");
  ASSERT_EQ(run(files(gt, res) + " --json \"" + (tmp_ / "ref.json").string() + "\""), 0) << err_;
  EXPECT_NE(err_.find("1 ground-truth caption contains a line-break character"), std::string::npos) << err_;
  EXPECT_NE(err_.find("use --strict"), std::string::npos) << err_;
  const auto ref = nlohmann::json::parse(glamm::io::read_file(tmp_ / "ref.json"));
  EXPECT_EQ(ref.at("per_sample").at(1).at("ROUGE_L"), 0.0);
  EXPECT_EQ(ref.at("details").at("gt_captions_with_line_breaks"), 1);

  ASSERT_EQ(run(files(gt, res) + " --strict --json \"" + (tmp_ / "strict.json").string() + "\""), 0) << err_;
  EXPECT_NE(err_.find("treated as spaces (--strict)"), std::string::npos) << err_;
  const auto strict = nlohmann::json::parse(glamm::io::read_file(tmp_ / "strict.json"));
  EXPECT_EQ(strict.at("per_sample").at(1).at("ROUGE_L"), 1.0);
  EXPECT_EQ(strict.at("signature").at("strict"), "on(line_breaks_as_spaces)");
  EXPECT_EQ(strict.at("signature").at("tokenizer"), "ptb-corenlp-3.4.1+pycocoevalcap-filter:strict");
}

TEST_F(CaptionsCli, BadInputExitsWithStatus2NamingFileAndRecord) {
  const auto gt = write("gt.json", kGt);
  struct Case {
    const char* res;
    const char* expect;
  } cases[] = {
      {R"([{"image_id": 1, "caption": "a"}, {"image_id": 1, "caption": "b"}])",
       "res.json: results[1] (image_id 1): second result for this image"},
      {R"([{"image_id": 7, "caption": "a"}])", "res.json: results[0] (image_id 7): image is not in the ground truth"},
      {R"([])", "res.json: the results list is empty"},
      {R"([{"image_id": 1}])", "res.json: results[0] (image_id 1): missing field 'caption'"},
      {R"([{"caption": "a"}])", "res.json: results[0]: missing field 'image_id'"},
      {R"([{"image_id": 1, "caption": ["a"]}])", "'caption' must be a string, got an array"},
      {"[{\"image_id\": 1, \"caption\": \"caf\xe9\"}]", "res.json: results[0]: caption is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    const auto res = write("res.json", c.res);
    EXPECT_EQ(run(files(gt, res)), 2) << c.res;
    EXPECT_NE(err_.find(c.expect), std::string::npos) << c.res << "\nstderr: " << err_;
  }
  const auto res = write("res.json", R"([{"image_id": 1, "caption": "a"}])");
  EXPECT_EQ(run(files(gt, res, "bleu,spice")), 2);
  EXPECT_NE(err_.find("unknown caption metric 'spice'"), std::string::npos) << err_;
  EXPECT_EQ(run("--gt \"" + (tmp_ / "missing.json").string() + "\" --res \"" + res.string() + "\" --metrics bleu"), 2);
  EXPECT_NE(err_.find("missing.json: cannot read file: no such file"), std::string::npos) << err_;
}

TEST_F(CaptionsCli, SpiceStyleIsOptInLabelledAndEqualsTheLibrary) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  using glamm::spice::kMetricName;
  const auto gt = write("gt.json", kGt);
  const auto res = write("res.json", R"([{"image_id": 1, "caption": "A brown dog runs on grass."},
      {"image_id": 2, "caption": "Two cats on a sofa."}, {"image_id": 3, "caption": "A red bus on a street."}])");
  const std::string meteor_arg = " --meteor-resources \"" + meteor.string() + "\"";
  ASSERT_EQ(run(files(gt, res, "bleu") + " --spice" + meteor_arg + " --json \"" + (tmp_ / "on.json").string() + "\""),
            0)
      << err_;
  const auto lib = glamm::testing::spice_reference::library_spice_style(
      {{"A dog runs on the grass.", "A brown dog."}, {"Two cats sleep on a sofa."}, {"A red bus."}},
      {"A brown dog runs on grass.", "Two cats on a sofa.", "A red bus on a street."}, meteor);
  const auto on = nlohmann::json::parse(glamm::io::read_file(tmp_ / "on.json"));
  EXPECT_DOUBLE_EQ(on.at("metrics").at(kMetricName).get<double>(), lib.spice);
  EXPECT_GT(lib.spice, 0.0);
  EXPECT_EQ(on.at("metric_order").back(), kMetricName);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_DOUBLE_EQ(on.at("per_sample").at(i).at(kMetricName).get<double>(), lib.per_image[i].scores[0].f) << i;
  for (std::size_t i = 0; i < 3; ++i) {  // the per-sample breakdown: every subset's F and tuple counts
    const auto& sub = on.at("per_sample").at(i).at("spice_style_subsets");
    EXPECT_EQ(sub.size(), 7u);
    EXPECT_DOUBLE_EQ(sub.at("All").at("f").get<double>(), lib.per_image[i].scores[0].f) << i;
    EXPECT_EQ(sub.at("All").at("tp"), lib.per_image[i].scores[0].tp) << i;
    EXPECT_EQ(sub.at("All").at("fn"), lib.per_image[i].scores[0].fn) << i;
    EXPECT_EQ(sub.at("Object").at("fp"), lib.per_image[i].scores[1].fp) << i;
  }
  EXPECT_TRUE(on.at("per_sample").at(1).at("spice_style_subsets").at("Color").at("f").is_null());  // no colour
  EXPECT_EQ(on.at("per_sample").at(0).at("spice_style_subsets").at("Color").at("tp"), 1);  // (dog, brown)
  EXPECT_EQ(on.at("details").at("spice_style").at("subsets").at("Object").at("tp"), lib.average[1].tp);
  EXPECT_EQ(on.at("details").at("spice_style").at("fallback_captions"), lib.counts.nouns_only);
  EXPECT_EQ(on.at("signature").at("spice"), "SPICE-style (Link Grammar parser)");
  EXPECT_NE(on.at("signature").at("spice_parser").get<std::string>().find(" rules=2"), std::string::npos);
  EXPECT_TRUE(on.at("signature").contains("meteor_resources_sha256"));  // the synonyms SPICE-style used
  EXPECT_FALSE(on.at("metrics").contains("METEOR"));
  char line[96];
  std::snprintf(line, sizeof line, "\nSPICE-style (Link Grammar parser): %.3f\n", lib.spice);
  EXPECT_NE(out_.find(line), std::string::npos) << out_;
  EXPECT_EQ(err_.find("paraphrase"), std::string::npos) << err_;  // METEOR itself did not run

  ASSERT_EQ(run(files(gt, res, "bleu") + meteor_arg + " --json \"" + (tmp_ / "off.json").string() + "\""), 0) << err_;
  const auto off = nlohmann::json::parse(glamm::io::read_file(tmp_ / "off.json"));
  EXPECT_FALSE(off.at("metrics").contains(kMetricName));
  EXPECT_FALSE(off.at("signature").contains("spice"));
  EXPECT_FALSE(off.at("details").contains("spice_style"));
  EXPECT_EQ(out_.find("SPICE"), std::string::npos) << out_;
  EXPECT_EQ(off.at("metrics").at("Bleu_1"), on.at("metrics").at("Bleu_1"));
}

// The paraphrase table of a (fake) pycocoevalcap install is found through VIRTUAL_ENV without any option; the
// record's signature says other:<sha256 prefix> (not the official table), stderr says so in one line, the table is
// cached under XDG_CACHE_HOME, and `--meteor-paraphrase off` turns it off.
TEST_F(CaptionsCli, PycocoevalcapParaphraseTableIsFoundAndSigned) {
  const fs::path res_dir = tmp_ / "meteor";
  write("meteor/english.synsets", "dog\n1\n");
  write("meteor/english.exceptions", "mouse\nmice\n");
  write("meteor/english.words", "a\nthe\n");
  write("meteor/english.prefixes", "Mr\n");
  const fs::path table =
      tmp_ / "venv" / "lib" / "python3.11" / "site-packages" / "pycocoevalcap" / "meteor" / "data" / "paraphrase-en.gz";
  fs::create_directories(table.parent_path());
  {
    gzFile f = gzopen(table.string().c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string rec = "0.5\nnext to\nbeside\n";
    gzwrite(f, rec.data(), static_cast<unsigned>(rec.size()));
    gzclose(f);
  }
  const std::string sha = glamm::io::sha256_file(table);
  fs::create_directories(tmp_ / "nobin");
  const auto gt = write("gt.json", R"({"images": [{"id": 1}], "annotations": [{"image_id": 1, "caption": "a dog next to a tree"}]})");
  const auto res = write("res.json", R"([{"image_id": 1, "caption": "a dog beside a tree"}])");
  // A clean environment: the venv, an empty PATH and home, a private cache folder.
  const std::string env = "env -i VIRTUAL_ENV=\"" + (tmp_ / "venv").string() + "\" HOME=\"" + (tmp_ / "home").string() +
                          "\" XDG_CACHE_HOME=\"" + (tmp_ / "cache").string() + "\" PATH=\"" + (tmp_ / "nobin").string() +
                          "\" ";
  auto run_env = [&](const std::string& extra, const std::string& json) {
    const std::string cmd = env + "\"" + std::string(GLAMM_EVAL_BINARY) + "\" captions " +
                            files(gt, res, "meteor") + " --meteor-resources \"" + res_dir.string() + "\"" + extra +
                            " --json \"" + (tmp_ / json).string() + "\" 2> \"" + (tmp_ / "err.txt").string() + "\"";
    const int rc = std::system(cmd.c_str());
    err_ = glamm::io::read_file(tmp_ / "err.txt");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  ASSERT_EQ(run_env("", "on.json"), 0) << err_;
  const auto on = nlohmann::json::parse(glamm::io::read_file(tmp_ / "on.json"));
  EXPECT_EQ(on.at("signature").at("meteor_paraphrase"), "other:" + sha.substr(0, 12));
  EXPECT_EQ(on.at("signature").at("meteor_paraphrase_source"), table.string());
  EXPECT_NE(err_.find("METEOR paraphrase: other table (sha256 " + sha.substr(0, 12)), std::string::npos) << err_;
  EXPECT_TRUE(fs::exists(tmp_ / "cache" / "glamm-eval" / ("paraphrase-" + sha + ".bin")));
  // Second run: from the cache, same numbers.
  ASSERT_EQ(run_env("", "on2.json"), 0) << err_;
  const auto on2 = nlohmann::json::parse(glamm::io::read_file(tmp_ / "on2.json"));
  EXPECT_EQ(on2.at("metrics").at("METEOR"), on.at("metrics").at("METEOR"));
  // Off: lower METEOR (beside/next to no longer match), signed and said.
  ASSERT_EQ(run_env(" --meteor-paraphrase off", "off.json"), 0) << err_;
  const auto off = nlohmann::json::parse(glamm::io::read_file(tmp_ / "off.json"));
  EXPECT_EQ(off.at("signature").at("meteor_paraphrase"), "off");
  EXPECT_FALSE(off.at("signature").contains("meteor_paraphrase_source"));
  EXPECT_NE(err_.find("METEOR paraphrase: off \xE2\x80\x94 not comparable with pycocoevalcap's METEOR"),
            std::string::npos)
      << err_;
  EXPECT_LT(off.at("metrics").at("METEOR").get<double>(), on.at("metrics").at("METEOR").get<double>());
}

}  // namespace
