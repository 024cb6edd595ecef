// REFER referring-expression datasets (RefCOCO, RefCOCO+, RefCOCOg): the refs(<splitBy>).p pickle, instances.json,
// split selection, GT masks per sentence, and the toolkit's refseg prediction file (JSON Lines).
// Reimplements the parts of the REFER API (lichengunc/refer refer.py: getRefIds/split rules, sentToRef) and of
// GLaMM's ReferSegmDataset (dataset/segm_datasets/RefCOCO_Segm_ds.py: annotation → frPyObjects → decode → sum) that
// evaluation reads. Spec: shared specs/dataset-formats.md §4.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/mask/rle.h"
#include "metrics/mask/segmentation.h"

namespace glamm::datasets::refer {

/// One referring expression (the evaluation unit).
struct Sentence {
  int64_t sent_id = 0;
  std::string sent;  ///< cleaned lower-cased text (what GLaMM feeds the model)
  std::string raw;   ///< original text ("" when absent)
};

/// One referred object of refs(<splitBy>).p.
struct Ref {
  int64_t ref_id = 0, ann_id = 0, image_id = 0, category_id = 0;
  std::string split;
  std::vector<Sentence> sentences;
};

/// The decoded refs pickle.
struct RefsFile {
  std::string file;
  std::vector<Ref> refs;             ///< file order
  std::size_t py2_strings = 0;       ///< string fields stored as Python-2 byte strings
  std::size_t latin1_strings = 0;    ///< byte strings that were not UTF-8 and were read as Latin-1
};

/// Parse refs(<splitBy>).p: a pickled list of ref dicts (§4.2) with ref_id, ann_id, image_id, split and sentences
/// [{sent_id, sent, raw?}] (category_id optional). Text may be unicode or Python-2 byte strings (decoded as UTF-8,
/// else Latin-1, counted). Throws InputError(file, "refs[i] (ref_id N)", ...) for a non-list top level, missing or
/// mistyped fields, a repeated ref_id or sent_id; InputError wrapping the PickleError for unsafe/broken pickles.
RefsFile parse_refs(std::string_view bytes, const std::string& file_label);
RefsFile load_refs(const std::filesystem::path& file);

/// One image of instances.json.
struct Image {
  int64_t id = 0;
  std::string file_name;
  uint32_t height = 0, width = 0;
};

/// One annotation of instances.json (the fields refseg reads).
struct Annotation {
  int64_t id = 0, image_id = 0;
  /// The segmentation: one Polygons entry holding every polygon part, or one entry per RLE dict; empty = all-zero
  /// mask.
  std::vector<mask::Segmentation> parts;
};

/// instances.json indexed by id (§4.3). Repeated image or annotation ids are an error.
struct Instances {
  std::string file;
  std::vector<Image> images;
  std::vector<Annotation> annotations;
  std::unordered_map<int64_t, std::size_t> image_index, ann_index;
};

/// Load instances.json (simdjson). Only images (id, file_name, height, width) and annotations (id, image_id,
/// segmentation) are read; height/width and segmentations follow datasets/segmentation_json.h (sides in
/// [0, 2^32-1], integers or numbers holding one, the same rules as every other reader). Throws InputError naming
/// the file and record.
Instances load_instances(const std::filesystem::path& file);
Instances parse_instances(std::string_view json, const std::string& file_label);

/// splitBy GLaMM uses for a dataset: "umd" for refcocog, "unc" otherwise (§4.1). Throws InputError for a dataset
/// other than refcoco, refcoco+, refcocog, refclef.
std::string default_split_by(const std::string& dataset);

/// The split names a (dataset, splitBy) pair publishes (§4.1), e.g. refcoco/unc → train, val, testA, testB.
/// Throws InputError when the pair does not exist (e.g. refcoco+/google, refcocog/unc).
std::vector<std::string> split_names(const std::string& dataset, const std::string& split_by);

/// REFER's getRefIds split rule (§4.5): train/val/testAB/testBC/testAC exact; testA/testB/testC: the last letter
/// occurs in ref.split; test: "test" occurs in ref.split.
bool split_selects(const std::string& requested, const std::string& ref_split);

/// One evaluated sentence with its GT (§9 RefSegSample).
struct Sample {
  int64_t sent_id = 0, ref_id = 0, ann_id = 0, image_id = 0;
  std::string sentence, raw;
  std::size_t image = 0;       ///< index into Instances::images
  std::size_t annotation = 0;  ///< index into Instances::annotations
};

/// The selected split: samples grouped by image (images in order of first appearance among the split's refs, each
/// image's sentences ref by ref in file order, as ReferSegmDataset builds an item).
struct Split {
  std::string dataset, split_by, split;
  std::vector<Sample> samples;
  std::vector<std::pair<std::size_t, std::size_t>> items;  ///< [begin, end) of samples per image
  std::size_t num_refs = 0;
  std::unordered_map<int64_t, std::size_t> sent_index;     ///< sent_id → samples index
};

/// Select `split` from the refs and link every ref to instances.json. Throws InputError when the split name does
/// not belong to (dataset, split_by) (listing the valid names), when the split is empty, or when a ref's ann_id or
/// image_id is missing from instances.json (naming the ref), or the annotation's image differs from the ref's.
Split select_split(const RefsFile& refs, const Instances& inst, const std::string& dataset,
                   const std::string& split_by, const std::string& split);

/// Image/ref/sentence counts of every split name present in the refs (for reports; the spec's failure report on
/// umd vs google counts). Entries: split → {images, refs, sentences}.
struct SplitCounts {
  std::size_t images = 0, refs = 0, sentences = 0;
};
std::vector<std::pair<std::string, SplitCounts>> count_splits(const RefsFile& refs);

/// How overlapping polygon parts combine in the GT mask (§4.4 step 3).
enum class GtOverlap {
  kUnion,  ///< toolkit default: pixel is 1 when any part covers it
  kSum,    ///< GLaMM: parts are summed (overlap = 2, which its 2-bin histogram leaves out of the GT area)
};

/// The GT mask of an annotation on its image: h*w bytes, column-major (pycocotools layout). Polygon parts are
/// rasterised with frPyObjects at the image size, RLE parts decoded at their own size (which must equal the
/// image's); values are 0/1 (union) or the per-pixel part count (sum, saturating at 254). Throws InputError
/// naming the file and annotation for undecodable segmentations, a size mismatch, an image_id absent from images[],
/// or an image of more than 2^32-1 pixels (a mask's counts are 32-bit).
std::vector<uint8_t> gt_mask(const Instances& inst, std::size_t annotation, GtOverlap overlap);

/// The union GT mask of an annotation as one RLE at the image size (the kUnion mask of gt_mask without decoding).
/// Same errors as gt_mask.
mask::Rle gt_rle(const Instances& inst, std::size_t annotation);

/// One record of the refseg prediction file (§4.7).
struct Prediction {
  int64_t sent_id = 0, ref_id = 0, image_id = 0;
  mask::Rle mask;
  std::string dataset, split_by, split;  ///< "" when absent
  std::size_t line = 0;                  ///< 1-based line (JSONL) or array index + 1
};

/// Read a refseg prediction file: JSON Lines (one object per line, blank lines skipped) or a JSON array of the
/// same objects. sent_id, ref_id, image_id (integers) and mask {size [h, w], counts: compressed string} are
/// required; the mask is read by datasets/segmentation_json.h (errors name "line N mask"), and list counts are
/// refused. Throws InputError naming the file and line for malformed records. Duplicates are not checked here.
std::vector<Prediction> load_predictions(const std::filesystem::path& file);
std::vector<Prediction> parse_predictions(std::string_view text, const std::string& file_label);

}  // namespace glamm::datasets::refer
