#include "common/io.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <optional>
#include <random>
#include <sstream>
#include <vector>

#include <limits>
#include <map>
#include <memory>
#include <mutex>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
// GLAMM_MINIMAL_DEPS (the GPU device-check build, bench/device_check): no OpenSSL and no zlib; SHA-256 and gzip
// input then throw a clear error.
#if !GLAMM_MINIMAL_DEPS
#include <openssl/evp.h>
#include <zlib.h>
#endif

#include "common/error.h"

namespace glamm::io {

namespace fs = std::filesystem;

std::string read_failure(const fs::path& path, int e) {
  struct stat ls {};
  switch (e) {
    case ENOENT:
      if (::lstat(path.c_str(), &ls) == 0 && S_ISLNK(ls.st_mode)) {
        std::error_code ec;
        const fs::path target = fs::read_symlink(path, ec);
        return "cannot read file: it is a dangling symbolic link (its target " +
               (ec ? std::string("") : target.string() + " ") + "does not exist)";
      }
      return "cannot read file: no such file";
    case ELOOP: return "cannot read file: symbolic link loop (the links point at each other; too many levels)";
    case EACCES:
    case EPERM:
      return "cannot read file: permission denied (no read permission on the file, or no search permission on a "
             "folder above it)";
    case EISDIR: return "cannot read file: it is a directory, not a file";
    case ENOTDIR: return "cannot read file: a part of the path that should be a folder is a file";
    case ENAMETOOLONG: return "cannot read file: the path is too long";
    case EIO:
      return "cannot read file: I/O error (the disk, network file system or device reported a fault while reading)";
    case ENXIO: return "cannot read file: no such device (a socket or a device that is not there)";
    case EMFILE:
    case ENFILE: return "cannot read file: too many open files";
    case ENOMEM: return "cannot read file: out of memory";
    default: return std::string("cannot read file: ") + std::strerror(e);
  }
}

namespace {

// Digests of inputs that were not regular files (FIFOs, process substitutions): such a stream can be read only
// once, so sha256_file answers for it from the bytes read_file saw.
std::mutex g_stream_mutex;
std::map<std::string, std::string> g_stream_sha256;

// 1-based line of byte offset `pos`.
std::size_t line_of(std::string_view text, std::size_t pos) {
  pos = std::min(pos, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

}  // namespace

std::string read_file(const fs::path& path) {
  int fd = -1;
  do fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) throw InputError(path.string(), "", read_failure(path, errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw InputError(path.string(), "", read_failure(path, e));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw InputError(path.string(), "", read_failure(path, EISDIR));
  }
  const bool regular = S_ISREG(st.st_mode);
  // One read(2) into p[0, n), retried on EINTR; 0 at end of file; a failure closes the file and throws.
  const auto read_some = [&](char* p, std::size_t n) -> std::size_t {
    for (;;) {
      const ssize_t got = ::read(fd, p, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      throw InputError(path.string(), "", read_failure(path, e));
    }
  };
  std::string out;
  // A regular file is read straight into the string, whose capacity keeps kReadSpare bytes beyond the file size:
  // a JSON parser that reads up to 64 bytes past the end (simdjson's padding) can then parse the text in place,
  // without a copy (datasets/coco_json).
  constexpr std::size_t kReadSpare = 64;
  if (regular && st.st_size > 0) {
    out.reserve(static_cast<std::size_t>(st.st_size) + kReadSpare);
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < out.size()) {
      const std::size_t n = read_some(out.data() + got, out.size() - got);
      if (n == 0) break;
      got += n;
    }
    out.resize(got);  // the file shrank; if it grew, the loop below reads the rest
  }
  // Read until end of file whatever the kind: a FIFO or a pipe has no size, a regular file may grow or shrink.
  std::vector<char> buf(regular ? 1 << 16 : 1 << 20);
  for (std::size_t n; (n = read_some(buf.data(), buf.size())) > 0;) out.append(buf.data(), n);
  ::close(fd);
  if (!regular) {
    std::lock_guard<std::mutex> lock(g_stream_mutex);
    g_stream_sha256[path.string()] = sha256_hex(out);
  }
  return out;
}

namespace {
std::atomic<bool> g_map_files{false};
}  // namespace

void enable_file_mapping() { g_map_files = true; }

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<char*>(data_), mapped_);
}

MappedFile MappedFile::map(const fs::path& path, std::size_t padding) {
  MappedFile m;
  if (!g_map_files) return m;
  // O_NONBLOCK: opening a FIFO must not wait for a writer here (read_file reads it, blocking as it should).
  int fd = -1;
  do fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return m;  // read_file says why
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    ::close(fd);
    return m;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t total = (size + padding + page - 1) / page * page;
  // Reserve file + padding as zero pages, then map the file over the front: the bytes past the end of the file
  // (rest of its last page, then the reserved pages) read as zeros.
  void* region = ::mmap(nullptr, total, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    ::close(fd);
    return m;
  }
  void* file = ::mmap(region, size, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fd, 0);
  ::close(fd);
  if (file == MAP_FAILED) {
    ::munmap(region, total);
    return m;
  }
  m.data_ = static_cast<const char*>(file);
  m.size_ = size;
  m.mapped_ = total;
  return m;
}

bool is_gzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
}

