#include "common/result.h"

#include <chrono>
#include <ctime>

#include "common/io.h"

#include <algorithm>
#include <limits>

#include "common/error.h"

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

std::string Signature::value(const std::string& key) const {
  for (const auto& [k, v] : fields)
    if (k == key) return v;
  return "";
}

bool Result::metric(const std::string& name, double& value) const {
  for (const auto& [k, v] : metrics)
    if (k == name) {
      value = v;
      return true;
    }
  return false;
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

namespace {
/// The record's JSON with `details` and `per_sample` given (copied or moved by the caller).
nlohmann::json record_json(const Result& r, nlohmann::json details, nlohmann::json per_sample) {
  nlohmann::json j;
  j["schema_version"] = Result::kSchemaVersion;
  j["task"] = r.task;
  j["dataset"] = r.dataset;
  j["split"] = r.split;
  j["label"] = r.label;
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [k, v] : r.metrics) m[k] = v;
  j["metrics"] = m;
  j["metric_order"] = nlohmann::json::array();
  for (const auto& kv : r.metrics) j["metric_order"].push_back(kv.first);
  j["signature"] = r.signature.to_json();
  j["signature_string"] = r.signature.str();
  j["inputs"] = r.inputs;
  j["input_sha256"] = r.input_sha256;
  j["warnings"] = r.warnings;
  j["details"] = std::move(details);
  j["per_sample"] = std::move(per_sample);
  j["tool_version"] = tool_version();
  j["timestamp"] = utc_timestamp();
  return j;
}
}  // namespace

nlohmann::json Result::to_json() const& { return record_json(*this, details, per_sample); }

nlohmann::json Result::to_json() && {
  nlohmann::json d = std::move(details), ps = std::move(per_sample);
  details = nlohmann::json::object();
  per_sample = nlohmann::json::array();
  return record_json(*this, std::move(d), std::move(ps));
}

namespace {

using nlohmann::json;

const json& field(const json& j, const char* key, json::value_t type, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end()) throw InputError(source, "", std::string("not a glamm-eval results record: no '") + key + "' field");
  const bool ok = it->type() == type || (type == json::value_t::number_float && it->is_number());
  if (!ok) throw InputError(source, key, std::string("has the wrong type (") + it->type_name() + ")");
  return *it;
}

std::map<std::string, std::string> string_map(const json& j, const char* key) {
  std::map<std::string, std::string> out;
  if (auto it = j.find(key); it != j.end() && it->is_object())
    for (auto e = it->begin(); e != it->end(); ++e)
      if (e->is_string()) out[e.key()] = e->get<std::string>();
  return out;
}

}  // namespace

Result Result::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw InputError(source, "", "not a glamm-eval results record (not a JSON object)");
  auto v = j.find("schema_version");
  if (v == j.end())
    throw InputError(source, "", "not a glamm-eval results record: no 'schema_version' (see reports/SCHEMA.md)");
  if (!v->is_number_integer() || v->get<long long>() != kSchemaVersion)
    throw InputError(source, "schema_version",
                     "record has schema version " + v->dump() + "; this glamm-eval reads version " +
                         std::to_string(kSchemaVersion) + " only (re-run the evaluation with this version)");
  Result r;
  r.task = field(j, "task", json::value_t::string, source).get<std::string>();
  if (r.task.empty()) throw InputError(source, "task", "is empty");
  r.split = field(j, "split", json::value_t::string, source).get<std::string>();
  r.label = field(j, "label", json::value_t::string, source).get<std::string>();
  if (auto d = j.find("dataset"); d != j.end() && d->is_string()) r.dataset = d->get<std::string>();
  const json& m = field(j, "metrics", json::value_t::object, source);
  std::vector<std::string> order;
  if (auto o = j.find("metric_order"); o != j.end() && o->is_array())
    for (const auto& e : *o)
      if (e.is_string()) order.push_back(e.get<std::string>());
  for (auto it = m.begin(); it != m.end(); ++it)
    if (std::find(order.begin(), order.end(), it.key()) == order.end()) order.push_back(it.key());
  for (const auto& name : order) {
    auto it = m.find(name);
    if (it == m.end()) continue;
    if (it->is_null()) {
      r.metrics.emplace_back(name, std::numeric_limits<double>::quiet_NaN());
    } else if (it->is_number()) {
      r.metrics.emplace_back(name, it->get<double>());
    } else {
      throw InputError(source, "metrics." + name, "is not a number");
    }
  }
  const json& sig = field(j, "signature", json::value_t::object, source);
  for (auto it = sig.begin(); it != sig.end(); ++it)
    r.signature.fields.emplace_back(it.key(), it->is_string() ? it->get<std::string>() : it->dump());
  // JSON objects come back in key order; signature_string keeps the writer's order (its keys are looked up in the
  // signature object, so a value containing '|' or ':' cannot confuse the split).
  if (auto s = j.find("signature_string"); s != j.end() && s->is_string()) {
    const std::string& ss = s->get_ref<const std::string&>();
    std::vector<std::pair<std::string, std::string>> ordered;
    for (std::size_t pos = 0; !ss.empty() && pos <= ss.size();) {
      const std::size_t bar = ss.find('|', pos);
      const std::string item = ss.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos);
      const std::string key = item.substr(0, item.find(':'));
      const bool seen = std::any_of(ordered.begin(), ordered.end(), [&](const auto& kv) { return kv.first == key; });
      if (!seen)
        for (const auto& kv : r.signature.fields)
          if (kv.first == key) ordered.push_back(kv);
      if (bar == std::string::npos) break;
      pos = bar + 1;
    }
    if (ordered.size() == r.signature.fields.size()) r.signature.fields = std::move(ordered);
  }
  r.per_sample = field(j, "per_sample", json::value_t::array, source);
  r.inputs = string_map(j, "inputs");
  r.input_sha256 = string_map(j, "input_sha256");
  if (auto w = j.find("warnings"); w != j.end() && w->is_array())
    for (const auto& e : *w)
      if (e.is_string()) r.warnings.push_back(e.get<std::string>());
  if (auto d = j.find("details"); d != j.end() && d->is_object()) r.details = *d;
  if (auto t = j.find("tool_version"); t != j.end() && t->is_string()) r.written_by = t->get<std::string>();
  if (auto t = j.find("timestamp"); t != j.end() && t->is_string()) r.timestamp = t->get<std::string>();
  return r;
}

void write_result(const std::filesystem::path& path, const Result& r) { io::save_json(path, r.to_json()); }

nlohmann::json write_result(const std::filesystem::path& path, Result&& r) {
  nlohmann::json j = std::move(r).to_json();
  io::save_json(path, j);
  return j;
}

}  // namespace glamm
