// GranD-f GCG evaluation layout (GLaMM eval/gcg/evaluate.py): the caption GT, the mask GT (COCO instances with
// compressed RLE; loaded with datasets/coco_json), and a predictions folder with one `<image_id>.json` per image
// as GLaMM's eval/gcg/infer.py writes it. Spec: shared specs/mask-metrics.md §4.0, specs/dataset-formats.md.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
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
  std::string file;      ///< the file it was read from ("" for an empty prediction standing in for a missing file)
  std::string caption;
  std::vector<std::string> phrases;
  std::vector<mask::Segmentation> pred_masks;  ///< compressed (or uncompressed) RLE dicts, in file order
  bool nested = false;                         ///< the `{key: {...}}` form rather than the flat dict
};

/// Read `<dir>/<image_id>.json` in either form GLaMM's evaluate.py accepts: first try the value of the first key
/// (`{key: {caption, phrases, pred_masks}}`), then the flat dict `{image_id, caption, phrases, pred_masks}`.
/// Returns nullopt when the file does not exist. Throws InputError naming the file for malformed JSON, a missing
/// `caption` / `phrases` / `pred_masks` (the reference crashes with KeyError), non-string phrases, masks that
/// are not RLE dicts with `size` and `counts`, or a second nested record (an object with `caption`) under another
/// key besides the first (ambiguous; evaluate.py would silently take the first).
/// Every mask is read by datasets/segmentation_json.h (`read_rle`: the size and count rules all readers share) and
/// kept undecoded; pred_mask_rles decodes them. This is the one GCG prediction reader: gcg and the HTML report's
/// overlays both read through it.
std::optional<Prediction> load_prediction(const std::filesystem::path& dir, const std::string& image_id);

/// load_prediction for the file `path` itself (e.g. a record's per_sample.prediction_file), keyed by `image_id`;
/// nullopt when the file does not exist. Same format and errors.
std::optional<Prediction> load_prediction_file(const std::filesystem::path& path, const std::string& image_id);

/// The predicted masks of `p` as RLEs, each at its own size (compressed strings decoded with mask::from_string,
/// uncompressed counts checked to sum to h*w, as mask::to_rle does). Throws InputError naming p.file and
/// "pred_masks[k]" for a mask that cannot be decoded.
std::vector<mask::Rle> pred_mask_rles(const Prediction& p);

/// One mask-GT annotation as GLaMM's mIoU and recall read it (they scan `coco_gt.anns` by image id, any category,
/// crowd included, and call maskUtils.decode on the segmentation, which accepts compressed RLE only).
struct MaskGtAnnotation {
  std::string image_id;     ///< as text
  int64_t category_id = 0;
  bool iscrowd = false;
  std::optional<mask::Rle> rle;  ///< decoded compressed RLE; nullopt when the segmentation is not compressed RLE
  std::string form;              ///< "compressed", "polygons", "uncompressed" or "missing"
};

/// Read `annotations` of `{split}_gcg_coco_mask_gt.json` in file order for the GCG mIoU/recall (COCOeval reads the
/// same file through datasets/coco_json). RLE segmentations are read by datasets/segmentation_json.h (the limits
/// every reader shares); polygons are not read (form "polygons"). Throws InputError naming file and record for
/// malformed JSON, missing `image_id`, an RLE object that breaks the shared rules, or an undecodable compressed RLE.
std::vector<MaskGtAnnotation> load_mask_gt_annotations(const std::filesystem::path& path);

/// A mask-GT file as the HTML report's overlays read it: the annotations of load_mask_gt_annotations plus each
/// image's `file_name`.
struct MaskGt {
  std::vector<MaskGtAnnotation> annotations;                 ///< file order
  std::unordered_map<std::string, std::string> file_names;   ///< image id (as text) → images[].file_name
};

/// load_mask_gt_annotations, plus `images[]` {id, file_name} (an entry without a string/integer id or a string
/// file_name is left out). Same errors.
MaskGt load_mask_gt(const std::filesystem::path& path);

/// The `--text-sim` table standing in for BERT cosine similarity: lines `gt_label<TAB>pred_label<TAB>similarity`;
/// a first line whose third field is not a number is a header; a pair not listed counts 0.0.
struct SimilarityTable {
  std::unordered_map<std::string, double> values;  ///< key gt_label + '\t' + pred_label
  double lookup(const std::string& gt_label, const std::string& pred_label) const;
};

/// Read a similarity table. Throws InputError naming the file for a folder, an unreadable or empty file and a file
/// without data rows (header only), and naming file and line for a line without three tab-separated fields, a
/// non-numeric (other than the header) or non-finite (inf, nan, 1e400) similarity, and a pair listed twice with
/// different values (an identical repeat is accepted).
SimilarityTable load_similarity_table(const std::filesystem::path& path);

}  // namespace glamm::datasets::grandf
