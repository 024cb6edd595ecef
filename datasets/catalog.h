// What GLaMM's ./data layout should hold for each evaluation (dataset-formats.md §2), and which of it exists
// under a data root. Used by `glamm-eval datasets`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace glamm::datasets::catalog {

/// One expected file or folder.
struct Entry {
  std::string task;     ///< refseg, regcap, gcg, captions, imagecap, train
  std::string dataset;  ///< e.g. refcoco, vg, grandf
  std::string path;     ///< relative to the data root
  bool is_dir = false;
  std::string alternative;  ///< another path the official code uses instead ("" when none)
  std::string note;         ///< provenance ([code], [ours], ...)
};

/// The evaluation-relevant entries of GLaMM's data layout, in task order.
const std::vector<Entry>& entries();

/// An entry's state under a root.
struct Status {
  Entry entry;
  bool found = false;
  std::string found_path;  ///< the path that exists (the documented one or the alternative)
};

/// Check every entry under `root` (files must be regular files, folders folders). Never throws for missing paths.
std::vector<Status> scan(const std::filesystem::path& root);

}  // namespace glamm::datasets::catalog
