// Seeded input corruption for the readers' fuzz test (readers_sanitize_test, built with ASan + UBSan).
//
// Every reader gets a small valid input written by its test, then `count` corruptions made from it with a
// std::mt19937_64 seeded by (reader seed, input index): byte-level (truncation, bit flips, inserted, deleted and
// duplicated bytes, "interesting" bytes) and, for JSON, structure-level (type swaps, numeric extremes including
// 1e400 / NaN / Infinity / 2^63, duplicated keys, deep or unbalanced nesting, removed fields). Each corrupted input is
// written to a file, handed to the reader, and must either be read or be refused with the exception type the
// command line turns into exit 2 (glamm::InputError); anything else (another exception type, a crash, a sanitizer
// report) fails, naming the reader, seed, input index and the input's bytes in hex, and the file must be byte-identical
// afterwards. Reproduce one failure with
//   readers_sanitize_test --gtest_filter='<test>' with GLAMM_FUZZ_ONLY=<index> (runs that input only and prints it).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define GLAMM_FUZZ_LEAK_CHECK() (__lsan_do_recoverable_leak_check() != 0)
#else
#define GLAMM_FUZZ_LEAK_CHECK() false
#endif

namespace glamm::fuzz {

using nlohmann::json;
using Rng = std::mt19937_64;

/// Corrupted inputs per reader: 2,000 (the acceptance asks for at least that many), or GLAMM_FUZZ_INPUTS for a
/// longer local run (seeds stay the same, so the first 2,000 inputs are those of the CI run).
inline int inputs_per_reader() {
  const char* e = std::getenv("GLAMM_FUZZ_INPUTS");
  const int n = e && *e ? std::atoi(e) : 0;
  return n > 0 ? n : 2000;
}

inline std::string hex(const std::string& s, std::size_t max = 4096) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    out += d[static_cast<unsigned char>(s[i]) >> 4];
    out += d[static_cast<unsigned char>(s[i]) & 15];
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::filesystem::path& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

/// A fresh folder for one test, removed at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() / ("glamm_fuzz_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline uint64_t below(Rng& rng, uint64_t n) { return n == 0 ? 0 : rng() % n; }

// ---------------------------------------------------------------------------------------------------------------
// Byte-level corruption.

const char* const kInterestingBytes[] = {"\x00", "\xff", "\x7f", "\x80", "\"", "\\", "{", "}", "[", "]", ",", ":",
                                         "\n", "\r", "\t", "\xc3", "\xed\xa0\x80", "\xef\xbb\xbf", "-", "e", "."};

/// One byte-level change: truncation, bit flip, byte insert/delete, range duplicate/delete, interesting bytes.
inline void mutate_bytes_once(std::string& s, Rng& rng) {
  const std::size_t n = s.size();
  switch (below(rng, 8)) {
    case 0:  // truncation
      s.resize(below(rng, n + 1));
      break;
    case 1:  // bit flips
      if (n) for (int k = 1 + static_cast<int>(below(rng, 4)); k-- > 0;) s[below(rng, n)] ^= static_cast<char>(1u << below(rng, 8));
      break;
    case 2:  // random byte inserted
      s.insert(s.begin() + static_cast<std::ptrdiff_t>(below(rng, n + 1)), static_cast<char>(rng()));
      break;
    case 3:  // bytes deleted
      if (n) {
        const std::size_t at = below(rng, n);
        s.erase(at, 1 + below(rng, std::min<std::size_t>(16, n - at)));
      }
      break;
    case 4:  // a range duplicated
      if (n) {
        const std::size_t at = below(rng, n), len = 1 + below(rng, std::min<std::size_t>(64, n - at));
        s.insert(below(rng, n + 1), s.substr(at, len));
      }
      break;
    case 5:  // random byte overwritten
      if (n) s[below(rng, n)] = static_cast<char>(rng());
      break;
    default: {  // an interesting byte sequence inserted or overwriting
      const char* b = kInterestingBytes[below(rng, std::size(kInterestingBytes))];
      const std::string ins = *b ? std::string(b) : std::string(1, '\0');
      const std::size_t at = below(rng, n + 1);
      if (below(rng, 2) && at + ins.size() <= n) s.replace(at, ins.size(), ins);
      else s.insert(at, ins);
    }
  }
}

inline std::string mutate_bytes(std::string s, Rng& rng) {
  for (int k = 1 + static_cast<int>(below(rng, 3)); k-- > 0;) mutate_bytes_once(s, rng);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON structure-level corruption: a node of the parsed valid document is replaced by a marker string, the document
// is dumped, and the marker replaced by raw text (so that duplicated keys, NaN, 1e400 and unbalanced nesting, which
// no JSON library writes, can be produced).

constexpr const char* kMarker = "\"@@glamm-fuzz@@\"";

/// Raw JSON text of numbers a reader must survive.
const char* const kExtremeNumbers[] = {
    "1e400", "-1e400", "1e-400", "-1", "0", "-0", "-0.0", "0.5", "1.5", "2147483648", "4294967296", "4294967295",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "123456789012345678901234567890", "1e19", "-1e19", "1e308",
    "NaN", "Infinity", "-Infinity", "nan", "1E5", "01", "1.", ".5", "+1", "0x10", "1e", "-"};

/// Every node of `j` as a JSON pointer.
inline void collect_pointers(const json& j, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
  out.push_back(at);
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) collect_pointers(*it, at / it.key(), out);
  else if (j.is_array())
    for (std::size_t i = 0; i < j.size(); ++i) collect_pointers(j[i], at / i, out);
}

/// Raw JSON text of an odd string: empty, numeric-looking, invalid UTF-8, a lone surrogate escape, control bytes.
inline std::string random_string(Rng& rng) {
  static const char* const kStrings[] = {"", "a", "0", "-1", "1e400", "NaN", "\xc3\x28", "\xed\xa0\x80", "\\ud800",
                                         "x\ty", "a\nb", "caption", "labels", "../x", "\x01", "\\u0000"};
  return "\"" + std::string(kStrings[below(rng, std::size(kStrings))]) + "\"";
}

/// Raw JSON text for a value of another type than `old` (type swap).
inline std::string swapped_value(const json& old, Rng& rng) {
  for (;;) {
    std::string t;
    int kind = static_cast<int>(below(rng, 7));
    switch (kind) {
      case 0: t = "null"; if (old.is_null()) continue; break;
      case 1: t = below(rng, 2) ? "true" : "false"; if (old.is_boolean()) continue; break;
      case 2: t = kExtremeNumbers[below(rng, std::size(kExtremeNumbers))]; if (old.is_number()) continue; break;
      case 3: t = random_string(rng); if (old.is_string()) continue; break;
      case 4: t = below(rng, 2) ? "[]" : "[" + (old.is_array() ? std::string("1") : old.dump()) + "]"; if (old.is_array() && below(rng, 2)) continue; break;
      case 5: t = below(rng, 2) ? "{}" : "{\"k\":" + old.dump() + "}"; if (old.is_object() && below(rng, 2)) continue; break;
      default: {  // a string of the same kind: junk appended, or a number written as an odd string
        static const char* const kNumericStrings[] = {"\"1e400\"", "\"-1\"", "\" 6\"", "\"6.5\"", "\"6x\"",
                                                      "\"nan\"", "\"inf\"", "\"99999999999999999999\"", "\"+6\"",
                                                      "\"0x10\"", "\"\""};
        if (below(rng, 2)) t = kNumericStrings[below(rng, std::size(kNumericStrings))];
        else t = old.is_string() ? json(old.get<std::string>() + "x").dump() : "\"" + std::string(old.is_number() ? old.dump() : "s") + "\"";
      }
    }
    return t;
  }
}

/// Nesting `depth` levels deep, balanced or not.
inline std::string nesting(Rng& rng) {
  static const std::size_t kDepths[] = {2, 10, 100, 1000, 5000, 100000};
  const std::size_t d = kDepths[below(rng, std::size(kDepths))];
  const bool obj = below(rng, 2);
  std::string open, close;
  for (std::size_t i = 0; i < d; ++i) open += obj ? "{\"a\":" : "[";
  for (std::size_t i = 0; i < d; ++i) close += obj ? "}" : "]";
  const std::size_t drop = below(rng, 4) == 0 ? below(rng, d + 1) : 0;  // sometimes unbalanced
  return open + "1" + close.substr(0, d - drop);
}

/// `doc` (valid JSON) corrupted at the structure level, returned as text.
inline std::string mutate_json(const json& doc, Rng& rng) {
  std::vector<json::json_pointer> ptrs;
  collect_pointers(doc, json::json_pointer(), ptrs);
  json j = doc;
  const json::json_pointer p = ptrs[below(rng, ptrs.size())];
  const json old = j[p];
  json::json_pointer target = p;  // the node the raw text replaces
  std::string raw;
  switch (below(rng, 8)) {
    case 0:
    case 1: raw = swapped_value(old, rng); break;
    case 2: raw = kExtremeNumbers[below(rng, std::size(kExtremeNumbers))]; break;
    case 3: {  // a duplicated key: the object written with one member repeated, with another value first or last
      const json::json_pointer q = old.is_object() || p.empty() ? p : p.parent_pointer();
      const json obj = j[q];
      if (!obj.is_object() || obj.empty()) { raw = swapped_value(old, rng); break; }
      auto it = obj.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(below(rng, obj.size())));
      const std::string key = json(it.key()).dump();
      const std::string other = key + ":" + swapped_value(*it, rng);
      std::string body;
      for (auto m = obj.begin(); m != obj.end(); ++m) {
        if (!body.empty()) body += ",";
        if (m == it && below(rng, 2)) body += other + ",";
        body += json(m.key()).dump() + ":" + m->dump();
        if (m == it && body.rfind(other) == std::string::npos) body += "," + other;
      }
      target = q;
      raw = "{" + body + "}";
      break;
    }
    case 4: raw = nesting(rng); break;
    case 5:  // a member or element removed
      if (!p.empty()) {
        j[p.parent_pointer()].is_object() ? (void)j[p.parent_pointer()].erase(p.back())
                                          : (void)j[p.parent_pointer()].erase(static_cast<std::size_t>(std::stoul(p.back())));
        return j.dump();
      }
      raw = "{}";
      break;
    case 6:  // an array element or object repeated
      raw = old.dump() + (p.empty() ? "" : "," + old.dump());
      break;
    default: raw = random_string(rng);
  }
  j[target] = "@@glamm-fuzz@@";
  std::string text = j.dump(below(rng, 3) == 0 ? 1 : -1, ' ', false, json::error_handler_t::replace);
  const std::size_t at = text.find(kMarker);
  if (at != std::string::npos) text.replace(at, std::string(kMarker).size(), raw);
  return text;
}

