// Deterministic synthetic COCO GT/results for `glamm-eval coco --sample` (see coco_sample.h).
#include "datasets/coco_sample.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/mask/rle.h"

namespace glamm::datasets {

namespace {

constexpr uint32_t kH = 120, kW = 160;

/// A tiny LCG (Numerical Recipes constants): identical sequences on every platform, unlike std distributions.
struct Lcg {
  uint64_t s;
  double uniform() {  // [0, 1)
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0;
  }
  double range(double lo, double hi) { return lo + (hi - lo) * uniform(); }
};

struct Ellipse {
  double cx, cy, rx, ry;
};

/// Column-major 0/1 mask of an axis-aligned ellipse (pixel centres inside).
std::vector<uint8_t> ellipse_mask(const Ellipse& e) {
  std::vector<uint8_t> m(static_cast<std::size_t>(kH) * kW, 0);
  for (uint32_t x = 0; x < kW; ++x)
    for (uint32_t y = 0; y < kH; ++y) {
      double dx = (x + 0.5 - e.cx) / e.rx, dy = (y + 0.5 - e.cy) / e.ry;
      if (dx * dx + dy * dy <= 1.0) m[static_cast<std::size_t>(x) * kH + y] = 1;
    }
  return m;
}

mask::Rle ellipse_rle(const Ellipse& e) {
  auto m = ellipse_mask(e);
  return mask::encode(m.data(), kH, kW);
}

/// 16-gon approximating the ellipse, coordinates rounded to 0.01 px.
std::vector<double> ellipse_polygon(const Ellipse& e) {
  std::vector<double> xy;
  for (int k = 0; k < 16; ++k) {
    double a = 2 * M_PI * k / 16;
    xy.push_back(std::round((e.cx + e.rx * std::cos(a)) * 100) / 100);
    xy.push_back(std::round((e.cy + e.ry * std::sin(a)) * 100) / 100);
  }
  return xy;
}

/// Shoelace area of a polygon (what COCO's own annotation tool stores as `area` for polygons).
double polygon_area(const std::vector<double>& xy) {
  double s = 0;
  const std::size_t n = xy.size() / 2;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t j = (i + 1) % n;
    s += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
  }
  return std::round(std::fabs(s) / 2 * 100) / 100;
}

nlohmann::json compressed(const mask::Rle& r) {
  return {{"size", {r.h, r.w}}, {"counts", mask::to_string(r)}};
}

nlohmann::json uncompressed(const mask::Rle& r) { return {{"size", {r.h, r.w}}, {"counts", r.counts}}; }

}  // namespace

CocoSample builtin_coco_sample() {
  Lcg rng{20240531};
  nlohmann::json gt = {{"info", {{"description", "glamm-eval built-in COCO sample (synthetic)"}}},
                       {"images", nlohmann::json::array()},
                       {"annotations", nlohmann::json::array()},
                       {"categories", {{{"id", 1}, {"name", "person"}},
                                       {{"id", 2}, {"name", "dog"}},
                                       {{"id", 3}, {"name", "kite"}}}}};
  nlohmann::json dt = nlohmann::json::array();
  int ann_id = 1;
  for (int img = 1; img <= 12; ++img) {
    gt["images"].push_back({{"id", img}, {"width", kW}, {"height", kH}, {"file_name", "sample_" + std::to_string(img) + ".png"}});
    const int n = 2 + img % 3;
    for (int j = 0; j < n; ++j) {
      const int cat = 1 + (img + j) % 3;
      // Log-uniform radius 4..45 px: areas from ~50 px (small) to ~6000 px (medium) and, for wide ones, large.
      double r = 4 * std::exp(rng.range(0, std::log(45.0 / 4)));
      Ellipse e{rng.range(r, kW - r), rng.range(std::min(r, kH / 2.0), kH - std::min(r, kH / 2.0)), r * rng.range(0.8, 1.6),
                r * rng.range(0.6, 1.0)};
      if ((img == 6 || img == 11) && j == 0) e = {80, 60, 70, 50};  // two large objects (> 96^2 px)
      mask::Rle rle = ellipse_rle(e);
      nlohmann::json ann = {{"id", ann_id++}, {"image_id", img}, {"category_id", cat}, {"iscrowd", 0}};
      if (j % 3 == 0) {  // polygon, area from the polygon (differs from the pixel count, as in COCO)
        auto poly = ellipse_polygon(e);
        ann["segmentation"] = {poly};
        ann["area"] = polygon_area(poly);
      } else {
        ann["segmentation"] = j % 3 == 1 ? compressed(rle) : uncompressed(rle);
        ann["area"] = mask::area(rle);
      }
      auto bb = mask::to_bbox(rle);
      ann["bbox"] = {bb[0], bb[1], bb[2], bb[3]};
      gt["annotations"].push_back(ann);
      // A detection for most objects: a jittered copy; scores on a 0.05 grid so several tie.
      if (rng.uniform() < 0.85) {
        double jit = rng.uniform() < 0.3 ? 0.35 : 0.12;
        Ellipse d{e.cx + e.rx * rng.range(-jit, jit), e.cy + e.ry * rng.range(-jit, jit),
                  e.rx * rng.range(1 - jit, 1 + jit), e.ry * rng.range(1 - jit, 1 + jit)};
        double score = std::round(rng.range(0.3, 1.0) * 20) / 20;
        dt.push_back({{"image_id", img}, {"category_id", cat}, {"segmentation", compressed(ellipse_rle(d))},
                      {"score", score}});
      }
    }
    // A false positive on every third image.
    if (img % 3 == 0) {
      Ellipse f{rng.range(20, kW - 20), rng.range(20, kH - 20), rng.range(6, 18), rng.range(6, 18)};
      double score = std::round(rng.range(0.3, 0.9) * 20) / 20;
      dt.push_back({{"image_id", img}, {"category_id", 1 + img % 3}, {"segmentation", compressed(ellipse_rle(f))},
                    {"score", score}});
    }
    // Crowd regions (uncompressed RLE rectangles, iscrowd 1) on images 4 and 9, each with two detections inside.
    if (img == 4 || img == 9) {
      mask::Rle crowd = mask::from_bbox({10, 70, 60, 40}, kH, kW);
      gt["annotations"].push_back({{"id", ann_id++}, {"image_id", img}, {"category_id", 1},
                                   {"segmentation", uncompressed(crowd)}, {"area", mask::area(crowd)},
                                   {"bbox", {10, 70, 60, 40}}, {"iscrowd", 1}});
      for (int q = 0; q < 2; ++q) {
        Ellipse c{25.0 + 30 * q, 90, 9, 8};
        dt.push_back({{"image_id", img}, {"category_id", 1}, {"segmentation", compressed(ellipse_rle(c))},
                      {"score", 0.5}});
      }
    }
  }
  return {gt.dump(), dt.dump()};
}

}  // namespace glamm::datasets
