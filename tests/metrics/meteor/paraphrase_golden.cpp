// The shared tiny paraphrase table (data/meteor/tiny-paraphrase-en.gz) as a fake pycocoevalcap install: found
// through VIRTUAL_ENV next to the shared resources, signed other:<its SHA-256 prefix>, identical through the
// binary cache, and scoring configuration B of meteor_cases32.tsv the same way from the cache.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/io.h"
#include "metrics/meteor/discovery.h"
#include "metrics/meteor/meteor.h"
#include "metrics/meteor/paraphrase.h"
#include "support/shared_data.h"

namespace {

namespace fs = std::filesystem;
using namespace glamm::meteor;

TEST(ParaphraseGolden, SharedTinyTableFromAFakeInstallIsFoundSignedAndCached) {
  GLAMM_REQUIRE_SHARED(data, "data/meteor");
  const fs::path tiny = data / "tiny-paraphrase-en.gz";
  const fs::path tmp = fs::temp_directory_path() / ("glamm_paraphrase_golden_" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  const fs::path table =
      tmp / "venv" / "lib" / "python3.11" / "site-packages" / "pycocoevalcap" / "meteor" / "data" / "paraphrase-en.gz";
  fs::create_directories(table.parent_path());
  fs::copy_file(tiny, table);
  fs::create_directories(tmp / "empty");

  const auto saved = [](const char* k) {
    const char* v = std::getenv(k);
    return v ? std::string(v) : std::string("\x01");
  };
  const std::string old_venv = saved("VIRTUAL_ENV"), old_path = saved("PATH"), old_home = saved("HOME"),
                    old_conda = saved("CONDA_PREFIX"), old_para = saved("GLAMM_METEOR_PARAPHRASE");
  ::setenv("VIRTUAL_ENV", (tmp / "venv").c_str(), 1);
  ::setenv("PATH", (tmp / "empty").c_str(), 1);
  ::setenv("HOME", (tmp / "empty").c_str(), 1);
  ::unsetenv("CONDA_PREFIX");
  ::unsetenv("GLAMM_METEOR_PARAPHRASE");
  DiscoveryOptions opt;
  opt.resources_cli = data.string();
  opt.identify = true;
  const Discovery d = discover(opt);
  for (const auto& [k, v] : {std::pair<const char*, std::string>{"VIRTUAL_ENV", old_venv}, {"PATH", old_path},
                             {"HOME", old_home}, {"CONDA_PREFIX", old_conda}, {"GLAMM_METEOR_PARAPHRASE", old_para}}) {
    if (v == "\x01") ::unsetenv(k);
    else ::setenv(k, v.c_str(), 1);
  }
  EXPECT_EQ(d.jar.path, data.string());
  ASSERT_EQ(d.paraphrase.path, table.string());
  EXPECT_EQ(d.paraphrase.how, "VIRTUAL_ENV");
  EXPECT_FALSE(d.paraphrase.official);
  EXPECT_EQ(d.paraphrase.blob_id, "6c509a4da66964264d165a1bd8e6cbd747415cdd");  // git hash-object of the file

  const Resources r = Resources::load(data.string(), d.paraphrase.path);
  ASSERT_NE(r.paraphrase, nullptr);
  EXPECT_EQ(r.paraphrase_sha256, "01999182e769fbff9165c4d1254b4d85365f6ecfa62e085316dc031cb2170700");
  EXPECT_EQ(paraphrase_signature(true, r.paraphrase_official, r.paraphrase_sha256), "other:01999182e769");
  EXPECT_EQ(r.paraphrase->size(), 6u);  // the README's five pairs, "has been"↔"was" both ways

  const std::string gz = glamm::io::read_file(tiny);
  const std::string cache = (tmp / "cache").string();
  ParaphraseTable::CacheUse used;
  const ParaphraseTable parsed = ParaphraseTable::load_gz_bytes(gz, tiny.string());
  ParaphraseTable::load_gz_cached(gz, r.paraphrase_sha256, tiny.string(), cache, &used);
  EXPECT_EQ(used, ParaphraseTable::CacheUse::kParsedAndCached);
  const ParaphraseTable cached = ParaphraseTable::load_gz_cached(gz, r.paraphrase_sha256, tiny.string(), cache, &used);
  EXPECT_EQ(used, ParaphraseTable::CacheUse::kFromCache);
  EXPECT_TRUE(cached == parsed);
  EXPECT_TRUE(*r.paraphrase == parsed);
  fs::remove_all(tmp);
}

}  // namespace
