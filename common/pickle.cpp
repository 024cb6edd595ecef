#include "common/pickle.h"
#include "common/utf8.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace glamm::pickle {

std::size_t dtype_size(StorageDtype d) {
  switch (d) {
    case StorageDtype::kFloat64:
    case StorageDtype::kInt64: return 8;
    case StorageDtype::kFloat32:
    case StorageDtype::kInt32: return 4;
    case StorageDtype::kFloat16:
    case StorageDtype::kBFloat16:
    case StorageDtype::kInt16: return 2;
    case StorageDtype::kInt8:
    case StorageDtype::kUInt8:
    case StorageDtype::kBool: return 1;
  }
  return 1;
}

const char* dtype_name(StorageDtype d) {
  switch (d) {
    case StorageDtype::kFloat32: return "float32";
    case StorageDtype::kFloat64: return "float64";
    case StorageDtype::kFloat16: return "float16";
    case StorageDtype::kBFloat16: return "bfloat16";
    case StorageDtype::kInt64: return "int64";
    case StorageDtype::kInt32: return "int32";
    case StorageDtype::kInt16: return "int16";
    case StorageDtype::kInt8: return "int8";
    case StorageDtype::kUInt8: return "uint8";
    case StorageDtype::kBool: return "bool";
  }
  return "?";
}

namespace {
// Moves every child pointer of `v` to `out` and leaves v without children.
void take_children(Value& v, std::vector<ValuePtr>& out) {
  for (auto& x : v.items) out.push_back(std::move(x));
  for (auto& [k, x] : v.dict) {
    out.push_back(std::move(k));
    out.push_back(std::move(x));
  }
  for (auto& [k, x] : v.attrs) {
    out.push_back(std::move(k));
    out.push_back(std::move(x));
  }
  v.items.clear();
  v.dict.clear();
  v.attrs.clear();
}
}  // namespace

Value::~Value() {
  if (items.empty() && dict.empty() && attrs.empty()) return;
  // A child whose last owner we are gets its own children moved here before it is freed, so its destructor
  // returns at once: the nesting depth costs heap memory, never call-stack frames.
  std::vector<ValuePtr> pending;
  take_children(*this, pending);
  while (!pending.empty()) {
    ValuePtr p = std::move(pending.back());
    pending.pop_back();
    if (p && p.use_count() == 1) take_children(*p, pending);
  }
}

const std::string& Value::text() const {
  if (kind == Kind::kStr || kind == Kind::kBytes) return s;
  throw PickleError("expected a string, got " + describe());
}

int64_t Value::as_int() const {
  if (kind == Kind::kInt) return i;
  if (kind == Kind::kBool) return b ? 1 : 0;
  throw PickleError("expected an integer, got " + describe());
}

double Value::as_number() const {
  if (kind == Kind::kFloat) return f;
  if (kind == Kind::kInt) return static_cast<double>(i);
  if (kind == Kind::kBool) return b ? 1.0 : 0.0;
  throw PickleError("expected a number, got " + describe());
}

const Value* Value::get(std::string_view key) const {
  if (kind != Kind::kDict) return nullptr;
  for (const auto& [k, v] : dict)
    if ((k->kind == Kind::kStr || k->kind == Kind::kBytes) && k->s == key) return v.get();
  return nullptr;
}

std::string Value::describe() const {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kStr: return "str";
    case Kind::kBytes: return "bytes";
    case Kind::kList: return "list of " + std::to_string(items.size());
    case Kind::kTuple: return "tuple of " + std::to_string(items.size());
    case Kind::kDict: return "dict of " + std::to_string(dict.size());
    case Kind::kSet: return "set of " + std::to_string(items.size());
    case Kind::kGlobal: return "global " + s;
    case Kind::kTensor: return "tensor";
    case Kind::kStorage: return "storage";
  }
  return "?";
}

