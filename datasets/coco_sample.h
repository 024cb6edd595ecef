// The built-in COCO sample: a small deterministic synthetic instances file and results list, generated in code so
// that `glamm-eval coco` can show a full run on a fresh machine without any data. Not a reference: its numbers
// are whatever COCOeval gives on it.
#pragma once

#include <string>

namespace glamm::datasets {

/// The sample as JSON text in the formats load_coco_gt / load_coco_results read.
/// 12 images of 160×120 (ids 1..12), 3 categories (1 "person", 2 "dog", 3 "kite"), 38 GT objects of all three area
/// ranges given as polygons (area from the polygon, as COCO stores it), compressed RLE and uncompressed RLE, with
/// two crowd regions (uncompressed RLE, iscrowd 1); about 37 results as compressed RLE with scores on a 0.05 grid
/// (so several tie), including false positives and detections inside a crowd region. Same bytes on every run and
/// machine (own LCG, no std distributions).
struct CocoSample {
  std::string gt_json;
  std::string dt_json;
};

/// Build the sample (deterministic; a few milliseconds).
CocoSample builtin_coco_sample();

}  // namespace glamm::datasets
