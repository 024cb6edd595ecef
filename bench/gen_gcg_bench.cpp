// Generator of a synthetic GCG benchmark set in GranD-f layout (deterministic for a seed):
//   <out>/val_gcg_coco_caption_gt.json, <out>/val_gcg_coco_mask_gt.json, <out>/predictions/<id>.json,
//   <out>/val_text_similarity.tsv
// Each 640×480 image gets 5 GT ellipse masks with phrases and a caption, and 5 predicted masks (jittered copies of
// the GT, sometimes a miss or a false positive) with phrases (sometimes a synonym) and a caption.
// Usage: gen_gcg_bench OUT_DIR [--images N] [--seed S]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/mask/rle.h"

namespace mask = glamm::mask;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// splitmix64: a small deterministic generator whose output does not depend on the standard library.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  std::size_t index(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

constexpr uint32_t kH = 480, kW = 640;

const std::vector<std::string> kNouns = {"man",   "woman", "dog",    "cat",   "car",   "tree",   "bench", "kite",
                                         "horse", "bird",  "table",  "chair", "boat",  "bus",    "sign",  "grass",
                                         "road",  "sky",   "window", "door",  "plate", "pizza",  "cup",   "laptop",
                                         "bike",  "train", "clock",  "lamp",  "sofa",  "person", "field", "fence"};
const std::vector<std::string> kSynonyms = {"guy",  "lady", "puppy", "kitten", "vehicle", "plant", "seat", "toy",
                                            "pony", "crow", "desk",  "stool",  "ship",    "coach", "board", "lawn",
                                            "street", "clouds", "pane", "gate", "dish", "slice", "mug", "computer",
                                            "bicycle", "tram", "watch", "light", "couch", "human", "meadow", "rail"};
const std::vector<std::string> kAdjs = {"small", "large", "red", "white", "old", "wooden", "black", "green"};

struct Ellipse {
  double cx, cy, rx, ry;
};

mask::Rle rasterise(const Ellipse& e) {
  std::vector<uint8_t> m(static_cast<std::size_t>(kH) * kW, 0);
  for (uint32_t x = 0; x < kW; ++x) {
    const double dx = (x + 0.5 - e.cx) / e.rx;
    if (std::fabs(dx) >= 1) continue;
    const double half = e.ry * std::sqrt(1 - dx * dx);
    const long y0 = std::max<long>(0, std::lround(e.cy - half)), y1 = std::min<long>(kH, std::lround(e.cy + half));
    for (long y = y0; y < y1; ++y) m[static_cast<std::size_t>(x) * kH + static_cast<std::size_t>(y)] = 1;
  }
  return mask::encode(m.data(), kH, kW);
}

Ellipse random_ellipse(Rng& r) {
  const double rx = std::exp(r.uniform(std::log(8.0), std::log(160.0)));
  const double ry = rx * r.uniform(0.5, 1.5);
  return {r.uniform(0, kW), r.uniform(0, kH), rx, ry};
}

Ellipse jitter(const Ellipse& e, Rng& r) {
  return {e.cx + r.uniform(-0.15, 0.15) * e.rx, e.cy + r.uniform(-0.15, 0.15) * e.ry, e.rx * r.uniform(0.8, 1.2),
          e.ry * r.uniform(0.8, 1.2)};
}

std::string sentence(const std::string& lead, const std::vector<std::string>& phrases) {
  std::string s = lead;
  for (std::size_t k = 0; k < phrases.size(); ++k) {
    if (k) s += k + 1 == phrases.size() ? " and " : ", ";
    s += "a " + phrases[k];
  }
  return s + ".";
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", p.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [--images N] [--seed S]\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  int images = 5000;
  uint64_t seed = 0;
  for (int k = 2; k + 1 < argc; k += 2) {
    if (std::strcmp(argv[k], "--images") == 0) images = std::atoi(argv[k + 1]);
    if (std::strcmp(argv[k], "--seed") == 0) seed = std::strtoull(argv[k + 1], nullptr, 10);
  }
  fs::create_directories(out / "predictions");
  Rng rng{seed * 7919 + 17};
  json cap_images = json::array(), cap_anns = json::array(), mask_anns = json::array();
  int ann_id = 1;
  for (int i = 0; i < images; ++i) {
    char idbuf[32];
    std::snprintf(idbuf, sizeof idbuf, "sa_%07d", 1000000 + i * 7 % 1000003);
    const std::string id = idbuf;
    cap_images.push_back({{"id", id}, {"width", kW}, {"height", kH}, {"file_name", id + ".jpg"}});
    std::vector<std::string> labels, pred_phrases;
    std::vector<Ellipse> gts;
    json pred_masks = json::array();
    for (int g = 0; g < 5; ++g) {
      const std::size_t n = rng.index(kNouns.size());
      const std::string label = kAdjs[rng.index(kAdjs.size())] + " " + kNouns[n];
      labels.push_back(label);
      gts.push_back(random_ellipse(rng));
      const mask::Rle rle = rasterise(gts.back());
      const mask::Box bb = mask::to_bbox(rle);
      mask_anns.push_back({{"id", ann_id++},
                           {"image_id", id},
                           {"category_id", 1},
                           {"iscrowd", 0},
                           {"area", mask::area(rle)},
                           {"bbox", {bb[0], bb[1], bb[2], bb[3]}},
                           {"segmentation", {{"size", {kH, kW}}, {"counts", mask::to_string(rle)}}}});
      // prediction for this GT: usually a jittered copy, sometimes a miss (random mask elsewhere)
      const Ellipse pe = rng.uniform() < 0.8 ? jitter(gts.back(), rng) : random_ellipse(rng);
      pred_masks.push_back({{"size", {kH, kW}}, {"counts", mask::to_string(rasterise(pe))}});
      const double u = rng.uniform();
      pred_phrases.push_back(u < 0.6 ? kNouns[n] : (u < 0.85 ? kSynonyms[n] : kNouns[rng.index(kNouns.size())]));
    }
    cap_anns.push_back({{"id", i + 1}, {"image_id", id}, {"caption", sentence("The image shows ", labels)},
                        {"labels", labels}});
    json pred = {{"image_id", id},
                 {"caption", sentence("A picture of ", pred_phrases)},
                 {"phrases", pred_phrases},
                 {"pred_masks", pred_masks}};
    write(out / "predictions" / (id + ".json"), pred.dump());
  }
  write(out / "val_gcg_coco_caption_gt.json", json{{"images", cap_images}, {"annotations", cap_anns}}.dump());
  write(out / "val_gcg_coco_mask_gt.json",
        json{{"images", cap_images}, {"categories", {{{"id", 1}, {"name", "object"}}}}, {"annotations", mask_anns}}
            .dump());
  // Similarity table: 1 for the same noun, 0.7 for the synonym, 0.2 otherwise (GT labels carry an adjective).
  std::string tsv = "gt_label\tpred_label\tsimilarity\n";
  for (const auto& a : kAdjs)
    for (std::size_t n = 0; n < kNouns.size(); ++n)
      for (std::size_t m = 0; m < kNouns.size(); ++m) {
        tsv += a + " " + kNouns[n] + "\t" + kNouns[m] + "\t" + (n == m ? "0.9" : "0.2") + "\n";
        tsv += a + " " + kNouns[n] + "\t" + kSynonyms[m] + "\t" + (n == m ? "0.7" : "0.1") + "\n";
      }
  write(out / "val_text_similarity.tsv", tsv);
  std::printf("wrote %d images, %d GT masks, %d predicted masks to %s\n", images, ann_id - 1, images * 5,
              out.c_str());
  return 0;
}
