// Torch zip checkpoint reader: state dict listing, dense bytes through offset/strides (transposed views, fp16),
// and clear errors for a missing/corrupt archive, a missing storage entry and storages too small for a view.
// Fixtures: zip archives written here with libzip around small pickles (hex below) laid out as torch.save does:
// OrderedDict of torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).
#include <unistd.h>
#include <zip.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/io.h"
#include "common/torch_zip.h"

namespace fs = std::filesystem;
#include "tests/support/torch_state_dict.h"

using glamm::torch_zip::Checkpoint;

namespace {

using glamm::testing::unhex;
const char* const kGood = glamm::testing::kStateDictPickleHex;

// {'v': float32 [4] at offset 1 of storage '1' (4 elements): one element past the end}
const char* kBadView =
    "800263636f6c6c656374696f6e730a4f726465726564446963740a710029527101580100000076710263746f7263682e5f7574696c73"
    "0a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f7263680a466c6f617453746f72"
    "6167650a71055801000000317106580300000063707571074b04747108514b014b048571094b0185710a8968002952710b74710c5271"
    "0d732e";
const char* kList = "80025d7100284b014b02652e";  // [1, 2]

std::string float_bytes(std::vector<float> v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4); }

class TorchZipTest : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() / ("glamm_torch_zip_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path write_zip(const std::string& name, const std::vector<std::pair<std::string, std::string>>& entries,
                     bool stored = false) {
    const fs::path p = dir / name;
    int err = 0;
    zip_t* z = zip_open(p.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    EXPECT_NE(z, nullptr);
    std::vector<std::string> keep;
    keep.reserve(entries.size());
    for (const auto& [entry, data] : entries) {
      keep.push_back(data);
      zip_source_t* s = zip_source_buffer(z, keep.back().data(), keep.back().size(), 0);
      const zip_int64_t idx = zip_file_add(z, entry.c_str(), s, ZIP_FL_OVERWRITE);
      EXPECT_GE(idx, 0);
      if (stored) EXPECT_EQ(zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0), 0);
    }
    EXPECT_EQ(zip_close(z), 0);
    return p;
  }

  fs::path good_archive(bool with_storage_1 = true, std::size_t storage1_floats = 4) {
    std::vector<std::pair<std::string, std::string>> e = {
        {"archive/data.pkl", unhex(kGood)},
        {"archive/byteorder", "little"},
        {"archive/data/0", float_bytes({1, 2, 3, 4, 5, 6})},
        {"archive/data/2", std::string("\x00\x3c\x00\xc0", 4)},  // fp16 1.0, -2.0
    };
    if (with_storage_1) {
      std::vector<float> s1 = {10, 11, 12, 13};
      s1.resize(storage1_floats);
      e.push_back({"archive/data/1", float_bytes(s1)});
    }
    return write_zip("model.bin", e);
  }
};

