// Torch zip checkpoint reader. See torch_zip.h.
#include "common/torch_zip.h"

#if !GLAMM_MINIMAL_DEPS
#include <zip.h>
#include <zlib.h>
#endif

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>

#include "common/error.h"

namespace glamm::torch_zip {

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

#if GLAMM_MINIMAL_DEPS
// The GPU device-check build (bench/device_check) has no libzip: it reads safetensors checkpoints only.
struct Checkpoint::Impl {};

Checkpoint Checkpoint::open(const std::filesystem::path& path) {
  throw InputError(path.string(), "",
                   "torch.save (.bin) checkpoints need the full build (this device-check build reads safetensors only; "
                   "bench/device_check/prepare.sh converts them)");
}
const pickle::Value& Checkpoint::root() const { throw std::logic_error("torch_zip: no archive in this build"); }
std::vector<NamedTensor> Checkpoint::state_dict() const { throw std::logic_error("torch_zip: no archive in this build"); }
std::string Checkpoint::read_storage(const std::string&) const {
  throw std::logic_error("torch_zip: no archive in this build");
}
std::string Checkpoint::tensor_bytes(const pickle::TensorRef&, const std::string&) const {
  throw std::logic_error("torch_zip: no archive in this build");
}
const std::filesystem::path& Checkpoint::path() const { throw std::logic_error("torch_zip: no archive in this build"); }
const std::string& Checkpoint::stem() const { throw std::logic_error("torch_zip: no archive in this build"); }
#else

struct Checkpoint::Impl {
  std::filesystem::path path;
  std::string file;  // path as text, for messages
  std::string stem;
  zip_t* z = nullptr;
  pickle::ValuePtr root;
  std::mutex mu;

  ~Impl() {
    if (z) zip_discard(z);
  }

  /// Read entry `name` completely. Returns false when the entry does not exist.
  bool read_entry(const std::string& name, const std::string& record, std::string& out) {
    std::lock_guard<std::mutex> lock(mu);
    const zip_int64_t idx = zip_name_locate(z, name.c_str(), 0);
    if (idx < 0) return false;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(idx), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      throw InputError(file, record, "cannot stat zip entry " + name + " (" + zip_strerror(z) + ")");
    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(idx), 0);
    if (!f) throw InputError(file, record, "cannot open zip entry " + name + " (" + zip_strerror(z) + ")");
    out.resize(static_cast<std::size_t>(st.size));
    zip_uint64_t done = 0;
    while (done < st.size) {
      const zip_int64_t got = zip_fread(f, out.data() + done, st.size - done);
      if (got <= 0) break;
      done += static_cast<zip_uint64_t>(got);
    }
    const std::string ferr = zip_file_strerror(f);
    zip_fclose(f);
    if (done != st.size)
      throw InputError(file, record,
                       "zip entry " + name + " is truncated or corrupt: read " + std::to_string(done) + " of " +
                           std::to_string(st.size) + " bytes (" + ferr + ")");
    if (st.valid & ZIP_STAT_CRC) {
      // libzip verifies the CRC only on a read past the end, which the loop above never makes: check it here, so
      // a shard damaged in place (same size) is an error, not silently different weights.
      uLong crc = crc32(0L, Z_NULL, 0);
      for (std::size_t at = 0; at < out.size();) {
        const std::size_t n = std::min<std::size_t>(out.size() - at, std::size_t{1} << 30);
        crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + at), static_cast<uInt>(n));
        at += n;
      }
      if (static_cast<zip_uint32_t>(crc) != st.crc)
        throw InputError(file, record,
                         "zip entry " + name + " is corrupt: its CRC-32 does not match the archive's (damaged or "
                         "partly overwritten file; download it again)");
    }
    return true;
  }
};

Checkpoint Checkpoint::open(const std::filesystem::path& path) {
  auto impl = std::make_shared<Impl>();
  impl->path = path;
  impl->file = path.string();
  const std::string& file = impl->file;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(file, "", "no such file");
  int err = 0;
  impl->z = zip_open(file.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!impl->z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    const std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    throw InputError(file, "",
                     "cannot open as a torch.save zip archive (" + msg +
                         "); truncated download, or a legacy (pre-1.6, non-zip) checkpoint?");
  }
  const zip_int64_t n = zip_get_num_entries(impl->z, 0);
  std::string pkl;
  for (zip_int64_t k = 0; k < n; ++k) {
    const char* nm = zip_get_name(impl->z, static_cast<zip_uint64_t>(k), 0);
    if (!nm) continue;
    const std::string name(nm);
    const std::string tail = "/data.pkl";
    const bool match = name == "data.pkl" ||
                       (name.size() > tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0 &&
                        name.find('/') == name.size() - tail.size());
    if (!match) continue;
    if (!pkl.empty()) throw InputError(file, "", "several data.pkl entries (" + pkl + ", " + name + ")");
    pkl = name;
  }
  if (pkl.empty()) throw InputError(file, "", "no <stem>/data.pkl entry: not a torch.save archive");
  impl->stem = pkl == "data.pkl" ? "" : pkl.substr(0, pkl.size() - std::strlen("/data.pkl"));
  const std::string prefix = impl->stem.empty() ? "" : impl->stem + "/";

  std::string byteorder;
  if (impl->read_entry(prefix + "byteorder", "byteorder", byteorder) && byteorder != "little")
    throw InputError(file, "byteorder", "archive byte order is '" + byteorder + "'; only little-endian is supported");

  std::string data;
  impl->read_entry(pkl, "data.pkl", data);
  try {
    impl->root = pickle::loads(data);
  } catch (const pickle::PickleError& e) {
    throw InputError(file, pkl, e.what());
  }
  Checkpoint c;
  c.impl_ = std::move(impl);
  return c;
}