/// `doc` with one node replaced by a value of another type, an extreme number, or removed; still a JSON value
/// (for formats written from JSON values, such as the test's pickles).
/// `raw_bytes`: may also put a string that is not UTF-8 (only for formats that are not written as JSON text).
inline json swap_node(const json& doc, Rng& rng, bool raw_bytes = false) {
  std::vector<json::json_pointer> ptrs;
  collect_pointers(doc, json::json_pointer(), ptrs);
  json j = doc;
  const json::json_pointer p = ptrs[below(rng, ptrs.size())];
  static const json kValues[] = {nullptr, true, -1, 0, INT64_MIN, INT64_MAX, UINT64_MAX, 1e300, -0.5,
                                 std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                                 "", "x", "caf\u00e9", json::array(), json::array({1, "a"}), json::object(),
                                 json::object({{"sent", 1}})};
  if (raw_bytes && below(rng, 10) == 0) {
    j[p] = "caf\xe9 \xc3(";
  } else if (!p.empty() && below(rng, 5) == 0) {
    json& parent = j[p.parent_pointer()];
    if (parent.is_object()) parent.erase(p.back());
    else parent.erase(static_cast<std::size_t>(std::stoul(p.back())));
  } else {
    j[p] = kValues[below(rng, std::size(kValues))];
  }
  return j;
}

