// Safetensors reader (mmap + validation) and writer. See safetensors.h.
#include "common/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"

namespace glamm::safetensors {
namespace {

constexpr uint64_t kMaxHeader = 100u * 1000u * 1000u;  // the Rust crate's limit

/// Read-only private mapping of a whole file; unmapped on destruction.
struct Mapping {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data) munmap(const_cast<unsigned char*>(data), size);
  }
};

void map_file(const std::filesystem::path& path, Mapping& m) {
  const std::string file = path.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(file, "", std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(file, "", "not a regular file");
  }
  m.size = static_cast<std::size_t>(st.st_size);
  if (m.size > 0) {
    void* p = mmap(nullptr, m.size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw InputError(file, "", std::string("cannot memory-map: ") + std::strerror(e));
    }
    m.data = static_cast<const unsigned char*>(p);
  }
  ::close(fd);
}

uint64_t checked_numel(const std::vector<int64_t>& shape, const std::string& file, const std::string& name) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw InputError(file, name, "negative dimension in shape");
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d))
      throw InputError(file, name, "shape overflows");
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t k = 0; k < shape.size(); ++k) s += (k ? "," : "") + std::to_string(shape[k]);
  return s + "]";
}

}  // namespace

std::size_t dtype_size(std::string_view d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "U8" || d == "I8" || d == "BOOL" || d == "F8_E5M2" || d == "F8_E4M3") return 1;
  return 0;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

struct File::Impl {
  std::filesystem::path path;
  Mapping map;
  std::vector<TensorView> tensors;
  std::map<std::string, std::string> metadata;
  std::map<std::string, std::size_t, std::less<>> pos;  // name → position in tensors
};

File File::open(const std::filesystem::path& path) {
  auto impl = std::make_shared<Impl>();
  impl->path = path;
  const std::string file = path.string();
  map_file(path, impl->map);
  const unsigned char* base = impl->map.data;
  const std::size_t size = impl->map.size;
  if (size < 8) throw InputError(file, "", "truncated safetensors file: " + std::to_string(size) + " bytes, need 8 for the header length");
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | base[k];
  if (n > kMaxHeader) throw InputError(file, "", "safetensors header length " + std::to_string(n) + " exceeds 100 MB (not a safetensors file?)");
  if (n > size - 8)
    throw InputError(file, "", "truncated safetensors file: header needs " + std::to_string(n) + " bytes, file has " +
                                   std::to_string(size - 8) + " after the length");
  const char* hdr = reinterpret_cast<const char*>(base + 8);
  if (n == 0 || hdr[0] != '{') throw InputError(file, "", "safetensors header is not a JSON object");
  nlohmann::json h;
  io::check_json_depth(std::string_view(hdr, static_cast<std::size_t>(n)), file);
  try {
    h = nlohmann::json::parse(hdr, hdr + n);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, "", std::string("bad safetensors header JSON: ") + e.what());
  }
  if (!h.is_object()) throw InputError(file, "", "safetensors header is not a JSON object");

  const std::size_t data_start = 8 + static_cast<std::size_t>(n);
  const std::size_t data_len = size - data_start;
  for (auto it = h.begin(); it != h.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) throw InputError(file, name, "__metadata__ must be an object of strings");
      for (auto m = e.begin(); m != e.end(); ++m) {
        if (!m.value().is_string()) throw InputError(file, "__metadata__", "value of '" + m.key() + "' is not a string");
        impl->metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!e.is_object()) throw InputError(file, name, "header entry is not an object");
    TensorView t;
    t.name = name;
    auto d = e.find("dtype");
    if (d == e.end() || !d->is_string()) throw InputError(file, name, "missing dtype");
    t.dtype = d->get<std::string>();
    const std::size_t es = dtype_size(t.dtype);
    if (es == 0) throw InputError(file, name, "unknown dtype '" + t.dtype + "'");
    auto s = e.find("shape");
    if (s == e.end() || !s->is_array()) throw InputError(file, name, "missing shape");
    for (const auto& v : *s) {
      if (!v.is_number_integer()) throw InputError(file, name, "shape must hold integers");
      t.shape.push_back(v.get<int64_t>());
    }
    const uint64_t numel = checked_numel(t.shape, file, name);
    auto o = e.find("data_offsets");
    if (o == e.end() || !o->is_array() || o->size() != 2 || !(*o)[0].is_number_unsigned() ||
        !(*o)[1].is_number_unsigned())
      throw InputError(file, name, "data_offsets must be [begin, end] with non-negative integers");
    const uint64_t b = (*o)[0].get<uint64_t>(), en = (*o)[1].get<uint64_t>();
    if (en < b) throw InputError(file, name, "data_offsets end " + std::to_string(en) + " < begin " + std::to_string(b));
    if (numel > std::numeric_limits<uint64_t>::max() / es || numel * es != en - b)
      throw InputError(file, name,
                       "data_offsets span " + std::to_string(en - b) + " bytes but " + t.dtype + " " +
                           shape_text(t.shape) + " needs " + std::to_string(numel * es));
    if (en > data_len)
      throw InputError(file, name,
                       "data_offsets [" + std::to_string(b) + ", " + std::to_string(en) + ") run past the end of the data (" +
                           std::to_string(data_len) + " bytes; truncated file?)");
    t.offset = static_cast<std::size_t>(b);
    t.nbytes = static_cast<std::size_t>(en - b);
    t.data = base + data_start + t.offset;
    impl->tensors.push_back(std::move(t));
  }
  std::sort(impl->tensors.begin(), impl->tensors.end(), [](const TensorView& a, const TensorView& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.nbytes < b.nbytes;
  });
  std::size_t expect = 0;
  for (const TensorView& t : impl->tensors) {
    if (t.offset < expect)
      throw InputError(file, t.name, "data_offsets overlap the previous tensor (begin " + std::to_string(t.offset) +
                                         " < " + std::to_string(expect) + ")");
    if (t.offset > expect)
      throw InputError(file, t.name, "gap in the data section before this tensor (begin " + std::to_string(t.offset) +
                                         ", previous end " + std::to_string(expect) + ")");
    expect = t.offset + t.nbytes;
  }
  if (expect != data_len)
    throw InputError(file, "", "data section has " + std::to_string(data_len) + " bytes but the tensors cover " +
                                   std::to_string(expect) + " (trailing bytes)");
  for (std::size_t k = 0; k < impl->tensors.size(); ++k) impl->pos.emplace(impl->tensors[k].name, k);
  File f;
  f.impl_ = std::move(impl);
  return f;
}

