// Java string semantics METEOR relies on, for UTF-8 text: code-point decoding (malformed bytes → U+FFFD as
// Java's UTF-8 decoder does), String.hashCode over UTF-16 units, String.trim, StringTokenizer splitting,
// String.toLowerCase and Double.toString for the values METEOR prints.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glamm::meteor::java {

/// Decode UTF-8 into code points; each malformed byte becomes U+FFFD (as Java's InputStreamReader does).
std::u32string decode_utf8(const std::string& s);

/// Encode code points as UTF-8.
std::string encode_utf8(const std::u32string& s);

/// Java String.hashCode of the UTF-16 form of a UTF-8 string: h = 31*h + unit, int arithmetic (wraps).
std::int32_t string_hash(const std::string& utf8);

/// Java String.trim: strip every code point <= U+0020 at both ends.
std::string trim(const std::string& s);

/// java.util.StringTokenizer with default delimiters (space, \t, \n, \r, \f): the non-empty tokens.
std::vector<std::string> tokenize(const std::string& s);

/// Java String.toLowerCase() in a non-Turkish default locale: ASCII fast path; otherwise per-code-point simple
/// lowercase (utf8proc), U+0130 → "i\u0307", and Greek capital sigma → final sigma at the end of a word.
std::string to_lower(const std::string& s);

/// Java Double.toString for the values METEOR prints: integral values below 1e7 as "N.0"; other values as the
/// shortest round-trip decimal ("0.4497196124097984"), in Java's "1.0E7" form outside [1e-3, 1e7).
std::string double_to_string(double v);

/// Java String.split("\\|\\|\\|") as Meteor's stdio loop uses it: parts between "|||", trailing empty parts dropped.
std::vector<std::string> split_bars(const std::string& line);

}  // namespace glamm::meteor::java
