// COCO JSON loaders for COCOeval: an instances (ground-truth) file as pycocotools 2.0.6 `COCO()` indexes it, and a
// results list as `COCO.loadRes()` turns it into annotations. Parsed with simdjson; segmentations are read by
// datasets/segmentation_json.h (the size/count rules every reader shares, docs/input-rules.md) and converted by
// metrics/mask/segmentation.h `to_rle` (annToRLE). Specs: mask-metrics.md §3.1, §3.3, §3.9;
// dataset-formats.md §1, §3.
//
// Every bad input is a glamm::InputError naming the file, the record (e.g. "annotations[12] (id 7)") and the field.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/mask/cocoeval.h"

namespace glamm::datasets {

struct CocoLoadOptions {
  mask::IouType iou_type = mask::IouType::kSegm;  ///< segm: decode segmentations; bbox: read boxes only
  /// --strict, mask-metrics.md §5 item 8: with iouType segm, results that carry a segmentation take loadRes'
  /// segm branch (area = mask pixel count) even when the first result also has a non-empty bbox.
  bool strict = false;
  int threads = 1;  ///< workers for segmentation decoding (results do not depend on it)
  /// loadRes' toBbox for segm results without a bbox. COCOeval segm never reads result boxes, so a caller that
  /// only evaluates segm may switch it off (saves one pass over every mask); bbox evaluation always needs it.
  bool result_boxes = true;
};

/// Load a COCO instances file (reimplements the parts of pycocotools 2.0.6 `COCO.__init__`/`createIndex` and
/// `annToRLE` that COCOeval reads).
/// - images[]: `id` (int or string; all of one type) required; `height`/`width` required only to rasterise
///   polygons (each an integer, or a number holding one, in [0, 2^32-1], as an RLE `size`). A repeated image id
///   keeps one entry (size from the last, as the imgs dict does) + a warning.
/// - categories[]: `id` (int). annotations[]: `id` (int), `image_id`, `category_id` (int), `area` (number, taken
///   as is: never recomputed), `iscrowd` (0/1 or bool; ignore := iscrowd) required; `segmentation` (polygons,
///   uncompressed or compressed RLE) required for segm; `bbox` [x,y,w,h] required for bbox.
/// - An annotation on an image absent from images[] is dropped with a warning (pycocotools never evaluates it).
/// - Repeated annotation ids: warning, and CocoGroundTruth::load_index reproduces loadAnns' last-one-wins.
/// Throws InputError for unreadable files, malformed JSON, missing/mistyped fields and undecodable masks.
mask::CocoGroundTruth load_coco_gt(const std::filesystem::path& file, const CocoLoadOptions& opt,
                                   std::vector<std::string>& warnings);

/// The same from JSON text; `file_label` names the source in errors.
mask::CocoGroundTruth parse_coco_gt(std::string_view json, const std::string& file_label,
                                    const CocoLoadOptions& opt, std::vector<std::string>& warnings);

/// Load a results list (reimplements pycocotools 2.0.6 `COCO.loadRes` for bbox/segm results).
/// - The root must be an array. Empty: returns no results and adds a warning (2.0.6 raises IndexError;
///   mask-metrics.md §3.9 defines the outcome).
/// - The branch is chosen from the FIRST result only: non-empty `bbox` → bbox branch (area = w*h, and for segm a
///   box polygon when `segmentation` is missing), otherwise `segmentation` → segm branch (area = RLE pixel count,
///   bbox = toBbox when absent). With opt.strict and iouType segm, a first result with a segmentation takes the
///   segm branch.
/// - ids are list index + 1, iscrowd 0. `image_id` (must be a GT image: 2.0.6 asserts), `category_id`,
///   `score` are required.
/// - Polygon or uncompressed segmentations in the segm branch are accepted (2.0.6 only takes compressed RLE
///   there and fails with TypeError) with a warning; their area is the pixel count of annToRLE.
mask::CocoDetections load_coco_results(const std::filesystem::path& file, const mask::CocoGroundTruth& gt,
                                       const CocoLoadOptions& opt, std::vector<std::string>& warnings);

/// The same from JSON text.
mask::CocoDetections parse_coco_results(std::string_view json, const std::string& file_label,
                                        const mask::CocoGroundTruth& gt, const CocoLoadOptions& opt,
                                        std::vector<std::string>& warnings);

/// Both files of one evaluation, as load_coco_gt(gt_file) then load_coco_results(dt_file, gt) would load them
/// (same records, warnings and errors: a problem in the GT file is reported first). With opt.threads > 1 the
/// results file is read and its JSON parsed on a second thread while the GT loads; the records that need the GT's
/// images are built after it. Throws as the two functions do.
std::pair<mask::CocoGroundTruth, mask::CocoDetections> load_coco_files(const std::filesystem::path& gt_file,
                                                                       const std::filesystem::path& dt_file,
                                                                       const CocoLoadOptions& opt,
                                                                       std::vector<std::string>& warnings);

/// Parse an image id given on the command line with the type of the GT's ids (integer when the GT uses
/// integers, string otherwise). Throws InputError for a non-integer when integers are expected.
mask::ImageId parse_image_id_like(const std::string& text, const mask::CocoGroundTruth& gt);

}  // namespace glamm::datasets
