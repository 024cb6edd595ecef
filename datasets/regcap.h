// Caption-task samples shared by region captioning (RefCOCOg, Visual Genome) and image captioning (Flickr30k,
// NoCaps): the region-caption GT file as GLaMM's RegionCapDDP + COCOEvalCap read it, caption predictions (one file
// or GLaMM's per-rank result folder), and the coverage guard that pairs samples with predictions.
// Spec: dataset-formats.md §6 (region captioning), §8.4 (caption predictions), §9 (normalised records).
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/caption/coco_eval_cap.h"
#include "metrics/caption/image_id.h"

namespace glamm::datasets {

/// One captioned sample (§9 CaptionSample / RegionCapSample): an image (or one region of it) and its references.
struct CaptionSample {
  caption::ImageId image_id;
  std::string file_name;
  std::vector<std::string> references;  ///< file order; may be empty (an image without annotations)
  std::string domain;                   ///< NoCaps: in-domain / near-domain / out-domain; "" otherwise
  // region captioning only
  bool has_box = false;
  std::array<double, 4> bbox_xywh{};  ///< absolute pixels, as stored
  double height = 0, width = 0;
};

/// A region-caption GT file (finetune_refcocog_val_captions.json, VG test_caption.json, or an MDETR finetune file).
struct RegionCapGt {
  std::string file;
  std::string layout;  ///< "coco-captions" (caption on annotations) or "mdetr" (caption on images, §5.1)
  std::vector<CaptionSample> samples;  ///< images[] order
  std::size_t num_annotations = 0;
  std::size_t images_without_annotations = 0;  ///< no reference: cannot be scored (reported, left out)
  std::size_t images_without_paired_box = 0;   ///< no annotation whose id equals the image id (RegionCapDDP fails)
  std::size_t images_with_many_regions = 0;    ///< > 1 annotation: inferred once, scored against all captions
  std::size_t photos = 0;                      ///< distinct file_name values
  /// "one region per image entry" when every image has exactly one annotation, else "many regions per image entry".
  std::string regions_layout() const;
};

/// Parse a region-caption GT file (§6.2): images[] (id int or string, file_name, height, width — strings are cast),
/// annotations[] (id, image_id, bbox [x,y,w,h], caption). References of an image = captions of all its annotations
/// in file order (imgToAnns); its box = the annotation whose id equals the image id (anns[image_id]). An MDETR file
/// (§5.1: caption on the image entry, annotations without caption) is read too, the image caption being the
/// reference. Throws InputError naming file and record for malformed records and repeated image or annotation ids;
/// pairing anomalies are counted and described in `warnings`.
RegionCapGt parse_region_caption_gt(std::string_view json, const std::string& file_label,
                                    std::vector<std::string>& warnings);
RegionCapGt load_region_caption_gt(const std::filesystem::path& file, std::vector<std::string>& warnings);

/// One caption prediction (§8.4, §6.3) and where it came from.
struct CaptionPrediction {
  caption::ImageId image_id;
  std::string caption;
  std::string file;  ///< source file
  std::size_t index = 0;  ///< index in that file's list
};

/// Load predictions from one JSON list file, or from a folder: every *.json in it (name order) except merged.json,
/// other files ignored (GLaMM's evaluate.py reads them all, §6.3). Throws InputError naming the file and record.
std::vector<CaptionPrediction> load_caption_predictions(const std::filesystem::path& path,
                                                        std::vector<std::string>& files_read);

/// How samples without a prediction are handled (coverage guard, §6.3).
enum class Coverage {
  kComplete,      ///< a missing prediction is an error
  kAllowMissing,  ///< missing → empty caption, counted
  kOnlyPresent,   ///< the reference's behaviour: only samples with a prediction are scored
};

/// Result of pairing samples with predictions.
struct Pairing {
  caption::EvalCapInput input;           ///< evaluated samples in sample order
  std::vector<std::size_t> sample_index;  ///< input position → samples index
  std::vector<caption::ImageId> missing;  ///< samples without a prediction
  std::vector<caption::ImageId> outside;  ///< predictions for `other_ids` (ignored)
  std::vector<bool> predicted;            ///< per input position
};

/// Pair `samples` (only those with ≥ 1 reference take part) with `preds`. A prediction whose id is in `other_ids`
/// (e.g. another split of the same file) is ignored and listed in `outside`; any other unknown id is an error, as is
/// a duplicated id (naming both records). Missing predictions follow `coverage` (kComplete: InputError listing
/// them and the options). Throws InputError when nothing is left to score.
Pairing pair_predictions(const std::vector<CaptionSample>& samples, const std::vector<CaptionPrediction>& preds,
                         const std::vector<caption::ImageId>& other_ids, Coverage coverage,
                         const std::string& pred_label);

}  // namespace glamm::datasets