#if GLAMM_MINIMAL_DEPS
std::string gunzip_text(std::string_view, const std::string& file) {
  throw InputError(file, "", "gzip input needs the full build (this device-check build has no zlib)");
}
#else
std::string gunzip_text(std::string_view data, const std::string& file) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw InputError(file, "", "zlib initialisation failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(std::min<std::size_t>(data.size(), std::numeric_limits<uInt>::max()));
  std::size_t fed = zs.avail_in;
  std::string out;
  std::vector<char> buf(1 << 18);
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf.data(), buf.size() - zs.avail_out);
    if (out.size() > kGzipBombFloor && out.size() / kGzipBombRatio > data.size())
      throw InputError(file, "",
                       "gzip data inflates to more than " + std::to_string(kGzipBombRatio) +
                           " times its size and more than " + std::to_string(kGzipBombFloor >> 20) +
                           " MiB; refused as a likely gzip bomb (docs/input-rules.md, File reading)");
    if (zs.avail_in == 0 && fed < data.size()) {  // feed the rest of a > 4 GiB input
      const std::size_t more = std::min<std::size_t>(data.size() - fed, std::numeric_limits<uInt>::max());
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      zs.avail_in = static_cast<uInt>(more);
      fed += more;
    }
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (`cat a.gz b.gz`), as Python's gzip module reads.
      if (zs.avail_in == 0 && fed == data.size()) break;
      const std::size_t at = fed - zs.avail_in;
      if (!is_gzip(data.substr(at)))
        throw InputError(file, "",
                         "bytes after the end of the gzip data at byte " + std::to_string(at) +
                             " are not another gzip member (corrupt or not a gzip file)");
      if (inflateReset(&zs) != Z_OK) throw InputError(file, "", "zlib reset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && fed == data.size())
      throw InputError(file, "", "the gzip data is truncated (the compressed file ends early)");
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw InputError(file, "", std::string("corrupt gzip data: ") + (zs.msg ? zs.msg : "inflate failed"));
  }
  return out;
}

#endif

std::string read_text_file(const fs::path& path) {
  std::string raw = read_file(path);
  if (!is_gzip(raw)) return raw;
  return gunzip_text(raw, path.string());
}

