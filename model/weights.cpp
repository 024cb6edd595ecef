// WeightStore: lazy, per-tensor reading of HF checkpoints (torch.save zip shards or safetensors). See weights.h.
#include "model/weights.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "common/safetensors.h"
#include "common/torch_zip.h"

namespace glamm::model {
namespace fs = std::filesystem;

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (std::size_t k = 0; k < s.size(); ++k) t += (k ? ", " : "") + std::to_string(s[k]);
  return t + "]";
}

namespace {

struct Entry {
  std::size_t file = 0;  // index into Impl::files
  std::vector<int64_t> shape;
  c10::ScalarType dtype = c10::ScalarType::Float;
  std::string dtype_name;
  int64_t nbytes = 0;
  pickle::TensorRef ref;                              // torch.save shards
  const safetensors::TensorView* view = nullptr;      // safetensors shards
};

c10::ScalarType from_pickle(pickle::StorageDtype d) {
  switch (d) {
    case pickle::StorageDtype::kFloat32: return c10::ScalarType::Float;
    case pickle::StorageDtype::kFloat64: return c10::ScalarType::Double;
    case pickle::StorageDtype::kFloat16: return c10::ScalarType::Half;
    case pickle::StorageDtype::kBFloat16: return c10::ScalarType::BFloat16;
    case pickle::StorageDtype::kInt64: return c10::ScalarType::Long;
    case pickle::StorageDtype::kInt32: return c10::ScalarType::Int;
    case pickle::StorageDtype::kInt16: return c10::ScalarType::Short;
    case pickle::StorageDtype::kInt8: return c10::ScalarType::Char;
    case pickle::StorageDtype::kUInt8: return c10::ScalarType::Byte;
    case pickle::StorageDtype::kBool: return c10::ScalarType::Bool;
  }
  return c10::ScalarType::Float;
}

bool from_safetensors(const std::string& d, c10::ScalarType* out, std::string* name) {
  static const std::map<std::string, std::pair<c10::ScalarType, const char*>> table = {
      {"F32", {c10::ScalarType::Float, "float32"}},   {"F16", {c10::ScalarType::Half, "float16"}},
      {"BF16", {c10::ScalarType::BFloat16, "bfloat16"}}, {"F64", {c10::ScalarType::Double, "float64"}},
      {"I64", {c10::ScalarType::Long, "int64"}},      {"I32", {c10::ScalarType::Int, "int32"}},
      {"I16", {c10::ScalarType::Short, "int16"}},     {"I8", {c10::ScalarType::Char, "int8"}},
      {"U8", {c10::ScalarType::Byte, "uint8"}},       {"BOOL", {c10::ScalarType::Bool, "bool"}}};
  auto it = table.find(d);
  if (it == table.end()) return false;
  *out = it->second.first;
  *name = it->second.second;
  return true;
}

int64_t numel_of(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

}  // namespace

struct WeightStore::Impl {
  fs::path path;
  std::vector<fs::path> files;
  std::vector<std::shared_ptr<torch_zip::Checkpoint>> zips;        // per file (null for safetensors)
  std::vector<std::shared_ptr<safetensors::File>> sts;             // per file (null for zips)
  std::map<std::string, Entry> entries;
  std::vector<std::string> ignore_patterns;
  mutable std::mutex mu;
  std::set<std::string> used;
  std::vector<std::string> missing;
  std::vector<std::string> mismatched;
  std::map<std::string, int64_t> loaded_bytes;

  void add_file(const fs::path& f) {
    if (!fs::exists(f)) throw InputError(f.string(), "", "checkpoint file is missing");
    const std::size_t idx = files.size();
    files.push_back(f);
    if (f.extension() == ".safetensors") {
      auto file = std::make_shared<safetensors::File>(safetensors::File::open(f));
      zips.push_back(nullptr);
      sts.push_back(file);
      for (const safetensors::TensorView& t : file->tensors()) {
        Entry e;
        e.file = idx;
        e.shape = t.shape;
        if (!from_safetensors(t.dtype, &e.dtype, &e.dtype_name))
          throw InputError(f.string(), t.name, "unsupported tensor dtype " + t.dtype);
        e.nbytes = static_cast<int64_t>(t.nbytes);
        e.view = &t;
        if (!entries.emplace(t.name, std::move(e)).second)
          throw InputError(f.string(), t.name, "tensor appears in more than one checkpoint file");
      }
    } else {
      auto ck = std::make_shared<torch_zip::Checkpoint>(torch_zip::Checkpoint::open(f));
      zips.push_back(ck);
      sts.push_back(nullptr);
      for (const torch_zip::NamedTensor& t : ck->state_dict()) {
        Entry e;
        e.file = idx;
        e.shape = t.ref.size;
        e.dtype = from_pickle(t.ref.dtype);
        e.dtype_name = pickle::dtype_name(t.ref.dtype);
        e.nbytes = numel_of(t.ref.size) * static_cast<int64_t>(pickle::dtype_size(t.ref.dtype));
        e.ref = t.ref;
        if (!entries.emplace(t.name, std::move(e)).second)
          throw InputError(f.string(), t.name, "tensor appears in more than one checkpoint file");
      }
    }
  }

