// The one record type that flows from eval/ to reports/: a run's metric values, how they were made (Signature),
// per-sample detail for resampling, and the inputs' checksums. Written (to_json) and read back (from_json) by the
// same code here; schema documented in reports/SCHEMA.md. The per-sample entries are typed by the task layer's
// schemas (eval/tasks/*_schema.h).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace glamm {

/// How a number was made: an ordered list of key=value facts (tokenizer mode, resources and checksums,
/// strict on/off, quirks switched, tool version). Two numbers are comparable when their signatures are equal.
struct Signature {
  std::vector<std::pair<std::string, std::string>> fields;

  void set(const std::string& key, const std::string& value);
  /// "key1:value1|key2:value2|..." in insertion order (sacrebleu style).
  std::string str() const;
  nlohmann::json to_json() const;
  /// Value for `key` ("" when absent).
  std::string value(const std::string& key) const;
};

/// Signature value of key "data" for a record made from glamm-eval's built-in synthetic sample (`gcg --sample`,
/// `coco --sample`): tables, comparisons and reports mark such a record (reports/record.h RunRecord::synthetic).
inline constexpr const char* kSyntheticSampleData = "synthetic (built-in sample)";

/// One run of one task on one dataset split.
struct Result {
  static constexpr int kSchemaVersion = 1;

  std::string task;     ///< e.g. "coco", "captions", "gcg"
  std::string dataset;  ///< e.g. "coco", "grandf"
  std::string split;    ///< e.g. "val", "test", or "" when not applicable
  std::string label;    ///< model/checkpoint label (--label)
  std::vector<std::pair<std::string, double>> metrics;  ///< metric name -> value, in print order
  Signature signature;
  std::map<std::string, std::string> inputs;  ///< role -> "path" ; checksums go to input_sha256
  std::map<std::string, std::string> input_sha256;
  std::vector<std::string> warnings;
  nlohmann::json details = nlohmann::json::object();     ///< task-specific extras (e.g. COCOeval stats array)
  nlohmann::json per_sample = nlohmann::json::array();   ///< per-image/sentence records (eval/tasks/*_schema.h)
  std::string written_by;  ///< read back: the record's tool_version ("" for a record not yet written)
  std::string timestamp;   ///< read back: when it was written (ISO-8601 UTC; "" for a record not yet written)

  /// Value of metric `name` in `value`; false when the record has no such metric.
  bool metric(const std::string& name, double& value) const;

  /// Record an input file (path and SHA-256). Throws InputError when the file cannot be read.
  void add_input(const std::string& role, const std::filesystem::path& path);

  /// The JSON record (with schema_version, tool_version and an ISO-8601 UTC timestamp). Objects are written with
  /// sorted keys; the order of metrics and signature entries is kept in metric_order and signature_string.
  nlohmann::json to_json() const&;
  /// The same, moving `details` and `per_sample` into the JSON instead of copying them (they are left empty).
  nlohmann::json to_json() &&;

  /// Read a record written by to_json(), checked: throws InputError naming `source` when `j` is not an object, has a
  /// schema_version other than kSchemaVersion (or none), or lacks / mistypes a required field (task, split, label,
  /// metrics, signature, per_sample). Metrics come back in metric_order (a null value as NaN), the signature in
  /// signature_string's order.
  static Result from_json(const nlohmann::json& j, const std::string& source);
};

/// Write the record atomically to `path` (parent folders created).
void write_result(const std::filesystem::path& path, const Result& r);
/// The same, moving the record's per-sample part into the JSON written (no copy); returns that JSON.
nlohmann::json write_result(const std::filesystem::path& path, Result&& r);

/// Tool version string, e.g. "glamm-eval 0.1.0".
std::string tool_version();

}  // namespace glamm