const pickle::Value& Checkpoint::root() const { return *impl_->root; }
const std::filesystem::path& Checkpoint::path() const { return impl_->path; }
const std::string& Checkpoint::stem() const { return impl_->stem; }

std::vector<NamedTensor> Checkpoint::state_dict() const {
  const pickle::Value& r = *impl_->root;
  if (r.kind != pickle::Value::Kind::kDict)
    throw InputError(impl_->file, "data.pkl", "top-level object is a " + r.describe() + ", not a state dict");
  std::vector<NamedTensor> out;
  for (const auto& [k, v] : r.dict) {
    if (v->kind != pickle::Value::Kind::kTensor) continue;
    if (!k->is_str()) throw InputError(impl_->file, "data.pkl", "state dict key is a " + k->describe() + ", not text");
    out.push_back({k->s, v->tensor});
  }
  return out;
}

std::string Checkpoint::read_storage(const std::string& key) const {
  std::string out;
  const std::string entry = (impl_->stem.empty() ? "" : impl_->stem + "/") + "data/" + key;
  if (!impl_->read_entry(entry, key, out))
    throw InputError(impl_->file, key, "storage entry " + entry + " is missing from the archive");
  return out;
}

std::string Checkpoint::tensor_bytes(const pickle::TensorRef& t, const std::string& name) const {
  const std::string rec = name.empty() ? "storage " + t.storage_key : name;
  const std::string& file = impl_->file;
  const std::size_t es = pickle::dtype_size(t.dtype);
  if (t.size.size() != t.stride.size()) throw InputError(file, rec, "size and stride differ in length");
  if (t.offset < 0 || t.storage_numel < 0) throw InputError(file, rec, "negative storage offset or size");
  int64_t count = 1, last = t.offset;  // last: highest element index the view touches
  for (std::size_t d = 0; d < t.size.size(); ++d) {
    if (t.size[d] < 0 || t.stride[d] < 0) throw InputError(file, rec, "negative size or stride");
    if (t.size[d] == 0) count = 0;
  }
  if (count != 0) {
    for (std::size_t d = 0; d < t.size.size(); ++d) {
      if (t.size[d] > 1 && t.stride[d] > (std::numeric_limits<int64_t>::max() - last) / (t.size[d] - 1))
        throw InputError(file, rec, "view overflows");
      last += (t.size[d] - 1) * t.stride[d];
      if (count > std::numeric_limits<int64_t>::max() / t.size[d]) throw InputError(file, rec, "view overflows");
      count *= t.size[d];
    }
    if (last >= t.storage_numel)
      throw InputError(file, rec,
                       "storage " + t.storage_key + " of " + std::to_string(t.storage_numel) +
                           " elements is too small for the view (offset " + std::to_string(t.offset) +
                           ", reaches element " + std::to_string(last) + ")");
  }
  std::string storage;
  try {
    storage = read_storage(t.storage_key);
  } catch (const InputError& e) {
    throw InputError(file, rec, e.message());
  }
  if (storage.size() < static_cast<std::size_t>(t.storage_numel) * es)
    throw InputError(file, rec,
                     "storage " + t.storage_key + " holds " + std::to_string(storage.size()) + " bytes, less than " +
                         std::to_string(t.storage_numel) + " × " + std::to_string(es));
  std::string out(static_cast<std::size_t>(count) * es, '\0');
  if (count == 0) return out;

  // Contiguous fast path: row-major strides.
  bool contiguous = true;
  int64_t expect = 1;
  for (std::size_t d = t.size.size(); d-- > 0;) {
    if (t.size[d] != 1 && t.stride[d] != expect) contiguous = false;
    expect *= t.size[d];
  }
  if (contiguous) {
    std::memcpy(out.data(), storage.data() + static_cast<std::size_t>(t.offset) * es, out.size());
    return out;
  }
  // General gather: odometer over the index space.
  const std::size_t nd = t.size.size();
  std::vector<int64_t> idx(nd, 0);
  int64_t src = t.offset;
  for (int64_t k = 0; k < count; ++k) {
    std::memcpy(out.data() + static_cast<std::size_t>(k) * es, storage.data() + static_cast<std::size_t>(src) * es, es);
    for (std::size_t d = nd; d-- > 0;) {
      if (++idx[d] < t.size[d]) {
        src += t.stride[d];
        break;
      }
      src -= (t.size[d] - 1) * t.stride[d];
      idx[d] = 0;
    }
  }
  return out;
}

#endif  // GLAMM_MINIMAL_DEPS

}  // namespace glamm::torch_zip
