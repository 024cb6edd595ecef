// Test fixtures in the REFER layout: a tiny protocol-2 pickle writer (unicode or Python-2 byte strings) and the
// synthetic example of dataset-formats.md §4.8 (6×8 images), written to a temporary folder at test time.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>
#include <cstring>
#include <iterator>

namespace glamm::testing::refer_fixture {

/// Pickle a JSON value with protocol 2 as Python would pickle the matching dict/list/int/float/str/None/bool.
/// py2_strings: strings become Python-2 `str` (SHORT_BINSTRING/BINSTRING: raw bytes), as REFER's files were written.
inline void pickle_value(const nlohmann::json& v, bool py2, std::string& out) {
  auto le32 = [&](uint32_t x) {
    for (int k = 0; k < 4; ++k) out += static_cast<char>((x >> (8 * k)) & 0xFF);
  };
  if (v.is_object()) {
    out += '}';
    for (auto it = v.begin(); it != v.end(); ++it) {
      pickle_value(nlohmann::json(it.key()), py2, out);
      pickle_value(it.value(), py2, out);
      out += 's';
    }
  } else if (v.is_array()) {
    out += ']';
    for (const auto& x : v) {
      pickle_value(x, py2, out);
      out += 'a';
    }
  } else if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    if (x >= INT32_MIN && x <= INT32_MAX) {
      out += 'J';
      le32(static_cast<uint32_t>(static_cast<int32_t>(x)));
    } else {
      out += '\x8a';
      out += '\x08';
      for (int k = 0; k < 8; ++k) out += static_cast<char>((static_cast<uint64_t>(x) >> (8 * k)) & 0xFF);
    }
  } else if (v.is_number_float()) {
    out += 'G';
    const double d = v.get<double>();
    uint64_t b;
    std::memcpy(&b, &d, 8);
    for (int k = 7; k >= 0; --k) out += static_cast<char>((b >> (8 * k)) & 0xFF);
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (py2 && s.size() < 256) {
      out += 'U';
      out += static_cast<char>(s.size());
    } else {
      out += py2 ? 'T' : 'X';
      le32(static_cast<uint32_t>(s.size()));
    }
    out += s;
  } else if (v.is_boolean()) {
    out += v.get<bool>() ? '\x88' : '\x89';
  } else {
    out += 'N';
  }
}

inline std::string pickle2(const nlohmann::json& v, bool py2_strings) {
  std::string out = "\x80\x02";
  pickle_value(v, py2_strings, out);
  out += '.';
  return out;
}

inline void write(const std::filesystem::path& p, const std::string& data) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << data;
}

#ifndef GLAMM_TEST_FIXTURE_DIR
#error "GLAMM_TEST_FIXTURE_DIR (the tests/ source folder) is set by tests/CMakeLists.txt for every file including this"
#endif

/// A JSON fixture of tests/datasets/data/ (shared with the Python tests, tests/python/test_tasks.py).
inline nlohmann::json fixture_json(const std::string& name) {
  const std::string path = std::string(GLAMM_TEST_FIXTURE_DIR) + "/datasets/data/" + name;
  std::ifstream f(path);
  if (!f) throw std::runtime_error("test fixture not found: " + path);
  return nlohmann::json::parse(f);
}

/// The §4.8 refs as JSON (refs(unc).p content).
inline nlohmann::json spec_refs() { return fixture_json("refer_spec_refs.json"); }

/// The §4.8 instances.json, plus an image (id 99) without annotations.
inline nlohmann::json spec_instances() { return fixture_json("refer_spec_instances.json"); }

/// A fresh temporary folder (removed by the caller when wanted).
inline std::filesystem::path temp_dir(const std::string& tag) {
  static int counter = 0;
  auto p = std::filesystem::temp_directory_path() /
           ("glamm_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

/// Write <dir>/Refer_Segm/<dataset>/{refs(<split_by>).p, instances.json}; returns the data root.
inline std::filesystem::path write_refer(const std::filesystem::path& root, const std::string& dataset,
                                         const std::string& split_by, const nlohmann::json& refs,
                                         const nlohmann::json& instances, bool py2_strings = true) {
  const auto dir = root / "Refer_Segm" / dataset;
  write(dir / ("refs(" + split_by + ").p"), pickle2(refs, py2_strings));
  write(dir / "instances.json", instances.dump());
  return root;
}

/// Run a shell command, capturing stdout+stderr into `out`; returns the exit status.
inline int run(const std::string& cmd, std::string& out) {
  const auto tmp = temp_dir("run") / "out.txt";
  const int rc = std::system((cmd + " > '" + tmp.string() + "' 2>&1").c_str());
  std::ifstream f(tmp);
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(tmp.parent_path());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace glamm::testing::refer_fixture
