// Per-sample records of the caption-scoring commands (captions, regcap, imagecap), of `tokenize` and `meteor`, and
// the NoCaps submission entries (record schema: reports/SCHEMA.md). Every per-sample key string of these commands
// lives here and in sample_parts.cpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/regcap.h"
#include "eval/tasks/sample_parts.h"
#include "metrics/caption/coco_eval_cap.h"

namespace glamm::tasks {

/// An image id as the record writes it: a JSON string or integer.
nlohmann::json image_id_to_json(const caption::ImageId& id);
/// Read an image id back (string or integer); InputError(source, record, ...) for another JSON type.
caption::ImageId image_id_from_json(const nlohmann::json& j, const std::string& source, const std::string& record);

/// One scored image (captions) or sample (regcap: one region entry; imagecap: one image).
/// Keys: "image_id", "predicted" (regcap, imagecap), "domain" (imagecap NoCaps), the CaptionSampleScores keys and
/// "SPICE-style (Link Grammar parser)" and "spice_style_subsets" (when the SPICE-style score was computed).
struct CaptionSample {
  caption::ImageId image_id;
  std::optional<bool> predicted;    ///< false: no prediction, scored as an empty caption (--allow-missing)
  std::optional<std::string> domain;  ///< NoCaps domain
  CaptionSampleScores scores;
  std::optional<double> spice_style;  ///< the image's SPICE-style "All" F
  std::optional<SpiceSampleBreakdown> spice_style_subsets;  ///< its per-subset F and tp/fp/fn (key
                                                            ///< "spice_style_subsets"; absent in older records)

  nlohmann::json to_json() const;
  /// Throws InputError(source, "per_sample[<index>]", ...) for a missing or mistyped key.
  static CaptionSample from_json(const nlohmann::json& j, const std::string& source, std::size_t index);
  /// details.per_sample_fields of `captions`: what the sufficient statistics mean.
  static nlohmann::json field_notes();
};

/// The per-sample records of a paired, scored caption set (regcap, imagecap): image id, predicted flag and all
/// COCOEvalCap scores of each evaluated sample, in evaluation order.
std::vector<CaptionSample> paired_caption_samples(const caption::EvalCapResult& ev, const datasets::Pairing& pairing);

/// One caption of `tokenize --json`. Keys: "index", "raw" (tokenizer line before the filter), "tokenized".
struct TokenizeSample {
  std::size_t index = 0;
  std::string raw, tokenized;

  nlohmann::json to_json() const;
  static TokenizeSample from_json(const nlohmann::json& j, const std::string& source, std::size_t index);
  /// details.per_sample_fields: the key names in order.
  static nlohmann::json field_names();
};

/// One segment of `meteor --json`. Keys: "index", "meteor" (segment score), "stats" (METEOR 1.5's 23 statistics).
struct MeteorSample {
  std::size_t index = 0;
  double meteor = 0;
  std::vector<double> stats;

  nlohmann::json to_json() const;
  static MeteorSample from_json(const nlohmann::json& j, const std::string& source, std::size_t index);
  /// details.per_sample_fields: the key names in order.
  static nlohmann::json field_names();
};

/// One entry of the NoCaps test submission list (EvalAI): {"image_id": ..., "caption": "..."}.
struct NocapsSubmissionEntry {
  caption::ImageId image_id;
  std::string caption;

  nlohmann::json to_json() const;
};

}  // namespace glamm::tasks