/// A corruption of a JSON document: mostly structure-level, sometimes followed or replaced by byte-level changes.
inline std::string corrupt_json(const json& doc, Rng& rng) {
  const uint64_t r = below(rng, 10);
  if (r < 2) return mutate_bytes(doc.dump(), rng);
  std::string s = r < 6 ? mutate_json(doc, rng) : mutate_json(swap_node(swap_node(doc, rng), rng), rng);
  if (r >= 8) mutate_bytes_once(s, rng);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// The driver.

/// Run `count` corrupted inputs made by `make(rng, index)` through `read(path)`; `seed` names the series.
/// The input is written to `file`; `read(file)` may return or throw glamm::InputError.
template <typename Make, typename Read>
void run_series(const std::string& reader, uint64_t seed, const std::filesystem::path& file, Make make, Read read,
                int count = inputs_per_reader()) {
  int only = -1;
  if (const char* e = std::getenv("GLAMM_FUZZ_ONLY"); e && *e) only = std::atoi(e);
  int accepted = 0, refused = 0;
  for (int i = 0; i < count; ++i) {
    if (only >= 0 && i != only) continue;
    Rng rng(seed * 1000003u + static_cast<uint64_t>(i));
    const std::string input = make(rng, i);
    write_bytes(file, input);
    if (only >= 0) std::fprintf(stderr, "%s seed %llu input %d: %s\n", reader.c_str(), static_cast<unsigned long long>(seed), i, hex(input, 1u << 20).c_str());
    std::string failure;
    try {
      read(file);
      ++accepted;
    } catch (const glamm::InputError&) {
      ++refused;
    } catch (const std::exception& e) {
      failure = std::string("threw ") + typeid(e).name() + " (not glamm::InputError): " + e.what();
    } catch (...) {
      failure = "threw a non-std exception";
    }
    if (failure.empty() && read_bytes(file) != input) failure = "changed its input file";
    if (!failure.empty())
      ADD_FAILURE() << reader << " seed " << seed << " input " << i << " (GLAMM_FUZZ_ONLY=" << i << "): " << failure
                    << "\n  input bytes (hex): " << hex(input);
    // LeakSanitizer every 100 inputs (a check costs milliseconds): a leak is pinned to 100 inputs, each then rerun
    // alone with GLAMM_FUZZ_ONLY.
    if ((i % 100 == 99 || i + 1 == count || only >= 0) && GLAMM_FUZZ_LEAK_CHECK())
      ADD_FAILURE() << reader << " seed " << seed << ": memory leaked by one of the inputs " << (only >= 0 ? i : i - i % 100)
                    << ".." << i << " (LeakSanitizer report above)";
  }
  if (only < 0) {
    // The series must exercise both outcomes, or the corruptions are not reaching the reader.
    EXPECT_GT(refused, count / 20) << reader << ": too few inputs refused (" << refused << ")";
    std::fprintf(stderr, "[fuzz] %s: %d inputs, %d read, %d refused (exit 2)\n", reader.c_str(), count, accepted, refused);
  }
}

}  // namespace glamm::fuzz
