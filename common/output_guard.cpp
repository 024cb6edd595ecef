#include "common/output_guard.h"

#include <sys/stat.h>

#include "common/error.h"

namespace glamm::io {
namespace fs = std::filesystem;
namespace {

bool same_file(const fs::path& a, const fs::path& b) {
  struct stat sa {}, sb {};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void OutputGuard::add_input(const fs::path& path, const std::string& role) {
  if (!path.empty()) inputs_.push_back({path, role, false, nullptr});
}

void OutputGuard::add_input_folder(const fs::path& dir, const std::string& role,
                                   std::function<bool(const std::string&)> reads) {
  if (dir.empty()) return;
  if (!reads) reads = [](const std::string& name) { return ends_with(name, ".json"); };
  inputs_.push_back({dir, role, true, std::move(reads)});
}

void OutputGuard::check_output(const fs::path& path, const std::string& option) const {
  if (path.empty()) return;
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string name = path.filename().string();
  for (const Input& in : inputs_) {
    if (!in.folder) {
      if (exists && same_file(path, in.path))
        throw InputError(path.string(), option,
                         "this output is the input " + in.role + " (" + in.path.string() +
                             "): writing it would destroy the input; choose another output path");
      continue;
    }
    if (exists && fs::is_directory(path, ec) && same_file(path, in.path))
      throw InputError(path.string(), option, "this output is the input folder " + in.role + "; choose a file path");
    if (same_file(parent, in.path) && in.reads(name))
      throw InputError(path.string(), option,
                       "this output would land in the input folder " + in.role + " (" + in.path.string() +
                           ") as a file that folder is read for; choose another output path");
  }
}

}  // namespace glamm::io
