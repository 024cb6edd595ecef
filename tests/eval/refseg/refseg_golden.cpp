// glamm-eval refseg reproduces the refer_seg golden vector (golden/masks/vectors/refer_seg.json): GLaMM's float32
// cIoU/gIoU and the strict values, end to end through REFER files and the prediction JSONL. Each vector sample is
// one image item (its targets = sentences of that image); GT masks are written as RLE segmentations. The vector's
// GT ignore label 255 cannot occur in REFER masks: its pixels are dropped from the prediction and the GT instead,
// which gives the same per-target intersection and union (the only inputs of the metric).
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "datasets/refer_fixture.h"
#include "metrics/mask/rle.h"
#include "support/shared_data.h"

namespace fx = glamm::testing::refer_fixture;
using nlohmann::json;

namespace {
json rle_of(const json& rows, bool gt, const json& gt_rows) {
  const uint32_t h = rows.size(), w = rows[0].size();
  std::vector<uint8_t> m(h * w);
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      const int v = rows[y][x].get<int>(), g = gt_rows[y][x].get<int>();
      m[x * h + y] = (g == 255) ? 0 : static_cast<uint8_t>(gt ? v : v);
    }
  return {{"size", {h, w}}, {"counts", glamm::mask::to_string(glamm::mask::encode(m.data(), h, w))}};
}
}  // namespace

TEST(RefsegGolden, ReproducesReferSegVectorFloat32AndStrict) {
  GLAMM_REQUIRE_SHARED(path, "golden/masks/vectors/refer_seg.json");
  const json v = json::parse(std::ifstream(path));
  json refs = json::array(), inst = {{"images", json::array()}, {"annotations", json::array()}};
  std::string preds;
  int64_t next = 1;
  int64_t image = 1;
  for (const auto& s : v["input"]["samples"]) {
    const auto& g0 = s["gts"][0];
    inst["images"].push_back({{"id", image}, {"file_name", "x.jpg"}, {"height", g0.size()}, {"width", g0[0].size()}});
    for (std::size_t t = 0; t < s["gts"].size(); ++t) {
      const int64_t id = next++;
      inst["annotations"].push_back(
          {{"id", id}, {"image_id", image}, {"segmentation", json::array({rle_of(s["gts"][t], true, s["gts"][t])})}});
      refs.push_back({{"ref_id", id}, {"ann_id", id}, {"image_id", image}, {"split", "val"},
                      {"sentences", {{{"sent_id", id}, {"sent", "object " + std::to_string(id)}}}}});
      preds += json({{"sent_id", id}, {"ref_id", id}, {"image_id", image},
                     {"mask", rle_of(s["preds"][t], false, s["gts"][t])}})
                   .dump() +
               "\n";
    }
    ++image;
  }
  const auto dir = fx::temp_dir("refseg_golden");
  fx::write_refer(dir / "data", "refcoco", "unc", refs, inst);
  fx::write(dir / "pred.jsonl", preds);
  const json& f = v["expected"]["glamm_float32"];
  for (bool strict : {false, true}) {
    std::string out;
    const auto rec = dir / "rec.json";
    ASSERT_EQ(fx::run(std::string(GLAMM_EVAL_BINARY) + " refseg --dataset refcoco --split val --data-root '" +
                          (dir / "data").string() + "' --pred '" + (dir / "pred.jsonl").string() + "' --json '" +
                          rec.string() + "' -q" + (strict ? " --strict" : ""),
                      out),
              0)
        << out;
    const json r = json::parse(std::ifstream(rec));
    EXPECT_EQ(r["per_sample"].size(), f["n_targets"].get<std::size_t>());
    if (!strict) {
      EXPECT_EQ(r["details"]["intersection_sum"].get<double>(), f["inter_fg"].get<double>());
      EXPECT_EQ(r["details"]["union_sum"].get<double>(), f["union_fg"].get<double>());
      EXPECT_EQ(static_cast<float>(r["metrics"]["gIoU"].get<double>()), static_cast<float>(f["giou"].get<double>()));
      EXPECT_EQ(static_cast<float>(r["metrics"]["cIoU"].get<double>()), static_cast<float>(f["ciou"].get<double>()));
      EXPECT_EQ(r["details"]["giou_str"], f["giou_str"]);
      EXPECT_EQ(r["details"]["ciou_str"], f["ciou_str"]);
      EXPECT_NE(out.find("giou: " + f["giou_str"].get<std::string>()), std::string::npos) << out;
    } else {
      EXPECT_NEAR(r["metrics"]["gIoU"].get<double>(), v["expected"]["strict"]["giou"].get<double>(), 1e-15);
      EXPECT_NEAR(r["metrics"]["cIoU"].get<double>(), v["expected"]["strict"]["ciou"].get<double>(), 1e-15);
    }
  }
  std::filesystem::remove_all(dir);
}
