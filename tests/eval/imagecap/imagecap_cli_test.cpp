// glamm-eval imagecap on the dataset-formats.md §8.2/§8.3 examples: NoCaps per-domain scores, NoCaps test →
// submission file and exit 3, Flickr30k predictions outside the split (warned, ignored) and unknown ids (error),
// the SPICE-style (Link Grammar parser) score by default (equal to what metrics/spice computes for the same
// captions, labelled, with its breakdown and fallback count; per NoCaps domain) and left out with --no-spice; and
// `glamm-eval datasets` on a partial data root.
#include <filesystem>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "datasets/refer_fixture.h"
#include "tests/eval/imagecap/spice_reference.h"
#include "support/shared_data.h"

namespace fx = glamm::testing::refer_fixture;
using glamm::spice::kMetricName;
using glamm::testing::spice_reference::library_spice_style;
using nlohmann::json;

namespace {
namespace fs = std::filesystem;
const char* kNocaps = R"({"licenses": [], "info": {"version": "0.1"},
 "images": [{"id": 0, "file_name": "00aa11bb22cc33dd.jpg", "domain": "out-domain"},
            {"id": 1, "file_name": "0123456789abcdef.jpg", "domain": "near-domain"},
            {"id": 2, "file_name": "0123456789abcdee.jpg", "domain": "near-domain"}],
 "annotations": [{"image_id": 0, "id": 0, "caption": "A red lantern hangs outside."},
                 {"image_id": 0, "id": 1, "caption": "A lantern on a wall."},
                 {"image_id": 1, "id": 2, "caption": "A man rides a bicycle."},
                 {"image_id": 2, "id": 3, "caption": "A woman rides a horse."}]})";
const char* kFlickr = R"({"dataset": "flickr30k", "images": [
  {"filename": "9000001.jpg", "imgid": 0, "split": "test", "sentences": [{"raw": "A dog runs on sand."}, {"raw": "The brown dog is running."}]},
  {"filename": "9000002.jpg", "imgid": 1, "split": "train", "sentences": [{"raw": "Two men talk."}]},
  {"filename": "9000003.jpg", "imgid": 2, "split": "test", "sentences": [{"raw": "A cat sleeps."}]}]})";

int eval(const std::string& args, const std::filesystem::path& meteor, std::string& out) {
  return fx::run(std::string(GLAMM_EVAL_BINARY) + " imagecap " + args + " --meteor-resources '" + meteor.string() +
                     "' --meteor-paraphrase -",
                 out);
}
}  // namespace

