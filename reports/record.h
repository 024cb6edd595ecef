// Reading Result records (reports/SCHEMA.md, schema_version 1) back for tables, comparisons and reports.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace glamm::reports {

/// One Result record as written by `glamm-eval <task> --json`, checked on load.
struct RunRecord {
  std::string path;   ///< file it was read from (for messages)
  std::string task, dataset, split, label;
  std::vector<std::pair<std::string, double>> metrics;      ///< name → value in metric_order (NaN for null)
  std::vector<std::pair<std::string, std::string>> signature;  ///< key → value, in the record's key order
  std::string signature_string;
  std::string tool_version;
  nlohmann::json doc;  ///< the whole record (details, per_sample, inputs, …)

  /// Value of metric `name`; false when the record has no such metric.
  bool metric(const std::string& name, double& value) const;
  /// Signature value for `key` ("" when absent).
  std::string signature_value(const std::string& key) const;
  /// The per-sample array (possibly empty).
  const nlohmann::json& per_sample() const;
  /// True when the record was made from glamm-eval's built-in synthetic sample: its signature's "data" value starts
  /// with "synthetic" (common/result.h kSyntheticSampleData). Tables, compare and report mark such records.
  bool synthetic() const;
};

/// Parse and validate one record. Throws InputError naming `path` when the file cannot be read, is not JSON
/// (e.g. truncated), is not an object, has a schema_version other than 1 (or none), or lacks / mistypes a
/// required field (task, split, label, metrics, signature, per_sample).
RunRecord load_record(const std::filesystem::path& path);

/// Same from JSON already in memory (`source` names it in errors).
RunRecord record_from_json(const nlohmann::json& j, const std::string& source);

/// The "metric variant" part of a signature: every key except `split`, with file locations removed
/// (a value such as "table:/x/y.tsv" becomes "table", keys whose value is a bare absolute path are dropped) —
/// paths differ between machines, checksums and modes do not. Two runs may share a table column or be compared
/// only when their variants are equal. Returned as "key:value|…" in the record's key order.
std::string metric_variant(const RunRecord& r);

/// Throws InputError when the records are not all of one task (names both files and tasks).
void require_same_task(const std::vector<RunRecord>& runs);

}  // namespace glamm::reports
