// evaluate_refseg in-process on the refer_seg golden vector (golden/masks/vectors/refer_seg.json): GLaMM's float32
// cIoU/gIoU (and their printed strings) and the strict values, through REFER files written at test time, for 1 and
// 4 threads. The CLI version (tests/eval/refseg/refseg_golden.cpp) checks the same through the binary. Each vector sample
// is one image item; the vector's GT ignore label 255 cannot occur in REFER masks, so its pixels are dropped from
// the prediction and the GT, which gives the same per-target intersection and union.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "datasets/refer_fixture.h"
#include "eval/tasks/refseg.h"
#include "metrics/mask/rle.h"
#include "support/shared_data.h"

namespace glamm::tasks {
namespace {

namespace fx = glamm::testing::refer_fixture;
using nlohmann::json;

json rle_of(const json& rows, const json& gt_rows) {
  const uint32_t h = rows.size(), w = rows[0].size();
  std::vector<uint8_t> m(h * w);
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x)
      m[x * h + y] = gt_rows[y][x].get<int>() == 255 ? 0 : static_cast<uint8_t>(rows[y][x].get<int>());
  return {{"size", {h, w}}, {"counts", mask::to_string(mask::encode(m.data(), h, w))}};
}

TEST(RefsegTaskGolden, ReproducesReferSegVectorFloat32AndStrict) {
  GLAMM_REQUIRE_SHARED(path, "golden/masks/vectors/refer_seg.json");
  const json v = io::load_json(path);
  json refs = json::array(), inst = {{"images", json::array()}, {"annotations", json::array()}};
  std::string preds;
  int64_t next = 1, image = 1;
  for (const auto& s : v["input"]["samples"]) {
    const auto& g0 = s["gts"][0];
    inst["images"].push_back({{"id", image}, {"file_name", "x.jpg"}, {"height", g0.size()}, {"width", g0[0].size()}});
    for (std::size_t t = 0; t < s["gts"].size(); ++t) {
      const int64_t id = next++;
      inst["annotations"].push_back(
          {{"id", id}, {"image_id", image}, {"segmentation", json::array({rle_of(s["gts"][t], s["gts"][t])})}});
      refs.push_back({{"ref_id", id}, {"ann_id", id}, {"image_id", image}, {"split", "val"},
                      {"sentences", {{{"sent_id", id}, {"sent", "object " + std::to_string(id)}}}}});
      preds += json({{"sent_id", id}, {"ref_id", id}, {"image_id", image},
                     {"mask", rle_of(s["preds"][t], s["gts"][t])}})
                   .dump() +
               "\n";
    }
    ++image;
  }
  const auto dir = fx::temp_dir("refseg_task_golden");
  fx::write_refer(dir / "data", "refcoco", "unc", refs, inst);
  fx::write(dir / "pred.jsonl", preds);
  const auto refer_dir = dir / "data" / "Refer_Segm" / "refcoco";
  const RefsegInputs in = load_refseg_inputs(
      {refer_dir / "refs(unc).p", refer_dir / "instances.json", (dir / "pred.jsonl").string(), "refcoco", "unc", "val"});
  const json& f = v["expected"]["glamm_float32"];
  for (int threads : {1, 4}) {
    for (bool strict : {false, true}) {
      RefsegOptions o;
      o.strict = strict;
      o.threads = threads;
      const RefsegReport r = evaluate_refseg(in, o);
      const json rec = to_record(r, "golden").to_json();
      EXPECT_EQ(rec["per_sample"].size(), f["n_targets"].get<std::size_t>());
      if (!strict) {
        EXPECT_EQ(rec["details"]["intersection_sum"].get<double>(), f["inter_fg"].get<double>());
        EXPECT_EQ(rec["details"]["union_sum"].get<double>(), f["union_fg"].get<double>());
        EXPECT_EQ(static_cast<float>(r.giou), static_cast<float>(f["giou"].get<double>()));
        EXPECT_EQ(static_cast<float>(r.ciou), static_cast<float>(f["ciou"].get<double>()));
        EXPECT_EQ(rec["details"]["giou_str"], f["giou_str"]);
        EXPECT_EQ(rec["details"]["ciou_str"], f["ciou_str"]);
      } else {
        EXPECT_NEAR(rec["metrics"]["gIoU"].get<double>(), v["expected"]["strict"]["giou"].get<double>(), 1e-15);
        EXPECT_NEAR(rec["metrics"]["cIoU"].get<double>(), v["expected"]["strict"]["ciou"].get<double>(), 1e-15);
      }
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace glamm::tasks