void write_file_atomic(const fs::path& path, const std::string& data) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw InputError(path.string(), "", "cannot create folder " + parent.string() + ": " + ec.message());
  std::random_device rd;
  const fs::path tmp = parent / ("." + path.filename().string() + ".tmp" + std::to_string(rd()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) throw InputError(path.string(), "", std::string("cannot create temporary file: ") + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw InputError(path.string(), "", std::string("write failed: ") + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw InputError(path.string(), "", std::string("cannot flush file: ") + std::strerror(e));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw InputError(path.string(), "", std::string("cannot rename temporary file into place: ") + std::strerror(e));
  }
}

namespace {
// SAX handler that only follows where the parser stands (as a JSON pointer) and keeps the first error.
class PointerTracker {
 public:
  using json = nlohmann::json;
  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const json::string_t&) { return value(); }
  bool string(json::string_t&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool key(json::string_t& k) {
    path_.back().key = k;
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception&) {
    position_ = position;
    token_ = token;
    return false;
  }

  /// JSON pointer (RFC 6901) of the value being read.
  std::string pointer() const {
    std::string p;
    for (const Frame& f : path_) {
      p += '/';
      if (!f.object) {
        p += std::to_string(f.index);
        continue;
      }
      for (char c : f.key) p += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
    }
    return p.empty() ? "/" : p;
  }
  std::size_t position() const { return position_; }
  const std::string& token() const { return token_; }

 private:
  struct Frame {
    bool object;
    std::string key;
    std::size_t index = 0;
  };
  bool value() {
    if (!path_.empty() && !path_.back().object) ++path_.back().index;
    return true;
  }
  bool open(bool object) {
    path_.push_back({object, {}, 0});
    return true;
  }
  bool close() {
    path_.pop_back();
    return value();
  }
  std::vector<Frame> path_;
  std::size_t position_ = 0;
  std::string token_;
};
}  // namespace

void check_json_depth(std::string_view text, const std::string& file, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t k = 0; k < text.size(); ++k) {
    const char c = text[k];
    if (in_string) {
      if (c == '\\')
        ++k;  // skip the escaped character
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        throw InputError(file, "",
                         "JSON arrays/objects nested deeper than " + std::to_string(max_depth) + " levels (line " +
                             std::to_string(line_of(text, k)) + ", byte " + std::to_string(k) +
                             "); no real input nests this deep, the file is corrupt or hostile");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

InputError json_number_error(std::string_view text, const std::string& file, const std::exception& e) {
  PointerTracker t;
  nlohmann::json::sax_parse(text.begin(), text.end(), &t);
  if (t.token().empty()) return InputError(file, "", std::string("invalid JSON: ") + e.what());
  return InputError(file, t.pointer(),
                    "number " + t.token() + " (line " + std::to_string(line_of(text, t.position())) +
                        ") is beyond the double range (it would read as infinity; glamm-eval's inputs hold finite "
                        "numbers only)");
}

namespace {

// SAX handler that accepts everything and keeps the first syntax error: where it stands and nlohmann's words.
class FirstError : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception& e) override {
    found = true;
    this->position = position;
    this->token = token;
    what = e.what();
    return false;
  }
  bool found = false;
  std::size_t position = 0;
  std::string token;
  std::string what;
};

// nlohmann's reason without its "[json.exception...] parse error at line L, column C: " prefix.
// nlohmann's reason without its "[json.exception.*] " tag, its "parse error at line L, column C: " prefix and its
// "; last read: '...'" tail (the position is given by json_position instead).
std::string plain_reason(const std::string& what) {
  std::string r = what;
  if (r.rfind("[json.exception", 0) == 0)
    if (const auto k = r.find("] "); k != std::string::npos) r = r.substr(k + 2);
  if (r.rfind("parse error", 0) == 0)
    if (const auto k = r.find(": "); k != std::string::npos) r = r.substr(k + 2);
  if (const auto k = r.find("; last read: "); k != std::string::npos) r.resize(k);
  return r;
}

}  // namespace

std::string json_position(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, line_start = 0;
  for (std::size_t k = 0; k < offset; ++k)
    if (text[k] == '\n') ++line, line_start = k + 1;
  std::size_t column = 1;  // characters, not bytes: UTF-8 continuation bytes do not count
  for (std::size_t k = line_start; k < offset; ++k) column += (static_cast<unsigned char>(text[k]) & 0xC0) != 0x80;
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " + std::to_string(offset) +
         ")";
}

namespace {
/// Calls `at(k)` for each byte offset k of `text` outside JSON strings (escapes inside strings skipped); `at`
/// returns the offset of the last byte it consumed (k itself when nothing), or npos to stop the scan.
template <class F>
void scan_outside_strings(std::string_view text, F&& at) {
  bool in_string = false;
  for (std::size_t k = 0; k < text.size(); ++k) {
    const char c = text[k];
    if (in_string) {
      if (c == '\\')
        ++k;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    k = at(k);
    if (k == std::string_view::npos) return;
  }
}
}  // namespace

std::vector<NonFiniteLiteral> find_nonfinite_literals(std::string_view text) {
  std::vector<NonFiniteLiteral> out;
  scan_outside_strings(text, [&](std::size_t k) {
    for (const char* lit : {"NaN", "Infinity", "-Infinity"}) {
      const std::string_view l(lit);
      if (text.substr(k, l.size()) == l) {
        out.push_back({k, l.size(), l == "NaN" ? std::numeric_limits<double>::quiet_NaN()
                                    : l[0] == '-' ? -std::numeric_limits<double>::infinity()
                                                  : std::numeric_limits<double>::infinity()});
        return k + l.size() - 1;
      }
    }
    return k;
  });
  return out;
}

namespace {
// First integer literal (outside strings) beyond the range simdjson reads (int64 below zero, uint64 above):
// {offset, length}, or {npos, 0}.
std::pair<std::size_t, std::size_t> first_big_integer(std::string_view text) {
  std::pair<std::size_t, std::size_t> found{std::string_view::npos, 0};
  scan_outside_strings(text, [&](std::size_t k) {
    const char c = text[k];
    if (c != '-' && (c < '0' || c > '9')) return k;
    std::size_t e = k + 1;
    bool integral = true;
    while (e < text.size() && (std::isdigit(static_cast<unsigned char>(text[e])) || text[e] == '.' || text[e] == 'e' ||
                               text[e] == 'E' || text[e] == '+' || text[e] == '-')) {
      if (!std::isdigit(static_cast<unsigned char>(text[e]))) integral = false;
      ++e;
    }
    if (integral) {
      const bool neg = c == '-';
      const std::string_view digits = text.substr(neg ? k + 1 : k, e - (neg ? k + 1 : k));
      const std::string_view limit = neg ? "9223372036854775808" : "18446744073709551615";
      if (digits.size() > limit.size() || (digits.size() == limit.size() && digits > limit)) {
        found = {k, e - k};
        return std::string_view::npos;
      }
    }
    return e - 1;
  });
  return found;
}
}  // namespace

InputError json_syntax_error(std::string_view text, const std::string& file, const std::string& fallback) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF")
    return InputError(file, "",
                      "invalid JSON at " + json_position(text, 0) +
                          ": the file starts with a UTF-8 byte order mark (BOM); JSON must not have one (Python's "
                          "json.load refuses it too: 'Unexpected UTF-8 BOM'); save the file as UTF-8 without BOM");
  FirstError err;
  nlohmann::json::sax_parse(text.begin(), text.end(), &err);
  const auto big = first_big_integer(text);
  std::size_t at = std::string_view::npos;
  // nlohmann's position counts the characters read, the offending one included (and one for the end of input).
  if (err.found) at = std::min(err.position > 0 ? err.position - 1 : 0, text.size());
  if (big.first != std::string_view::npos && (at == std::string_view::npos || big.first < at))
    return InputError(file, "",
                      "invalid JSON at " + json_position(text, big.first) + ": the integer " +
                          std::string(text.substr(big.first, std::min<std::size_t>(big.second, 40))) + " (" +
                          std::to_string(big.second - (text[big.first] == '-')) +
                          " digits) is beyond the 64-bit range glamm-eval reads (ids and counts must fit in 64 bits)");
  if (at == std::string_view::npos) return InputError(file, "", "invalid JSON: " + fallback);
  for (const NonFiniteLiteral& l : find_nonfinite_literals(text))
    if (l.offset <= at && at < l.offset + l.length)
      return InputError(file, "",
                        "invalid JSON at " + json_position(text, l.offset) + ": " +
                            std::string(text.substr(l.offset, l.length)) +
                            " is not a JSON number (Python's json writes it for a non-finite float); glamm-eval "
                            "accepts NaN/Infinity/-Infinity only as a detection 'score' of a COCO results file");
  std::string reason = plain_reason(err.what);
  if (const auto u = text.rfind("\\u", at); reason.find("surrogate") != std::string::npos && u != std::string_view::npos)
    at = u;  // the start of the surrogate escape
  if (reason.find("number overflow") != std::string::npos) {
    while (at > 0 && text[at - 1] != 0 && std::strchr("0123456789+-.eE", text[at - 1]) != nullptr) --at;  // the start of the number
    reason += " (beyond the double range; Python would read it as infinity, glamm-eval's inputs hold finite numbers)";
  }
  const std::string where = "invalid JSON at " + json_position(text, at) + ": ";
  if (reason.find("surrogate") != std::string::npos)
    reason = "a lone UTF-16 surrogate escape (\\ud800-\\udfff not in a valid high+low pair) in a string; it is "
             "not a Unicode character (Python keeps it in a str, but it cannot be UTF-8 text): " + reason;
  else if (reason.find("invalid string: ill-formed UTF-8") != std::string::npos)
    reason = "the bytes are not valid UTF-8 text: " + reason;
  return InputError(file, "", where + reason);
}

nlohmann::json parse_json(std::string_view text, const std::string& file) {
  check_json_depth(text, file);
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw json_syntax_error(text, file, e.what());
  } catch (const nlohmann::json::out_of_range& e) {
    throw json_number_error(text, file, e);
  }
}

