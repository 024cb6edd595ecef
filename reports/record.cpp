#include "reports/record.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/io.h"
#include "common/result.h"

namespace glamm::reports {

using nlohmann::json;

bool RunRecord::synthetic() const { return signature_value("data").rfind("synthetic", 0) == 0; }

RunRecord record_from_json(const json& j, const std::string& source) {
  RunRecord r;
  static_cast<Result&>(r) = Result::from_json(j, source);
  r.path = source;
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
  for (const auto& [k, v] : r.signature.fields) {
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
