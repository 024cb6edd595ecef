// Small helpers the simdjson-based loaders share.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace glamm::datasets {

/// "an array", "an object", "an integer", "a number", "a string", "a boolean", "null": for messages such as
/// "`image_id` must be an integer or a string, got a boolean".
inline const char* json_type_name(simdjson::dom::element_type t) {
  using simdjson::dom::element_type;
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64: return "an integer";
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

/// Duplicate keys in one JSON file, reported once per file. Python's json.load (what pycocotools and
/// pycocoevalcap read with) keeps the LAST value of a repeated key; simdjson's at_key returns the first, so the
/// loaders look fields up with last_field() below, which also notes the first duplicate it meets here.
///
/// A scope is opened per file being read (on the reading thread); when it closes and a duplicate was seen, one
/// warning naming the file, the first record and key is appended to `sink`, or, without a sink, to a
/// process-wide list that commands collect with take_duplicate_key_warnings(). Only the fields a loader reads
/// are checked (a duplicate of a field nobody reads changes no score).
class DuplicateKeyScope {
 public:
  explicit DuplicateKeyScope(std::string file, std::vector<std::string>* sink = nullptr)
      : file_(std::move(file)), sink_(sink), prev_(current()) {
    current() = this;
  }
  ~DuplicateKeyScope() {
    current() = prev_;
    if (!seen_) return;
    std::string w = "duplicate JSON key(s) in " + file_ + " (first: '" + key_ + "'" +
                    (record_.empty() ? std::string() : " in " + record_) +
                    "); as Python's json reads them, the last value of each is used (docs/input-rules.md, "
                    "Duplicate keys)";
    if (sink_) {
      sink_->push_back(std::move(w));
    } else {
      std::lock_guard<std::mutex> lock(global_mutex());
      global_list().push_back(std::move(w));
    }
  }
  DuplicateKeyScope(const DuplicateKeyScope&) = delete;
  DuplicateKeyScope& operator=(const DuplicateKeyScope&) = delete;

  /// Records the first duplicate of this file; later calls are ignored.
  void note(std::string_view key, std::string record) {
    if (seen_) return;
    seen_ = true;
    key_ = std::string(key);
    record_ = std::move(record);
  }
  bool seen() const { return seen_; }

  /// The innermost open scope of this thread, or nullptr.
  static DuplicateKeyScope*& current() {
    static thread_local DuplicateKeyScope* cur = nullptr;
    return cur;
  }
  /// Moves out the warnings of scopes opened without a sink (for a command's warning list).
  static std::vector<std::string> take_global() {
    std::lock_guard<std::mutex> lock(global_mutex());
    std::vector<std::string> out;
    out.swap(global_list());
    return out;
  }

 private:
  static std::mutex& global_mutex() {
    static std::mutex m;
    return m;
  }
  static std::vector<std::string>& global_list() {
    static std::vector<std::string> v;
    return v;
  }
  std::string file_;
  std::vector<std::string>* sink_;
  DuplicateKeyScope* prev_;
  bool seen_ = false;
  std::string key_, record_;
};

/// Warnings of duplicate keys found by loaders that have no warning list of their own (see DuplicateKeyScope);
/// the list is emptied. Commands append these to the warnings they print and record.
inline std::vector<std::string> take_duplicate_key_warnings() { return DuplicateKeyScope::take_global(); }

/// Python-dict lookup of `key` in `o`: the value of the LAST field with that name (json.load semantics), in
/// `out`; false when absent. A repeated key is noted in the current DuplicateKeyScope with the record name
/// `record()` returns (called only then). Linear in the object's size, as simdjson's own at_key.
template <class RecordFn>
inline bool last_field(const simdjson::dom::object& o, std::string_view key, simdjson::dom::element& out,
                       RecordFn&& record) {
  bool found = false, repeated = false;
  for (simdjson::dom::key_value_pair kv : o) {
    if (kv.key == key) {
      repeated = found;
      found = true;
      out = kv.value;
    }
  }
  if (repeated) {
    if (DuplicateKeyScope* s = DuplicateKeyScope::current(); s && !s->seen()) s->note(key, record());
  }
  return found;
}

/// last_field without a record name (the warning names the file and key only).
inline bool last_field(const simdjson::dom::object& o, std::string_view key, simdjson::dom::element& out) {
  return last_field(o, key, out, [] { return std::string(); });
}

/// The first repeated key of any object in the JSON `text`, with the JSON pointer of its object ("" and "" when
/// there is none, or when simdjson cannot parse the text — the caller's parser reports syntax errors).
std::pair<std::string, std::string> first_duplicate_key(std::string_view text);

/// io::parse_json (nlohmann; duplicate keys keep the LAST value, as Python's json.load), plus one duplicate-key
/// warning for `file` through take_duplicate_key_warnings() when an object repeats a key — the same warning the
/// simdjson readers give. Throws as io::parse_json.
nlohmann::json parse_json_noting_duplicates(std::string_view text, const std::string& file);

}  // namespace glamm::datasets
