// Named weights of a checkpoint as libtorch tensors, in the dtype they are stored in (bf16, fp32, ...).
// Sources: a Hugging Face model folder (`pytorch_model.bin.index.json` + torch.save zip shards,
// `model.safetensors.index.json` + safetensors shards, or a single `pytorch_model.bin` / `model.safetensors`),
// or one such file. torch.save archives are read with the project's safe unpickler (common/torch_zip.h), never
// with libtorch's pickle_load (which rejects a top-level OrderedDict, spec glamm-model.md §2.3).
// Loading is lazy and per tensor: a shard is opened once, each tensor is read when asked for, so at most one
// tensor is held twice at any time and a 7B checkpoint never needs two copies in memory.
// Problems (missing key, wrong shape) are collected, not thrown one by one: a component asks for all of its
// parameters, then finish() reports every missing, mis-shaped and unexpected key at once.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace glamm::model {

/// Shape as "[a, b, c]" (for messages).
std::string shape_text(const std::vector<int64_t>& shape);

class WeightStore {
 public:
  /// Open `path`: a folder (index files are preferred over single files, safetensors over .bin when both are
  /// complete) or a single `.bin` / `.safetensors` file. Every shard named by an index must exist: a missing or
  /// unreadable shard, a truncated archive, a pickle the safe unpickler rejects, or an index whose tensors are
  /// not in their shard throws InputError naming the file. Tensor dtypes supported: F32, F16, BF16, F64, I64,
  /// I32, U8, BOOL.
  static WeightStore open(const std::filesystem::path& path);

  /// Every tensor name, sorted.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  /// Stored shape of `name`; throws InputError when absent.
  std::vector<int64_t> shape(const std::string& name) const;

  /// The tensor `name` (CPU, contiguous, stored dtype), marked as used. If `expected_shape` is non-empty and
  /// differs, the mismatch is recorded (reported by finish()) and the tensor is still returned. A missing name
  /// is recorded and an undefined tensor is returned: callers must not compute before finish() succeeded.
  at::Tensor get(const std::string& name, const std::vector<int64_t>& expected_shape = {});
  /// get() then converted to float32 (for small tensors the compute code wants in fp32 right away).
  at::Tensor get_f32(const std::string& name, const std::vector<int64_t>& expected_shape = {});
  /// get() when present, else an undefined tensor without recording a problem (optional parameters).
  at::Tensor get_optional(const std::string& name, const std::vector<int64_t>& expected_shape = {});

  /// Mark names as deliberately ignored (e.g. "model.layers.0.self_attn.rotary_emb.inv_freq").
  /// A name ending in '*' is a prefix pattern ("text_model.*").
  void ignore(const std::vector<std::string>& patterns);

  /// Throws InputError naming the checkpoint that lists every missing key, every shape mismatch (expected vs
  /// stored) and every key under one of `owned_prefixes` that nobody asked for and that is not ignored
  /// (unexpected). With an empty `owned_prefixes`, every unused key counts as unexpected.
  void finish(const std::vector<std::string>& owned_prefixes = {}) const;

  /// Bytes of tensor data read so far, per stored dtype name ("bfloat16", "float32", ...), and in total.
  std::map<std::string, int64_t> bytes_by_dtype() const;
  int64_t bytes_loaded() const;
  /// Bytes of all tensors in the checkpoint (read or not) — what a full load would need.
  int64_t bytes_total() const;

  /// The folder or file that was opened, and the data files (shards) behind it.
  const std::filesystem::path& path() const;
  std::vector<std::filesystem::path> files() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// `w` in `dtype` (no copy when it already is): weights stay in their stored dtype (bf16 for the real LLM) and
/// are up-cast per use, as glamm-model.md §6.1 recommends.
at::Tensor as_dtype(const at::Tensor& w, c10::ScalarType dtype);

/// The check every component's set_compute_dtype makes: `requested` must be at::kFloat or at::kBFloat16, and a
/// component already in bf16 cannot go back to fp32 (its fp32 weights are gone). Returns true when the component
/// must convert its weights to bf16 now, false when it is already in the requested dtype. Throws
/// std::invalid_argument naming `component` otherwise.
bool switch_to_bf16(c10::ScalarType requested, bool is_bf16, const std::string& component);

}  // namespace glamm::model
