// Small helpers the simdjson-based loaders share.
#pragma once

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

}  // namespace glamm::datasets
