// Output records of the inference tasks, in the exact formats the evaluators (and GLaMM's own scripts) read:
//  * GCG: one `<image_id>.json` per image, the bytes eval/gcg/infer.py's json.dump writes
//    ({"image_id", "caption", "phrases", "pred_masks": [{"size": [H, W], "counts": "…"}]});
//  * region captioning: a JSON list [{"image_id", "caption"}] as eval/region_captioning/infer.py writes it
//    (indent=2), image_id with the GT's JSON type;
//  * referring segmentation: JSON Lines {dataset, split_by, split, sent_id, ref_id, image_id, mask, sentence}
//    (dataset-formats.md §4.7, read by `glamm-eval refseg`);
//  * image captioning: the COCO results list [{"image_id", "caption"}] (dataset-formats.md §8.4).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/glamm.h"
#include "runners/items.h"

namespace glamm::runners {

/// The GCG file content for one image: python_dumps of {"image_id": image_id, "caption": out.caption, "phrases":
/// out.phrases, "pred_masks": [{"size": [h, w], "counts": counts}, …]} (no trailing newline).
std::string gcg_output_text(const std::string& image_id, const model::GlammOutput& out);

/// {"image_id": image_id, "caption": caption} (region and image captioning records).
nlohmann::ordered_json caption_record(const nlohmann::ordered_json& image_id, const std::string& caption);

/// A referring-segmentation record for one sentence of `item` (§4.7 field order: dataset, split_by, split,
/// sent_id, ref_id, image_id, mask, sentence).
nlohmann::ordered_json refseg_record(const ItemList& list, const WorkItem& item, const RefSentence& s,
                                     const model::PredictedMask& mask);

/// The all-zero mask of an h × w image as compressed RLE (one run of h·w zeros).
model::PredictedMask empty_mask(int height, int width);

/// A caption list file: python_dumps(records, indent=2), byte-identical to GLaMM's region-caption result file.
std::string caption_list_text(const std::vector<nlohmann::ordered_json>& records);

/// JSON Lines: one compact JSON object per line, each line ending in "\n".
std::string jsonl_text(const std::vector<nlohmann::ordered_json>& records);

}  // namespace glamm::runners
