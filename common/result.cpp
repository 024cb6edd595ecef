#include "common/result.h"

#include <chrono>
#include <ctime>

#include "common/io.h"

namespace glamm {

void Signature::set(const std::string& key, const std::string& value) {
  for (auto& kv : fields) {
    if (kv.first == key) {
      kv.second = value;
      return;
    }
  }
  fields.emplace_back(key, value);
}

std::string Signature::str() const {
  std::string s;
  for (const auto& [k, v] : fields) {
    if (!s.empty()) s += '|';
    s += k + ':' + v;
  }
  return s;
}

nlohmann::json Signature::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : fields) j[k] = v;
  return j;
}

void Result::add_input(const std::string& role, const std::filesystem::path& path) {
  inputs[role] = path.string();
  input_sha256[role] = io::sha256_file(path);
}

std::string tool_version() { return std::string("glamm-eval ") + GLAMM_VERSION; }

namespace {
std::string utc_timestamp() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

nlohmann::json Result::to_json() const {
  nlohmann::json j;
  j["schema_version"] = kSchemaVersion;
  j["task"] = task;
  j["dataset"] = dataset;
  j["split"] = split;
  j["label"] = label;
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [k, v] : metrics) m[k] = v;
  j["metrics"] = m;
  j["metric_order"] = nlohmann::json::array();
  for (const auto& kv : metrics) j["metric_order"].push_back(kv.first);
  j["signature"] = signature.to_json();
  j["signature_string"] = signature.str();
  j["inputs"] = inputs;
  j["input_sha256"] = input_sha256;
  j["warnings"] = warnings;
  j["details"] = details;
  j["per_sample"] = per_sample;
  j["tool_version"] = tool_version();
  j["timestamp"] = utc_timestamp();
  return j;
}

void write_result(const std::filesystem::path& path, const Result& r) { io::save_json(path, r.to_json()); }

}  // namespace glamm
