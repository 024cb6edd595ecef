#include "datasets/json_util.h"

#include <unordered_set>

#include "common/io.h"

namespace glamm::datasets {

std::pair<std::string, std::string> first_duplicate_key(std::string_view text) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return {};
  // Iterative walk (depth is bounded by simdjson's own limit, but no recursion is needed).
  std::vector<std::pair<simdjson::dom::element, std::string>> stack{{root, ""}};
  std::unordered_set<std::string_view> keys;
  std::vector<std::pair<simdjson::dom::element, std::string>> children;
  while (!stack.empty()) {
    auto [e, where] = std::move(stack.back());
    stack.pop_back();
    children.clear();
    if (simdjson::dom::object o; e.get_object().get(o) == simdjson::SUCCESS) {
      keys.clear();
      for (simdjson::dom::key_value_pair kv : o) {
        if (!keys.insert(kv.key).second) return {std::string(kv.key), where};
        if (kv.value.is_object() || kv.value.is_array()) children.emplace_back(kv.value, where + "/" + std::string(kv.key));
      }
    } else if (simdjson::dom::array a; e.get_array().get(a) == simdjson::SUCCESS) {
      std::size_t i = 0;
      for (simdjson::dom::element v : a) {
        if (v.is_object() || v.is_array()) children.emplace_back(v, where + "/" + std::to_string(i));
        ++i;
      }
    }
    // Depth first in document order: the first child is visited next.
    for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(std::move(*it));
  }
  return {};
}

nlohmann::json parse_json_noting_duplicates(std::string_view text, const std::string& file) {
  nlohmann::json j = io::parse_json(text, file);
  const auto [key, where] = first_duplicate_key(text);
  if (!key.empty()) {
    DuplicateKeyScope scope(file);
    scope.note(key, where.empty() ? std::string() : "object " + where);
  }
  return j;
}

}  // namespace glamm::datasets
