// Torch checkpoints in the zip format of torch.save (PyTorch ≥ 1.6): `<stem>/data.pkl` holds the pickled object
// (a state dict) whose tensors point at storages stored as entries `<stem>/data/<key>`; `<stem>/byteorder`
// (optional) says "little". The pickle is decoded by the safe unpickler (common/pickle.h); storages are read on
// demand. No torch here: tensors come out as dense row-major bytes.
// Reference: torch/serialization.py (_save / _load, zip layout) and torch._utils._rebuild_tensor_v2 for the
// storage/offset/size/stride view. Spec: glamm-model.md §2.3 (why libtorch's own pickle_load is not used).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/pickle.h"

namespace glamm::torch_zip {

/// One named tensor of a state dict.
struct NamedTensor {
  std::string name;
  pickle::TensorRef ref;
};

/// An open torch.save zip archive. Thread-safe for concurrent reads (one internal lock around the zip handle).
class Checkpoint {
 public:
  /// Open `path`, locate `<stem>/data.pkl` (the single entry ending in "/data.pkl") and unpickle it.
  /// Throws InputError naming the file for: a missing or unreadable file, a file that is not a zip archive or is
  /// truncated (broken central directory), no or several data.pkl entries, a big-endian archive, and a pickle the
  /// safe unpickler rejects (the message carries the unpickler's reason).
  static Checkpoint open(const std::filesystem::path& path);

  /// The unpickled object (usually a dict / OrderedDict of tensors).
  const pickle::Value& root() const;

  /// The tensors of a state dict: the entries of the root dict whose values are tensors, in pickle order
  /// (keys must be text). Throws InputError when the root is not a dict.
  std::vector<NamedTensor> state_dict() const;

  /// The raw bytes of storage `<stem>/data/<key>`. Throws InputError(file, key) when the entry is missing or
  /// cannot be read completely.
  std::string read_storage(const std::string& key) const;

  /// The dense, row-major (C-contiguous) bytes of `t`: numel × dtype_size bytes gathered from its storage through
  /// offset and strides. Throws InputError(file, name) when the storage entry is missing, holds fewer bytes than
  /// storage_numel × dtype size, or is too small for the view (offset + Σ (size_i − 1)·stride_i ≥ numel), or when a
  /// size or stride is negative.
  std::string tensor_bytes(const pickle::TensorRef& t, const std::string& name = "") const;

  const std::filesystem::path& path() const;
  /// The folder prefix of the archive's entries (e.g. "archive" or "pytorch_model").
  const std::string& stem() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Number of elements of a shape (1 for a scalar).
int64_t numel(const std::vector<int64_t>& shape);

}  // namespace glamm::torch_zip