  void add_index(const fs::path& index) {
    const nlohmann::json j = io::load_json(index);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw InputError(index.string(), "weight_map", "index file has no weight_map object");
    std::map<std::string, std::vector<std::string>> by_shard;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string()) throw InputError(index.string(), it.key(), "shard name is not a string");
      by_shard[it.value().get<std::string>()].push_back(it.key());
    }
    std::vector<std::string> missing_shards;
    for (const auto& [shard, _] : by_shard)
      if (!fs::exists(index.parent_path() / shard)) missing_shards.push_back(shard);
    if (!missing_shards.empty()) {
      std::string list;
      for (const auto& s : missing_shards) list += (list.empty() ? "" : ", ") + s;
      throw InputError(index.string(), "", "shard file(s) named by the index are missing: " + list);
    }
    for (const auto& [shard, names] : by_shard) {
      add_file(index.parent_path() / shard);
      for (const std::string& n : names) {
        auto e = entries.find(n);
        if (e == entries.end() || files[e->second.file] != index.parent_path() / shard)
          throw InputError(index.string(), n, "the index places this tensor in " + shard + ", which does not hold it");
      }
    }
  }

  bool ignored(const std::string& name) const {
    for (const std::string& p : ignore_patterns) {
      if (!p.empty() && p.back() == '*') {
        if (name.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) return true;
      } else if (name == p) {
        return true;
      }
    }
    return false;
  }

  at::Tensor read(const std::string& name, const Entry& e) {
    at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.dtype));
    if (e.view) {
      if (e.view->nbytes != t.nbytes())
        throw InputError(files[e.file].string(), name, "byte count does not match shape and dtype");
      if (e.view->nbytes) std::memcpy(t.data_ptr(), e.view->data, e.view->nbytes);
    } else {
      const std::string bytes = zips[e.file]->tensor_bytes(e.ref, name);
      if (bytes.size() != t.nbytes())
        throw InputError(files[e.file].string(), name, "byte count does not match shape and dtype");
      if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
    }
    std::lock_guard<std::mutex> lock(mu);
    loaded_bytes[e.dtype_name] += e.nbytes;
    return t;
  }
};

WeightStore WeightStore::open(const fs::path& path) {
  WeightStore ws;
  ws.impl_ = std::make_shared<Impl>();
  Impl& m = *ws.impl_;
  m.path = path;
  if (!fs::exists(path)) throw InputError(path.string(), "", "checkpoint folder or file does not exist");
  if (fs::is_directory(path)) {
    const fs::path candidates_index[] = {path / "model.safetensors.index.json", path / "pytorch_model.bin.index.json"};
    const fs::path candidates_single[] = {path / "model.safetensors", path / "pytorch_model.bin"};
    bool done = false;
    for (const fs::path& c : candidates_index)
      if (!done && fs::exists(c)) { m.add_index(c); done = true; }
    for (const fs::path& c : candidates_single)
      if (!done && fs::exists(c)) { m.add_file(c); done = true; }
    if (!done)
      throw InputError(path.string(), "",
                       "no checkpoint found (expected model.safetensors[.index.json] or pytorch_model.bin[.index.json])");
  } else {
    if (path.string().size() > 11 && path.string().rfind(".index.json") == path.string().size() - 11)
      m.add_index(path);
    else
      m.add_file(path);
  }
  return ws;
}

std::vector<std::string> WeightStore::names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : impl_->entries) out.push_back(n);
  return out;
}

bool WeightStore::contains(const std::string& name) const { return impl_->entries.count(name) != 0; }

std::vector<int64_t> WeightStore::shape(const std::string& name) const {
  auto it = impl_->entries.find(name);
  if (it == impl_->entries.end()) throw InputError(impl_->path.string(), name, "no such tensor in the checkpoint");
  return it->second.shape;
}