namespace {

using Kind = Value::Kind;

ValuePtr make(Kind k) {
  auto v = std::make_shared<Value>();
  v->kind = k;
  return v;
}
ValuePtr make_int(int64_t x) {
  auto v = make(Kind::kInt);
  v->i = x;
  return v;
}
ValuePtr make_str(std::string s, Kind k = Kind::kStr, bool py2 = false) {
  auto v = make(k);
  v->s = std::move(s);
  v->py2_str = py2;
  return v;
}

bool storage_dtype(const std::string& name, StorageDtype* out) {
  static const std::unordered_map<std::string, StorageDtype> m = {
      {"torch.FloatStorage", StorageDtype::kFloat32},  {"torch.DoubleStorage", StorageDtype::kFloat64},
      {"torch.HalfStorage", StorageDtype::kFloat16},   {"torch.BFloat16Storage", StorageDtype::kBFloat16},
      {"torch.LongStorage", StorageDtype::kInt64},     {"torch.IntStorage", StorageDtype::kInt32},
      {"torch.ShortStorage", StorageDtype::kInt16},    {"torch.CharStorage", StorageDtype::kInt8},
      {"torch.ByteStorage", StorageDtype::kUInt8},     {"torch.BoolStorage", StorageDtype::kBool}};
  auto it = m.find(name);
  if (it == m.end()) return false;
  *out = it->second;
  return true;
}

bool allowed_global(const std::string& name) {
  StorageDtype d;
  return name == "collections.OrderedDict" || name == "torch._utils._rebuild_tensor_v2" ||
         name == "torch._utils._rebuild_parameter" || name == "__builtin__.set" || name == "builtins.set" ||
         name == "__builtin__.frozenset" || name == "builtins.frozenset" || name == "_codecs.encode" ||
         storage_dtype(name, &d);
}

class Unpickler {
 public:
  explicit Unpickler(std::string_view d) : d_(d) {}
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  // A reference cycle (a container reachable from itself: a list appended to itself through DUP or the memo)
  // keeps its shared pointers alive after the last outside owner is gone. So every container this run made that
  // the returned result does not reach (all of them when decoding failed, or a cycle popped off the stack or left
  // in the memo) loses its children here; the result itself is acyclic (check_nesting) and stays intact.
  ~Unpickler() {
    std::unordered_set<const Value*> keep;
    if (result_) {
      std::vector<const Value*> todo{result_.get()};
      while (!todo.empty()) {
        const Value* v = todo.back();
        todo.pop_back();
        if (!is_container(*v) || !keep.insert(v).second) continue;
        for (std::size_t k = 0, n = child_count(*v); k < n; ++k)
          if (const Value* c = child(*v, k)) todo.push_back(c);
      }
    }
    std::vector<ValuePtr> parked;
    for (const ValuePtr& c : containers_)
      if (!keep.count(c.get())) take_children(*c, parked);
  }

