// JSON readers under hostile input: nesting deeper than io::kMaxJsonDepth and numbers beyond the double range are
// InputErrors naming the file (and the JSON pointer of the number), never a crash or an internal error.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/io.h"

namespace fs = std::filesystem;
using glamm::InputError;

namespace {
std::string error_of(const std::string& text) {
  try {
    glamm::io::parse_json(text, "in.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
std::string nested_arrays(std::size_t n) { return std::string(n, '[') + std::string(n, ']'); }
}  // namespace

TEST(JsonLimits, DeepNestingIsRefusedBeforeParsing) {
  EXPECT_EQ(error_of(nested_arrays(glamm::io::kMaxJsonDepth)), "");
  const std::string m = error_of(nested_arrays(glamm::io::kMaxJsonDepth + 1));
  EXPECT_EQ(m, "in.json: JSON arrays/objects nested deeper than 1024 levels (line 1, byte 1024); no real input nests "
               "this deep, the file is corrupt or hostile");
  // Brackets inside strings (and escaped quotes) do not count.
  EXPECT_EQ(error_of("[\"" + std::string(5000, '[') + "\\\"" + std::string(5000, '{') + "\"]"), "");
  // Objects count as arrays do; the line is reported.
  std::string objects = "\n\n";
  for (int k = 0; k < 2000; ++k) objects += "{\"a\":";
  EXPECT_NE(error_of(objects + "1" + std::string(2000, '}')).find("(line 3, byte 5122)"), std::string::npos);
}

TEST(JsonLimits, HundredThousandLevelsThroughLoadJsonNameTheFile) {
  const fs::path dir = fs::path(::testing::TempDir()) / "glamm_json_limits";
  fs::create_directories(dir);
  const fs::path file = dir / "deep.json";
  const std::string text = nested_arrays(100000);
  { std::ofstream(file, std::ios::binary) << text; }
  try {
    glamm::io::load_json(file);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), file.string());
    EXPECT_NE(e.message().find("nested deeper than 1024 levels"), std::string::npos) << e.what();
  }
  std::ifstream in(file, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), text);
  fs::remove_all(dir);
}

TEST(JsonLimits, NumberBeyondTheDoubleRangeNamesItsPointerAndLine) {
  try {
    glamm::io::parse_json("{\"metrics\": {\"mIoU\": 0.5,\n \"a/b~c\": [1, 2, -1e400]}}", "run.json");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "run.json");
    EXPECT_EQ(e.record(), "/metrics/a~1b~0c/2");
    EXPECT_NE(e.message().find("number -1e400 (line 2) is beyond the double range"), std::string::npos) << e.what();
  }
  EXPECT_NE(error_of("1e400").find("in.json: /: number 1e400"), std::string::npos) << error_of("1e400");
  // Tiny numbers underflow to 0 as in Python; they are not errors.
  EXPECT_EQ(glamm::io::parse_json("[1e-400]", "x.json")[0].get<double>(), 0.0);
}