at::Tensor WeightStore::get(const std::string& name, const std::vector<int64_t>& expected_shape) {
  auto it = impl_->entries.find(name);
  if (it == impl_->entries.end()) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->missing.push_back(expected_shape.empty() ? name : name + " " + shape_text(expected_shape));
    return at::Tensor();
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->used.insert(name);
    if (!expected_shape.empty() && expected_shape != it->second.shape)
      impl_->mismatched.push_back(name + ": expected " + shape_text(expected_shape) + ", stored " +
                                  shape_text(it->second.shape));
  }
  return impl_->read(name, it->second);
}

at::Tensor WeightStore::get_f32(const std::string& name, const std::vector<int64_t>& expected_shape) {
  at::Tensor t = get(name, expected_shape);
  return t.defined() ? as_dtype(t, c10::ScalarType::Float) : t;
}

at::Tensor WeightStore::get_optional(const std::string& name, const std::vector<int64_t>& expected_shape) {
  if (!contains(name)) return at::Tensor();
  return get(name, expected_shape);
}

void WeightStore::ignore(const std::vector<std::string>& patterns) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ignore_patterns.insert(impl_->ignore_patterns.end(), patterns.begin(), patterns.end());
}

void WeightStore::finish(const std::vector<std::string>& owned_prefixes) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<std::string> unexpected;
  for (const auto& [n, _] : impl_->entries) {
    if (impl_->used.count(n) || impl_->ignored(n)) continue;
    bool owned = owned_prefixes.empty();
    for (const std::string& p : owned_prefixes) owned = owned || n.compare(0, p.size(), p) == 0;
    if (owned) unexpected.push_back(n + " " + shape_text(impl_->entries.at(n).shape));
  }
  if (impl_->missing.empty() && impl_->mismatched.empty() && unexpected.empty()) return;
  std::string msg = "checkpoint does not match the model:";
  auto section = [&](const char* title, const std::vector<std::string>& items) {
    if (items.empty()) return;
    msg += std::string("\n  ") + title + " (" + std::to_string(items.size()) + "):";
    const std::size_t shown = std::min<std::size_t>(items.size(), 40);
    for (std::size_t k = 0; k < shown; ++k) msg += "\n    " + items[k];
    if (items.size() > shown) msg += "\n    ... and " + std::to_string(items.size() - shown) + " more";
  };
  section("missing keys", impl_->missing);
  section("shape mismatches", impl_->mismatched);
  section("unexpected keys", unexpected);
  throw InputError(impl_->path.string(), "", msg);
}

std::map<std::string, int64_t> WeightStore::bytes_by_dtype() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->loaded_bytes;
}

int64_t WeightStore::bytes_loaded() const {
  int64_t n = 0;
  for (const auto& [_, b] : bytes_by_dtype()) n += b;
  return n;
}

int64_t WeightStore::bytes_total() const {
  int64_t n = 0;
  for (const auto& [_, e] : impl_->entries) n += e.nbytes;
  return n;
}

const fs::path& WeightStore::path() const { return impl_->path; }
std::vector<fs::path> WeightStore::files() const { return impl_->files; }

bool switch_to_bf16(c10::ScalarType requested, bool is_bf16, const std::string& component) {
  if (requested != at::kFloat && requested != at::kBFloat16)
    throw std::invalid_argument(component + " compute dtype must be fp32 or bf16, got " + c10::toString(requested));
  if ((requested == at::kBFloat16) == is_bf16) return false;
  if (is_bf16) throw std::invalid_argument(component + ": bf16 weights cannot go back to fp32 mode");
  return true;
}

at::Tensor as_dtype(const at::Tensor& w, c10::ScalarType dtype) {
  if (w.scalar_type() == dtype) return w;
  if (dtype == at::kFloat && w.scalar_type() == at::kBFloat16 && w.is_contiguous() && w.is_cpu()) {
    // bf16 → fp32 is exact: the 16 bits become the high half of the float. libtorch 1.13's generic copy kernel
    // converts bf16 at only ~0.1 G elements/s on a 2-core CPU, ten times slower than the GEMV that follows.
    at::Tensor out = at::empty(w.sizes(), w.options().dtype(at::kFloat));
    const auto* src = reinterpret_cast<const uint16_t*>(w.data_ptr());
    auto* dst = reinterpret_cast<uint32_t*>(out.data_ptr());
    at::parallel_for(0, w.numel(), int64_t{1} << 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) dst[i] = static_cast<uint32_t>(src[i]) << 16;
    });
    return out;
  }
  return w.to(dtype);
}

}  // namespace glamm::model
