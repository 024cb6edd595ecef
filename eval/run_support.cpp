#include "eval/run_support.h"

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/error.h"

namespace glamm::cli {

void check_record_writable(const std::string& path, const std::string& option) {
  namespace fs = std::filesystem;
  if (path.empty()) return;
  std::error_code ec;
  const fs::path p = fs::absolute(fs::path(path), ec).lexically_normal();
  if (fs::is_directory(p, ec)) throw InputError(path, option, "is a folder; give a file path for the record");
  fs::path dir = p.parent_path();
  while (!dir.empty() && !fs::exists(fs::symlink_status(dir, ec))) {
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  if (!fs::is_directory(dir, ec))
    throw InputError(path, option, "cannot write the record: " + dir.string() + " is not a folder");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(path, option, "cannot write the record: folder " + dir.string() + " is not writable");
}

int resolve_thread_count(int requested) {
  if (requested > 0) return requested;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}

std::string default_label_from_file(const std::string& pred_file) {
  const std::filesystem::path p = std::filesystem::path(pred_file).lexically_normal();
  const std::string stem = p.stem().string();
  if (stem == "predictions" || stem == "results" || stem.empty()) {
    const std::string folder = std::filesystem::absolute(p).parent_path().filename().string();
    if (!folder.empty()) return folder;
  }
  return stem.empty() ? "run" : stem;
}

std::string label_for_file_name(const std::string& label) {
  std::string s = label;
  for (char& c : s)
    if (c == '/' || c == '\\') c = '_';
  for (char& c : s) {
    if (c != '.') break;
    c = '_';
  }
  return s;
}

tasks::TaskProgress task_progress(Progress& progress) {
  tasks::TaskProgress p;
  p.start = [&progress](const std::string& m) { progress.start(m); };
  p.done = [&progress] { progress.done(); };
  p.note = [&progress](const std::string& m) { progress.note(m); };
  return p;
}

tasks::CaptionMeteor caption_meteor(const MeteorSetup& met, std::vector<std::string> warnings) {
  tasks::CaptionMeteor m;
  m.scorer = met.scorer.get();
  m.resources = met.resources;
  m.source = met.source;
  if (met.resources) sign_meteor(m.signature, met);
  m.warnings = std::move(warnings);
  return m;
}

}  // namespace glamm::cli
