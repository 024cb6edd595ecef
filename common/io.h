// File I/O shared by every part: whole-file reads, atomic writes, JSON load/save with file-named errors.
#pragma once

#include <cstddef>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace glamm::io {

/// Plain words for why `path` could not be opened or read, from the errno `e` of open/read ("cannot read file: it
/// is a directory, not a file", "... permission denied ...", "... I/O error ...", a dangling link with its target).
std::string read_failure(const std::filesystem::path& path, int e);

/// Read a whole file, byte for byte, into a string. Reads until end of file, so a FIFO, a pipe or a process
/// substitution (`<(zcat x.gz)`) reads as well as a regular file. Throws InputError(file, "", "cannot read file: ...")
/// saying why in plain words: no such file, a dangling symbolic link, a link loop, a directory, permission denied,
/// an I/O error. Binary inputs (gzip archives, weights, pickles) use this one: it never decompresses.
std::string read_file(const std::filesystem::path& path);

/// Bytes that exceed kGzipBombRatio times the compressed size *and* kGzipBombFloor are refused by gunzip_text.
inline constexpr std::size_t kGzipBombRatio = 200;
inline constexpr std::size_t kGzipBombFloor = std::size_t{256} << 20;

/// True when `data` starts with the gzip magic bytes 1f 8b.
bool is_gzip(std::string_view data);

/// Inflate gzip data (all members, as Python's gzip module reads `cat a.gz b.gz`). Throws InputError(file, ...) for
/// corrupt or truncated data and when the output grows past kGzipBombRatio × the input and kGzipBombFloor.
std::string gunzip_text(std::string_view data, const std::string& file);

/// Read a text input (JSON, JSON lines, TSV) as read_file does, inflating it transparently when it starts with the
/// gzip magic bytes (whatever its name: `x.json.gz`, `x.json`, `<(cat x.json.gz)`), with gunzip_text's guard.
std::string read_text_file(const std::filesystem::path& path);

/// A regular file mapped read-only, with at least `padding` readable zero bytes after its end (simdjson reads up
/// to 64 bytes past the text), so that a parser can read it in place: no copy and no fresh memory for the text.
/// Mapping is off unless the program switched it on with enable_file_mapping(); map() then returns an empty
/// MappedFile for anything that is not a regular, non-empty file, and callers read the file instead (read_file).
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept { swap(o); }
  MappedFile& operator=(MappedFile&& o) noexcept {
    swap(o);
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  /// Map `path` (see above); an empty result when mapping is off, the file is not regular or empty, or mmap fails.
  static MappedFile map(const std::filesystem::path& path, std::size_t padding);
  bool empty() const { return data_ == nullptr; }
  std::string_view text() const { return {data_, size_}; }

 private:
  void swap(MappedFile& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(mapped_, o.mapped_);
  }
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  ///< bytes of the mapping (file + padding, whole pages)
};

/// Let MappedFile::map map files from now on. A mapped file that another program truncates while it is read
/// raises SIGBUS, so only a program that handles it (the command line: a message and exit status 2) turns this
/// on; library users (the Python module) keep reading files.
void enable_file_mapping();

/// "line L, column C (byte B)" of byte `offset` in `text`: lines and columns count from 1, columns in characters
/// (UTF-8 continuation bytes are not counted), the byte offset from 0.
std::string json_position(std::string_view text, std::size_t offset);

/// The InputError for JSON text a parser refused: names the file, the position of the first error
/// (json_position) and the reason in plain words, with particular words for a UTF-8 byte order mark, a lone
/// surrogate escape, an integer beyond the 64-bit range, and the NaN/Infinity/-Infinity literals Python writes.
/// Finds the position by re-reading with nlohmann's SAX parser (and a scan for integers beyond 64 bits, which
/// nlohmann reads as doubles but simdjson refuses). `fallback` is the first parser's message, used when neither
/// finds a fault (then the fault is one only the first parser refuses).
InputError json_syntax_error(std::string_view text, const std::string& file, const std::string& fallback);

/// A NaN, Infinity or -Infinity literal outside strings: byte offset, length, and the double it stands for.
struct NonFiniteLiteral {
  std::size_t offset;
  std::size_t length;
  double value;
};

/// Every NaN/Infinity/-Infinity literal outside JSON strings, in order (the non-standard values Python's
/// json.dump writes for non-finite floats and json.load reads back).
std::vector<NonFiniteLiteral> find_nonfinite_literals(std::string_view text);

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

/// Parse a JSON file (read_text_file: gzip is inflated) with nlohmann::json. Throws InputError naming the file and
/// the position of a syntax error (json_syntax_error), and as parse_json.
nlohmann::json load_json(const std::filesystem::path& path);

/// Serialise `j` (indent as nlohmann's dump; doubles at full round-trip precision, '.' decimals in any locale)
/// and write it atomically.
void save_json(const std::filesystem::path& path, const nlohmann::json& j, int indent = 2);

/// Start computing sha256_file(path) on a background thread (regular files only; anything else is ignored). A later
/// sha256_file(path) returns that digest when the file still has the size and modification time it had here,
/// instead of reading it again; otherwise (or when the background read failed) it reads the file as usual. For
/// commands that record their inputs' checksums: the digest is computed while the evaluation runs.
void prefetch_sha256(const std::filesystem::path& path);

/// Wait until every prefetch_sha256 has finished. A program that prefetches must call it before it exits (also when
/// it fails early): a hashing thread still running while the exit handlers tear OpenSSL down can crash or hang.
void wait_for_prefetched_sha256();

/// Hex SHA-256 of a file's bytes (for input checksums in result signatures). Throws InputError when unreadable.
std::string sha256_file(const std::filesystem::path& path);

/// Lowercase hex of `n` bytes (digests).
std::string to_hex(const unsigned char* bytes, unsigned n);

/// Hex SHA-256 of a byte string.
std::string sha256_hex(const std::string& data);

}  // namespace glamm::io
