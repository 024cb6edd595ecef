// Identity of an inference folder. See identity.h.
#include "runners/identity.h"

#include <algorithm>
#include <system_error>

#include "common/error.h"
#include "common/io.h"

namespace glamm::runners {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

ordered_json optional_sha256(const fs::path& file) {
  std::error_code ec;
  if (file.empty() || !fs::is_regular_file(file, ec)) return nullptr;
  return io::sha256_file(file);
}

std::string absolute_text(const fs::path& p) {
  if (p.empty()) return "";
  std::error_code ec;
  const fs::path a = fs::absolute(p, ec);
  return (ec ? p : a).lexically_normal().string();
}

std::vector<std::string> identity_differences(const ordered_json& recorded, const ordered_json& now) {
  std::vector<std::string> d;
  auto text = [](const ordered_json& o, const std::string& k) { return o.contains(k) ? o[k].dump() : std::string("(none)"); };
  for (const auto& [k, v] : now.items())
    if (!recorded.contains(k) || recorded[k] != v) d.push_back(k + ": recorded " + text(recorded, k) + ", now " + v.dump());
  for (const auto& [k, v] : recorded.items())
    if (!now.contains(k)) d.push_back(k + ": recorded " + v.dump() + ", now (none)");
  return d;
}

std::vector<fs::path> manifest_files(const fs::path& out) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(out, ec)) return files;
  for (const auto& e : fs::directory_iterator(out, ec)) {
    const std::string name = e.path().filename().string();
    const bool shard = name.rfind("manifest.shard-", 0) == 0 && name.size() > 5 && name.substr(name.size() - 5) == ".json";
    if ((name == "manifest.json" || shard) && e.is_regular_file(ec)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void check_identity(const fs::path& out, const ordered_json& identity) {
  for (const fs::path& m : manifest_files(out)) {
    ordered_json j;
    try {
      const std::string text = io::read_file(m);
      io::check_json_depth(text, m.string());
      j = ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(m.string(), "", std::string("manifest does not parse (delete it if the folder is yours): ") + e.what());
    }
    if (!j.is_object() || !j.contains("identity") || !j["identity"].is_object()) continue;
    const std::vector<std::string> diff = identity_differences(j["identity"], identity);
    if (diff.empty()) continue;
    std::string msg = "the outputs in this folder were made by another model or with other options; differing:";
    for (const std::string& d : diff) msg += "\n  " + d;
    msg += "\nresuming would mix two setups in one prediction set: use a new --out folder (if the outputs are known "
           "to be equivalent, e.g. the checkpoint folder only moved, delete " + (out / "manifest*.json").string() +
           " first)";
    throw InputError(m.string(), "", msg);
  }
}

}  // namespace glamm::runners
