// Text conversions with Java semantics: strict UTF-8 -> UTF-16 decoding, String.toLowerCase(Locale.ENGLISH) and
// UTF-16 -> UTF-8 encoding as Java's UTF-8 encoder writes it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace glamm::ptb::detail {

/// Decode strict UTF-8 (no overlongs, no encoded surrogates, <= U+10FFFF) and append UTF-16 code units to `out`.
/// Returns false and sets `error_offset` (byte offset in `in`) on invalid input; `out` is then unspecified.
bool decode_utf8(std::string_view in, std::u16string& out, size_t& error_offset);

/// Append `token` lowercased as Java's String.toLowerCase(Locale.ENGLISH) does (full Unicode: U+0130 -> "i\u0307",
/// final sigma), encoded as UTF-8. Unpaired surrogates are written as '?' like Java's UTF-8 encoder does.
void append_lower_utf8(std::u16string_view token, std::string& out);

/// Append `token` encoded as UTF-8 without case change (unpaired surrogates -> '?').
void append_utf8(std::u16string_view token, std::string& out);

}  // namespace glamm::ptb::detail
