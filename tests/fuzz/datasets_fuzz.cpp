// Fuzz series for the dataset readers (datasets/*.cpp) and the METEOR paraphrase table (readers_sanitize_test,
// ASan + UBSan): GranD-f caption GT, mask GT, predictions and similarity TSV; REFER instances.json and refseg
// predictions; COCO captions GT and results; Flickr30k; nocaps; region-caption GT (VG/refcocog and MDETR layouts)
// and caption predictions. See tests/fuzz/fuzz_support.h for the corruptions and the pass rule.
#include <zlib.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "datasets/coco_captions.h"
#include "datasets/flickr30k.h"
#include "datasets/grandf.h"
#include "datasets/nocaps.h"
#include "datasets/refer.h"
#include "datasets/regcap.h"
#include "metrics/mask/rle.h"
#include "metrics/meteor/meteor.h"
#include "metrics/meteor/paraphrase.h"
#include "tests/datasets/refer_fixture.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/gzip.h"

namespace glamm::fuzz {
namespace {

namespace fs = std::filesystem;
namespace ds = glamm::datasets;
namespace fx = glamm::testing::refer_fixture;

constexpr uint32_t kH = 6, kW = 8;

/// Compressed RLE of rows [y0, y1) × columns [x0, x1) on a kH × kW image.
json rect(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
  std::vector<uint8_t> m(static_cast<std::size_t>(kH) * kW, 0);
  for (uint32_t x = x0; x < x1; ++x)
    for (uint32_t y = y0; y < y1; ++y) m[x * kH + y] = 1;
  return {{"size", {kH, kW}}, {"counts", mask::to_string(mask::encode(m.data(), kH, kW))}};
}

json gcg_images() {
  return json::array({{{"id", "img_b"}, {"height", kH}, {"width", kW}, {"file_name", "img_b.jpg"}},
                      {{"id", "img_a"}, {"height", kH}, {"width", kW}, {"file_name", "img_a.jpg"}}});
}

/// A JSON series: corruptions of `doc` written to `name` and read by `read`.
template <typename Read>
void json_series(const std::string& reader, uint64_t seed, const std::string& name, const json& doc, Read read) {
  TempDir dir("ds" + std::to_string(seed));
  run_series(reader, seed, dir.path() / name, [&](Rng& rng, int) { return corrupt_json(doc, rng); }, read);
}

// --- GranD-f (gcg) -------------------------------------------------------------------------------------------------

TEST(FuzzGrandf, CaptionGt) {
  const json gt = {{"images", gcg_images()},
                   {"annotations",
                    {{{"id", 1}, {"image_id", "img_b"}, {"caption", "A kite flies above a bench."},
                      {"labels", {"a kite", "a bench"}}},
                     {{"id", 2}, {"image_id", "img_a"}, {"caption", "The dog sits."}, {"labels", {"the dog"}}}}}};
  json_series("grandf::load_caption_gt", 201, "val_gcg_coco_caption_gt.json", gt,
              [](const fs::path& p) { (void)ds::grandf::load_caption_gt(p); });
}

TEST(FuzzGrandf, MaskGt) {
  const json gt = {{"images", gcg_images()},
                   {"categories", {{{"id", 1}, {"name", "object"}}}},
                   {"annotations",
                    {{{"id", 1}, {"image_id", "img_b"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 6},
                      {"segmentation", rect(1, 1, 4, 3)}},
                     {{"id", 2}, {"image_id", "img_b"}, {"category_id", 1}, {"iscrowd", 1}, {"area", 9},
                      {"segmentation", {{"size", {kH, kW}}, {"counts", {10, 5, 33}}}}},
                     {{"id", 3}, {"image_id", "img_a"}, {"category_id", 1}, {"iscrowd", 0}, {"area", 12},
                      {"segmentation", {{0, 0, 4, 0, 4, 4, 0, 4}}}}}}};
  json_series("grandf::load_mask_gt", 202, "val_gcg_coco_mask_gt.json", gt, [](const fs::path& p) {
    const auto g = ds::grandf::load_mask_gt(p);
    std::size_t n = 0;
    for (const auto& a : g.annotations)
      if (a.rle) n += mask::area(*a.rle);
    (void)n;
  });
}

TEST(FuzzGrandf, Predictions) {
  const json flat = {{"image_id", "img_b"}, {"caption", "A kite above a bench."}, {"phrases", {"kite", "bench"}},
                     {"pred_masks", {rect(1, 1, 4, 3), rect(4, 2, 7, 4)}}};
  const json nested = {{"img_b", flat}};
  TempDir dir("grandf_pred");
  run_series("grandf::load_prediction", 203, dir.path() / "img_b.json",
             [&](Rng& rng, int i) { return corrupt_json(i % 2 ? flat : nested, rng); },
             [&](const fs::path&) {
               const auto p = ds::grandf::load_prediction(dir.path(), "img_b");
               if (p) {
                 std::size_t n = 0;
                 for (const auto& r : ds::grandf::pred_mask_rles(*p)) n += mask::area(r);
                 (void)n;
               }
             });
}

TEST(FuzzGrandf, SimilarityTable) {
  const std::string table = "gt\tpred\tsimilarity\na kite\tkite\t0.91\na bench\tbench\t0.88\nthe dog\tdog\t0.75\n";
  TempDir dir("grandf_tsv");
  static const char* const kCells[] = {"1e400", "nan", "inf", "-inf", "", "\t", "0.5\t0.5", "1e-400", "-1",
                                       "0x10", "1,5", "\xc3\x28", "\r", "99999999999999999999999"};
  run_series("grandf::load_similarity_table", 204, dir.path() / "sim.tsv",
             [&](Rng& rng, int i) {
               if (i % 3 == 0) {  // a field or line replaced by an odd one, or a line repeated
                 std::string t = table;
                 const std::size_t at = t.find('\t', below(rng, t.size()));
                 if (at != std::string::npos) t.insert(at + 1, kCells[below(rng, std::size(kCells))]);
                 if (below(rng, 3) == 0) t += t.substr(t.find('\n') + 1);
                 return t;
               }
               return mutate_bytes(table, rng);
             },
             [](const fs::path& p) {
               const auto t = ds::grandf::load_similarity_table(p);
               (void)t.lookup("a kite", "kite");
             });
}

// --- REFER / refseg ------------------------------------------------------------------------------------------------

TEST(FuzzRefer, Instances) {
  json inst = fx::spec_instances();
  inst["annotations"][1]["segmentation"] = rect(2, 1, 5, 4);  // an RLE part too
  inst["annotations"][2]["segmentation"] = {{"size", {kH, kW}}, {"counts", {4, 8, 36}}};
  const ds::refer::RefsFile refs = ds::refer::parse_refs(fx::pickle2(fx::spec_refs(), true), "refs(unc).p");
  json_series("refer::load_instances", 205, "instances.json", inst, [&](const fs::path& p) {
    const auto in = ds::refer::load_instances(p);
    std::size_t n = 0;
    for (std::size_t a = 0; a < in.annotations.size(); ++a) {
      try {  // every annotation, also those no ref selects (an error is fine, a crash is not)
        n += mask::area(ds::refer::gt_rle(in, a));
        n += ds::refer::gt_mask(in, a, ds::refer::GtOverlap::kSum).size();
      } catch (const InputError&) {
      }
    }
    // as refseg uses it: the split's samples and their GT masks
    const auto split = ds::refer::select_split(refs, in, "refcoco", "unc", "testA");
    for (const auto& smp : split.samples) n += mask::area(ds::refer::gt_rle(in, smp.annotation));
    (void)n;
  });
}

TEST(FuzzRefer, Predictions) {
  const json preds = json::array(
      {{{"sent_id", 7001}, {"ref_id", 501}, {"image_id", 42}, {"mask", rect(1, 1, 4, 3)}, {"dataset", "refcoco"},
        {"split", "testA"}},
       {{"sent_id", 7002}, {"ref_id", 501}, {"image_id", 42}, {"mask", rect(0, 0, 8, 6)}}});
  TempDir dir("refseg_pred");
  run_series("refer::load_predictions", 206, dir.path() / "pred.jsonl",
             [&](Rng& rng, int i) {
               if (i % 2) return corrupt_json(preds, rng);
               // JSON Lines: one corrupted record among valid ones
               return preds[0].dump() + "\n" + corrupt_json(preds[1], rng) + "\n\n" + preds[0].dump() + "\n";
             },
             [](const fs::path& p) {
               std::size_t n = 0;
               for (const auto& r : ds::refer::load_predictions(p)) n += mask::area(r.mask);
               (void)n;
             });
}

// --- caption datasets ----------------------------------------------------------------------------------------------

TEST(FuzzCaptions, CocoCaptionGt) {
  const json gt = {{"images", {{{"id", 1}}, {{"id", "2"}}, {{"id", 3}}}},
                   {"annotations",
                    {{{"image_id", 1}, {"id", 1}, {"caption", "a dog runs"}},
                     {{"image_id", 1}, {"id", 2}, {"caption", "the dog is running"}},
                     {{"image_id", "2"}, {"id", 3}, {"caption", "two men talk"}},
                     {{"image_id", 3}, {"id", 4}, {"caption", "caf\u00e9 cr\u00e8me"}}}}};
  json_series("coco_captions::load_coco_caption_gt", 207, "captions_val.json", gt, [](const fs::path& p) {
    std::vector<std::string> warnings;
    (void)ds::load_coco_caption_gt(p, warnings);
  });
}

TEST(FuzzCaptions, CocoCaptionResults) {
  const json res = json::array({{{"image_id", 1}, {"caption", "a dog"}}, {{"image_id", "2"}, {"caption", "men"}},
                                {{"image_id", 3}, {"caption", ""}}});
  json_series("coco_captions::load_coco_caption_results", 208, "results.json", res,
              [](const fs::path& p) { (void)ds::load_coco_caption_results(p); });
}

TEST(FuzzCaptions, Flickr30k) {
  const json j = json::parse(R"({"dataset": "flickr30k", "images": [
    {"filename": "9000001.jpg", "imgid": 0, "split": "test", "sentids": [0, 1],
     "sentences": [{"raw": "A dog runs on sand.", "tokens": ["a", "dog"], "imgid": 0, "sentid": 0},
                   {"raw": "The brown dog is running.", "imgid": 0, "sentid": 1}]},
    {"filename": "9000002.jpg", "imgid": 1, "split": "train", "sentids": [2],
     "sentences": [{"raw": "Two men talk.", "imgid": 1, "sentid": 2}]},
    {"filename": "9000003.jpg", "imgid": 2, "split": "test", "sentids": [3],
     "sentences": [{"raw": "Un caf\u00e9.", "imgid": 2, "sentid": 3}]}]})");
  json_series("flickr30k::load", 209, "dataset_flickr30k.json", j,
              [](const fs::path& p) { (void)ds::flickr30k::load(p, "test"); });
}

