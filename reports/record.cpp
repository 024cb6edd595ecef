#include "reports/record.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/io.h"
#include "common/result.h"

namespace glamm::reports {

using nlohmann::json;

bool RunRecord::metric(const std::string& name, double& value) const {
  for (const auto& [k, v] : metrics)
    if (k == name) {
      value = v;
      return true;
    }
  return false;
}

std::string RunRecord::signature_value(const std::string& key) const {
  for (const auto& [k, v] : signature)
    if (k == key) return v;
  return "";
}

const json& RunRecord::per_sample() const {
  static const json empty = json::array();
  auto it = doc.find("per_sample");
  return it == doc.end() ? empty : *it;
}

bool RunRecord::synthetic() const { return signature_value("data").rfind("synthetic", 0) == 0; }

namespace {

const json& field(const json& j, const char* key, json::value_t type, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end()) throw InputError(source, "", std::string("not a glamm-eval results record: no '") + key + "' field");
  const bool ok = it->type() == type || (type == json::value_t::number_float && it->is_number());
  if (!ok) throw InputError(source, key, std::string("has the wrong type (") + it->type_name() + ")");
  return *it;
}

}  // namespace

RunRecord record_from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw InputError(source, "", "not a glamm-eval results record (not a JSON object)");
  auto v = j.find("schema_version");
  if (v == j.end())
    throw InputError(source, "", "not a glamm-eval results record: no 'schema_version' (see reports/SCHEMA.md)");
  if (!v->is_number_integer() || v->get<long long>() != Result::kSchemaVersion)
    throw InputError(source, "schema_version",
                     "record has schema version " + v->dump() + "; this glamm-eval reads version " +
                         std::to_string(Result::kSchemaVersion) + " only (re-run the evaluation with this version)");
  RunRecord r;
  r.path = source;
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
    r.signature.emplace_back(it.key(), it->is_string() ? it->get<std::string>() : it->dump());
  // nlohmann::json objects iterate in key order; signature_string keeps the writer's order.
  if (auto s = j.find("signature_string"); s != j.end() && s->is_string()) {
    r.signature_string = s->get<std::string>();
    std::vector<std::pair<std::string, std::string>> ordered;
    std::size_t pos = 0;
    const std::string& ss = r.signature_string;
    while (pos <= ss.size() && !ss.empty()) {
      std::size_t bar = ss.find('|', pos);
      std::string item = ss.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos);
      std::size_t colon = item.find(':');
      std::string key = item.substr(0, colon);
      for (const auto& kv : r.signature)
        if (kv.first == key) {
          ordered.push_back(kv);
          break;
        }
      if (bar == std::string::npos) break;
      pos = bar + 1;
    }
    if (ordered.size() == r.signature.size()) r.signature = std::move(ordered);
  }
  field(j, "per_sample", json::value_t::array, source);
  if (auto t = j.find("tool_version"); t != j.end() && t->is_string()) r.tool_version = t->get<std::string>();
  r.doc = j;
  return r;
}

RunRecord load_record(const std::filesystem::path& path) {
  json j;
  std::string text;
  try {
    text = io::read_text_file(path);
    io::check_json_depth(text, path.string());
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(path.string(), "",
                     "not valid JSON (truncated or corrupt results record?): " +
                         io::json_syntax_error(text, path.string(), e.what()).message());
  } catch (const json::out_of_range& e) {  // a number beyond the double range, e.g. 1e400
    throw io::json_number_error(text, path.string(), e);
  } catch (const InputError& e) {
    throw e.with_file(path.string());
  }
  return record_from_json(j, path.string());
}

std::string metric_variant(const RunRecord& r) {
  std::string out;
  for (const auto& [k, v] : r.signature) {
    if (k == "split") continue;
    std::string value = v;
    if (!value.empty() && value.front() == '/') continue;  // a bare location
    if (auto p = value.find(":/"); p != std::string::npos && value.find('|') == std::string::npos)
      value = value.substr(0, p);  // "table:/path" → "table"
    if (!out.empty()) out += '|';
    out += k + ':' + value;
  }
  return out;
}

void require_same_task(const std::vector<RunRecord>& runs) {
  for (std::size_t i = 1; i < runs.size(); ++i)
    if (runs[i].task != runs[0].task)
      throw InputError(runs[i].path, "task",
                       "mixes tasks: '" + runs[i].task + "' here but '" + runs[0].task + "' in " + runs[0].path +
                           " (give records of one task)");
}

}  // namespace glamm::reports
