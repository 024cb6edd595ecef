// METEOR paraphrase table: discovery of pycocoevalcap's files in fake Python environments, identification by git
// blob id, the signature value, the streaming parser's early failures and the binary cache round trip. All
// fixtures are written here (tiny gzip tables in temporary folders).
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/io.h"
#include "metrics/meteor/discovery.h"
#include "metrics/meteor/meteor.h"
#include "metrics/meteor/paraphrase.h"

namespace {

namespace fs = std::filesystem;
using namespace glamm::meteor;

const char* kTinyTable = "0.5\nnext to\nbeside\n0.25\nteddy bear\nstuffed animal\n0.5\nteddy\ntoy\n";

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// gzip `text` into `p` as one member (append = add another member after the existing ones).
void write_gz(const fs::path& p, const std::string& text, bool append = false, int level = 6) {
  fs::create_directories(p.parent_path());
  const std::string mode = std::string(append ? "ab" : "wb") + std::to_string(level);
  gzFile f = gzopen(p.string().c_str(), mode.c_str());
  ASSERT_NE(f, nullptr);
  if (!text.empty()) {
    ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  }
  gzclose(f);
}

// Sets environment variables for one test and restores them afterwards.
class EnvGuard {
 public:
  void set(const std::string& k, const std::optional<std::string>& v) {
    if (!saved_.count(k)) {
      const char* old = std::getenv(k.c_str());
      saved_[k] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (v) ::setenv(k.c_str(), v->c_str(), 1);
    else ::unsetenv(k.c_str());
  }
  ~EnvGuard() {
    for (auto& [k, v] : saved_) {
      if (v) ::setenv(k.c_str(), v->c_str(), 1);
      else ::unsetenv(k.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

class ParaphraseFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = fs::temp_directory_path() / ("glamm_paraphrase_unit_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(tmp_);
    fs::create_directories(tmp_ / "empty-bin");
    fs::create_directories(tmp_ / "home");
    // A clean environment: no python3 on PATH, no Python environment variables, an empty home, no cache.
    env_.set("PATH", (tmp_ / "empty-bin").string());
    for (const char* k : {"VIRTUAL_ENV", "CONDA_PREFIX", "GLAMM_METEOR_PARAPHRASE", "GLAMM_METEOR_RESOURCES"})
      env_.set(k, std::nullopt);
    env_.set("HOME", (tmp_ / "home").string());
    env_.set("XDG_CACHE_HOME", (tmp_ / "cache").string());
    env_.set("GLAMM_NO_CACHE", std::nullopt);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  // A fake pycocoevalcap install under `prefix`: lib/python3.11/site-packages/pycocoevalcap/meteor/...
  fs::path fake_install(const fs::path& prefix) {
    const fs::path pkg = prefix / "lib" / "python3.11" / "site-packages" / "pycocoevalcap" / "meteor";
    write_gz(pkg / "data" / "paraphrase-en.gz", kTinyTable);
    write_text(pkg / "meteor-1.5.jar", "PK not really a jar");
    return pkg;
  }
  static Discovery find(const std::string& resources = "", const std::string& paraphrase = "") {
    DiscoveryOptions o;
    o.resources_cli = resources;
    o.paraphrase_cli = paraphrase;
    o.python_timeout_ms = 300;
    return discover(o);
  }
  fs::path tmp_;
  EnvGuard env_;
};

// ------------------------------------------------------------------------------------------------ Blob ids
TEST(ParaphraseBlobId, MatchesGitHashObject) {
  // `git hash-object` of the empty file and of "hello\n".
  EXPECT_EQ(git_blob_id(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  EXPECT_EQ(git_blob_id("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(git_blob_id(std::string("a\0b", 3)), git_blob_id(std::string("a\0b", 3)));
  EXPECT_NE(git_blob_id(std::string("a\0b", 3)), git_blob_id("a"));
}

TEST_F(ParaphraseFixture, BlobIdOfAFileStreamsTheSameDigest) {
  write_text(tmp_ / "h.txt", "hello\n");
  EXPECT_EQ(git_blob_id_file((tmp_ / "h.txt").string()), "ce013625030ba8dba906f756967f9e9ca394464a");
  std::string big(3u << 20, 'x');  // more than one read block
  big[12345] = '\n';
  write_text(tmp_ / "big.bin", big);
  EXPECT_EQ(git_blob_id_file((tmp_ / "big.bin").string()), git_blob_id(big));
  EXPECT_THROW(git_blob_id_file((tmp_ / "missing").string()), glamm::InputError);
  EXPECT_FALSE(is_official_jar((tmp_ / "h.txt").string()));
  EXPECT_FALSE(is_official_paraphrase((tmp_ / "big.bin").string()));
  EXPECT_FALSE(is_official_paraphrase((tmp_ / "missing").string()));
}

TEST(ParaphraseSignature, OfficialOtherOrOff) {
  EXPECT_EQ(paraphrase_signature(false, false, ""), "off");
  EXPECT_EQ(paraphrase_signature(true, true, std::string(64, 'a')), "official");
  EXPECT_EQ(paraphrase_signature(true, false, "0123456789abcdef" + std::string(48, '0')), "other:0123456789ab");
}

// ------------------------------------------------------------------------------------------------ Discovery
TEST_F(ParaphraseFixture, NothingInstalledFindsNothingAndDoesNotHang) {
  const Discovery d = find();
  // Only a system-wide install (outside this test's control) could be found.
  for (const DiscoveredFile* f : {&d.jar, &d.paraphrase})
    EXPECT_TRUE(!f->found() || f->how == "/usr/lib" || f->how == "/usr/local/lib") << f->path;
  EXPECT_FALSE(d.paraphrase_off);
}

TEST_F(ParaphraseFixture, FoundThroughVirtualEnv) {
  const fs::path pkg = fake_install(tmp_ / "venv");
  env_.set("VIRTUAL_ENV", (tmp_ / "venv").string());
  const Discovery d = find();
  EXPECT_EQ(d.paraphrase.path, (pkg / "data" / "paraphrase-en.gz").string());
  EXPECT_EQ(d.paraphrase.how, "VIRTUAL_ENV");
  EXPECT_EQ(d.jar.path, (pkg / "meteor-1.5.jar").string());
  EXPECT_EQ(find_resources(""), (pkg / "meteor-1.5.jar").string());
}

TEST_F(ParaphraseFixture, FoundThroughCondaPrefix) {
  const fs::path pkg = fake_install(tmp_ / "conda");
  env_.set("CONDA_PREFIX", (tmp_ / "conda").string());
  const Discovery d = find();
  EXPECT_EQ(d.paraphrase.path, (pkg / "data" / "paraphrase-en.gz").string());
  EXPECT_EQ(d.paraphrase.how, "CONDA_PREFIX");
}

TEST_F(ParaphraseFixture, FoundInTheUserSitePackages) {
  const fs::path pkg = fake_install(tmp_ / "home" / ".local");
  const Discovery d = find();
  EXPECT_EQ(d.paraphrase.path, (pkg / "data" / "paraphrase-en.gz").string());
  EXPECT_EQ(d.paraphrase.how, "~/.local");
}

TEST_F(ParaphraseFixture, FoundThroughThePython3OnPathWithoutRunningIt) {
  const fs::path pkg = fake_install(tmp_ / "py");
  // A python3 that would take 30 s if it were run: found by its prefix, so never run.
  write_text(tmp_ / "py" / "bin" / "python3", "#!/bin/sh\nsleep 30\n");
  fs::permissions(tmp_ / "py" / "bin" / "python3", fs::perms::owner_all);
  env_.set("PATH", (tmp_ / "empty-bin").string() + ":" + (tmp_ / "py" / "bin").string());
  const auto t0 = std::chrono::steady_clock::now();
  const Discovery d = find();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_EQ(d.paraphrase.path, (pkg / "data" / "paraphrase-en.gz").string());
  EXPECT_EQ(d.paraphrase.how.rfind("python3 on PATH", 0), 0u) << d.paraphrase.how;
  // The PATH interpreter comes before VIRTUAL_ENV.
  fake_install(tmp_ / "venv");
  env_.set("VIRTUAL_ENV", (tmp_ / "venv").string());
  EXPECT_EQ(find().paraphrase.path, (pkg / "data" / "paraphrase-en.gz").string());
}

TEST_F(ParaphraseFixture, AWrapperPython3IsAskedAndAHangingOneIsKilled) {
  // A wrapper (like a pyenv shim) with no lib/ beside it prints its site-packages folder.
  const fs::path pkg = fake_install(tmp_ / "real");
  const fs::path site = tmp_ / "real" / "lib" / "python3.11" / "site-packages";
  write_text(tmp_ / "shim" / "python3", "#!/bin/sh\necho '" + site.string() + "'\n");
  fs::permissions(tmp_ / "shim" / "python3", fs::perms::owner_all);
  env_.set("PATH", (tmp_ / "shim").string());
  EXPECT_EQ(find().paraphrase.path, (pkg / "data" / "paraphrase-en.gz").string());
  // One that hangs is killed after the timeout (300 ms here).
  write_text(tmp_ / "hang" / "python3", "#!/bin/sh\nexec sleep 30\n");
  fs::permissions(tmp_ / "hang" / "python3", fs::perms::owner_all);
  env_.set("PATH", (tmp_ / "hang").string());
  const auto t0 = std::chrono::steady_clock::now();
  const Discovery d = find();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_TRUE(!d.paraphrase.found() || d.paraphrase.how.rfind("/usr", 0) == 0) << d.paraphrase.path;
}

TEST_F(ParaphraseFixture, APyenvShimIsNotRunButItsVersionsAreSearched) {
  const fs::path pkg = fake_install(tmp_ / "pyenv" / "versions" / "3.11.4");
  write_text(tmp_ / "pyenv" / "shims" / "python3", "#!/bin/sh\nsleep 30\n");
  fs::permissions(tmp_ / "pyenv" / "shims" / "python3", fs::perms::owner_all);
  env_.set("PATH", (tmp_ / "pyenv" / "shims").string());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(find().paraphrase.path, (pkg / "data" / "paraphrase-en.gz").string());
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0.25);  // not run
}

TEST_F(ParaphraseFixture, FlagThenEnvironmentThenNextToTheJarThenPython) {
  fake_install(tmp_ / "venv");
  env_.set("VIRTUAL_ENV", (tmp_ / "venv").string());
  write_gz(tmp_ / "dist" / "data" / "paraphrase-en.gz", kTinyTable);
  write_text(tmp_ / "dist" / "meteor-1.5.jar", "PK");
  // Next to a jar given as resources (METEOR's own lookup: <jar dir>/data/paraphrase-en.gz) ...
  Discovery d = find((tmp_ / "dist" / "meteor-1.5.jar").string());
  EXPECT_EQ(d.paraphrase.path, (tmp_ / "dist" / "data" / "paraphrase-en.gz").string());
  EXPECT_EQ(d.paraphrase.how, "next to the METEOR resources");
  // ... and in a METEOR distribution folder, which stands for its jar.
  d = find((tmp_ / "dist").string());
  EXPECT_EQ(d.paraphrase.path, (tmp_ / "dist" / "data" / "paraphrase-en.gz").string());
  EXPECT_EQ(d.jar.path, (tmp_ / "dist" / "meteor-1.5.jar").string());
  EXPECT_EQ(find_resources((tmp_ / "dist").string()), (tmp_ / "dist" / "meteor-1.5.jar").string());
  // A resource folder (english.synsets) stays a folder, with its own table beside the files.
  write_text(tmp_ / "res" / "english.synsets", "x\n1\n");
  write_gz(tmp_ / "res" / "paraphrase-en.gz", kTinyTable);
  d = find((tmp_ / "res").string());
  EXPECT_EQ(d.jar.path, (tmp_ / "res").string());
  EXPECT_EQ(d.paraphrase.path, (tmp_ / "res" / "paraphrase-en.gz").string());
  // The environment beats both; the flag beats the environment.
  env_.set("GLAMM_METEOR_PARAPHRASE", (tmp_ / "env.gz").string());
  d = find((tmp_ / "dist").string());
  EXPECT_EQ(d.paraphrase.path, (tmp_ / "env.gz").string());
  EXPECT_EQ(d.paraphrase.how, "GLAMM_METEOR_PARAPHRASE");
  d = find((tmp_ / "dist").string(), (tmp_ / "flag.gz").string());
  EXPECT_EQ(d.paraphrase.path, (tmp_ / "flag.gz").string());  // taken as given, even when missing
  EXPECT_EQ(d.paraphrase.how, "--meteor-paraphrase");
  // "-" and "off" turn it off, from the flag or the environment.
  for (const char* off : {"-", "off"}) {
    d = find("", off);
    EXPECT_TRUE(d.paraphrase_off);
    EXPECT_FALSE(d.paraphrase.found());
    env_.set("GLAMM_METEOR_PARAPHRASE", std::string(off));
    d = find();
    EXPECT_TRUE(d.paraphrase_off);
    EXPECT_FALSE(d.paraphrase.found());
  }
  env_.set("GLAMM_METEOR_PARAPHRASE", std::nullopt);
  // Without any of them: the Python environment.
  d = find();
  EXPECT_EQ(d.paraphrase.how, "VIRTUAL_ENV");
}

TEST_F(ParaphraseFixture, IdentifyListsEveryCandidateAndWhetherItIsOfficial) {
  const fs::path pkg = fake_install(tmp_ / "venv");
  fake_install(tmp_ / "home" / ".local");
  env_.set("VIRTUAL_ENV", (tmp_ / "venv").string());
  DiscoveryOptions o;
  o.identify = true;
  const Discovery d = discover(o);
  EXPECT_EQ(d.paraphrase.path, (pkg / "data" / "paraphrase-en.gz").string());
  EXPECT_TRUE(d.paraphrase.identified);
  EXPECT_FALSE(d.paraphrase.official);  // a tiny table, not pycocoevalcap's
  EXPECT_EQ(d.paraphrase.blob_id, git_blob_id(glamm::io::read_file(pkg / "data" / "paraphrase-en.gz")));
  int paraphrase_candidates = 0, existing = 0;
  for (const auto& c : d.checked)
    if (c.what == "paraphrase") {
      ++paraphrase_candidates;
      existing += c.exists;
      EXPECT_EQ(c.identified, c.exists);
      EXPECT_FALSE(c.official);
    }
  EXPECT_GE(paraphrase_candidates, 2);
  EXPECT_GE(existing, 2);  // the venv's and ~/.local's copies are both listed (and any system-wide one)
}

TEST_F(ParaphraseFixture, LoadedTableIsSignedAsOtherWithItsSha256Prefix) {
  const fs::path res = tmp_ / "res";
  write_text(res / "english.synsets", "couch\n1\n");
  write_text(res / "english.exceptions", "mouse\nmice\n");
  write_text(res / "english.words", "a\n");
  write_text(res / "english.prefixes", "Mr\n");
  const fs::path pkg = fake_install(tmp_ / "venv");
  env_.set("VIRTUAL_ENV", (tmp_ / "venv").string());
  const Discovery d = find(res.string());
  ASSERT_TRUE(d.paraphrase.found());
  const Resources r = Resources::load(res.string(), d.paraphrase.path);
  ASSERT_NE(r.paraphrase, nullptr);
  EXPECT_FALSE(r.paraphrase_official);
  const std::string sha = glamm::io::sha256_file(pkg / "data" / "paraphrase-en.gz");
  EXPECT_EQ(r.paraphrase_sha256, sha);
  EXPECT_EQ(paraphrase_signature(true, r.paraphrase_official, r.paraphrase_sha256), "other:" + sha.substr(0, 12));
  EXPECT_EQ(r.paraphrase->size(), 3u);
  const Resources off = Resources::load(res.string(), "off");
  EXPECT_EQ(off.paraphrase, nullptr);
}

// ------------------------------------------------------------------------------------------------ Parsing
TEST(ParaphraseParse, TrieFollowsTheTableInFileOrder) {
  const ParaphraseTable t = ParaphraseTable::parse(kTinyTable, "t");
  ASSERT_EQ(t.size(), 3u);
  std::vector<int> words = {t.translate("teddy"), t.translate("bear"), t.translate("next")};
  std::vector<std::pair<int, int>> out;
  t.paths(words, 0, out);
  ASSERT_EQ(out.size(), 2u);  // "teddy" (1 word, record 3) before "teddy bear" (2 words, record 2)
  EXPECT_EQ(out[0], std::make_pair(1, 2));
  EXPECT_EQ(out[1], std::make_pair(2, 1));
  EXPECT_EQ(t.paraphrase(1).size(), 2u);
  EXPECT_EQ(t.paraphrase(1)[0], t.translate("stuffed"));
  EXPECT_EQ(t.translate("unknown"), -1);
  t.paths(words, 2, out);
  EXPECT_TRUE(out.empty());  // "next" alone is not a phrase
  // Consecutive records of one phrase (tables are grouped by phrase) share its node, in file order; a phrase
  // that comes back later joins them.
  const ParaphraseTable g = ParaphraseTable::parse(
      "0.5\nteddy bear\ntoy\n0.4\nteddy bear\nplush\n0.3\nteddy\nbear\n0.2\nteddy bear\ndoll\n", "g");
  const std::vector<int> tb = {g.translate("teddy"), g.translate("bear")};
  g.paths(tb, 0, out);
  EXPECT_EQ(out, (std::vector<std::pair<int, int>>{{1, 2}, {2, 0}, {2, 1}, {2, 3}}));
}

TEST_F(ParaphraseFixture, LineEndsSplitAcrossGzipMembersAndCrLf) {
  // "\r" ends one member and "\n" starts the next: one line end, as Java's readLine sees it.
  write_gz(tmp_ / "m.gz", "0.5\r\nnext to\r");
  write_gz(tmp_ / "m.gz", "\nbeside\r0.5\nx\ny", true);
  const ParaphraseTable t = ParaphraseTable::load_gz((tmp_ / "m.gz").string());
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.paraphrase(0)[0], t.translate("beside"));
  EXPECT_EQ(t.paraphrase(1)[0], t.translate("y"));
  EXPECT_TRUE(t == ParaphraseTable::parse("0.5\nnext to\nbeside\n0.5\nx\ny\n", "t"));
}

TEST_F(ParaphraseFixture, InvalidFirstRecordFailsAtOnce) {
  // A first record whose probability line is text, followed by 50 MB that are never inflated.
  std::string junk = "hello world\nnext to\nbeside\n";
  write_gz(tmp_ / "bad.gz", junk);
  write_gz(tmp_ / "bad.gz", std::string(50u << 20, 'z'), true, 1);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    ParaphraseTable::load_gz((tmp_ / "bad.gz").string());
    FAIL() << "expected InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("record 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("probability"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  EXPECT_THROW(ParaphraseTable::parse("0.5\nnext to\nbeside\nabc\nx\ny\n", "t"), glamm::InputError);
  EXPECT_NO_THROW(ParaphraseTable::parse("1.0E-4\nx\ny\n 0.25 \nx\nz\n5\nx\nw\n.5d\nx\nv\nNaN\nx\nu\n", "t"));
  for (const char* bad : {"", "d", "0x1p3", "1.5e", "1..5", "- 1", "0.5 0.5"})
    EXPECT_THROW(ParaphraseTable::parse(std::string(bad) + "\nx\ny\n", "t"), glamm::InputError) << bad;
}

TEST_F(ParaphraseFixture, GzipBombsFailFast) {
  // 1 GiB of zeros in 1024 gzip members of 1 MiB each (about 1 MB of gzip): one endless line.
  {
    std::string one;
    write_gz(tmp_ / "member.gz", std::string(1u << 20, '\0'), false, 9);
    one = glamm::io::read_file(tmp_ / "member.gz");
    std::string all;
    for (int k = 0; k < 1024; ++k) all += one;
    write_text(tmp_ / "zeros.gz", all);
  }
  auto t0 = std::chrono::steady_clock::now();
  try {
    ParaphraseTable::load_gz((tmp_ / "zeros.gz").string());
    FAIL() << "expected InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("64 KiB"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  // Valid records repeated 64M times (512 MiB inflated from about 0.5 MB): refused by the inflation ratio.
  {
    std::string rec;
    for (int k = 0; k < (1 << 17); ++k) rec += "0.5\na\nb\n";  // 1 MiB
    write_gz(tmp_ / "member.gz", rec, false, 9);
    const std::string one = glamm::io::read_file(tmp_ / "member.gz");
    std::string all;
    for (int k = 0; k < 512; ++k) all += one;
    write_text(tmp_ / "records.gz", all);
  }
  t0 = std::chrono::steady_clock::now();
  try {
    ParaphraseTable::load_gz((tmp_ / "records.gz").string());
    FAIL() << "expected InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("gzip bomb"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
}

// ------------------------------------------------------------------------------------------------ Cache
std::string random_table(std::size_t records, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> vocab;
  for (int i = 0; i < 2000; ++i) {
    std::string w;
    const int len = 1 + static_cast<int>(rng() % 9);
    for (int k = 0; k < len; ++k) w += static_cast<char>('a' + rng() % 26);
    vocab.push_back(w);
  }
  vocab.push_back("caf\xC3\xA9");
  std::string text;
  auto phrase = [&] {
    std::string p;
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n; ++k) p += (k ? " " : "") + vocab[rng() % vocab.size()];
    return p;
  };
  for (std::size_t r = 0; r < records; ++r)
    text += std::to_string((rng() % 1000) / 1000.0) + "\n" + phrase() + "\n" + phrase() + "\n";
  return text;
}

TEST_F(ParaphraseFixture, CacheRoundTripGivesTheSameTable) {
  for (const std::string& text : {std::string(kTinyTable), random_table(30000, 7)}) {
    write_gz(tmp_ / "t.gz", text);
    const std::string gz = glamm::io::read_file(tmp_ / "t.gz");
    const std::string sha = glamm::io::sha256_hex(gz);
    const std::string dir = (tmp_ / "cache").string();
    fs::remove_all(dir);
    const ParaphraseTable parsed = ParaphraseTable::load_gz_bytes(gz, "t.gz");
    EXPECT_TRUE(parsed == ParaphraseTable::parse(text, "t"));
    ParaphraseTable::CacheUse used;
    const ParaphraseTable first = ParaphraseTable::load_gz_cached(gz, sha, "t.gz", dir, &used);
    EXPECT_EQ(used, ParaphraseTable::CacheUse::kParsedAndCached);
    const fs::path file = fs::path(dir) / ("paraphrase-" + sha + ".bin");
    ASSERT_TRUE(fs::exists(file));
    const ParaphraseTable second = ParaphraseTable::load_gz_cached(gz, sha, "t.gz", dir, &used);
    EXPECT_EQ(used, ParaphraseTable::CacheUse::kFromCache);
    EXPECT_TRUE(first == parsed);
    EXPECT_TRUE(second == parsed);
    EXPECT_EQ(second.serialize(sha), parsed.serialize(sha));
    // Same lookups.
    std::vector<int> ids;
    for (const char* w : {"next", "to", "teddy", "bear", "caf\xC3\xA9"}) ids.push_back(second.translate(w));
    std::vector<std::pair<int, int>> a, b;
    for (std::size_t s = 0; s < ids.size(); ++s) {
      parsed.paths(ids, s, a);
      second.paths(ids, s, b);
      EXPECT_EQ(a, b);
    }
    // Another table's key, a flipped byte, a cut file: not used, the table is parsed again.
    ParaphraseTable other;
    EXPECT_FALSE(ParaphraseTable::read_cache(file.string(), std::string(64, '0'), other));
    std::string bytes = glamm::io::read_file(file);
    for (std::size_t pos : {std::size_t{3}, bytes.size() / 2, bytes.size() - 6}) {
      std::string bad = bytes;
      bad[pos] = static_cast<char>(bad[pos] ^ 0x40);
      glamm::io::write_file_atomic(file, bad);
      EXPECT_FALSE(ParaphraseTable::read_cache(file.string(), sha, other)) << pos;
      const ParaphraseTable again = ParaphraseTable::load_gz_cached(gz, sha, "t.gz", dir, &used);
      EXPECT_EQ(used, ParaphraseTable::CacheUse::kParsedAndCached) << pos;
      EXPECT_TRUE(again == parsed);
    }
    glamm::io::write_file_atomic(file, bytes.substr(0, bytes.size() - 100));
    EXPECT_FALSE(ParaphraseTable::read_cache(file.string(), sha, other));
    EXPECT_TRUE(ParaphraseTable::load_gz_cached(gz, sha, "t.gz", dir, &used) == parsed);
  }
}

TEST_F(ParaphraseFixture, LargeTablesAreInflatedOnASecondThreadWithTheSameResult) {
  // Over 4 MiB of gzip: inflated on a second thread while this one parses.
  const std::string text = random_table(400000, 11);
  write_gz(tmp_ / "big.gz", text, false, 1);
  const std::string gz = glamm::io::read_file(tmp_ / "big.gz");
  ASSERT_GT(gz.size(), 4u << 20);
  const ParaphraseTable t = ParaphraseTable::load_gz_bytes(gz, "big.gz");
  EXPECT_EQ(t.size(), 400000u);
  EXPECT_TRUE(t == ParaphraseTable::parse(text, "big.gz"));
  // Cut in the middle: truncated; a bad probability deep inside: named by its record.
  EXPECT_THROW(ParaphraseTable::load_gz_bytes(gz.substr(0, gz.size() / 2), "big.gz"), glamm::InputError);
  std::string bad = text;
  const std::size_t rec = 300000;
  std::size_t pos = 0;
  for (std::size_t k = 0; k < 3 * rec; ++k) pos = bad.find('\n', pos) + 1;
  bad.insert(pos, "x");
  write_gz(tmp_ / "bad.gz", bad, false, 1);
  try {
    ParaphraseTable::load_gz((tmp_ / "bad.gz").string());
    FAIL() << "expected InputError";
  } catch (const glamm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("record " + std::to_string(rec + 1) + ":"), std::string::npos) << e.what();
  }
}

TEST_F(ParaphraseFixture, ACacheWithAValidChecksumButBrokenIndexIsRejected) {
  // A crafted cache file: an extra word slot (every probe must reach an empty slot), CRC-32 recomputed.
  const ParaphraseTable t = ParaphraseTable::parse(kTinyTable, "t");
  const std::string sha(64, 'a');
  std::string img = t.serialize(sha);
  std::uint32_t vlen = 0;
  std::uint64_t counts[9];
  std::memcpy(&vlen, img.data() + 12, 4);
  std::memcpy(counts, img.data() + 16, sizeof counts);
  const std::size_t slots_at = 8 + 4 + 4 + sizeof counts + 64 + vlen + counts[0] + 4 * counts[1];
  std::size_t k = 0;
  while (k < counts[2] && std::memcmp(img.data() + slots_at + 8 * k, std::string(8, '\xFF').data(), 8) != 0) ++k;
  ASSERT_LT(k, counts[2]);
  std::memset(&img[slots_at + 8 * k], 0, 8);  // word 0 a second time
  const auto crc = static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(img.data()), img.size() - 8));
  std::memcpy(&img[img.size() - 8], &crc, 4);
  const fs::path file = tmp_ / "crafted.bin";
  write_text(file, img);
  ParaphraseTable out;
  EXPECT_FALSE(ParaphraseTable::read_cache(file.string(), sha, out));
  write_text(file, t.serialize(sha));  // the untouched image is accepted
  EXPECT_TRUE(ParaphraseTable::read_cache(file.string(), sha, out));
  EXPECT_TRUE(out == t);
}

TEST_F(ParaphraseFixture, CacheFolderFollowsXdgAndCanBeTurnedOff) {
  EXPECT_EQ(ParaphraseTable::default_cache_dir(), (tmp_ / "cache" / "glamm-eval").string());
  env_.set("XDG_CACHE_HOME", std::nullopt);
  EXPECT_EQ(ParaphraseTable::default_cache_dir(), (tmp_ / "home" / ".cache" / "glamm-eval").string());
  env_.set("GLAMM_NO_CACHE", std::string("1"));
  EXPECT_EQ(ParaphraseTable::default_cache_dir(), "");
  // An unwritable cache folder is not an error.
  write_gz(tmp_ / "t.gz", kTinyTable);
  const std::string gz = glamm::io::read_file(tmp_ / "t.gz");
  write_text(tmp_ / "file-not-dir", "x");
  ParaphraseTable::CacheUse used;
  const ParaphraseTable t =
      ParaphraseTable::load_gz_cached(gz, glamm::io::sha256_hex(gz), "t.gz", (tmp_ / "file-not-dir").string(), &used);
  EXPECT_EQ(used, ParaphraseTable::CacheUse::kParsed);
  EXPECT_EQ(t.size(), 3u);
}

}  // namespace
