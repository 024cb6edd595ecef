// The per-sample record of `refseg` (record schema: reports/SCHEMA.md): one referring expression of the evaluated
// split with its intersection/union counts and IoU. The only place that spells its JSON keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace glamm::tasks {

/// One scored sentence. Keys: sent_id, ref_id, image_id, item, intersection, union, iou, predicted.
struct RefsegSample {
  int64_t sent_id = 0, ref_id = 0, image_id = 0;
  std::size_t item = 0;       ///< index of the image item; gIoU/cIoU accumulate per item in this order
  int64_t intersection = 0;   ///< foreground pixels in both masks
  int64_t union_ = 0;         ///< area_pred + area_gt - intersection
  double iou = 0;             ///< per-target IoU as the reference computes it (float32 with eps, or exact)
  bool predicted = false;     ///< false: no prediction, scored as an empty mask (--allow-missing)

  nlohmann::json to_json() const;
  /// Read a sample back from a record. Throws InputError(source, "per_sample[<index>]", ...) when a key is missing
  /// or has the wrong type.
  static RefsegSample from_json(const nlohmann::json& j, const std::string& source, std::size_t index);
  /// What the count fields mean, for the record's details.per_sample_fields (key → description).
  static nlohmann::json field_descriptions();
};

}  // namespace glamm::tasks
