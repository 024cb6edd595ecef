// A safe Python unpickler: protocols 0–5, data opcodes only, plus the few globals torch.save writes. Nothing is
// executed; any other global, extension code or out-of-band buffer is rejected with a clear error.
// Used for torch checkpoints (state dicts in zip archives: data.pkl) and the REFER dataset pickles (refs(*).p).
// Reference: CPython Lib/pickle.py / pickletools.py opcode semantics; torch/serialization.py for the torch.save
// layout (spec glamm-model.md §2.3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glamm::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

/// Element types of torch storages that torch.save writes (`torch.<Name>Storage`).
enum class StorageDtype { kFloat32, kFloat64, kFloat16, kBFloat16, kInt64, kInt32, kInt16, kInt8, kUInt8, kBool };

/// Size of one element in bytes.
std::size_t dtype_size(StorageDtype d);
/// "float32", "bfloat16", ... (torch names without the prefix).
const char* dtype_name(StorageDtype d);

/// A tensor as torch._utils._rebuild_tensor_v2 describes it: a view into a storage held by the archive.
struct TensorRef {
  std::string storage_key;  ///< archive entry `<stem>/data/<key>`
  StorageDtype dtype = StorageDtype::kFloat32;
  std::string location;             ///< e.g. "cpu", "cuda:0" (informative)
  int64_t storage_numel = 0;        ///< elements in the whole storage
  int64_t offset = 0;               ///< storage_offset, in elements
  std::vector<int64_t> size;        ///< shape
  std::vector<int64_t> stride;      ///< strides in elements
};

/// A decoded Python value. Containers hold shared pointers because pickles may reference one object twice
/// (the memo), and lists/dicts are filled after they were memoized.
struct Value {
  Value() = default;
  Value(const Value&) = default;
  Value(Value&&) = default;
  Value& operator=(const Value&) = default;
  Value& operator=(Value&&) = default;
  /// Frees the children iteratively (an explicit stack instead of nested destructors), so that freeing a deep
  /// tree cannot overflow the call stack.
  ~Value();

  enum class Kind { kNone, kBool, kInt, kFloat, kStr, kBytes, kList, kTuple, kDict, kSet, kGlobal, kTensor, kStorage };
  Kind kind = Kind::kNone;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;  ///< kStr: UTF-8 text; kBytes: raw bytes; kGlobal: "module.name"
  std::vector<ValuePtr> items;                       ///< kList, kTuple, kSet
  std::vector<std::pair<ValuePtr, ValuePtr>> dict;   ///< kDict entries in insertion order (keys unique)
  std::vector<std::pair<ValuePtr, ValuePtr>> attrs;  ///< kDict: attributes set by BUILD (e.g. state_dict _metadata)
  TensorRef tensor;                                  ///< kTensor, kStorage (storage: key/dtype/location/numel)
  bool py2_str = false;  ///< kStr/kBytes that came from a protocol-0/1/2 `str` (Python 2 byte string)

  bool is_str() const { return kind == Kind::kStr; }
  /// Text of a kStr, or of kBytes (Python 2 pickles store text as byte strings). Throws PickleError otherwise.
  const std::string& text() const;
  /// Integer value of kInt/kBool. Throws PickleError otherwise.
  int64_t as_int() const;
  /// Numeric value of kInt/kFloat/kBool. Throws PickleError otherwise.
  double as_number() const;
  /// The dict entry whose key is the text `key`, or nullptr. Only for kDict.
  const Value* get(std::string_view key) const;
  /// Short description for error messages ("dict", "list of 3", ...).
  std::string describe() const;
};

/// A malformed or disallowed pickle. what() names the opcode and byte offset.
class PickleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Deepest container nesting loads() accepts (a list holding a list ... : 1 level per container). Real REFER
/// pickles nest 4 levels and torch state dicts about 5; the cap only refuses hostile files (docs/input-rules.md).
inline constexpr std::size_t kMaxDepth = 10000;

/// Decode one pickle (up to its STOP opcode). Allowed globals: collections.OrderedDict,
/// torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter (requires_grad dropped) and the storage
/// classes torch.{Float,Double,Half,BFloat16,Long,Int,Short,Char,Byte,Bool}Storage (only inside persistent ids),
/// the set constructors `__builtin__.set` / `builtins.set` / `frozenset` (protocol-2 sets), and
/// `_codecs.encode(text, 'latin1')` (how Python 3 writes bytes in protocols 0–2). Persistent ids
/// must be torch storage tuples `('storage', StorageClass, key, location, numel)`. Throws PickleError, also for
/// containers nested deeper than kMaxDepth and for a container that holds itself (a reference cycle).
/// Decoding and freeing are iterative: no input depth can overflow the call stack.
ValuePtr loads(std::string_view data);

}  // namespace glamm::pickle
