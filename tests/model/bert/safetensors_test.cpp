// Safetensors reader/writer: round trip of dtypes, shapes and metadata, and file-and-tensor-named errors for
// truncated files, bad headers, wrong byte counts, overlapping / out-of-range / gapped offsets.
// Fixtures are written by the tests (the writer, or hand-made headers).
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/io.h"
#include "common/safetensors.h"

namespace fs = std::filesystem;
namespace st = glamm::safetensors;

namespace {

class SafetensorsTest : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() / ("glamm_safetensors_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  /// A file made of a raw JSON header (padded to 8) and `data` bytes.
  fs::path raw(const std::string& name, std::string header, const std::string& data) {
    header.append((8 - header.size() % 8) % 8, ' ');
    std::string b;
    const uint64_t n = header.size();
    for (int k = 0; k < 8; ++k) b.push_back(static_cast<char>((n >> (8 * k)) & 0xff));
    const fs::path p = dir / name;
    glamm::io::write_file_atomic(p, b + header + data);
    return p;
  }

  /// The InputError message of opening `p` (fails the test when it opens).
  std::string error_of(const fs::path& p, std::string* record = nullptr) {
    try {
      st::File::open(p);
    } catch (const glamm::InputError& e) {
      EXPECT_EQ(e.file(), p.string());
      if (record) *record = e.record();
      return e.what();
    }
    ADD_FAILURE() << "opened " << p;
    return "";
  }
};

TEST_F(SafetensorsTest, RoundTripKeepsDtypesShapesBytesAndMetadata) {
  const std::vector<float> w = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  const std::vector<int64_t> ids = {101, 7, 102};
  const std::string bf16("\x80\x3f\x00\x40", 4);  // bf16 1.0, 2.0
  const fs::path p = dir / "t.safetensors";
  st::write_file(p,
                 {{"layer.weight", "F32", {2, 3}, {reinterpret_cast<const char*>(w.data()), w.size() * 4}},
                  {"ids", "I64", {3}, {reinterpret_cast<const char*>(ids.data()), ids.size() * 8}},
                  {"half", "BF16", {2}, bf16},
                  {"scalar", "U8", {}, std::string_view("\x05", 1)},
                  {"empty", "F32", {0, 4}, {}}},
                 {{"format", "pt"}});
  const std::string bytes = glamm::io::read_file(p);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "header padded to 8 bytes";

  const st::File f = st::File::open(p);
  ASSERT_EQ(f.tensors().size(), 5u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const st::TensorView& t = f.at("layer.weight");
  EXPECT_EQ(t.dtype, "F32");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t.numel(), 6);
  ASSERT_EQ(t.nbytes, 24u);
  std::vector<float> back(6);
  std::memcpy(back.data(), t.data, 24);
  EXPECT_EQ(back, w);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.at("half").data), 2 * 2), bf16);
  EXPECT_EQ(f.at("scalar").numel(), 1);
  EXPECT_EQ(f.at("scalar").data[0], 5);
  EXPECT_EQ(f.at("empty").nbytes, 0u);
  EXPECT_EQ(f.find("nope"), nullptr);
  EXPECT_THROW(f.at("nope"), glamm::InputError);
  // Data order: ascending offsets.
  for (std::size_t k = 1; k < f.tensors().size(); ++k) EXPECT_LE(f.tensors()[k - 1].offset, f.tensors()[k].offset);
}

TEST_F(SafetensorsTest, DtypeSizes) {
  EXPECT_EQ(st::dtype_size("F32"), 4u);
  EXPECT_EQ(st::dtype_size("BF16"), 2u);
  EXPECT_EQ(st::dtype_size("F16"), 2u);
  EXPECT_EQ(st::dtype_size("I64"), 8u);
  EXPECT_EQ(st::dtype_size("BOOL"), 1u);
  EXPECT_EQ(st::dtype_size("F31"), 0u);
}