TEST(FuzzCaptions, Nocaps) {
  const json j = json::parse(R"({"licenses": [], "info": {"version": "0.1"},
   "images": [{"id": 0, "open_images_id": "00aa11bb22cc33dd", "height": 6, "width": 8,
               "file_name": "00aa11bb22cc33dd.jpg", "domain": "out-domain"},
              {"id": 1, "open_images_id": "0123456789abcdef", "height": 6, "width": 8,
               "file_name": "0123456789abcdef.jpg", "domain": "near-domain"}],
   "annotations": [{"image_id": 0, "id": 0, "caption": "A red lantern hangs outside."},
                   {"image_id": 1, "id": 2, "caption": "A man rides a bicycle."}]})");
  json_series("nocaps::load", 210, "nocaps_val_4500_captions.json", j,
              [](const fs::path& p) { (void)ds::nocaps::load(p); });
}

TEST(FuzzRegcap, RegionCaptionGt) {
  const json region = json::parse(R"({"images": [
     {"id": 1, "file_name": "2301.jpg", "height": 6, "width": 8},
     {"id": 2, "file_name": "2301.jpg", "height": 6, "width": 8},
     {"id": 3, "file_name": "2417.jpg", "height": "6", "width": "8"}],
   "annotations": [
     {"id": 1, "image_id": 1, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "red kite in the sky"},
     {"id": 2, "image_id": 2, "bbox": [4.0, 2.0, 3.0, 3.0], "area": 9.0, "caption": "a wooden bench"},
     {"id": 3, "image_id": 3, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "caption": "white dog"}]})");
  const json mdetr = json::parse(R"({"images": [
     {"id": 310, "file_name": "COCO_train2014_000000000077.jpg", "height": 6, "width": 8, "original_id": 77,
      "caption": "brown dog lying on the rug", "dataset_name": "refcocog"},
     {"id": 311, "file_name": "COCO_train2014_000000000077.jpg", "height": "6", "width": "8",
      "caption": "a small dog in the corner"}],
   "annotations": [
     {"id": 310, "image_id": 310, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "category_id": 18},
     {"id": 311, "image_id": 311, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "category_id": 18}]})");
  TempDir dir("regcap_gt");
  run_series("regcap::load_region_caption_gt", 211, dir.path() / "test_caption.json",
             [&](Rng& rng, int i) { return corrupt_json(i % 2 ? region : mdetr, rng); },
             [](const fs::path& p) {
               std::vector<std::string> warnings;
               const auto g = ds::load_region_caption_gt(p, warnings);
               (void)g.regions_layout();
             });
}

