// How every reader gets its bytes (common/io): plain reasons when a file cannot be read, FIFOs read to the end,
// gzip inflated by the text reader only (with the bomb guard), and JSON syntax errors with line, column, byte and
// the reason in plain words (docs/input-rules.md, "File reading").
#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/gzip.h"
#include "common/error.h"
#include "common/io.h"

namespace {

namespace fs = std::filesystem;
using glamm::InputError;
namespace io = glamm::io;

class FileReading : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("glamm_file_reading_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_ / "secret.json", fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& bytes) {
    io::write_file_atomic(dir_ / name, bytes);
    return dir_ / name;
  }
  fs::path dir_;
};

std::string read_error(const fs::path& p) {
  try {
    io::read_file(p);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string json_error(const std::string& text) { return io::json_syntax_error(text, "x.json", "fallback").what(); }

/// gzip of `data` (one member; `level` as zlib's).
using glamm::testing::gzip;

TEST_F(FileReading, SaysWhyAFileCannotBeRead) {
  EXPECT_EQ(read_error(dir_ / "none.json"), (dir_ / "none.json").string() + ": cannot read file: no such file");
  EXPECT_EQ(read_error(dir_), dir_.string() + ": cannot read file: it is a directory, not a file");
  fs::create_symlink(dir_ / "gone.json", dir_ / "dangling.json");
  EXPECT_EQ(read_error(dir_ / "dangling.json"), (dir_ / "dangling.json").string() +
                                                    ": cannot read file: it is a dangling symbolic link (its target " +
                                                    (dir_ / "gone.json").string() + " does not exist)");
  fs::create_symlink(dir_ / "b.json", dir_ / "a.json");
  fs::create_symlink(dir_ / "a.json", dir_ / "b.json");
  EXPECT_EQ(read_error(dir_ / "a.json"),
            (dir_ / "a.json").string() +
                ": cannot read file: symbolic link loop (the links point at each other; too many levels)");
  const fs::path f = write("plain.json", "{}");
  EXPECT_EQ(read_error(f / "x.json"),
            (f / "x.json").string() + ": cannot read file: a part of the path that should be a folder is a file");
}

TEST_F(FileReading, SaysPermissionDeniedAndIoErrorsInPlainWords) {
  // These errors cannot be produced here as root (root reads any file; EIO needs a failing device), so the
  // reason read_file reports for them is checked directly.
  const fs::path p = write("secret.json", "{}");
  EXPECT_EQ(io::read_failure(p, EACCES).rfind("cannot read file: permission denied", 0), 0u);
  EXPECT_EQ(io::read_failure(p, EIO).rfind("cannot read file: I/O error", 0), 0u);
  EXPECT_EQ(io::read_failure(p, ENOENT), "cannot read file: no such file");
  if (::geteuid() != 0) {  // and end to end where permissions apply
    fs::permissions(p, fs::perms::none);
    EXPECT_NE(read_error(p).find("secret.json: cannot read file: permission denied"), std::string::npos);
  }
}

TEST_F(FileReading, ReadsAFifoToTheEnd) {
  const fs::path fifo = dir_ / "stream.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string big(3 << 20, 'x');  // more than a pipe buffer and more than one read
  big[0] = '"';
  big.back() = '"';
  std::thread writer([&] {
    FILE* f = std::fopen(fifo.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(big.data(), 1, big.size(), f);
    std::fclose(f);
  });
  const std::string got = io::read_file(fifo);
  writer.join();
  EXPECT_EQ(got.size(), big.size());
  EXPECT_EQ(got, big);
  // The stream cannot be read twice: its checksum is the one of the bytes read.
  EXPECT_EQ(io::sha256_file(fifo), io::sha256_hex(big));
}

TEST_F(FileReading, TextReaderInflatesGzipByMagicAndRawReaderDoesNot) {
  const std::string json = R"({"a": [1, 2, 3]})";
  const std::string gz = gzip(json);
  const fs::path named_json = write("x.json", gz);  // gzip under a plain name: the magic bytes decide
  const fs::path named_gz = write("x.json.gz", gz);
  EXPECT_EQ(io::read_text_file(named_json), json);
  EXPECT_EQ(io::read_text_file(named_gz), json);
  EXPECT_EQ(io::read_file(named_gz), gz);  // raw stays raw
  EXPECT_EQ(io::load_json(named_gz).at("a").at(2), 3);
  // Two members, as `cat a.gz b.gz` makes and Python's gzip reads.
  EXPECT_EQ(io::read_text_file(write("two.gz", gzip("[1,") + gzip("2]"))), "[1,2]");
  // Truncated and corrupt.
  try {
    io::read_text_file(write("cut.json.gz", gz.substr(0, gz.size() - 10)));
    ADD_FAILURE() << "truncated gzip read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.json.gz: the gzip data is truncated"), std::string::npos) << e.what();
  }
  std::string bad = gz;
  bad[12] ^= 0x55;
  try {
    io::read_text_file(write("bad.json.gz", bad));
    ADD_FAILURE() << "corrupt gzip read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json.gz: corrupt gzip data"), std::string::npos) << e.what();
  }
}

