// Python-compatible JSON text: the exact bytes CPython's json.dump/json.dumps writes with its defaults
// (ensure_ascii=True, separators (", ", ": ") without indent and (",", ": ") with it), so that the runner's output
// files are byte-identical to the ones GLaMM's eval scripts write (eval/gcg/infer.py: json.dump(result, f);
// eval/region_captioning/infer.py: json.dump(results, f, indent=2)). Keys keep insertion order (ordered_json).
// Reimplements CPython 3.x Lib/json/encoder.py (py_encode_basestring_ascii, _make_iterencode) for strings,
// integers, booleans, null, arrays and objects; floats use Python's repr (shortest round-trip) rules.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace glamm::runners {

/// `json.dumps(value)` (indent < 0) or `json.dumps(value, indent=indent)` (indent ≥ 0: newline + indent spaces per
/// level, "[]" / "{}" for empty containers). No trailing newline, as json.dump writes none.
/// Strings are UTF-8; invalid UTF-8 bytes are written as \ufffd (what Python's decode(errors="replace") gives).
/// Non-finite floats give NaN / Infinity / -Infinity as Python does.
std::string python_dumps(const nlohmann::ordered_json& value, int indent = -1);

/// The JSON string literal of `s` as Python's ensure_ascii encoder writes it (quotes included): \" \\ \n \r \t
/// \b \f, other control characters and every non-ASCII code point as \uXXXX (lower-case hex, UTF-16 surrogate
/// pairs above U+FFFF); DEL (0x7f) is kept as is.
std::string python_string_literal(std::string_view s);

/// Python float repr: shortest round-trip digits; exponent form ("1e-05", "1e+16") when the decimal exponent is
/// < -4 or ≥ 16, else positional with at least one fractional digit ("1.0", "0.0001").
std::string python_float_repr(double v);

}  // namespace glamm::runners