const std::vector<TensorView>& File::tensors() const { return impl_->tensors; }

const TensorView* File::find(std::string_view name) const {
  auto it = impl_->pos.find(name);
  return it == impl_->pos.end() ? nullptr : &impl_->tensors[it->second];
}

const TensorView& File::at(std::string_view name) const {
  const TensorView* t = find(name);
  if (!t) throw InputError(impl_->path.string(), std::string(name), "no such tensor");
  return *t;
}

const std::map<std::string, std::string>& File::metadata() const { return impl_->metadata; }
const std::filesystem::path& File::path() const { return impl_->path; }

std::string serialize(const std::vector<TensorToWrite>& tensors, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    h["__metadata__"] = m;
  }
  std::set<std::string> seen;
  uint64_t off = 0;
  for (const TensorToWrite& t : tensors) {
    if (t.name == "__metadata__") throw InputError("", t.name, "reserved tensor name");
    if (!seen.insert(t.name).second) throw InputError("", t.name, "duplicate tensor name");
    const std::size_t es = dtype_size(t.dtype);
    if (es == 0) throw InputError("", t.name, "unknown dtype '" + t.dtype + "'");
    const uint64_t numel = checked_numel(t.shape, "", t.name);
    if (numel * es != t.bytes.size())
      throw InputError("", t.name, "has " + std::to_string(t.bytes.size()) + " bytes, " + t.dtype + " " +
                                       shape_text(t.shape) + " needs " + std::to_string(numel * es));
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
    off += t.bytes.size();
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + header.size() + off);
  uint64_t n = header.size();
  for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>((n >> (8 * k)) & 0xff));
  out += header;
  for (const TensorToWrite& t : tensors) out.append(t.bytes.data(), t.bytes.size());
  return out;
}

void write_file(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                const std::map<std::string, std::string>& metadata) {
  std::string bytes;
  try {
    bytes = serialize(tensors, metadata);
  } catch (const InputError& e) {
    throw e.with_file(path.string());
  }
  io::write_file_atomic(path, bytes);
}

}  // namespace glamm::safetensors