TEST_F(FileReading, RefusesAGzipBomb) {
  // 257 MiB of zeros compress about 1000:1: beyond both 200x and 256 MiB.
  const std::string zeros((257u << 20), '\0');
  const std::string gz = gzip(zeros, 1);
  ASSERT_LT(gz.size() * io::kGzipBombRatio, zeros.size());
  try {
    io::gunzip_text(gz, "bomb.json.gz");
    ADD_FAILURE() << "bomb inflated";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bomb.json.gz: gzip data inflates to more than 200 times its size and more "
                                         "than 256 MiB; refused"),
              std::string::npos)
        << e.what();
  }
  // Highly compressible but under the floor: read.
  EXPECT_EQ(io::gunzip_text(gzip(std::string(1u << 20, ' ')), "ok.gz").size(), 1u << 20);
}

TEST_F(FileReading, PrefetchedChecksumIsUsedOnlyForTheUnchangedFile) {
  const fs::path a = write("a.json", std::string(3 << 20, 'a'));  // several read blocks
  const std::string expected_a = io::sha256_hex(std::string(3 << 20, 'a'));
  io::prefetch_sha256(a);
  EXPECT_EQ(io::sha256_file(a), expected_a);
  EXPECT_EQ(io::sha256_file(a), expected_a);  // asked twice

  // Rewritten after the prefetch (other size): the file is read again.
  const fs::path b = write("b.json", "first");
  io::prefetch_sha256(b);
  write("b.json", "second, longer");
  EXPECT_EQ(io::sha256_file(b), io::sha256_hex("second, longer"));

  // Not a regular file, or missing: prefetch does nothing, sha256_file says what it always said.
  io::prefetch_sha256(dir_);
  io::prefetch_sha256(dir_ / "missing.json");
  EXPECT_THROW(io::sha256_file(dir_ / "missing.json"), InputError);
}

TEST_F(FileReading, MappedFileIsOffUntilEnabledThenMapsRegularFilesWithZeroPadding) {
  const fs::path small = write("small.json", "{\"a\": 1}");
  // Off in a library until the program enables it (the command line, which handles SIGBUS).
  static bool enabled = false;
  if (!enabled) {
    EXPECT_TRUE(io::MappedFile::map(small, 64).empty());
  }
  io::enable_file_mapping();
  enabled = true;
  // Sizes around page boundaries: the padding bytes past the end must read as zeros.
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (const std::size_t size : {std::size_t{1}, page - 65, page - 64, page - 1, page, page + 1, 2 * page - 10}) {
    std::string bytes(size, 'x');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + i % 26);
    const fs::path p = write("f" + std::to_string(size), bytes);
    const io::MappedFile m = io::MappedFile::map(p, 64);
    ASSERT_FALSE(m.empty()) << size;
    EXPECT_EQ(m.text(), bytes) << size;
    for (std::size_t i = 0; i < 64; ++i) ASSERT_EQ(m.text().data()[size + i], '\0') << size << " +" << i;
  }
  // Not mapped: an empty file, a folder, a FIFO, a missing file (the callers read those and say why).
  EXPECT_TRUE(io::MappedFile::map(write("empty.json", ""), 64).empty());
  EXPECT_TRUE(io::MappedFile::map(dir_, 64).empty());
  EXPECT_TRUE(io::MappedFile::map(dir_ / "missing.json", 64).empty());
  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(io::MappedFile::map(fifo, 64).empty());
  // Moving keeps one owner of the mapping.
  io::MappedFile a = io::MappedFile::map(small, 64);
  io::MappedFile b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_EQ(b.text(), "{\"a\": 1}");
}