TEST(ImagecapCli, NocapsValOverallAndPerDomain) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const auto dir = fx::temp_dir("imagecap");
  fx::write(dir / "val.json", kNocaps);
  fx::write(dir / "pred.json", R"([{"image_id": 0, "caption": "a lantern hangs on a wall"},
    {"image_id": 1, "caption": "a man rides a bicycle"}, {"image_id": 2, "caption": "a woman on a horse"}])");
  std::string out;
  ASSERT_EQ(eval("--dataset nocaps --annotations '" + (dir / "val.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "' --json '" + (dir / "rec.json").string() + "'",
                 meteor, out),
            0)
      << out;
  const json r = json::parse(std::ifstream(dir / "rec.json"));
  EXPECT_EQ(r["split"], "val");
  EXPECT_EQ(r["details"]["domains"]["near-domain"]["num_images"], 2);
  EXPECT_EQ(r["details"]["domains"]["out-domain"]["num_images"], 1);
  EXPECT_TRUE(r["metrics"].contains("near-domain/CIDEr"));
  EXPECT_EQ(r["per_sample"][2]["domain"], "near-domain");
  EXPECT_NE(out.find("[near-domain] 2 images:"), std::string::npos) << out;
  // the single out-domain image is scored on its own: its BLEU equals the overall per-image BLEU of that image
  EXPECT_DOUBLE_EQ(r["details"]["domains"]["out-domain"]["Bleu_1"].get<double>(), r["per_sample"][0]["Bleu_1"].get<double>());
  // SPICE-style per domain = the library's score of that domain's images alone (images 1 and 2 are near-domain).
  const auto near = library_spice_style({{"A man rides a bicycle."}, {"A woman rides a horse."}},
                                        {"a man rides a bicycle", "a woman on a horse"}, meteor);
  EXPECT_DOUBLE_EQ(r["details"]["domains"]["near-domain"][kMetricName].get<double>(), near.spice);
  const auto all = library_spice_style({{"A red lantern hangs outside.", "A lantern on a wall."},
                                        {"A man rides a bicycle."}, {"A woman rides a horse."}},
                                       {"a lantern hangs on a wall", "a man rides a bicycle", "a woman on a horse"},
                                       meteor);
  EXPECT_DOUBLE_EQ(r["metrics"][kMetricName].get<double>(), all.spice);
  EXPECT_DOUBLE_EQ(r["details"]["domains"]["out-domain"][kMetricName].get<double>(),
                   r["per_sample"][0][kMetricName].get<double>());
  EXPECT_NE(out.find("SPICE-style "), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST(ImagecapCli, NocapsTestWritesSubmissionAndRefusesToScore) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const auto dir = fx::temp_dir("imagecap");
  json t = json::parse(kNocaps);
  t.erase("annotations");
  fx::write(dir / "test.json", t.dump());
  fx::write(dir / "pred.json", R"([{"image_id": 0, "caption": "a lantern"}, {"image_id": 1, "caption": "a man"},
    {"image_id": 2, "caption": "a horse"}])");
  std::string out;
  EXPECT_EQ(eval("--dataset nocaps --annotations '" + (dir / "test.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "' --submission '" + (dir / "sub.json").string() + "'",
                 meteor, out),
            3)
      << out;
  const json s = json::parse(std::ifstream(dir / "sub.json"));
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1]["caption"], "a man");
  EXPECT_NE(out.find("nothing is scored"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST(ImagecapCli, Flickr30kScoresOnlyTheSplitAndWarnsAboutOthers) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const auto dir = fx::temp_dir("imagecap");
  fx::write(dir / "k.json", kFlickr);
  fx::write(dir / "pred.json", R"([{"image_id": 9000001, "caption": "a dog runs"},
    {"image_id": 9000002, "caption": "two men"}, {"image_id": 9000003, "caption": "a cat"}])");
  std::string out;
  ASSERT_EQ(eval("--dataset flickr30k --annotations '" + (dir / "k.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "' --json '" + (dir / "rec.json").string() + "'",
                 meteor, out),
            0)
      << out;
  const json r = json::parse(std::ifstream(dir / "rec.json"));
  EXPECT_EQ(r["details"]["num_images"], 2);
  EXPECT_EQ(r["details"]["num_predictions_outside_split"], 1);
  EXPECT_NE(out.find("predictions cover 1 image(s) of other splits"), std::string::npos) << out;
  fx::write(dir / "pred.json", R"([{"image_id": 9000001, "caption": "a dog runs"}, {"image_id": 42, "caption": "x"},
    {"image_id": 9000003, "caption": "a cat"}])");
  EXPECT_EQ(eval("--dataset flickr30k --annotations '" + (dir / "k.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "'",
                 meteor, out),
            2);
  EXPECT_NE(out.find("[1] (image_id 42): image_id 42 is not an image of the annotations"), std::string::npos) << out;
  fx::write(dir / "pred.json", R"([{"image_id": 9000001, "caption": "a dog runs"}])");
  EXPECT_EQ(eval("--dataset flickr30k --annotations '" + (dir / "k.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "'",
                 meteor, out),
            2);
  EXPECT_NE(out.find("1 of 2 samples have no prediction: image_id 9000003"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

// A test image with `sentences: []` is the error `captions` gives for an image without reference (COCOEvalCap needs
// one): exit 2 naming the file and the image, the inputs unchanged; a train image without sentences is not read.
TEST(ImagecapCli, Flickr30kTestImageWithoutSentencesIsExit2NamingFileAndImage) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const auto dir = fx::temp_dir("imagecap");
  const std::string ann = R"({"dataset": "flickr30k", "images": [
  {"filename": "9000001.jpg", "imgid": 0, "split": "test", "sentences": [{"raw": "A dog runs on sand."}]},
  {"filename": "9000002.jpg", "imgid": 1, "split": "train", "sentences": []},
  {"filename": "9000003.jpg", "imgid": 2, "split": "test", "sentences": []}]})";
  const std::string pred = R"([{"image_id": 9000001, "caption": "a dog runs"}, {"image_id": 9000003, "caption": "a cat"}])";
  fx::write(dir / "k.json", ann);
  fx::write(dir / "pred.json", pred);
  std::string out;
  EXPECT_EQ(eval("--dataset flickr30k --annotations '" + (dir / "k.json").string() + "' --pred '" +
                     (dir / "pred.json").string() + "' --json '" + (dir / "rec.json").string() + "'",
                 meteor, out),
            2)
      << out;
  EXPECT_NE(out.find((dir / "k.json").string()), std::string::npos) << out;
  EXPECT_NE(out.find("images[2] (9000003.jpg): has no sentence"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "rec.json"));
  std::ifstream a(dir / "k.json"), p(dir / "pred.json");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}), ann);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(p), {}), pred);
  std::filesystem::remove_all(dir);
}

