// File I/O shared by every part: whole-file reads, atomic writes, JSON load/save with file-named errors.
#pragma once

#include <cstddef>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace glamm::io {

/// Read a whole file into a string. Throws InputError(file, "", "cannot open ...") when unreadable.
std::string read_file(const std::filesystem::path& path);

/// Write `data` to `path` atomically: write a temporary file in the same folder, fsync, rename over the target.
/// Creates missing parent folders. A reader never sees a half-written file; on failure the old file is kept.
/// Throws InputError naming the path on any I/O failure.
void write_file_atomic(const std::filesystem::path& path, const std::string& data);

/// Deepest nesting of JSON arrays/objects any reader accepts: simdjson's own default limit, so that every JSON
/// reader of the tool refuses the same files. Real inputs nest fewer than 10 levels (docs/input-rules.md).
inline constexpr std::size_t kMaxJsonDepth = 1024;

/// Refuse JSON text whose arrays/objects nest deeper than `max_depth`, before a recursive consumer (nlohmann's copy
/// and dump recurse per level) can overflow the call stack. A linear scan that skips strings; it does not validate
/// the rest of the syntax. Throws InputError(file, "", "... line L, byte B ...") at the first level too deep.
void check_json_depth(std::string_view text, const std::string& file, std::size_t max_depth = kMaxJsonDepth);

/// The InputError for a number that nlohmann refused as out of the double range (json::out_of_range 406, e.g.
/// `1e400`, which Python would read as inf): re-reads `text` to find where it stands and names the file, the JSON
/// pointer of the value as the record (e.g. "/metrics/CIDEr") and the line. `e` is the exception caught.
InputError json_number_error(std::string_view text, const std::string& file, const std::exception& e);

/// Parse JSON text with nlohmann::json; `file` names the source in the InputError for a syntax error, a number out
/// of the double range (json_number_error) and nesting deeper than kMaxJsonDepth (check_json_depth).
nlohmann::json parse_json(std::string_view text, const std::string& file);

/// Parse a JSON file with nlohmann::json. Throws InputError naming the file and the byte offset of a syntax error,
/// and as parse_json.
nlohmann::json load_json(const std::filesystem::path& path);

/// Serialise `j` (indent as nlohmann's dump; doubles at full round-trip precision, '.' decimals in any locale)
/// and write it atomically.
void save_json(const std::filesystem::path& path, const nlohmann::json& j, int indent = 2);

/// Hex SHA-256 of a file's bytes (for input checksums in result signatures). Throws InputError when unreadable.
std::string sha256_file(const std::filesystem::path& path);

/// Lowercase hex of `n` bytes (digests).
std::string to_hex(const unsigned char* bytes, unsigned n);

/// Hex SHA-256 of a byte string.
std::string sha256_hex(const std::string& data);

}  // namespace glamm::io