TEST(JsonSyntaxError, GivesLineColumnByteAndReason) {
  EXPECT_EQ(json_error("{\"a\": 1,\n \"b\": ]}"),
            "x.json: invalid JSON at line 2, column 7 (byte 15): syntax error while parsing value - unexpected ']'; "
            "expected '[', '{', or a literal");
  // Columns count characters: 'é' is two bytes, one column.
  EXPECT_NE(json_error("[\"é\", x]").find("at line 1, column 7 (byte 7)"), std::string::npos)
      << json_error("[\"é\", x]");
}

TEST(JsonSyntaxError, NamesBomSurrogateBigIntegerAndNonFinite) {
  EXPECT_EQ(json_error("\xEF\xBB\xBF{}"),
            "x.json: invalid JSON at line 1, column 1 (byte 0): the file starts with a UTF-8 byte order mark (BOM); "
            "JSON must not have one (Python's json.load refuses it too: 'Unexpected UTF-8 BOM'); save the file as "
            "UTF-8 without BOM");
  const std::string sur = json_error("[\n  {\"caption\": \"a \\ud800 b\"}]");
  EXPECT_NE(sur.find("x.json: invalid JSON at line 2, column 18 (byte 19): a lone UTF-16 surrogate escape"),
            std::string::npos)
      << sur;
  EXPECT_EQ(json_error("{\"id\": 123456789012345678901234567890}"),
            "x.json: invalid JSON at line 1, column 8 (byte 7): the integer 123456789012345678901234567890 (30 "
            "digits) is beyond the 64-bit range glamm-eval reads (ids and counts must fit in 64 bits)");
  EXPECT_EQ(json_error("[-9223372036854775809]").find("x.json: invalid JSON at line 1, column 2 (byte 1): the "
                                                      "integer -9223372036854775809 (19 digits)"),
            0u);
  EXPECT_NE(json_error("[18446744073709551615, 1.5e3]").find("fallback"), std::string::npos);  // uint64 max is read
  EXPECT_EQ(json_error("{\"score\": -Infinity}"),
            "x.json: invalid JSON at line 1, column 11 (byte 10): -Infinity is not a JSON number (Python's json writes "
            "it for a non-finite float); glamm-eval accepts NaN/Infinity/-Infinity only as a detection 'score' of a "
            "COCO results file");
  EXPECT_EQ(json_error("[0.5,\n 1e400]"),
            "x.json: invalid JSON at line 2, column 2 (byte 7): number overflow parsing '1e400' (beyond the double "
            "range; Python would read it as infinity, glamm-eval's inputs hold finite numbers)");
  EXPECT_EQ(json_error("[1, x]"),
            "x.json: invalid JSON at line 1, column 5 (byte 4): syntax error while parsing value - invalid literal");
  EXPECT_NE(json_error("[1,\nNaN]").find("at line 2, column 1 (byte 4): NaN is not a JSON number"), std::string::npos);
}

TEST(JsonSyntaxError, NlohmannReadersReportThePosition) {
  try {
    io::parse_json("{\"a\": [1, 2,, 3]}", "p.json");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("p.json: invalid JSON at line 1, column 13 (byte 12): syntax error"),
              std::string::npos)
        << e.what();
  }
}

TEST(NonFiniteLiterals, FoundOutsideStringsOnly) {
  const auto lits = io::find_nonfinite_literals(R"([NaN, "NaN Infinity", Infinity, -Infinity])");
  ASSERT_EQ(lits.size(), 3u);
  EXPECT_EQ(lits[0].offset, 1u);
  EXPECT_TRUE(std::isnan(lits[0].value));
  EXPECT_EQ(lits[1].offset, 22u);
  EXPECT_EQ(lits[1].length, 8u);
  EXPECT_EQ(lits[1].value, HUGE_VAL);
  EXPECT_EQ(lits[2].offset, 32u);
  EXPECT_EQ(lits[2].value, -HUGE_VAL);
}

}  // namespace