TEST(DatasetsCli, ListsFoundAndMissingFiles) {
  const auto dir = fx::temp_dir("datasets");
  fx::write(dir / "Refer_Segm" / "refcoco" / "instances.json", "{}");
  std::filesystem::create_directories(dir / "coco_2014" / "train2014");
  std::string out;
  ASSERT_EQ(fx::run(std::string(GLAMM_EVAL_BINARY) + " datasets --data-root '" + dir.string() + "' --json '" +
                        (dir / "list.json").string() + "'",
                    out),
            0)
      << out;
  EXPECT_NE(out.find("[found  ] refcoco    Refer_Segm/refcoco/instances.json"), std::string::npos) << out;
  EXPECT_NE(out.find("[missing] refcoco    Refer_Segm/refcoco/refs(unc).p"), std::string::npos) << out;
  EXPECT_NE(out.find("Refer_Segm/coco_2014/train2014/  (at "), std::string::npos) << out;  // the docs' location
  const json j = json::parse(std::ifstream(dir / "list.json"));
  EXPECT_EQ(j["entries"][0]["found"], true);
  std::filesystem::remove_all(dir);
}

namespace {
// Flickr30k fixture for the SPICE-style tests: two test images; the second one's candidate has more than 60 words,
// which the parser does not take (noun-only fallback, counted).
std::string long_caption() {
  std::string c = "a cat";
  for (int i = 0; i < 16; ++i) c += " sleeps on a red sofa";
  return c;  // 2 + 16 * 5 = 82 words
}
const std::vector<std::vector<std::string>> kSpiceRefs = {{"A dog runs on sand.", "The brown dog is running."},
                                                          {"A cat sleeps on a red sofa.", "Two cats on a couch."}};

json run_spice_fixture(const std::filesystem::path& dir, const std::filesystem::path& meteor, const std::string& extra,
                       std::string& out) {
  json images = json::array();
  for (std::size_t i = 0; i < kSpiceRefs.size(); ++i) {
    json sents = json::array();
    for (const auto& c : kSpiceRefs[i]) sents.push_back({{"raw", c}});
    images.push_back({{"filename", std::to_string(9000001 + i) + ".jpg"}, {"imgid", i}, {"split", "test"},
                      {"sentences", sents}});
  }
  fx::write(dir / "k.json", json({{"dataset", "flickr30k"}, {"images", images}}).dump());
  fx::write(dir / "pred.json", json::array({{{"image_id", 9000001}, {"caption", "A brown dog runs on the beach."}},
                                            {{"image_id", 9000002}, {"caption", long_caption()}}})
                                   .dump());
  const int rc = eval("--dataset flickr30k --annotations '" + (dir / "k.json").string() + "' --pred '" +
                          (dir / "pred.json").string() + "' --json '" + (dir / "rec.json").string() + "' " + extra,
                      meteor, out);
  EXPECT_EQ(rc, 0) << out;
  return rc == 0 ? json::parse(std::ifstream(dir / "rec.json")) : json();
}

void expect_same(const json& got, double want, const std::string& what) {
  if (std::isnan(want))
    EXPECT_TRUE(got.is_null()) << what << ": " << got;
  else
    EXPECT_DOUBLE_EQ(got.get<double>(), want) << what;
}
}  // namespace

