// The built-in GranD-f GCG sample: a tiny deterministic synthetic set in the exact GranD-f evaluation layout
// (caption GT, mask GT with compressed RLE, one prediction JSON per image, a phrase-similarity table), generated in
// code so that `glamm-eval gcg --sample` shows a whole run on a fresh machine with no data and no BERT weights.
// Not a reference: its numbers are whatever the evaluation gives on it (tests pin them).
#pragma once

#include <filesystem>

namespace glamm::datasets::grandf {

/// Write the sample into `dir` (created if needed): val_gcg_coco_caption_gt.json, val_gcg_coco_mask_gt.json,
/// predictions/<id>.json, val_text_similarity.tsv and images/<id>.bmp (the GT file_name; a drawn scene with each GT
/// object as a coloured rectangle, for the report's overlays). Six 48×64 images with string ids in non-sorted order, two to
/// four GT masks each; predictions include an exact mask, shifted masks, a missed object, a false positive, an image
/// with more masks than phrases and one with an empty caption. Same bytes on every run. Throws InputError when the
/// folder cannot be written.
void write_grandf_sample(const std::filesystem::path& dir);

}  // namespace glamm::datasets::grandf