nlohmann::json load_json(const fs::path& path) { return parse_json(read_text_file(path), path.string()); }

void save_json(const fs::path& path, const nlohmann::json& j, int indent) {
  // nlohmann formats doubles with its own locale-independent grisu2 code: '.' decimals, shortest round-trip.
  write_file_atomic(path, j.dump(indent) + "\n");
}

std::string to_hex(const unsigned char* d, unsigned n) {
  static const char* k = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (unsigned i = 0; i < n; ++i) {
    s[2 * i] = k[d[i] >> 4];
    s[2 * i + 1] = k[d[i] & 15];
  }
  return s;
}

#if GLAMM_MINIMAL_DEPS
std::string sha256_hex(const std::string&) {
  throw std::runtime_error("SHA-256 needs the full build (this device-check build has no OpenSSL)");
}
namespace {
std::string sha256_regular_file(const fs::path& path) {
  throw InputError(path.string(), "", "SHA-256 needs the full build (this device-check build has no OpenSSL)");
}
}  // namespace
#else
std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return to_hex(md, len);
}

namespace {

std::string sha256_regular_file(const fs::path& path) {
  // Mapped where the program allows it (enable_file_mapping): the digest reads the page cache, no copy.
  if (const MappedFile m = MappedFile::map(path, 0); !m.empty()) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(m.text().data(), m.text().size(), md, &len, EVP_sha256(), nullptr);
    return to_hex(md, len);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "", "cannot open file for checksum");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return to_hex(md, len);
}
}  // namespace
#endif

