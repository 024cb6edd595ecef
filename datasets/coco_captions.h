// COCO caption files for COCOEvalCap: a ground-truth captions file (COCO format: images[] + annotations[] with
// image_id and caption) as pycocotools `COCO()` indexes it, a results list [{image_id, caption}] as `loadRes`
// reads it, and the pairing of the two in COCOEvalCap's image order. Specs: caption-metrics.md §2.
//
// Every bad input is a glamm::InputError naming the file, the record (e.g. "annotations[12] (image_id 7)") and the
// field. Parsed with simdjson.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/caption/coco_eval_cap.h"
#include "metrics/caption/image_id.h"

namespace glamm::datasets {

/// Ground-truth captions indexed like pycocotools COCO(): images in `images` order (a repeated id keeps its first
/// position, as the imgs dict does), each image's captions in annotation file order (imgToAnns).
struct CocoCaptionGt {
  std::string file;
  std::vector<caption::ImageId> images;
  std::vector<std::vector<std::string>> captions;   ///< captions[i]: GT captions of images[i] (may be empty)
  std::unordered_map<std::string, std::size_t> index;  ///< ImageId::key() → position in `images`
  std::size_t num_annotations = 0;                  ///< annotations read (including ones on unknown images)
};

/// One result record.
struct CocoCaptionResult {
  caption::ImageId image_id;
  std::string caption;
};

/// Load a COCO captions GT file. Root object; `images` (array of objects with `id`, an integer or a string) is
/// required, `annotations` (array of objects with `image_id` and a string `caption`) is required; other fields
/// are ignored. Annotations on ids absent from `images` are ignored with a warning (they are never evaluated);
/// repeated image ids give a warning. Throws InputError for unreadable files, malformed JSON, invalid UTF-8
/// (naming the record holding the bad bytes when it is a caption), missing or mistyped fields.
CocoCaptionGt load_coco_caption_gt(const std::filesystem::path& file, std::vector<std::string>& warnings);
/// The same from JSON text; `file_label` names the source in errors.
CocoCaptionGt parse_coco_caption_gt(std::string_view json, const std::string& file_label,
                                    std::vector<std::string>& warnings);

/// Load a caption results file: a non-empty JSON array of objects with `image_id` (integer or string) and a string
/// `caption` (other fields ignored), in file order. Throws InputError for an empty list, a non-array root,
/// missing/mistyped fields and invalid UTF-8 (naming the record).
std::vector<CocoCaptionResult> load_coco_caption_results(const std::filesystem::path& file);
/// The same from JSON text.
std::vector<CocoCaptionResult> parse_coco_caption_results(std::string_view json, const std::string& file_label);

/// COCOEvalCap's evaluation set after cocoRes = coco.loadRes(results) and params['image_id'] = cocoRes.getImgIds():
/// the GT images that have a result, in GT `images` order; refs = their GT captions; hyps = their result.
/// Throws InputError (naming `results_file` and the record) for a result whose image is not in the GT
/// (pycocotools asserts), two results for one image (COCOEvalCap's scorers assert one hypothesis per image), an
/// evaluated image without GT captions, or an empty result list.
caption::EvalCapInput pair_captions(const CocoCaptionGt& gt, const std::vector<CocoCaptionResult>& results,
                                    const std::string& results_file);

}  // namespace glamm::datasets
