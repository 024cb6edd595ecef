// GLaMM mIoU / recall / refseg parts of the golden mask vectors (official behaviour, default mode).
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "metrics/mask/glamm_metrics.h"
#include "metrics/mask/rle.h"
#include "metrics/numeric.h"
#include "support/shared_data.h"

using glamm::mask::Rle;
using nlohmann::json;

namespace {

json load(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

/// GLaMM decodes GT masks with maskUtils.decode, which accepts compressed RLE only.
bool is_compressed_rle(const json& seg) { return seg.is_object() && seg.contains("counts") && seg["counts"].is_string(); }

Rle to_rle(const json& seg) {
  return glamm::mask::from_string(seg["counts"].get<std::string>(), seg["size"][0].get<uint32_t>(),
                                  seg["size"][1].get<uint32_t>());
}

std::vector<json> image_ids_of(const json& input) {
  std::vector<json> ids;
  if (input.contains("glamm") && input["glamm"].contains("image_ids")) {
    for (const auto& v : input["glamm"]["image_ids"]) ids.push_back(v);
  } else {
    for (const auto& im : input["gt"]["images"]) ids.push_back(im["id"]);
  }
  return ids;
}

std::vector<std::string> vector_names() {
  return {"area_boundaries", "basic", "borders_odd_size", "crowd_gt", "duplicates", "empty_predictions",
          "glamm_recall", "gt_id_zero", "no_gt_image", "polygons", "score_ties_a", "score_ties_b"};
}

}  // namespace

TEST(GlammMiouGolden, EveryVectorMatchesOfficialMiou) {
  GLAMM_REQUIRE_SHARED(dir, "golden/masks/vectors");
  for (const std::string& name : vector_names()) {
    SCOPED_TRACE(name);
    const json v = load(dir / (name + ".json"));
    const json& exp = v["expected"]["glamm_miou"];
    const json& in = v["input"];
    bool failed = false;
    std::vector<double> mious;
    std::size_t k = 0;
    for (const json& img : image_ids_of(in)) {
      std::vector<Rle> gts, preds;
      for (const auto& a : in["gt"]["annotations"]) {
        if (a["image_id"] != img || !a.contains("segmentation")) continue;
        if (!is_compressed_rle(a["segmentation"])) {
          failed = true;  // maskUtils.decode(polygon) raises TypeError in the reference
          break;
        }
        gts.push_back(to_rle(a["segmentation"]));
      }
      if (failed) break;
      for (const auto& d : in["dt"])
        if (d["image_id"] == img) preds.push_back(to_rle(d["segmentation"]));
      const auto r = glamm::mask::gcg_image_miou(preds, gts, /*strict=*/false);
      const json& pe = exp["per_image"][k++];
      ASSERT_EQ(pe["image_id"], img);
      ASSERT_EQ(r.pairs.size(), pe["pairs"].size());
      for (std::size_t i = 0; i < r.pairs.size(); ++i) EXPECT_NEAR(r.pairs[i], pe["pairs"][i].get<double>(), 1e-12);
      EXPECT_NEAR(r.miou, pe["miou"].get<double>(), 1e-12);
      mious.push_back(r.miou);
    }
    if (failed) {
      EXPECT_TRUE(exp.contains("error")) << "reference did not fail";
      continue;
    }
    ASSERT_FALSE(exp.contains("error"));
    EXPECT_NEAR(glamm::metrics::numpy_mean(mious), exp["miou"].get<double>(), 1e-12);
  }
}

TEST(GlammRecallGolden, TextGateBreakIndexErrorAndNaN) {
  GLAMM_REQUIRE_SHARED(path, "golden/masks/vectors/glamm_recall.json");
  const json v = load(path);
  const json& in = v["input"];
  const json& g = in["glamm"];
  const json& exp = v["expected"]["glamm_recall"];
  std::map<std::pair<std::string, std::string>, double> table;
  for (const auto& row : g["text_sim"]) table[{row[0].get<std::string>(), row[1].get<std::string>()}] = row[2].get<double>();

  std::size_t tp = 0, positives = 0, k = 0;
  for (const json& img : image_ids_of(in)) {
    SCOPED_TRACE(img.dump());
    const json& pe = exp["per_image"][k++];
    const json* gt_cap = nullptr;
    const json* dt_cap = nullptr;
    for (const auto& a : g["gt_captions"]["annotations"])
      if (a["image_id"] == img) { gt_cap = &a; break; }
    for (const auto& a : g["dt_captions"])
      if (a["image_id"] == img) { dt_cap = &a; break; }
    if (!gt_cap || !dt_cap) {  // IndexError before anything is counted
      EXPECT_TRUE(pe.contains("skipped"));
      EXPECT_FALSE(pe.contains("positives"));
      continue;
    }
    std::vector<Rle> gts, preds;
    for (const auto& a : in["gt"]["annotations"])
      if (a["image_id"] == img) gts.push_back(to_rle(a["segmentation"]));
    for (const auto& d : in["dt"])
      if (d["image_id"] == img) preds.push_back(to_rle(d["segmentation"]));
    const auto gl = (*gt_cap)["labels"].get<std::vector<std::string>>();
    const auto dl = (*dt_cap)["labels"].get<std::vector<std::string>>();
    auto sim = [&](std::size_t i, std::size_t j) {
      auto it = table.find({gl[i], dl[j]});
      return it == table.end() ? 0.0 : it->second;
    };
    const auto r = glamm::mask::gcg_image_recall(gts, gl.size(), preds, dl.size(), sim, 0.5, 0.5, false);
    EXPECT_EQ(r.positives, pe["positives"].get<std::size_t>());
    positives += r.positives;
    if (pe.contains("skipped")) {
      EXPECT_EQ(r.skipped, pe["skipped"].get<std::string>());
      continue;
    }
    EXPECT_TRUE(r.skipped.empty());
    ASSERT_EQ(r.matches.size(), pe["matches"].size());
    for (std::size_t i = 0; i < r.matches.size(); ++i) {
      EXPECT_EQ(r.matches[i].first, pe["matches"][i][0].get<std::size_t>());
      EXPECT_EQ(r.matches[i].second, pe["matches"][i][1].get<std::size_t>());
    }
    tp += r.matches.size();
  }
  EXPECT_EQ(tp, exp["true_positives"].get<std::size_t>());
  EXPECT_EQ(positives, exp["actual_positives"].get<std::size_t>());
  EXPECT_NEAR(static_cast<double>(tp) / static_cast<double>(positives), exp["recall"].get<double>(), 1e-12);
}

TEST(RefSegGolden, Float32AndStrictValues) {
  GLAMM_REQUIRE_SHARED(path, "golden/masks/vectors/refer_seg.json");
  const json v = load(path);
  glamm::mask::RefSegAccumulator official(false), strict(true);
  for (const auto& s : v["input"]["samples"]) {
    std::vector<glamm::mask::RefSegAccumulator::Counts> counts;
    for (std::size_t t = 0; t < s["gts"].size(); ++t) {
      std::vector<uint8_t> p, g;
      for (const auto& row : s["preds"][t])
        for (const auto& x : row) p.push_back(x.get<uint8_t>());
      for (const auto& row : s["gts"][t])
        for (const auto& x : row) g.push_back(x.get<uint8_t>());
      counts.push_back(glamm::mask::RefSegAccumulator::target_counts(p.data(), g.data(), p.size()));
    }
    official.add_item(counts);
    strict.add_item(counts);
  }
  const json& f = v["expected"]["glamm_float32"];
  EXPECT_EQ(official.n_targets(), f["n_targets"].get<int64_t>());
  EXPECT_EQ(official.intersection_sum(), f["inter_fg"].get<double>());
  EXPECT_EQ(official.union_sum(), f["union_fg"].get<double>());
  EXPECT_NEAR(official.giou(), f["giou"].get<double>(), 1e-6 * f["giou"].get<double>());
  EXPECT_NEAR(official.ciou(), f["ciou"].get<double>(), 1e-6 * f["ciou"].get<double>());
  // the float32 emulation should be bit-identical to numpy float32
  EXPECT_EQ(static_cast<float>(official.giou()), static_cast<float>(f["giou"].get<double>()));
  EXPECT_EQ(static_cast<float>(official.ciou()), static_cast<float>(f["ciou"].get<double>()));
  EXPECT_NEAR(strict.giou(), v["expected"]["strict"]["giou"].get<double>(), 1e-15);
  EXPECT_NEAR(strict.ciou(), v["expected"]["strict"]["ciou"].get<double>(), 1e-15);
}