std::vector<float> as_floats(const std::string& b) {
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

TEST_F(TorchZipTest, ListsStateDictInPickleOrder) {
  const Checkpoint c = Checkpoint::open(good_archive());
  EXPECT_EQ(c.stem(), "archive");
  const auto sd = c.state_dict();
  ASSERT_EQ(sd.size(), 4u);
  EXPECT_EQ(sd[0].name, "w");
  EXPECT_EQ(sd[0].ref.size, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(sd[1].name, "wt");
  EXPECT_EQ(sd[1].ref.stride, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(sd[2].name, "b");
  EXPECT_EQ(sd[2].ref.offset, 2);
  EXPECT_EQ(sd[3].ref.dtype, glamm::pickle::StorageDtype::kFloat16);
}

TEST_F(TorchZipTest, GathersContiguousTransposedAndOffsetViews) {
  const Checkpoint c = Checkpoint::open(good_archive());
  const auto sd = c.state_dict();
  EXPECT_EQ(as_floats(c.tensor_bytes(sd[0].ref, "w")), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // [3,2] view with strides (1,3) of [1..6]: rows (1,4), (2,5), (3,6).
  EXPECT_EQ(as_floats(c.tensor_bytes(sd[1].ref, "wt")), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(as_floats(c.tensor_bytes(sd[2].ref, "b")), (std::vector<float>{12, 13}));
  EXPECT_EQ(c.tensor_bytes(sd[3].ref, "h"), std::string("\x00\x3c\x00\xc0", 4));
}

TEST_F(TorchZipTest, MissingStorageEntryNamesTensorAndEntry) {
  const Checkpoint c = Checkpoint::open(good_archive(false));
  const auto sd = c.state_dict();
  try {
    c.tensor_bytes(sd[2].ref, "b");
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_EQ(e.record(), "b");
    EXPECT_NE(std::string(e.what()).find("archive/data/1"), std::string::npos) << e.what();
  }
}

TEST_F(TorchZipTest, StorageEntryShorterThanItsNumelIsRejected) {
  const Checkpoint c = Checkpoint::open(good_archive(true, 3));
  const auto sd = c.state_dict();
  try {
    c.tensor_bytes(sd[2].ref, "b");
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("12 bytes, less than 4"), std::string::npos) << e.what();
  }
}

TEST_F(TorchZipTest, ViewPastTheStorageEndIsRejected) {
  const Checkpoint c = Checkpoint::open(write_zip("bad.bin", {{"x/data.pkl", unhex(kBadView)}, {"x/data/1", float_bytes({1, 2, 3, 4})}}));
  const auto sd = c.state_dict();
  ASSERT_EQ(sd.size(), 1u);
  try {
    c.tensor_bytes(sd[0].ref, "v");
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_EQ(e.record(), "v");
    EXPECT_NE(std::string(e.what()).find("too small for the view"), std::string::npos) << e.what();
  }
}

TEST_F(TorchZipTest, NonDictRootIsNotAStateDict) {
  const Checkpoint c = Checkpoint::open(write_zip("list.bin", {{"a/data.pkl", unhex(kList)}}));
  EXPECT_THROW(c.state_dict(), glamm::InputError);
}

TEST_F(TorchZipTest, ArchiveErrorsNameTheFile) {
  EXPECT_THROW(Checkpoint::open(dir / "absent.bin"), glamm::InputError);
  // No data.pkl.
  try {
    Checkpoint::open(write_zip("empty.bin", {{"a/other", "x"}}));
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("data.pkl"), std::string::npos) << e.what();
  }
  // Big-endian archives are refused.
  EXPECT_THROW(Checkpoint::open(write_zip("be.bin", {{"a/data.pkl", unhex(kList)}, {"a/byteorder", "big"}})), glamm::InputError);
  // A truncated archive (central directory cut off).
  const std::string whole = glamm::io::read_file(good_archive());
  glamm::io::write_file_atomic(dir / "cut.bin", whole.substr(0, whole.size() / 2));
  try {
    Checkpoint::open(dir / "cut.bin");
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_EQ(e.file(), (dir / "cut.bin").string());
  }
  // A pickle the safe unpickler rejects is reported with the entry name.
  try {
    Checkpoint::open(write_zip("badpkl.bin", {{"a/data.pkl", "\x80\x02junk"}}));
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_EQ(e.record(), "a/data.pkl");
  }
}

// 200,000 nested lists as archive/data.pkl crashed the reader (SIGSEGV) when the tree was freed: now an input error
// naming the file and the entry.
TEST_F(TorchZipTest, DeeplyNestedPickleIsAnInputErrorNamingTheEntry) {
  const std::string deep = std::string("\x80\x02") + std::string(200000, ']') + std::string(199999, 'a') + ".";
  const fs::path p = write_zip("pytorch_model.bin", {{"archive/data.pkl", deep}});
  try {
    Checkpoint::open(p);
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_EQ(e.file(), p.string());
    EXPECT_EQ(e.record(), "archive/data.pkl");
    EXPECT_NE(e.message().find("nested deeper than 10000 levels"), std::string::npos) << e.what();
  }
}

// A shard damaged in place (same size, one storage byte changed) is an error naming the CRC, not silently different
// weights: torch.save stores entries uncompressed, so nothing but the CRC-32 can notice.
TEST_F(TorchZipTest, StorageDamagedInPlaceFailsTheCrcCheck) {
  const std::string storage = float_bytes({1, 2, 3, 4, 5, 6});
  const fs::path p = write_zip("stored.bin", {{"archive/data.pkl", unhex(kGood)},
                                              {"archive/data/0", storage},
                                              {"archive/data/1", float_bytes({10, 11, 12, 13})},
                                              {"archive/data/2", std::string("\x00\x3c\x00\xc0", 4)}},
                               /*stored=*/true);
  const Checkpoint intact = Checkpoint::open(p);
  EXPECT_EQ(intact.read_storage("0"), storage);
  std::string whole = glamm::io::read_file(p);
  const std::size_t at = whole.find(storage);
  ASSERT_NE(at, std::string::npos);
  whole[at + 5] = static_cast<char>(whole[at + 5] ^ 0x40);
  glamm::io::write_file_atomic(p, whole);
  const Checkpoint damaged = Checkpoint::open(p);
  try {
    damaged.read_storage("0");
    FAIL() << "a damaged storage was read without error";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("CRC"), std::string::npos) << e.what();
    EXPECT_EQ(e.file(), p.string());
  }
  EXPECT_EQ(damaged.read_storage("1"), float_bytes({10, 11, 12, 13}));  // undamaged entries still read
}

}  // namespace
