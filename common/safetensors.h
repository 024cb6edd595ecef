// Safetensors files (Hugging Face format): reading by memory map with full validation, and a small writer.
// Layout: 8-byte little-endian header length N, N bytes of JSON header
// {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
// then the raw little-endian tensor data; offsets are relative to the start of the data section.
// Reference: the safetensors format description and the validation rules of the `safetensors` Rust crate
// (offsets contiguous from 0 to the end of the file, byte count = numel × dtype size). Spec: glamm-model.md §2.3.
// No torch here: tensors are exposed as byte spans; model/ turns them into tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace glamm::safetensors {

/// Bytes per element of a safetensors dtype string ("F32" → 4, "BF16" → 2, "I64" → 8, "BOOL" → 1, ...);
/// 0 for a string that is not a safetensors dtype.
std::size_t dtype_size(std::string_view dtype);

/// One tensor of an open file: name, dtype string as stored ("F32", "BF16", ...), shape, and its bytes
/// (a view into the memory map; valid while the File that produced it is alive).
struct TensorView {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  const unsigned char* data = nullptr;  ///< first byte (not necessarily aligned for the element type)
  std::size_t nbytes = 0;               ///< = numel × dtype_size(dtype)
  std::size_t offset = 0;               ///< data_offsets[0], relative to the data section

  /// Number of elements (product of the shape; 1 for a scalar).
  int64_t numel() const;
};

/// A memory-mapped, validated safetensors file. Cheap to copy (shares the mapping).
class File {
 public:
  /// Map and validate `path`. Throws InputError naming the file (and the tensor, when one entry is at fault)
  /// for: a missing/unreadable file, a file shorter than 8 bytes or than its header, a header that is not a
  /// JSON object (or exceeds 100 MB), an entry without a known dtype / non-negative integer shape /
  /// data_offsets [begin, end], a byte count that does not match shape × dtype size, offsets past the end of
  /// the file, overlapping tensors, and gaps or trailing bytes in the data section.
  static File open(const std::filesystem::path& path);

  /// Tensors in data order (ascending offset).
  const std::vector<TensorView>& tensors() const;
  /// The tensor called `name`, or nullptr.
  const TensorView* find(std::string_view name) const;
  /// The tensor called `name`; throws InputError(file, name, "no such tensor") when absent.
  const TensorView& at(std::string_view name) const;
  /// The `__metadata__` string map (empty when absent).
  const std::map<std::string, std::string>& metadata() const;
  const std::filesystem::path& path() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

/// One tensor to write: `bytes` must hold exactly numel(shape) × dtype_size(dtype) bytes, little-endian.
struct TensorToWrite {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::string_view bytes;
};

/// Serialise tensors (in the given order, data contiguous) and optional metadata into safetensors bytes; the
/// header is space-padded to a multiple of 8 as the Python library does. Throws InputError for an unknown dtype,
/// a negative dimension, a byte count that does not match, a duplicate name or the reserved name __metadata__.
std::string serialize(const std::vector<TensorToWrite>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

/// serialize() and write the result atomically to `path` (io::write_file_atomic).
void write_file(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                const std::map<std::string, std::string>& metadata = {});

}  // namespace glamm::safetensors
