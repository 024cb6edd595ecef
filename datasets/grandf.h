// GranD-f GCG evaluation layout (GLaMM eval/gcg/evaluate.py): the caption GT, the mask GT (COCO instances with
// compressed RLE; loaded with datasets/coco_json), and a predictions folder with one `<image_id>.json` per image
// as GLaMM's eval/gcg/infer.py writes it. Spec: shared specs/mask-metrics.md §4.0, specs/dataset-formats.md.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "metrics/mask/segmentation.h"

namespace glamm::datasets::grandf {

/// One caption-GT annotation: `{id, image_id, caption, labels}`.
struct CaptionAnnotation {
  std::string id;        ///< annotation id as JSON text (int or string)
  std::string image_id;  ///< image id as text (GLaMM uses file-name strings)
  std::string caption;
  std::vector<std::string> labels;  ///< GT phrases; label i belongs to GT mask i (the official code assumes so)
};

/// `{split}_gcg_coco_caption_gt.json`.
struct CaptionGt {
  std::vector<std::string> image_ids;           ///< `images[].id` in file order (GLaMM's image list)
  std::vector<CaptionAnnotation> annotations;   ///< file order
  bool image_ids_are_strings = true;            ///< ids are JSON strings (else integers printed as text)
};

/// Read the caption GT. Throws InputError naming file and record for malformed JSON, missing `images`,
/// `annotations`, `id`, `image_id`, `caption` or `labels`, non-string labels, duplicate image ids, or an empty
/// image list.
CaptionGt load_caption_gt(const std::filesystem::path& path);

/// One prediction file's content.
struct Prediction {
  std::string image_id;  ///< the id the file is named after (the reference ignores an `image_id` field)
  std::string caption;
  std::vector<std::string> phrases;
  std::vector<mask::Segmentation> pred_masks;  ///< compressed (or uncompressed) RLE dicts, in file order
  bool nested = false;                         ///< the `{key: {...}}` form rather than the flat dict
};

/// Read `<dir>/<image_id>.json` in either form GLaMM's evaluate.py accepts: first try the value of the first key
/// (`{key: {caption, phrases, pred_masks}}`), then the flat dict `{image_id, caption, phrases, pred_masks}`.
/// Returns nullopt when the file does not exist. Throws InputError naming the file for malformed JSON, a missing
/// `caption` / `phrases` / `pred_masks` (the reference crashes with KeyError), non-string phrases, or masks that
/// are not RLE dicts with `size` and `counts`.
std::optional<Prediction> load_prediction(const std::filesystem::path& dir, const std::string& image_id);

}  // namespace glamm::datasets::grandf
