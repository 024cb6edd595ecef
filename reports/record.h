// Reading Result records (reports/SCHEMA.md, schema_version 1) back for tables, comparisons and reports.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace glamm::reports {

/// One Result record as written by `glamm-eval <task> --json`, read back by glamm::Result::from_json (the same
/// type and code that wrote it), plus the file it came from.
struct RunRecord : Result {
  std::string path;  ///< file it was read from (for messages)

  /// Signature value for `key` ("" when absent).
  std::string signature_value(const std::string& key) const { return signature.value(key); }
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
