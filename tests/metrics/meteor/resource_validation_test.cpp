// METEOR resource files (docs/input-rules.md, "METEOR resource files"): empty or truncated files are input errors
// naming the file; files that load but differ from METEOR 1.5's (SHA-256) give a warning and the signature
// meteor_resources_variant "modified(...)". The folders are written by the tests from the build's own files
// (byte-identical to METEOR 1.5's).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "metrics/meteor/meteor.h"
#include "support/shared_data.h"

namespace {

namespace fs = std::filesystem;
using glamm::meteor::Resources;

const char* const kFiles[] = {"english.synsets", "english.exceptions", "english.words", "english.prefixes"};

class MeteorResourceFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path src = glamm::testing::meteor_resources_dir();
    GLAMM_REQUIRE(fs::exists(src / "english.synsets"), "the build's METEOR resources are missing: " << src);
    dir_ = fs::temp_directory_path() / ("glamm_meteor_res_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    for (const char* f : kFiles) fs::copy_file(src / f, dir_ / f, fs::copy_options::overwrite_existing);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string read(const char* name) { return glamm::io::read_file(dir_ / name); }
  void write(const char* name, const std::string& text) { glamm::io::write_file_atomic(dir_ / name, text); }
  /// The InputError message of loading the folder ("" when it loads).
  std::string load_error() {
    try {
      (void)Resources::load(dir_.string(), "-");
    } catch (const glamm::InputError& e) {
      return e.what();
    }
    return "";
  }
  /// Runs `glamm-eval meteor` on two segments with this folder; fills out_/err_, returns the exit status.
  int run_cli(const std::string& extra = "") {
    const fs::path in = dir_ / "in.txt", out = dir_ / "out.txt", err = dir_ / "err.txt";
    glamm::io::write_file_atomic(in, "a man rides a horse ||| a man is riding a horse\n"
                                     "the red car is parked ||| the red automobile is parked\n");
    const std::string cmd = "'" + std::string(GLAMM_EVAL_BINARY) + "' meteor --meteor-resources '" + dir_.string() +
                            "' --meteor-paraphrase - " + extra + " < '" + in.string() + "' > '" + out.string() +
                            "' 2> '" + err.string() + "'";
    const int rc = std::system(cmd.c_str());
    out_ = glamm::io::read_file(out);
    err_ = glamm::io::read_file(err);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  fs::path dir_;
  std::string out_, err_;
};

TEST_F(MeteorResourceFiles, TheBuildsFilesAreMeteor15s) {
  const Resources r = Resources::load(dir_.string(), "-");
  EXPECT_TRUE(r.modified_files.empty());
  EXPECT_EQ(r.variant(), "official");
  EXPECT_EQ(glamm::meteor::resources_variant_warning(r), "");
  for (const char* f : kFiles)
    EXPECT_EQ(glamm::io::sha256_file(dir_ / f), glamm::meteor::meteor15_sha256().at(f)) << f;
}

TEST_F(MeteorResourceFiles, EmptyFilesAreErrorsNamingThem) {
  for (const char* f : kFiles) {
    SetUp();  // a fresh copy
    write(f, "");
    const std::string e = load_error();
    EXPECT_NE(e.find(f), std::string::npos) << f << ": " << e;
    EXPECT_NE(e.find("empty"), std::string::npos) << f << ": " << e;
  }
  SetUp();
  write("english.prefixes", "# only a comment\n\n");
  EXPECT_NE(load_error().find("english.prefixes"), std::string::npos);
}

TEST_F(MeteorResourceFiles, FilesCutMidLineAreTruncated) {
  for (const char* f : kFiles) {
    SetUp();
    const std::string full = read(f);
    std::size_t cut = full.size() / 2;
    while (full[cut - 1] == '\n') ++cut;  // inside a line
    write(f, full.substr(0, cut));
    const std::string e = load_error();
    EXPECT_NE(e.find(f), std::string::npos) << f << ": " << e;
    EXPECT_NE(e.find("truncated"), std::string::npos) << f << ": " << e;
  }
}

TEST_F(MeteorResourceFiles, MalformedPairsAreErrorsWithTheLine) {
  write("english.synsets", "couch\n1 2\nsofa\n\n");  // a word without ids
  std::string e = load_error();
  EXPECT_NE(e.find("english.synsets"), std::string::npos) << e;
  EXPECT_NE(e.find("line 4"), std::string::npos) << e;
  write("english.synsets", "couch\n1 2\nsofa bed\n2\n");  // two words on a word line
  e = load_error();
  EXPECT_NE(e.find("line 3"), std::string::npos) << e;
  write("english.synsets", "couch\n1 x2\n");
  EXPECT_NE(load_error().find("bad synset id"), std::string::npos);
  write("english.synsets", "couch\n1 2\n");
  write("english.exceptions", "mouse\n\n");
  e = load_error();
  EXPECT_NE(e.find("english.exceptions"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
}

TEST_F(MeteorResourceFiles, ModifiedFilesLoadWithAWarningAndTheirNames) {
  // english.synsets cut at a pair boundary: structurally valid, but not METEOR 1.5's.
  const std::string full = read("english.synsets");
  std::size_t cut = full.size() / 2, newlines = 0;
  for (std::size_t i = 0; i < full.size() && i < cut; ++i) newlines += full[i] == '\n';
  while (full[cut - 1] != '\n' || newlines % 2 != 0) newlines += full[cut++] == '\n';
  write("english.synsets", full.substr(0, cut));
  write("english.words", read("english.words") + "zzzword\n");
  const Resources r = Resources::load(dir_.string(), "-");
  EXPECT_EQ(r.modified_files, (std::vector<std::string>{"english.synsets", "english.words"}));
  EXPECT_EQ(r.variant(), "modified(english.synsets,english.words)");
  const std::string w = glamm::meteor::resources_variant_warning(r);
  EXPECT_NE(w.find("METEOR resources differ from METEOR 1.5's: english.synsets, english.words"), std::string::npos)
      << w;
  EXPECT_NE(w.find("scores may differ from pycocoevalcap's"), std::string::npos) << w;
}

TEST_F(MeteorResourceFiles, CliExitCodesWarningsAndSignature) {
  GLAMM_REQUIRE(fs::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
  const fs::path rec = dir_ / "rec.json";
  ASSERT_EQ(run_cli("--json '" + rec.string() + "'"), 0) << err_;
  const std::string official_out = out_;
  EXPECT_EQ(err_.find("differ from METEOR 1.5"), std::string::npos) << err_;
  EXPECT_EQ(nlohmann::json::parse(glamm::io::read_file(rec)).at("signature").at("meteor_resources_variant"),
            "official");

  const std::string full = read("english.synsets");
  write("english.synsets", full.substr(0, full.size() / 2 + 3));  // cut mid-line
  ASSERT_EQ(run_cli(), 2) << out_ << err_;
  EXPECT_NE(err_.find("english.synsets"), std::string::npos) << err_;
  EXPECT_NE(err_.find("truncated"), std::string::npos) << err_;

  write("english.synsets", "");
  ASSERT_EQ(run_cli(), 2) << out_ << err_;
  EXPECT_NE(err_.find("empty"), std::string::npos) << err_;

  // Drop the synset pair of "automobile": a valid file, not METEOR 1.5's; scored with a warning and signed so.
  const std::size_t at = full.find("\nautomobile\n");
  ASSERT_NE(at, std::string::npos);
  const std::size_t ids_end = full.find('\n', at + 12);
  write("english.synsets", full.substr(0, at + 1) + full.substr(ids_end + 1));
  ASSERT_EQ(run_cli("--json '" + rec.string() + "'"), 0) << err_;
  EXPECT_NE(err_.find("METEOR resources differ from METEOR 1.5's: english.synsets"), std::string::npos) << err_;
  const auto j = nlohmann::json::parse(glamm::io::read_file(rec));
  EXPECT_EQ(j.at("signature").at("meteor_resources_variant"), "modified(english.synsets)");
  bool recorded = false;
  for (const auto& w : j.at("warnings")) recorded |= w.get<std::string>().find("english.synsets") != std::string::npos;
  EXPECT_TRUE(recorded) << j.at("warnings").dump();
  EXPECT_NE(out_, official_out);  // the synonym car/automobile matters here, so the change is visible
}

}  // namespace