namespace {

struct PrefetchedDigest {
  std::shared_future<std::string> digest;
  std::uintmax_t size = 0;
  fs::file_time_type mtime;
};
std::mutex g_prefetch_mutex;
std::map<std::string, PrefetchedDigest>& prefetched_digests() {
  static auto* m = new std::map<std::string, PrefetchedDigest>();  // never freed (static-destruction order)
  return *m;
}

/// Size and modification time of a regular file; false when it is not one or cannot be inspected.
bool file_identity(const fs::path& path, std::uintmax_t& size, fs::file_time_type& mtime) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  size = fs::file_size(path, ec);
  if (ec) return false;
  mtime = fs::last_write_time(path, ec);
  return !ec;
}

}  // namespace

void wait_for_prefetched_sha256() {
  std::lock_guard<std::mutex> lock(g_prefetch_mutex);
  for (auto& [path, p] : prefetched_digests()) p.digest.wait();
}

void prefetch_sha256(const fs::path& path) {
  PrefetchedDigest p;
  if (!file_identity(path, p.size, p.mtime)) return;
  p.digest = std::async(std::launch::async, [path] { return sha256_regular_file(path); }).share();
  std::lock_guard<std::mutex> lock(g_prefetch_mutex);
  prefetched_digests()[path.string()] = std::move(p);
}

std::string sha256_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {  // a stream already consumed by read_file cannot be read again
    std::lock_guard<std::mutex> lock(g_stream_mutex);
    if (auto it = g_stream_sha256.find(path.string()); it != g_stream_sha256.end()) return it->second;
  }
  std::optional<PrefetchedDigest> p;
  {
    std::lock_guard<std::mutex> lock(g_prefetch_mutex);
    if (auto it = prefetched_digests().find(path.string()); it != prefetched_digests().end()) p = it->second;
  }
  std::uintmax_t size = 0;
  fs::file_time_type mtime;
  if (p && file_identity(path, size, mtime) && size == p->size && mtime == p->mtime) {
    try {
      return p->digest.get();
    } catch (...) {  // read again below, with the error that read gives
    }
  }
  return sha256_regular_file(path);
}

}  // namespace glamm::io
