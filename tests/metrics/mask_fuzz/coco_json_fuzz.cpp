// Randomised malformed input to the COCO JSON loaders (datasets/coco_json.cpp) and COCOeval, built into
// mask_sanitize_test with AddressSanitizer + UBSan. Every input must either load and evaluate (stats in [0, 1] or
// -1) or raise a glamm::InputError; never crash, hang, read out of bounds or hit undefined behaviour. Fixed seeds.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "datasets/coco_json.h"
#include "metrics/mask/cocoeval.h"
#include "metrics/mask/rle.h"

namespace glamm::mask {
namespace {

using nlohmann::json;

json box_rle(uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t H, uint32_t W) {
  std::vector<uint8_t> m(static_cast<std::size_t>(H) * W, 0);
  for (uint32_t x = x0; x < x0 + w && x < W; ++x)
    for (uint32_t y = y0; y < y0 + h && y < H; ++y) m[static_cast<std::size_t>(x) * H + y] = 1;
  return {{"size", {H, W}}, {"counts", to_string(encode(m.data(), H, W))}};
}

/// A small valid GT/results pair with every segmentation form.
std::pair<json, json> base_case(std::mt19937_64& rng) {
  const uint32_t H = 8 + rng() % 24, W = 8 + rng() % 24;
  json gt = {{"images", json::array()}, {"annotations", json::array()}, {"categories", json::array()}};
  json dt = json::array();
  for (int c = 1; c <= 2; ++c) gt["categories"].push_back({{"id", c}});
  int id = 1;
  for (int img = 1; img <= 3; ++img) {
    gt["images"].push_back({{"id", img}, {"height", H}, {"width", W}});
    for (int k = 0; k < 3; ++k) {
      uint32_t x = rng() % W, y = rng() % H, w = 1 + rng() % 6, h = 1 + rng() % 6;
      json seg;
      switch (k) {
        case 0: seg = box_rle(x, y, w, h, H, W); break;
        case 1: seg = json::array({json::array({x, y, x + w, y, x + w, y + h, x, y + h})}); break;
        default: {
          Rle r = from_string(box_rle(x, y, w, h, H, W)["counts"].get<std::string>(), H, W);
          seg = {{"size", {H, W}}, {"counts", r.counts}};
        }
      }
      gt["annotations"].push_back({{"id", id++}, {"image_id", img}, {"category_id", 1 + k % 2}, {"segmentation", seg},
                                   {"area", w * h}, {"iscrowd", k == 2 ? 1 : 0}, {"bbox", {x, y, w, h}}});
      dt.push_back({{"image_id", img}, {"category_id", 1 + k % 2},
                    {"segmentation", box_rle(x + rng() % 2, y, w, h, H, W)}, {"score", (rng() % 5) / 4.0}});
    }
  }
  if (rng() % 4 == 0)  // results with boxes too: loadRes' bbox branch (every result then needs one)
    for (auto& r : dt) r["bbox"] = {1, 1, 2 + rng() % 5, 2};
  return {gt, dt};
}

/// A random JSON value of any type (to put where a field is expected).
json random_value(std::mt19937_64& rng, int depth = 0) {
  switch (rng() % (depth > 2 ? 8 : 11)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<int64_t>(rng());
    case 3: return -static_cast<int64_t>(rng() % 100);
    case 4: return 1e300;
    case 5: return -0.5;
    case 6: return "";
    case 7: return std::string(1 + rng() % 8, static_cast<char>('0' + rng() % 80));
    case 8: return json::array({random_value(rng, depth + 1), random_value(rng, depth + 1)});
    case 9: return json::array();
    default: return {{"size", random_value(rng, depth + 1)}, {"counts", random_value(rng, depth + 1)}};
  }
}

const char* kFields[] = {"id", "image_id", "category_id", "segmentation", "area", "iscrowd", "bbox", "score",
                         "size", "counts", "height", "width"};

/// Replace or delete one field somewhere in the document.
void mutate_field(json& j, std::mt19937_64& rng) {
  if (j.is_object()) {
    if (!j.empty() && rng() % 3 == 0) {
      auto it = j.begin();
      std::advance(it, static_cast<long>(rng() % j.size()));
      if (rng() % 2 == 0 && (it->is_object() || it->is_array())) return mutate_field(*it, rng);
    }
    const char* key = kFields[rng() % (sizeof kFields / sizeof *kFields)];
    if (rng() % 3 == 0) j.erase(key);
    else j[key] = random_value(rng);
  } else if (j.is_array() && !j.empty()) {
    json& e = j[rng() % j.size()];
    if (e.is_object() || e.is_array()) mutate_field(e, rng);
    else e = random_value(rng);
  }
}

/// Byte-level damage: flip, drop, duplicate or truncate.
std::string mutate_bytes(std::string s, std::mt19937_64& rng) {
  const int n = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < n && !s.empty(); ++k) {
    std::size_t p = rng() % s.size();
    switch (rng() % 4) {
      case 0: s[p] = static_cast<char>(rng() % 256); break;
      case 1: s.erase(p, 1 + rng() % 8); break;
      case 2: s.insert(p, s.substr(p, 1 + rng() % 16)); break;
      default: s.resize(p); break;
    }
  }
  return s;
}

std::string last_error;

/// Load + evaluate; only InputError may escape. Returns true when the input was accepted.
bool load_and_evaluate(const std::string& gt_text, const std::string& dt_text, IouType type) {
  std::vector<std::string> w;
  datasets::CocoLoadOptions lo;
  lo.iou_type = type;
  lo.threads = 2;
  try {
    CocoGroundTruth gt = datasets::parse_coco_gt(gt_text, "gt.json", lo, w);
    CocoDetections dt = datasets::parse_coco_results(dt_text, "dt.json", gt, lo, w);
    CocoEvaluation ev = evaluate(gt, dt, default_params(gt, type), 2);
    CocoAccumulation acc = accumulate(ev);
    for (double v : summarize(acc, ev.params)) EXPECT_TRUE(v == -1.0 || (v >= 0.0 && v <= 1.0)) << v;
    return true;
  } catch (const InputError& e) {
    last_error = e.what();
    EXPECT_NE(std::string(e.what()).find(".json"), std::string::npos) << e.what();  // names the file
    return false;
  }
}

TEST(CocoJsonFuzz, MutatedFieldsLoadOrRaiseInputError) {
  std::mt19937_64 rng(12345);
  int accepted = 0, rejected = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    auto [gt, dt] = base_case(rng);
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) mutate_field(rng() % 2 ? gt : dt, rng);
    const IouType type = rng() % 3 == 0 ? IouType::kBbox : IouType::kSegm;
    (load_and_evaluate(gt.dump(), dt.dump(), type) ? accepted : rejected)++;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

TEST(CocoJsonFuzz, DamagedBytesLoadOrRaiseInputError) {
  std::mt19937_64 rng(777);
  int rejected = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    auto [gt, dt] = base_case(rng);
    std::string g = gt.dump(), d = dt.dump();
    if (rng() % 2) g = mutate_bytes(g, rng);
    else d = mutate_bytes(d, rng);
    rejected += !load_and_evaluate(g, d, rng() % 3 == 0 ? IouType::kBbox : IouType::kSegm);
  }
  EXPECT_GT(rejected, 0);
}

TEST(CocoJsonFuzz, UnmodifiedCasesAlwaysLoad) {
  std::mt19937_64 rng(99);
  for (int iter = 0; iter < 100; ++iter) {
    auto [gt, dt] = base_case(rng);
    EXPECT_TRUE(load_and_evaluate(gt.dump(), dt.dump(), IouType::kSegm)) << last_error;
    EXPECT_TRUE(load_and_evaluate(gt.dump(), dt.dump(), IouType::kBbox)) << last_error;
  }
}

}  // namespace
}  // namespace glamm::mask
