// Java string semantics the reference tools rely on (Stanford's PTBTokenizer and METEOR 1.5 are Java programs):
// UTF-8 decoding as Java's decoders do it, String.toLowerCase(Locale.ENGLISH) with Java's special cases,
// String.hashCode, trim, StringTokenizer, String.split and Double.toString. The one implementation both the PTB
// tokenizer (metrics/ptb) and METEOR (metrics/meteor) use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace glamm::java {

/// Decode strict UTF-8 (no overlongs, no encoded surrogates, <= U+10FFFF) and append UTF-16 code units to `out`,
/// as the PTB tokenizer's input check needs. Returns false and sets `error_offset` (byte offset in `in`) on invalid
/// input; `out` is then unspecified.
bool decode_utf8_strict(std::string_view in, std::u16string& out, std::size_t& error_offset);

/// Decode UTF-8 into code points; each malformed byte becomes U+FFFD (as Java's InputStreamReader does; METEOR).
std::u32string decode_utf8_lenient(const std::string& s);

/// Encode code points as UTF-8.
std::string encode_utf8(const std::u32string& s);

/// Append `token` lowercased as Java's String.toLowerCase(Locale.ENGLISH) does (full Unicode: U+0130 -> "i\u0307";
/// capital sigma -> final sigma U+03C2 when a cased letter precedes it in the same word and none follows, word
/// boundaries as Java's ConditionalSpecialCasing finds them), encoded as UTF-8. Unpaired surrogates are written as
/// '?' like Java's UTF-8 encoder does.
void append_lower_utf8(std::u16string_view token, std::string& out);

/// Append `token` encoded as UTF-8 without case change (unpaired surrogates -> '?').
void append_utf16_as_utf8(std::u16string_view token, std::string& out);

/// String.toLowerCase() of a UTF-8 string (decoded leniently): ASCII fast path, otherwise append_lower_utf8's rules.
/// E.g. "Α'Σ" -> "α'ς" (the apostrophe keeps the sigma inside the word).
std::string to_lower(const std::string& s);

/// Java String.hashCode of the UTF-16 form of a UTF-8 string: h = 31*h + unit, int arithmetic (wraps).
std::int32_t string_hash(const std::string& utf8);

/// Java String.trim: strip every code point <= U+0020 at both ends.
std::string trim(const std::string& s);

/// java.util.StringTokenizer with default delimiters (space, \t, \n, \r, \f): the non-empty tokens.
std::vector<std::string> tokenize(const std::string& s);

/// Java Double.toString for the values METEOR prints: integral values below 1e7 as "N.0"; other values as the
/// shortest round-trip decimal ("0.4497196124097984"), in Java's "1.0E7" form outside [1e-3, 1e7).
std::string double_to_string(double v);

/// Java String.split("\\|\\|\\|") as Meteor's stdio loop uses it: parts between "|||", trailing empty parts dropped.
std::vector<std::string> split_bars(const std::string& line);

}  // namespace glamm::java