  ValuePtr run() {
    for (;;) {
      if (pos_ >= d_.size()) fail("truncated pickle: no STOP opcode");
      op_pos_ = pos_;
      const uint8_t op = static_cast<uint8_t>(d_[pos_++]);
      op_ = op;
      switch (op) {
        case 0x80: byte(); break;                          // PROTO
        case 0x95: take(8); break;                         // FRAME (length ignored: we read the whole buffer)
        case '.': {                                        // STOP
          if (stack_.size() != 1 || !marks_.empty()) fail("malformed pickle: stack not empty at STOP");
          check_nesting(stack_.back());
          result_ = stack_.back();
          return result_;
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '0': pop(); break;                            // POP
        case '1': pop_mark(); break;                       // POP_MARK
        case '2': push(top()); break;                      // DUP
        case 'N': push(make(Kind::kNone)); break;
        case 0x88: push_bool(true); break;
        case 0x89: push_bool(false); break;
        case 'I': int_text(); break;
        case 'J': push(make_int(static_cast<int32_t>(le(4)))); break;
        case 'K': push(make_int(static_cast<int64_t>(le(1)))); break;
        case 'M': push(make_int(static_cast<int64_t>(le(2)))); break;
        case 'L': long_text(); break;
        case 0x8a: long_bin(le(1)); break;
        case 0x8b: long_bin(le(4)); break;
        case 'F': float_text(); break;
        case 'G': float_bin(); break;
        case 'S': string_text(); break;
        case 'T': push(make_str(std::string(take(le(4))), Kind::kStr, true)); break;
        case 'U': push(make_str(std::string(take(le(1))), Kind::kStr, true)); break;
        case 'V': unicode_text(); break;
        case 'X': push(make_str(utf8_checked(take(le(4))))); break;
        case 0x8c: push(make_str(utf8_checked(take(le(1))))); break;
        case 0x8d: push(make_str(utf8_checked(take(le(8))))); break;
        case 'B': push(make_str(std::string(take(le(4))), Kind::kBytes)); break;
        case 'C': push(make_str(std::string(take(le(1))), Kind::kBytes)); break;
        case 0x8e: push(make_str(std::string(take(le(8))), Kind::kBytes)); break;
        case 0x96: push(make_str(std::string(take(le(8))), Kind::kBytes)); break;  // BYTEARRAY8
        case ']': push(container(Kind::kList)); break;
        case 'l': {
          auto v = container(Kind::kList);
          v->items = pop_mark();
          push(v);
          break;
        }
        case 'a': {
          auto x = pop();
          list_target()->items.push_back(x);
          break;
        }
        case 'e': {
          auto xs = pop_mark();
          auto& t = list_target()->items;
          t.insert(t.end(), xs.begin(), xs.end());
          break;
        }
        case ')': push(container(Kind::kTuple)); break;
        case 't': {
          auto v = container(Kind::kTuple);
          v->items = pop_mark();
          push(v);
          break;
        }
        case 0x85: tuple_n(1); break;
        case 0x86: tuple_n(2); break;
        case 0x87: tuple_n(3); break;
        case '}': push(container(Kind::kDict)); break;
        case 'd': {
          auto xs = pop_mark();
          auto v = container(Kind::kDict);
          set_items(*v, xs);
          push(v);
          break;
        }
        case 's': {
          auto val = pop();
          auto key = pop();
          set_items(*dict_target(), {key, val});
          break;
        }
        case 'u': {
          auto xs = pop_mark();
          set_items(*dict_target(), xs);
          break;
        }
        case 0x8f: push(container(Kind::kSet)); break;
        case 0x90: {
          auto xs = pop_mark();
          auto t = top();
          if (t->kind != Kind::kSet) fail("ADDITEMS on a " + t->describe());
          t->items.insert(t->items.end(), xs.begin(), xs.end());
          break;
        }
        case 0x91: {
          auto v = container(Kind::kSet);
          v->items = pop_mark();
          push(v);
          break;
        }
        case 'p': memo_put(line_int()); break;
        case 'q': memo_put(le(1)); break;
        case 'r': memo_put(le(4)); break;
        case 0x94: memo_put(memo_.size()); break;
        case 'g': memo_get(line_int()); break;
        case 'h': memo_get(le(1)); break;
        case 'j': memo_get(le(4)); break;
        case 'c': {
          std::string mod(line()), name(line());
          push(global(mod + "." + name));
          break;
        }
        case 0x93: {
          auto name = pop();
          auto mod = pop();
          if (!mod->is_str() || !name->is_str()) fail("STACK_GLOBAL needs two strings");
          push(global(mod->s + "." + name->s));
          break;
        }
        case 'R': {
          auto args = pop();
          auto fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 0x81: {  // NEWOBJ cls args
          auto args = pop();
          auto cls = pop();
          push(reduce(cls, args));
          break;
        }
        case 'b': {
          auto state = pop();
          build(top(), state);
          break;
        }
        case 'Q': push(persistent(pop())); break;
        case 'P': fail("text persistent ids (PERSID) are not torch storages");
        default: {
          char buf[8];
          std::snprintf(buf, sizeof buf, "0x%02x", op);
          fail(std::string("unsupported or disallowed opcode ") + buf +
               " (objects, extensions and out-of-band buffers are not allowed)");
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    char buf[96];
    std::snprintf(buf, sizeof buf, " (opcode 0x%02x at byte %zu)", op_, op_pos_);
    throw PickleError(msg + buf);
  }

  std::string_view take(uint64_t n) {
    if (n > d_.size() - pos_) fail("truncated pickle");
    std::string_view s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint8_t byte() { return static_cast<uint8_t>(take(1)[0]); }
  uint64_t le(int n) {
    std::string_view s = take(static_cast<uint64_t>(n));
    uint64_t x = 0;
    for (int k = n - 1; k >= 0; --k) x = (x << 8) | static_cast<uint8_t>(s[k]);
    return x;
  }
  std::string_view line() {
    std::size_t e = d_.find('\n', pos_);
    if (e == std::string_view::npos) fail("truncated pickle: missing newline");
    std::string_view s = d_.substr(pos_, e - pos_);
    pos_ = e + 1;
    return s;
  }
  uint64_t line_int() {
    std::string_view s = line();
    if (s.empty()) fail("empty memo index");
    uint64_t x = 0;
    for (char c : s) {
      if (c < '0' || c > '9') fail("bad memo index");
      x = x * 10 + static_cast<uint64_t>(c - '0');
    }
    return x;
  }

  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  void push_bool(bool b) {
    auto v = make(Kind::kBool);
    v->b = b;
    push(v);
  }
  ValuePtr pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow");
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr top() {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> xs(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return xs;
  }
  Value* list_target() {
    auto t = top();
    if (t->kind != Kind::kList) fail("APPEND on a " + t->describe());
    return t.get();
  }
  Value* dict_target() {
    auto t = top();
    if (t->kind != Kind::kDict) fail("SETITEM on a " + t->describe());
    return t.get();
  }
  void tuple_n(std::size_t n) {
    auto v = container(Kind::kTuple);
    v->items.resize(n);
    for (std::size_t k = n; k-- > 0;) v->items[k] = pop();
    push(v);
  }
  static bool same_key(const Value& a, const Value& b) {
    if (a.kind != b.kind) {
      const bool an = a.kind == Kind::kInt || a.kind == Kind::kBool, bn = b.kind == Kind::kInt || b.kind == Kind::kBool;
      return an && bn && a.as_int() == b.as_int();
    }
    switch (a.kind) {
      case Kind::kStr:
      case Kind::kBytes: return a.s == b.s;
      case Kind::kInt: return a.i == b.i;
      case Kind::kBool: return a.b == b.b;
      case Kind::kFloat: return a.f == b.f;
      case Kind::kNone: return true;
      default: return &a == &b;
    }
  }
  void set_items(Value& d, const std::vector<ValuePtr>& kv) {
    if (kv.size() % 2) fail("odd number of items for a dict");
    for (std::size_t k = 0; k < kv.size(); k += 2) {
      bool replaced = false;
      for (auto& e : d.dict) {
        if (same_key(*e.first, *kv[k])) {
          e.second = kv[k + 1];
          replaced = true;
          break;
        }
      }
      if (!replaced) d.dict.emplace_back(kv[k], kv[k + 1]);
    }
  }
  void memo_put(uint64_t idx) {
    if (idx > (1u << 26)) fail("memo index too large");
    if (memo_.size() <= idx) memo_.resize(idx + 1);
    memo_[idx] = top();
  }
  void memo_get(uint64_t idx) {
    if (idx >= memo_.size() || !memo_[idx]) fail("memo entry " + std::to_string(idx) + " not defined");
    push(memo_[idx]);
  }

  void int_text() {
    std::string s(line());
    if (s == "00") return push_bool(false);
    if (s == "01") return push_bool(true);
    push(make_int(parse_int(s)));
  }
  void long_text() {
    std::string s(line());
    if (!s.empty() && s.back() == 'L') s.pop_back();
    push(make_int(parse_int(s)));
  }
  int64_t parse_int(const std::string& s) {
    if (s.empty()) fail("empty integer");
    std::size_t k = 0;
    bool neg = false;
    if (s[0] == '-' || s[0] == '+') {
      neg = s[0] == '-';
      k = 1;
    }
    if (k == s.size()) fail("bad integer");
    uint64_t x = 0;
    const uint64_t limit = neg ? (uint64_t{1} << 63) : static_cast<uint64_t>(INT64_MAX);
    for (; k < s.size(); ++k) {
      if (s[k] < '0' || s[k] > '9') fail("bad integer '" + s + "'");
      const uint64_t digit = static_cast<uint64_t>(s[k] - '0');
      if (x > (limit - digit) / 10) fail("integer does not fit in 64 bits");
      x = x * 10 + digit;
    }
    return neg ? static_cast<int64_t>(~x + 1) : static_cast<int64_t>(x);
  }
  void long_bin(uint64_t n) {
    std::string_view b = take(n);
    if (n == 0) return push(make_int(0));
    if (n > 8) {
      // Accept longer encodings only when they are sign extensions of a 64-bit value.
      const uint8_t ext = (static_cast<uint8_t>(b[7]) & 0x80) ? 0xFF : 0x00;
      for (std::size_t k = 8; k < n; ++k)
        if (static_cast<uint8_t>(b[k]) != ext) fail("integer does not fit in 64 bits");
      n = 8;
    }
    uint64_t x = 0;
    for (std::size_t k = n; k-- > 0;) x = (x << 8) | static_cast<uint8_t>(b[k]);
    if (n < 8 && (static_cast<uint8_t>(b[n - 1]) & 0x80)) x |= ~uint64_t{0} << (8 * n);  // sign extend
    push(make_int(static_cast<int64_t>(x)));
  }
  void float_text() {
    std::string s(line());
    // Locale-independent parse of Python's repr.
    double v = 0.0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) fail("bad float '" + s + "'");
    auto x = make(Kind::kFloat);
    x->f = v;
    push(x);
  }
  void float_bin() {
    std::string_view b = take(8);
    uint64_t x = 0;
    for (int k = 0; k < 8; ++k) x = (x << 8) | static_cast<uint8_t>(b[k]);  // big-endian
    double v;
    std::memcpy(&v, &x, 8);
    auto f = make(Kind::kFloat);
    f->f = v;
    push(f);
  }
  void string_text() {
    // Protocol 0 STRING: a Python 2 repr in single or double quotes with backslash escapes.
    std::string_view s = line();
    if (s.size() < 2 || (s.front() != '\'' && s.front() != '"') || s.back() != s.front())
      fail("STRING argument is not quoted");
    s = s.substr(1, s.size() - 2);
    std::string out;
    for (std::size_t k = 0; k < s.size(); ++k) {
      char c = s[k];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (++k >= s.size()) fail("bad escape in STRING");
      char e = s[k];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'x': {
          if (k + 2 >= s.size()) fail("bad \\x escape in STRING");
          out += static_cast<char>(hex(s.substr(k + 1, 2)));
          k += 2;
          break;
        }
        default: fail(std::string("unsupported escape \\") + e + " in STRING");
      }
    }
    push(make_str(std::move(out), Kind::kStr, true));
  }
  void unicode_text() {
    // Protocol 0 UNICODE: raw-unicode-escape (\uXXXX and \UXXXXXXXX escapes; other bytes are Latin-1).
    std::string_view s = line();
    std::string out;
    for (std::size_t k = 0; k < s.size(); ++k) {
      if (s[k] == '\\' && k + 1 < s.size() && (s[k + 1] == 'u' || s[k + 1] == 'U')) {
        const std::size_t n = s[k + 1] == 'u' ? 4 : 8;
        if (k + 2 + n > s.size()) fail("bad \\u escape");
        const uint32_t cp = hex(s.substr(k + 2, n));
        if (cp > 0x10FFFF) fail("bad code point in UNICODE");
        append_utf8(out, cp);
        k += 1 + n;
      } else {
        append_utf8(out, static_cast<uint8_t>(s[k]));
      }
    }
    push(make_str(std::move(out)));
  }
  uint32_t hex(std::string_view h) {
    uint32_t x = 0;
    auto [p, ec] = std::from_chars(h.data(), h.data() + h.size(), x, 16);
    if (ec != std::errc() || p != h.data() + h.size()) fail("bad hexadecimal escape");
    return x;
  }
  std::string utf8_checked(std::string_view s) {
    // Python writes valid UTF-8 (surrogatepass aside); keep bytes as they are.
    return std::string(s);
  }

  ValuePtr global(const std::string& name) {
    if (!allowed_global(name)) fail("disallowed global '" + name + "' (only torch.save's globals are allowed)");
    return make_str(name, Kind::kGlobal);
  }

  ValuePtr persistent(const ValuePtr& pid) {
    // ('storage', StorageClass, key, location, numel)
    if (pid->kind != Kind::kTuple || pid->items.size() < 5 || !pid->items[0]->is_str() || pid->items[0]->s != "storage")
      fail("persistent id is not a torch storage tuple");
    auto v = make(Kind::kStorage);
    if (pid->items[1]->kind != Kind::kGlobal || !storage_dtype(pid->items[1]->s, &v->tensor.dtype))
      fail("persistent id names no torch storage class");
    v->tensor.storage_key = pid->items[2]->text();
    v->tensor.location = pid->items[3]->text();
    v->tensor.storage_numel = pid->items[4]->as_int();
    return v;
  }

  static std::vector<int64_t> int_tuple(const Value& t) {
    std::vector<int64_t> out;
    for (const auto& x : t.items) out.push_back(x->as_int());
    return out;
  }

  ValuePtr reduce(const ValuePtr& fn, const ValuePtr& args) {
    if (fn->kind != Kind::kGlobal) fail("REDUCE on a non-callable " + fn->describe());
    if (args->kind != Kind::kTuple) fail("REDUCE arguments are not a tuple");
    const std::string& name = fn->s;
    if (name == "collections.OrderedDict") {
      auto d = container(Kind::kDict);
      if (!args->items.empty()) {
        // OrderedDict(iterable of pairs)
        const Value& it = *args->items[0];
        for (const auto& pair : it.items) {
          if (pair->items.size() != 2) fail("OrderedDict item is not a pair");
          set_items(*d, {pair->items[0], pair->items[1]});
        }
      }
      return d;
    }
    if (name == "torch._utils._rebuild_tensor_v2") {
      if (args->items.size() < 4 || args->items[0]->kind != Kind::kStorage) fail("bad _rebuild_tensor_v2 arguments");
      auto t = make(Kind::kTensor);
      t->tensor = args->items[0]->tensor;
      t->tensor.offset = args->items[1]->as_int();
      t->tensor.size = int_tuple(*args->items[2]);
      t->tensor.stride = int_tuple(*args->items[3]);
      if (t->tensor.size.size() != t->tensor.stride.size()) fail("tensor size and stride differ in length");
      return t;
    }
    if (name == "torch._utils._rebuild_parameter") {
      if (args->items.empty() || args->items[0]->kind != Kind::kTensor) fail("bad _rebuild_parameter arguments");
      return args->items[0];
    }
    if (name == "__builtin__.set" || name == "builtins.set" || name == "__builtin__.frozenset" ||
        name == "builtins.frozenset") {
      auto s = container(Kind::kSet);
      if (!args->items.empty()) s->items = args->items[0]->items;
      return s;
    }
    if (name == "_codecs.encode") {
      // Python 3 writes bytes in protocols 0-2 as _codecs.encode(<latin-1 text>, 'latin1').
      if (args->items.size() != 2 || !args->items[0]->is_str() || !args->items[1]->is_str() ||
          (args->items[1]->s != "latin1" && args->items[1]->s != "latin-1"))
        fail("_codecs.encode is only allowed as (text, 'latin1')");
      return make_str(latin1_from_utf8(args->items[0]->s), Kind::kBytes);
    }
    fail("global '" + name + "' cannot be called");
  }

  std::string latin1_from_utf8(const std::string& u) {
    std::string out;
    for (std::size_t k = 0; k < u.size(); ++k) {
      const uint8_t c = static_cast<uint8_t>(u[k]);
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if ((c & 0xE0) == 0xC0 && k + 1 < u.size()) {
        const uint32_t cp = ((c & 0x1Fu) << 6) | (static_cast<uint8_t>(u[k + 1]) & 0x3Fu);
        if (cp > 0xFF) fail("_codecs.encode text is not Latin-1");
        out += static_cast<char>(cp);
        ++k;
      } else {
        fail("_codecs.encode text is not Latin-1");
      }
    }
    return out;
  }

  void build(const ValuePtr& obj, const ValuePtr& state) {
    if (obj->kind != Kind::kDict) fail("BUILD on a " + obj->describe());
    if (state->kind == Kind::kDict) {
      for (const auto& kv : state->dict) obj->attrs.push_back(kv);
    } else if (state->kind != Kind::kNone) {
      fail("BUILD state is a " + state->describe());
    }
  }

  static bool is_container(const Value& v) {
    return v.kind == Kind::kList || v.kind == Kind::kTuple || v.kind == Kind::kDict || v.kind == Kind::kSet;
  }
  static std::size_t child_count(const Value& v) { return v.items.size() + 2 * v.dict.size() + 2 * v.attrs.size(); }
  static Value* child(const Value& v, std::size_t k) {
    if (k < v.items.size()) return v.items[k].get();
    k -= v.items.size();
    if (k < 2 * v.dict.size()) return (k % 2 ? v.dict[k / 2].second : v.dict[k / 2].first).get();
    k -= 2 * v.dict.size();
    return (k % 2 ? v.attrs[k / 2].second : v.attrs[k / 2].first).get();
  }

  // Refuses a result nested deeper than kMaxDepth containers or holding a reference cycle (a container reachable
  // from itself through the memo). Iterative depth-first walk; shared sub-trees (memo references) are walked once.
  void check_nesting(const ValuePtr& root) {
    if (!is_container(*root)) return;  // (a cycle needs a container)
    struct Frame {
      Value* v;
      std::size_t next;
      std::size_t height;  // containers in the deepest finished child chain, this one excluded
    };
    std::unordered_map<const Value*, std::size_t> height;  // finished containers: depth of their sub-tree
    std::unordered_set<const Value*> open;                 // containers on the current path
    std::vector<Frame> path{{root.get(), 0, 0}};
    open.insert(root.get());
    const char* problem = nullptr;
    while (!path.empty() && !problem) {
      Frame& f = path.back();
      if (f.next == child_count(*f.v)) {
        const std::size_t h = f.height + 1;
        height.emplace(f.v, h);
        open.erase(f.v);
        path.pop_back();
        if (!path.empty()) path.back().height = std::max(path.back().height, h);
        continue;
      }
      Value* c = child(*f.v, f.next++);
      if (!c || !is_container(*c)) continue;
      if (open.count(c)) {
        problem = "a container holds itself (reference cycle)";
      } else if (auto it = height.find(c); it != height.end()) {
        if (path.size() + it->second > kMaxDepth) problem = "nesting";
        f.height = std::max(f.height, it->second);
      } else if (path.size() + 1 > kMaxDepth) {
        problem = "nesting";
      } else {
        open.insert(c);
        path.push_back({c, 0, 0});
      }
    }
    if (!problem) return;
    if (std::string(problem) == "nesting")
      fail("containers nested deeper than " + std::to_string(kMaxDepth) +
           " levels (no real file nests this deep; the file is corrupt or hostile)");
    // Break the cycles so the values can be freed: park every child pointer of every reachable container (from the
    // result and from the memo), then drop them all together.
    std::vector<Value*> todo{root.get()};
    for (const auto& m : memo_)
      if (m) todo.push_back(m.get());
    std::unordered_set<const Value*> seen;
    std::vector<ValuePtr> parked;
    while (!todo.empty()) {
      Value* v = todo.back();
      todo.pop_back();
      if (!v || !seen.insert(v).second) continue;
      const std::size_t first = parked.size();
      take_children(*v, parked);
      for (std::size_t k = first; k < parked.size(); ++k) todo.push_back(parked[k].get());
    }
    parked.clear();
    fail(problem);
  }

  std::string_view d_;
  std::size_t pos_ = 0, op_pos_ = 0;
  uint8_t op_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::vector<ValuePtr> memo_;
  std::vector<ValuePtr> containers_;  // every list, tuple, dict and set made (freed by the destructor)
  ValuePtr result_;                   // what run() returned

  ValuePtr container(Kind k) {
    containers_.push_back(make(k));
    return containers_.back();
  }
};

}  // namespace

ValuePtr loads(std::string_view data) { return Unpickler(data).run(); }

}  // namespace glamm::pickle
