// The compressed RLE string (rleToString / rleFrString of pycocotools 2.0.6 common/maskApi.c), in int64 with
// input validation. Spec: shared specs/mask-metrics.md §2.2.
#include <cstdint>
#include <cstring>
#include <string>

#include "metrics/mask/rle.h"

namespace glamm::mask {
namespace {

constexpr char kFirst = '0';  // 48: value 0
constexpr char kLast = 'o';   // 111: value 63
constexpr int kMaxGroups = 12;  // 60 bits: far more than a uint32 count or delta needs (7 groups)

std::string describe_char(char ch) {
  const auto u = static_cast<unsigned char>(ch);
  if (u >= 32 && u < 127) return std::string("'") + ch + "'";
  static const char* hex = "0123456789abcdef";
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}

}  // namespace

std::string to_string(const Rle& r) {
  std::string s;
  s.reserve(r.counts.size() * 2);
  for (size_t i = 0; i < r.counts.size(); ++i) {
    int64_t x = r.counts[i];
    if (i > 2) x -= static_cast<int64_t>(r.counts[i - 2]);
    bool more = true;
    while (more) {
      int c = static_cast<int>(x & 0x1f);
      x >>= 5;  // arithmetic shift (C++20 defined; every supported compiler does this for int64 in C++17)
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + kFirst));
    }
  }
  return s;
}

namespace {

/// from_string for a well-formed string, without the per-character checks: false (r unspecified) at the first
/// thing the checked decoder below would report, which then runs to say what it is.
bool from_string_fast(std::string_view s, uint32_t h, uint32_t w, Rle& r) {
  // One pass counts the counts (a count ends with a character whose continuation bit 0x20 is clear) and checks
  // that every character is in '0'..'o'.
  size_t n_counts = 0;
  unsigned bad = 0;
  for (char ch : s) {
    const unsigned c = static_cast<unsigned char>(ch) - static_cast<unsigned>(kFirst);
    bad |= c > static_cast<unsigned>(kLast - kFirst);
    n_counts += (c & 0x20) == 0;
  }
  if (bad) return false;
  r.h = h;
  r.w = w;
  r.counts.resize(n_counts);
  uint32_t* out = r.counts.data();
  const uint64_t total = uint64_t{h} * w;
  uint64_t sum = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* const end = p + s.size();
  // The delta rule reads counts[m-2]: kept in registers (a store to `out` may alias the chars for the compiler).
  int64_t prev2 = 0, prev1 = 0;
  size_t m = 0;
  while (m < n_counts) {
    // Eight one-character counts in a row (no continuation bit in the next 8 bytes; every byte is '0'..'o', so
    // subtracting '0' bytewise borrows nothing): decoded together, their checks folded into one test per block
    // (any failure goes to the checked decoder for its message, as below). Not for m < 3 (no delta there).
    if (m >= 3 && n_counts - m >= 8 && end - p >= 8) {
      uint64_t v = 0;
      std::memcpy(&v, p, 8);
      v -= 0x3030303030303030ULL;
      if ((v & 0x2020202020202020ULL) == 0) {
        uint64_t out_of_range = 0;
        for (int j = 0; j < 8; ++j) {
          const unsigned c = static_cast<unsigned>(v >> (8 * j)) & 0x1f;
          const int64_t x = static_cast<int64_t>(c ^ 0x10) - 0x10 + prev2;
          out_of_range |= static_cast<uint64_t>(x) >> 32;  // x < 0 or x > 2^32-1
          sum += static_cast<uint64_t>(x);
          out[m + static_cast<size_t>(j)] = static_cast<uint32_t>(x);
          prev2 = prev1;
          prev1 = x;
        }
        if (out_of_range != 0 || sum > total) return false;
        m += 8;
        p += 8;
        continue;
      }
    }
    if (p == end) return false;
    unsigned c = *p++ - static_cast<unsigned>(kFirst);
    int64_t x;
    if ((c & 0x20) == 0) {
      x = static_cast<int64_t>((c & 0x1f) ^ 0x10) - 0x10;  // one character (most counts): sign-extend 5 bits
    } else {
      uint64_t bits = c & 0x1f;
      int k = 1;
      do {
        if (p == end || k >= kMaxGroups) return false;
        c = *p++ - static_cast<unsigned>(kFirst);
        bits |= static_cast<uint64_t>(c & 0x1f) << (5 * k);
        ++k;
      } while (c & 0x20);
      if (c & 0x10) bits |= ~uint64_t{0} << (5 * k);  // sign-extend the last group
      x = static_cast<int64_t>(bits);
    }
    if (m > 2) x += prev2;
    if (x < 0 || x > static_cast<int64_t>(UINT32_MAX)) return false;
    sum += static_cast<uint64_t>(x);
    if (sum > total) return false;
    out[m++] = static_cast<uint32_t>(x);
    prev2 = prev1;
    prev1 = x;
  }
  return p == end && sum == total;
}

}  // namespace

Rle from_string(std::string_view s, uint32_t h, uint32_t w) {
  {
    Rle r;
    if (from_string_fast(s, h, w, r)) return r;
  }
  // Something is wrong with the string: decode it again with every check, for the exact message.
  Rle r{h, w, {}};
  // One allocation: every count ends with a char whose continuation bit (0x20) is clear.
  size_t n_counts = 0;
  for (char ch : s) n_counts += ((ch - kFirst) & 0x20) == 0;
  r.counts.reserve(n_counts);

  const uint64_t total = uint64_t{h} * w;
  uint64_t sum = 0;
  size_t p = 0;
  while (p < s.size()) {
    const size_t group_start = p;
    uint64_t bits = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= s.size()) {
        throw RleError("compressed RLE string truncated: the last count (from offset " + std::to_string(group_start) +
                       ") ends with a continuation character");
      }
      const char ch = s[p];
      if (ch < kFirst || ch > kLast) {
        throw RleError("compressed RLE string has " + describe_char(ch) + " at offset " + std::to_string(p) +
                       ", outside '0'..'o'");
      }
      if (k >= kMaxGroups) {
        throw RleError("compressed RLE string has a count longer than " + std::to_string(kMaxGroups) +
                       " characters at offset " + std::to_string(group_start));
      }
      const int c = ch - kFirst;
      bits |= static_cast<uint64_t>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) bits |= ~uint64_t{0} << (5 * k);  // sign-extend the last group
    }
    int64_t x = static_cast<int64_t>(bits);
    const size_t m = r.counts.size();
    if (m > 2) x += static_cast<int64_t>(r.counts[m - 2]);
    if (x < 0 || x > static_cast<int64_t>(UINT32_MAX)) {
      throw RleError("compressed RLE string decodes to count " + std::to_string(x) + " (index " + std::to_string(m) +
                     ", offset " + std::to_string(group_start) + "), outside 0..4294967295");
    }
    sum += static_cast<uint64_t>(x);
    if (sum > total) {
      throw RleError("compressed RLE counts sum to more than h*w = " + std::to_string(total) + " (" +
                     std::to_string(h) + "x" + std::to_string(w) + ") at count index " + std::to_string(m));
    }
    r.counts.push_back(static_cast<uint32_t>(x));
  }
  if (sum != total) {
    throw RleError("compressed RLE counts sum to " + std::to_string(sum) + ", less than h*w = " +
                   std::to_string(total) + " (" + std::to_string(h) + "x" + std::to_string(w) + ")");
  }
  return r;
}

}  // namespace glamm::mask