TEST(ImagecapCli, SpiceStyleByDefaultEqualsTheLibraryWithBreakdownAndFallbackCount) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const auto dir = fx::temp_dir("imagecap_spice");
  std::string out;
  const json r = run_spice_fixture(dir, meteor, "", out);
  ASSERT_FALSE(r.is_null());
  const auto lib = library_spice_style(kSpiceRefs, {"A brown dog runs on the beach.", long_caption()}, meteor);
  ASSERT_TRUE(r["metrics"].contains(kMetricName)) << r["metrics"];
  EXPECT_DOUBLE_EQ(r["metrics"][kMetricName].get<double>(), lib.spice);
  EXPECT_GT(lib.spice, 0.0);
  EXPECT_FALSE(r["metrics"].contains("SPICE"));  // never unqualified
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_DOUBLE_EQ(r["per_sample"][i][kMetricName].get<double>(), lib.per_image[i].scores[0].f) << i;
  const json& d = r["details"]["spice_style"];
  EXPECT_EQ(d["metric"], kMetricName);
  for (std::size_t k = 0; k < lib.average.size(); ++k) {
    const std::string name = glamm::spice::subset_name(glamm::spice::kSubsets[k]);
    ASSERT_TRUE(d["subsets"].contains(name)) << name;
    expect_same(d["subsets"][name]["f"], lib.average[k].f, name + ".f");
    expect_same(d["subsets"][name]["precision"], lib.average[k].pr, name + ".precision");
    EXPECT_EQ(d["subsets"][name]["tp"], lib.average[k].tp) << name;
  }
  for (const char* name : {"Object", "Attribute", "Relation", "Color", "Cardinality", "Size"})
    EXPECT_TRUE(d["subsets"].contains(name)) << name;
  // the 82-word candidate is not parsed: scored from its nouns, and counted
  EXPECT_EQ(lib.counts.nouns_only, 1);
  EXPECT_EQ(d["fallback_captions"], lib.counts.nouns_only);
  EXPECT_EQ(d["captions_parsed"]["distinct_captions"], lib.counts.total());
  EXPECT_EQ(r["signature"]["spice"], "SPICE-style (Link Grammar parser)");
  EXPECT_NE(r["signature_string"].get<std::string>().find("spice:SPICE-style (Link Grammar parser)"), std::string::npos);
  char line[96];
  std::snprintf(line, sizeof line, "\nSPICE-style (Link Grammar parser): %.3f\n", lib.spice);
  EXPECT_NE(out.find(line), std::string::npos) << out;
  EXPECT_NE(out.find("1 not parsed (noun-only fallback)"), std::string::npos) << out;
  EXPECT_EQ(out.find("\nSPICE:"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST(ImagecapCli, NoSpiceLeavesTheSpiceStyleScoreOutAndKeepsTheOthers) {
  const fs::path meteor = glamm::testing::meteor_resources_dir();
  const auto dir = fx::temp_dir("imagecap_nospice");
  std::string out_on, out_off;
  const json on = run_spice_fixture(dir, meteor, "", out_on);
  const json off = run_spice_fixture(dir, meteor, "--no-spice", out_off);
  ASSERT_FALSE(on.is_null());
  ASSERT_FALSE(off.is_null());
  EXPECT_FALSE(off["metrics"].contains(kMetricName));
  EXPECT_FALSE(off["details"].contains("spice_style"));
  EXPECT_FALSE(off["per_sample"][0].contains(kMetricName));
  EXPECT_EQ(off["signature_string"].get<std::string>().find("SPICE-style"), std::string::npos);
  EXPECT_EQ(off["signature"]["spice"], "off(--no-spice)");
  EXPECT_NE(out_off.find("SPICE-style (Link Grammar parser): not computed (--no-spice)"), std::string::npos) << out_off;
  for (const char* m : {"Bleu_4", "METEOR", "ROUGE_L", "CIDEr"})
    EXPECT_EQ(off["metrics"][m].get<double>(), on["metrics"][m].get<double>()) << m;
  std::filesystem::remove_all(dir);
}
