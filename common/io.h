// File I/O shared by every part: whole-file reads, atomic writes, JSON load/save with file-named errors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace glamm::io {

/// Read a whole file into a string. Throws InputError(file, "", "cannot open ...") when unreadable.
std::string read_file(const std::filesystem::path& path);

/// Write `data` to `path` atomically: write a temporary file in the same folder, fsync, rename over the target.
/// Creates missing parent folders. A reader never sees a half-written file; on failure the old file is kept.
/// Throws InputError naming the path on any I/O failure.
void write_file_atomic(const std::filesystem::path& path, const std::string& data);

/// Parse JSON text with nlohmann::json; `file` names the source in the InputError for a syntax error.
nlohmann::json parse_json(std::string_view text, const std::string& file);

/// Parse a JSON file with nlohmann::json. Throws InputError naming the file and the byte offset of a syntax error.
nlohmann::json load_json(const std::filesystem::path& path);

/// Serialise `j` (indent as nlohmann's dump; doubles at full round-trip precision, '.' decimals in any locale)
/// and write it atomically.
void save_json(const std::filesystem::path& path, const nlohmann::json& j, int indent = 2);

/// Hex SHA-256 of a file's bytes (for input checksums in result signatures). Throws InputError when unreadable.
std::string sha256_file(const std::filesystem::path& path);

/// Hex SHA-256 of a byte string.
std::string sha256_hex(const std::string& data);

}  // namespace glamm::io
