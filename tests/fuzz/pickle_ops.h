// Opcode-level corruption of pickles for the fuzz test: a pickle is split into its opcodes (with their arguments),
// then opcodes are dropped, repeated, swapped, replaced by other opcodes, or get extreme argument values
// (string lengths past the end, memo indices never stored, huge integers).
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_support.h"

namespace glamm::fuzz {

/// Byte length of the opcode at `s[at]` with its argument; 0 when unknown (the rest is then one chunk).
inline std::size_t pickle_op_length(const std::string& s, std::size_t at) {
  auto u32 = [&](std::size_t p) -> std::size_t {
    if (p + 4 > s.size()) return s.size();
    uint32_t v;
    std::memcpy(&v, s.data() + p, 4);
    return v;
  };
  auto u8 = [&](std::size_t p) -> std::size_t { return p < s.size() ? static_cast<unsigned char>(s[p]) : 0; };
  auto line = [&](std::size_t p) -> std::size_t {
    const std::size_t e = s.find('\n', p);
    return e == std::string::npos ? s.size() - at : e + 1 - at;
  };
  switch (static_cast<unsigned char>(s[at])) {
    case 0x80: case 'q': case 'K': case 'h': return 2;   // PROTO, BINPUT, BININT1, BINGET
    case 'M': return 3;                                   // BININT2
    case 'r': case 'j': case 'J': return 5;               // LONG_BINPUT, LONG_BINGET, BININT
    case 'G': return 9;                                   // BINFLOAT
    case 0x95: return 9;                                  // FRAME
    case 'X': case 'T': case 'B': return 5 + u32(at + 1);   // BINUNICODE, BINSTRING, BINBYTES
    case 'U': case 0x8c: case 'C': case 0x8a: return 2 + u8(at + 1);  // SHORT_BINSTRING/UNICODE/BYTES, LONG1
    case 'c': {                                           // GLOBAL: two lines
      const std::size_t first = s.find('\n', at);
      if (first == std::string::npos) return s.size() - at;
      const std::size_t second = s.find('\n', first + 1);
      return second == std::string::npos ? s.size() - at : second + 1 - at;
    }
    case 'I': case 'L': case 'F': case 'S': case 'V': case 'p': case 'g': return line(at);
    case ')': case 'R': case '(': case 't': case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 'Q':
    case 'u': case 's': case '}': case ']': case 'a': case 'e': case '.': case 'N': case 0x94: case 'b':
    case 0x8f: case 0x90: case 0x91: case 0x81: case 0x93: case '0': case '1': case '2': case 'l': case 'd':
      return 1;
    default: return 0;
  }
}

/// The opcodes of `s` (with arguments), in order.
inline std::vector<std::string> pickle_ops(const std::string& s) {
  std::vector<std::string> ops;
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t n = pickle_op_length(s, at);
    if (n == 0 || at + n > s.size()) n = s.size() - at;
    ops.push_back(s.substr(at, n));
    at += n;
  }
  return ops;
}

inline std::string le32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

/// A random opcode with a random (often extreme) argument.
inline std::string random_pickle_op(Rng& rng) {
  static const uint32_t kLens[] = {0, 1, 3, 0x7fffffffu, 0xffffffffu, 0x10000u};
  switch (below(rng, 16)) {
    case 0: return std::string("q") + static_cast<char>(rng());
    case 1: return std::string("h") + static_cast<char>(rng());
    case 2: return "j" + le32(static_cast<uint32_t>(below(rng, 2) ? rng() : below(rng, 8)));
    case 3: return "X" + le32(kLens[below(rng, std::size(kLens))]) + "ab";
    case 4: return std::string("U") + static_cast<char>(rng()) + "ab";
    case 5: return "J" + le32(static_cast<uint32_t>(rng()));
    case 6: return std::string("\x8a\x09", 2) + std::string(9, '\xff');  // LONG1 wider than 64 bits
    case 7: return "cbuiltins\neval\n";
    case 8: return "ctorch._utils\n_rebuild_tensor_v2\n";
    case 9: return "ccollections\nOrderedDict\n";
    case 10: return "G" + std::string("\x7f\xf0\x00\x00\x00\x00\x00\x00", 8);  // +inf (big-endian)
    default: {
      static const char kSingle[] = ")R(t\x85\x86\x87\x88\x89Qus}]ae.N\x94\x62\x8f\x90\x91\x81\x93\x30\x31\x32ld";
      return std::string(1, kSingle[below(rng, sizeof(kSingle) - 1)]);
    }
  }
}

/// `p` (a valid pickle) corrupted at the opcode level, sometimes followed by a byte-level change.
inline std::string corrupt_pickle(const std::string& p, Rng& rng) {
  if (below(rng, 5) == 0) return mutate_bytes(p, rng);
  std::vector<std::string> ops = pickle_ops(p);
  for (int k = 1 + static_cast<int>(below(rng, 2)); k-- > 0 && !ops.empty();) {
    const std::size_t i = below(rng, ops.size());
    switch (below(rng, 7)) {
      case 0: ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i)); break;
      case 1: ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(i), ops[i]); break;
      case 2:
        if (i + 1 < ops.size()) std::swap(ops[i], ops[i + 1]);
        break;
      case 3: ops[i] = random_pickle_op(rng); break;
      case 4: ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(i), random_pickle_op(rng)); break;
      case 5:  // an argument byte changed (lengths, memo indices, integers)
        if (ops[i].size() > 1) ops[i][1 + below(rng, std::min<std::size_t>(ops[i].size() - 1, 4))] = static_cast<char>(below(rng, 2) ? 0xff : rng());
        break;
      default: {  // a range of opcodes repeated many times (deep or wide structures)
        const std::size_t len = 1 + below(rng, std::min<std::size_t>(4, ops.size() - i));
        std::vector<std::string> r(ops.begin() + static_cast<std::ptrdiff_t>(i), ops.begin() + static_cast<std::ptrdiff_t>(i + len));
        for (int rep = static_cast<int>(below(rng, 2000)); rep-- > 0;) ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(i), r.begin(), r.end());
      }
    }
  }
  std::string out;
  for (const auto& o : ops) out += o;
  if (below(rng, 6) == 0) mutate_bytes_once(out, rng);
  return out;
}

}  // namespace glamm::fuzz