TEST(FuzzRegcap, CaptionPredictions) {
  const json preds = json::array({{{"image_id", 1}, {"caption", "a kite"}}, {{"image_id", "3"}, {"caption", "a dog"}}});
  json_series("regcap::load_caption_predictions", 212, "model_vg_0.json", preds, [](const fs::path& p) {
    std::vector<std::string> files;
    (void)ds::load_caption_predictions(p, files);
  });
}

// --- METEOR paraphrase table ---------------------------------------------------------------------------------------

using glamm::testing::gzip;

TEST(FuzzMeteor, ParaphraseTable) {
  const std::string table =
      "0.5\nnext to\nbeside\n0.25\nteddy bear\nstuffed animal\n0.5\nteddy\ntoy\n1.0E-4\nx\ny\n0.3\nnext to\nnear\n";
  static const char* const kProbabilities[] = {"1e400", "NaN", "-Infinity", "", "0x1p3", "5d", "1e-400", "-0"};
  TempDir dir("paraphrase");
  run_series("meteor::ParaphraseTable::load_gz", 213, dir.path() / "paraphrase-en.gz",
             [&](Rng& rng, int i) {
               if (i % 3 == 0) return mutate_bytes(gzip(table), rng);
               std::string t = table;
               if (i % 3 == 1) {
                 const std::size_t at = t.find('\n', below(rng, t.size()));
                 if (at != std::string::npos) t.insert(at + 1, std::string(kProbabilities[below(rng, std::size(kProbabilities))]) + "\n");
               } else {
                 t = mutate_bytes(t, rng);
               }
               return gzip(t);
             },
             [](const fs::path& p) {
               const auto t = meteor::ParaphraseTable::load_gz(p.string());
               std::vector<std::pair<int, int>> out;
               const std::vector<int> words = {t.translate("next"), t.translate("to"), t.translate("teddy")};
               for (std::size_t s = 0; s < words.size(); ++s) {
                 if (words[s] < 0) continue;
                 t.paths(words, s, out);
                 for (const auto& [len, idx] : out) (void)t.paraphrase(idx).size(), (void)len;
               }
             });
}