TEST_F(SafetensorsTest, TruncatedFilesAreNamed) {
  const std::vector<float> w(16, 1.0f);
  const fs::path p = dir / "full.safetensors";
  st::write_file(p, {{"w", "F32", {16}, {reinterpret_cast<const char*>(w.data()), 64}}});
  const std::string b = glamm::io::read_file(p);
  glamm::io::write_file_atomic(dir / "a.safetensors", b.substr(0, 5));
  EXPECT_NE(error_of(dir / "a.safetensors").find("truncated"), std::string::npos);
  glamm::io::write_file_atomic(dir / "b.safetensors", b.substr(0, 20));
  EXPECT_NE(error_of(dir / "b.safetensors").find("truncated"), std::string::npos);
  glamm::io::write_file_atomic(dir / "c.safetensors", b.substr(0, b.size() - 4));
  std::string rec;
  EXPECT_NE(error_of(dir / "c.safetensors", &rec).find("past the end"), std::string::npos);
  EXPECT_EQ(rec, "w");
  EXPECT_THROW(st::File::open(dir / "missing.safetensors"), glamm::InputError);
}

TEST_F(SafetensorsTest, BadHeadersAreRejected) {
  EXPECT_NE(error_of(raw("json.st", "{\"w\": ", "")).find("JSON"), std::string::npos);
  EXPECT_NE(error_of(raw("array.st", "[1, 2]", "")).find("not a JSON object"), std::string::npos);
  std::string rec;
  EXPECT_NE(error_of(raw("dtype.st", R"({"w":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}})", "abcd"), &rec)
                .find("unknown dtype"),
            std::string::npos);
  EXPECT_EQ(rec, "w");
  EXPECT_NE(error_of(raw("shape.st", R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd")).find("negative"),
            std::string::npos);
  EXPECT_NE(error_of(raw("offs.st", R"({"w":{"dtype":"F32","shape":[1]}})", "abcd")).find("data_offsets"), std::string::npos);
  EXPECT_NE(error_of(raw("meta.st", R"({"__metadata__":{"a":1}})", "")).find("not a string"), std::string::npos);
  // Header length beyond 100 MB.
  std::string huge(8, '\0');
  huge[4] = 1;  // 2^32
  glamm::io::write_file_atomic(dir / "huge.st", huge + "{}");
  EXPECT_NE(error_of(dir / "huge.st").find("100 MB"), std::string::npos);
}

TEST_F(SafetensorsTest, OffsetsMustMatchShapesAndTileTheData) {
  std::string rec;
  // 3 floats need 12 bytes, the span has 8.
  EXPECT_NE(error_of(raw("count.st", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "12345678"), &rec)
                .find("needs 12"),
            std::string::npos);
  EXPECT_EQ(rec, "w");
  // Overlap: b starts inside a.
  EXPECT_NE(error_of(raw("overlap.st",
                         R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                         "12345678"),
                     &rec)
                .find("overlap"),
            std::string::npos);
  EXPECT_EQ(rec, "b");
  // Gap between tensors.
  EXPECT_NE(error_of(raw("gap.st",
                         R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                         "123456789abc"))
                .find("gap"),
            std::string::npos);
  // Trailing bytes after the last tensor.
  EXPECT_NE(error_of(raw("tail.st", R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "xy")).find("trailing"),
            std::string::npos);
  // end < begin.
  EXPECT_NE(error_of(raw("rev.st", R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}})", "x")).find("< begin"),
            std::string::npos);
}

TEST_F(SafetensorsTest, WriterRejectsInconsistentTensors) {
  EXPECT_THROW(st::serialize({{"w", "F32", {2}, std::string_view("1234", 4)}}), glamm::InputError);
  EXPECT_THROW(st::serialize({{"w", "X", {1}, std::string_view("1234", 4)}}), glamm::InputError);
  EXPECT_THROW(st::serialize({{"w", "U8", {1}, "a"}, {"w", "U8", {1}, "b"}}), glamm::InputError);
  EXPECT_THROW(st::serialize({{"__metadata__", "U8", {1}, "a"}}), glamm::InputError);
  try {
    st::write_file(dir / "bad.st", {{"w", "F32", {-1}, {}}});
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_EQ(e.file(), (dir / "bad.st").string());
    EXPECT_EQ(e.record(), "w");
  }
}

}  // namespace
