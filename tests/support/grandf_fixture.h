// Small hand-built GranD-f folders for GCG tests (CLI and in-process): caption GT, mask GT, predictions spread over
// one or more folders, and a --text-sim table. Masks are rectangles on 6 × 8 images, so IoUs can be derived by hand.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/mask/rle.h"

namespace glamm::testing {

constexpr uint32_t kGrandfH = 6, kGrandfW = 8;

/// Compressed RLE of the rectangle rows [y0, y1) × columns [x0, x1) on an h × w image.
inline nlohmann::json grandf_rect(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, uint32_t h = kGrandfH,
                                  uint32_t w = kGrandfW) {
  std::vector<uint8_t> m(static_cast<std::size_t>(h) * w, 0);
  for (uint32_t x = x0; x < x1; ++x)
    for (uint32_t y = y0; y < y1; ++y) m[x * h + y] = 1;
  return {{"size", {h, w}}, {"counts", glamm::mask::to_string(glamm::mask::encode(m.data(), h, w))}};
}

/// One image of a fixture: its GT (caption, labels, masks) and its prediction (in folder `folder`).
struct GrandfImage {
  std::string id;
  std::string caption;
  std::vector<std::string> labels;
  std::vector<nlohmann::json> gt_masks;  ///< one per label
  nlohmann::json prediction;             ///< the prediction file's content (null: no file)
  std::string folder = "pred";           ///< predictions folder name under the fixture's folder
  bool in_mask_gt = true;                ///< false: the image is in the caption GT only
};

/// A GranD-f val split in `dir`: val_gcg_coco_{caption,mask}_gt.json, <folder>/<id>.json, sim.tsv.
struct GrandfFixture {
  std::filesystem::path dir;
  std::vector<GrandfImage> images;
  std::string sim = "gt_label\tpred_label\tsimilarity\n";

  nlohmann::json caption_gt() const {
    nlohmann::json imgs = nlohmann::json::array(), anns = nlohmann::json::array();
    for (std::size_t i = 0; i < images.size(); ++i) {
      imgs.push_back({{"id", images[i].id}, {"height", kGrandfH}, {"width", kGrandfW}});
      anns.push_back({{"id", i + 1}, {"image_id", images[i].id}, {"caption", images[i].caption},
                      {"labels", images[i].labels}});
    }
    return {{"images", imgs}, {"annotations", anns}};
  }
  nlohmann::json mask_gt() const {
    nlohmann::json imgs = nlohmann::json::array(), anns = nlohmann::json::array();
    for (const GrandfImage& im : images) {
      if (!im.in_mask_gt) continue;
      imgs.push_back({{"id", im.id}, {"height", kGrandfH}, {"width", kGrandfW}, {"file_name", im.id + ".jpg"}});
      for (const nlohmann::json& m : im.gt_masks)
        anns.push_back({{"id", anns.size() + 1}, {"image_id", im.id}, {"category_id", 1}, {"iscrowd", 0},
                        {"area", 1}, {"segmentation", m}});
    }
    return {{"images", imgs}, {"categories", {{{"id", 1}, {"name", "object"}}}}, {"annotations", anns}};
  }
  /// The predictions folders, in first-use order.
  std::vector<std::filesystem::path> pred_dirs() const {
    std::vector<std::filesystem::path> out;
    for (const GrandfImage& im : images)
      if (std::find(out.begin(), out.end(), dir / im.folder) == out.end()) out.push_back(dir / im.folder);
    return out;
  }
  std::filesystem::path prediction_file(const GrandfImage& im) const { return dir / im.folder / (im.id + ".json"); }

  void write() const {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "val_gcg_coco_caption_gt.json") << caption_gt().dump();
    std::ofstream(dir / "val_gcg_coco_mask_gt.json") << mask_gt().dump();
    for (const auto& d : pred_dirs()) std::filesystem::create_directories(d);
    for (const GrandfImage& im : images)
      if (!im.prediction.is_null()) std::ofstream(prediction_file(im)) << im.prediction.dump();
    std::ofstream(dir / "sim.tsv") << sim;
  }
};

/// A valid 24-bit BMP of kGrandfW × kGrandfH grey pixels (an image the report's overlays can read).
inline std::string grandf_grey_bmp() {
  auto le32 = [](uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
  };
  const uint32_t row = kGrandfW * 3, data = row * kGrandfH;
  const std::string head = "BM" + le32(54 + data) + le32(0) + le32(54) + le32(40) + le32(kGrandfW) + le32(kGrandfH) +
                           std::string("\x01\x00\x18\x00", 4) + le32(0) + le32(data) + le32(2835) + le32(2835) +
                           le32(0) + le32(0);
  return head + std::string(data, '\x80');
}

/// Three images, one per predictions folder (pred1, pred2, pred3); every prediction matches its GT except the
/// bench of img_b (IoU 6/9). The table lists every (label, phrase) pair of an image.
inline GrandfFixture three_folder_fixture(const std::filesystem::path& dir) {
  GrandfFixture f;
  f.dir = dir;
  auto pred = [](const std::string& id, const std::string& caption, std::vector<std::string> phrases,
                 std::vector<nlohmann::json> masks) {
    return nlohmann::json{{"image_id", id}, {"caption", caption}, {"phrases", phrases}, {"pred_masks", masks}};
  };
  f.images.push_back({"img_b", "A kite flies above a bench.", {"a kite", "a bench"},
                      {grandf_rect(1, 1, 4, 3), grandf_rect(4, 2, 7, 5)},
                      pred("img_b", "A kite above a bench.", {"kite", "bench"},
                           {grandf_rect(1, 1, 4, 3), grandf_rect(4, 2, 7, 4)}),
                      "pred1"});
  f.images.push_back({"img_a", "The dog sits.", {"the dog"}, {grandf_rect(0, 3, 4, 6)},
                      pred("img_a", "A dog.", {"dog"}, {grandf_rect(0, 3, 4, 6)}), "pred2"});
  f.images.push_back({"img_c", "A cat on a mat.", {"a cat"}, {grandf_rect(2, 0, 6, 2)},
                      pred("img_c", "A cat.", {"cat"}, {grandf_rect(2, 0, 6, 2)}), "pred3"});
  f.sim += "a kite\tkite\t0.9\na bench\tbench\t0.8\na kite\tbench\t0.1\na bench\tkite\t0.2\nthe dog\tdog\t0.95\n"
           "a cat\tcat\t0.9\n";
  return f;
}

}  // namespace glamm::testing