TEST(FuzzMeteor, ParaphraseCache) {
  const std::string table = "0.5\nnext to\nbeside\n0.25\nteddy bear\nstuffed animal\n0.5\nteddy\ntoy\n";
  const std::string sha(64, 'a');
  const std::string image = meteor::ParaphraseTable::parse(table, "t").serialize(sha);
  TempDir dir("paraphrase_cache");
  run_series("meteor::ParaphraseTable::read_cache", 214, dir.path() / "paraphrase.bin",
             [&](Rng& rng, int) { return mutate_bytes(image, rng); },
             [&](const fs::path& p) {
               meteor::ParaphraseTable t = meteor::ParaphraseTable::parse("0.5\na\nb\n", "t");
               // A cache failing any check is simply not used; a crash or sanitizer report is the failure here.
               if (!meteor::ParaphraseTable::read_cache(p.string(), sha, t)) throw InputError("cache not used");
               (void)t.translate("teddy");
             });
}

TEST(FuzzMeteor, ResourceFiles) {
  // METEOR's four English resource files (small stand-ins); each series corrupts one of them, the others stay valid.
  const std::vector<std::pair<std::string, std::string>> files = {
      {"english.synsets", "couch\n1 2\nsofa\n2\ncar\n7 8\nautomobile\n7\nmouse\n9\nrun\n20\nrunning\n21\n"},
      {"english.exceptions", "mouse\nmice\nrun\nran running\n"},
      {"english.words", "a\nthe\non\nof\n's\n'\n.\n,\n"},
      {"english.prefixes", "# comment\nMr\nNo #NUMERIC_ONLY#\n"}};
  static const char* const kLines[] = {"", "\n", "1e400", "-1", "99999999999999999999", "x y z", "#NUMERIC_ONLY#",
                                       "\r\n", "\xc3\x28", "0x10", " ", "\t1"};
  TempDir dir("meteor_resources");
  for (std::size_t f = 0; f < files.size(); ++f) {
    for (std::size_t g = 0; g < files.size(); ++g) write_bytes(dir.path() / files[g].first, files[g].second);
    run_series("meteor::Resources::load (" + files[f].first + ")", 215 + f, dir.path() / files[f].first,
               [&](Rng& rng, int i) {
                 std::string t = files[f].second;
                 if (i % 2) {
                   const std::size_t at = t.find('\n', below(rng, t.size()));
                   if (at != std::string::npos) t.insert(at + 1, std::string(kLines[below(rng, std::size(kLines))]) + "\n");
                   return t;
                 }
                 return mutate_bytes(t, rng);
               },
               [&](const fs::path&) {
                 const auto r = meteor::Resources::load(dir.path().string(), "-");
                 (void)r.variant();
               },
               inputs_per_reader() / 4);
  }
}

}  // namespace
}  // namespace glamm::fuzz
