#include "datasets/grandf_sample.h"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/io.h"
#include "metrics/mask/rle.h"

namespace glamm::datasets::grandf {

namespace {

using nlohmann::json;
constexpr uint32_t kH = 48, kW = 64;

/// Rectangle [x0, x1) × [y0, y1) as compressed RLE (column-major, as pycocotools encodes).
json rect(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
  std::vector<uint8_t> m(static_cast<std::size_t>(kH) * kW, 0);
  for (uint32_t x = x0; x < x1 && x < kW; ++x)
    for (uint32_t y = y0; y < y1 && y < kH; ++y) m[static_cast<std::size_t>(x) * kH + y] = 1;
  return {{"size", {kH, kW}}, {"counts", mask::to_string(mask::encode(m.data(), kH, kW))}};
}

struct Obj {
  std::string phrase;
  uint32_t x0, y0, x1, y1;
};

struct SampleImage {
  std::string id;
  std::string gt_caption;
  std::vector<Obj> gt;
  std::string pred_caption;
  std::vector<std::string> pred_phrases;
  std::vector<json> pred_masks;
};

std::vector<SampleImage> images() {
  return {
      {"sa_200003", "A man rides a horse on the beach.", {{"A man", 20, 4, 36, 24}, {"a horse", 14, 18, 46, 40},
                                                         {"the beach", 0, 36, 64, 48}},
       "A man riding a horse on a beach.", {"A man", "a horse", "a beach"},
       {rect(20, 4, 36, 24), rect(16, 18, 46, 42), rect(0, 34, 64, 48)}},
      {"sa_200001", "A dog sleeps on a red sofa.", {{"A dog", 10, 10, 30, 24}, {"a red sofa", 4, 16, 60, 40}},
       "A dog lying on a couch.", {"A dog", "a couch"}, {rect(12, 10, 30, 26), rect(4, 20, 60, 40)}},
      {"sa_200005", "Two kites fly over a field.", {{"Two kites", 8, 2, 24, 12}, {"a field", 0, 30, 64, 48}},
       "A kite in the sky.", {"A kite", "the sky"}, {rect(8, 2, 20, 12), rect(0, 0, 64, 20)}},
      {"sa_200002", "A bus stops next to a sign and a tree.",
       {{"A bus", 6, 12, 40, 36}, {"a sign", 44, 8, 50, 24}, {"a tree", 52, 0, 64, 40}},
       "A bus on the street.", {"A bus"}, {rect(6, 12, 40, 36), rect(44, 8, 50, 24)}},
      {"sa_200004", "A cat sits on a laptop.", {{"A cat", 20, 10, 40, 30}, {"a laptop", 16, 24, 48, 44}},
       "", {}, {}},
      {"sa_200006", "A plate of pizza on a table.", {{"A plate of pizza", 16, 12, 48, 32}, {"a table", 0, 20, 64, 48}},
       "A pizza on a wooden table.", {"A pizza", "a wooden table", "a glass"},
       {rect(18, 12, 48, 32), rect(0, 22, 64, 48), rect(54, 2, 62, 14)}},
  };
}

}  // namespace

/// A kW × kH 24-bit BMP (bottom-up BGR rows; kW·3 is a multiple of 4, so rows need no padding) of the image's
/// scene: a light background with each GT object as a filled rectangle of its own muted colour, so that overlays
/// of the sample have something to be drawn on. Deterministic bytes.
std::string scene_bmp(const std::vector<Obj>& objects) {
  static const uint8_t palette[][3] = {{176, 122, 84}, {96, 150, 112}, {110, 124, 178}, {170, 160, 90}};  // B, G, R
  std::vector<uint8_t> px(static_cast<std::size_t>(kW) * kH * 3, 236);
  for (std::size_t k = 0; k < objects.size(); ++k) {
    const Obj& o = objects[k];
    for (uint32_t y = o.y0; y < o.y1 && y < kH; ++y)
      for (uint32_t x = o.x0; x < o.x1 && x < kW; ++x)
        for (int c = 0; c < 3; ++c) px[(static_cast<std::size_t>(y) * kW + x) * 3 + c] = palette[k % 4][c];
  }
  const uint32_t data = kW * kH * 3, file = 54 + data;
  std::string b;
  auto u16 = [&b](uint32_t v) { b += static_cast<char>(v & 255); b += static_cast<char>((v >> 8) & 255); };
  auto u32 = [&](uint32_t v) { u16(v & 0xFFFF); u16(v >> 16); };
  b += "BM";
  u32(file); u32(0); u32(54);                      // file header
  u32(40); u32(kW); u32(kH); u16(1); u16(24);      // BITMAPINFOHEADER: size, width, height, planes, bpp
  u32(0); u32(data); u32(2835); u32(2835); u32(0); u32(0);  // no compression, 72 dpi
  for (uint32_t row = 0; row < kH; ++row) {
    const std::size_t y = kH - 1 - row;
    b.append(reinterpret_cast<const char*>(&px[y * kW * 3]), kW * 3);
  }
  return b;
}

void write_grandf_sample(const std::filesystem::path& dir) {
  json imgs = json::array(), caps = json::array(), masks = json::array();
  int cap_id = 1, mask_id = 1;
  for (const SampleImage& im : images()) {
    imgs.push_back({{"id", im.id}, {"file_name", im.id + ".bmp"}, {"height", kH}, {"width", kW}});
    io::write_file_atomic(dir / "images" / (im.id + ".bmp"), scene_bmp(im.gt));
    std::vector<std::string> labels;
    for (const Obj& o : im.gt) {
      labels.push_back(o.phrase);
      const json seg = rect(o.x0, o.y0, o.x1, o.y1);
      const double area = static_cast<double>((o.x1 - o.x0) * (o.y1 - o.y0));
      masks.push_back({{"id", mask_id++}, {"image_id", im.id}, {"category_id", 1}, {"iscrowd", 0}, {"area", area},
                       {"bbox", {o.x0, o.y0, o.x1 - o.x0, o.y1 - o.y0}}, {"segmentation", seg}});
    }
    caps.push_back({{"id", cap_id++}, {"image_id", im.id}, {"caption", im.gt_caption}, {"labels", labels}});
    const json pred = {{"image_id", im.id}, {"caption", im.pred_caption}, {"phrases", im.pred_phrases},
                       {"pred_masks", im.pred_masks}};
    io::write_file_atomic(dir / "predictions" / (im.id + ".json"), pred.dump());
  }
  io::write_file_atomic(dir / "val_gcg_coco_caption_gt.json", json{{"images", imgs}, {"annotations", caps}}.dump());
  io::write_file_atomic(dir / "val_gcg_coco_mask_gt.json",
                        json{{"images", imgs},
                             {"categories", {{{"id", 1}, {"name", "object"}}}},
                             {"annotations", masks}}
                            .dump());
  // Stand-in for BERT cosine similarity between GT and predicted phrases (made-up values).
  io::write_file_atomic(dir / "val_text_similarity.tsv",
                        "gt_label\tpred_label\tsimilarity\n"
                        "A man\tA man\t1.0\na horse\ta horse\t1.0\nthe beach\ta beach\t0.93\n"
                        "A dog\tA dog\t1.0\na red sofa\ta couch\t0.71\n"
                        "Two kites\tA kite\t0.82\na field\tthe sky\t0.35\n"
                        "A bus\tA bus\t1.0\n"
                        "A plate of pizza\tA pizza\t0.78\na table\ta wooden table\t0.86\n"
                        // the other pairs the recall looks up: listed, so that the table covers every pair
                        "A dog\ta couch\t0.12\nA man\ta beach\t0.08\nA man\ta horse\t0.15\n"
                        "A plate of pizza\ta glass\t0.21\nA plate of pizza\ta wooden table\t0.24\n"
                        "Two kites\tthe sky\t0.19\na field\tA kite\t0.05\na horse\tA man\t0.15\n"
                        "a horse\ta beach\t0.06\na red sofa\tA dog\t0.11\na sign\tA bus\t0.17\n"
                        "a table\tA pizza\t0.22\na table\ta glass\t0.26\na tree\tA bus\t0.04\n"
                        "the beach\tA man\t0.08\nthe beach\ta horse\t0.06\n");
}

}  // namespace glamm::datasets::grandf
