#include "common/io.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "common/error.h"

namespace glamm::io {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "", std::string("cannot open file: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(path.string(), "", "read error");
  return ss.str();
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
// 1-based line of byte offset `pos`.
std::size_t line_of(std::string_view text, std::size_t pos) {
  pos = std::min(pos, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

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

nlohmann::json parse_json(std::string_view text, const std::string& file) {
  check_json_depth(text, file);
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(file, "", std::string("invalid JSON: ") + e.what());
  } catch (const nlohmann::json::out_of_range& e) {
    throw json_number_error(text, file, e);
  }
}

nlohmann::json load_json(const fs::path& path) { return parse_json(read_file(path), path.string()); }

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

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return to_hex(md, len);
}

std::string sha256_file(const fs::path& path) {
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

}  // namespace glamm::io
