// What `glamm-eval resources` reports: each resource the tool can use, where it was found and how it checks out.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace glamm::cli {

/// One resource: what it is for, where it was found (or not), through which search step, how it compares with the
/// reference copy, and what the user can do when it is missing.
struct ResourceEntry {
  std::string name;      ///< e.g. "METEOR tables"
  std::string purpose;   ///< which metric or command uses it
  bool found = false;
  bool required = false; ///< false: optional (the commands say what they skip without it)
  std::string location;  ///< path ("" when not found)
  std::string source;    ///< the search step that found it (flag, environment variable, next to the binary, ...)
  std::string check;     ///< verification result (e.g. "identical to METEOR 1.5's files (SHA-256)")
  std::string hint;      ///< how to get it when missing (or how to get the official copy)

  nlohmann::ordered_json to_json() const;
};

/// Probe every resource. `meteor_resources`, `meteor_paraphrase`, `bert` are what a task command would be given
/// (empty: the default search). Never throws InputError for a missing resource: it is reported in the entry.
std::vector<ResourceEntry> probe_resources(const std::string& meteor_resources, const std::string& meteor_paraphrase,
                                           const std::string& bert);

}  // namespace glamm::cli
