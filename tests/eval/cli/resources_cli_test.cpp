// `glamm-eval resources`: every resource listed with where it was found and how it checks out; what is missing says
// how to get it; exit status 0 even then. The build's METEOR tables are identical to METEOR 1.5's (checked by
// SHA-256 inside the command), a paraphrase table that is not pycocoevalcap's is named as such.
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/io.h"
#include "support/test_dir.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class ResourcesCli : public ::testing::Test {
 protected:
  fs::path dir_;
  std::string out_;
  void SetUp() override {
    GLAMM_REQUIRE(fs::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
    dir_ = glamm::testing::per_test_dir("glamm_resources_cli");
    fs::create_directories(dir_ / "home");
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }
  /// Runs `resources` in a clean environment (empty HOME, no GLAMM_* variables, no Python on PATH); returns the
  /// exit status, fills out_ and the JSON list.
  int run(const std::string& args, json& list) {
    const fs::path js = dir_ / "r.json", log = dir_ / "log.txt";
    const std::string cmd = "env -u GLAMM_METEOR_RESOURCES -u GLAMM_METEOR_PARAPHRASE -u GLAMM_BERT -u VIRTUAL_ENV "
                            "-u CONDA_PREFIX -u GLAMM_SHARED HOME='" + (dir_ / "home").string() +
                            "' PATH=/nonexistent '" + GLAMM_EVAL_BINARY + "' resources " + args + " --json '" +
                            js.string() + "' > '" + log.string() + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    out_ = glamm::io::read_file(log);
    if (fs::exists(js)) list = glamm::io::load_json(js).at("resources");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  static const json& entry(const json& list, const std::string& name) {
    for (const auto& e : list)
      if (e.at("name") == name) return e;
    static const json none;
    ADD_FAILURE() << "no entry " << name;
    return none;
  }
};

TEST_F(ResourcesCli, BuiltMeteorTablesAreVerifiedAndMissingPartsSayHowToGetThem) {
  json list;
  ASSERT_EQ(run("", list), 0) << out_;
  const json& m = entry(list, "METEOR tables");
  EXPECT_TRUE(m.at("found").get<bool>());
  EXPECT_EQ(fs::canonical(m.at("location").get<std::string>()),
            fs::canonical(glamm::testing::meteor_resources_dir()));
  EXPECT_EQ(m.at("source"), "built with glamm-eval (derived from WordNet 3.0)");
  EXPECT_EQ(m.at("check"), "identical to METEOR 1.5's files (SHA-256 of all four)");
  const json& p = entry(list, "METEOR paraphrase table");
  EXPECT_FALSE(p.at("found").get<bool>());
  EXPECT_NE(p.at("hint").get<std::string>().find("pip install pycocoevalcap"), std::string::npos);
  const json& b = entry(list, "BERT (GCG mask recall)");
  EXPECT_FALSE(b.at("found").get<bool>());
  EXPECT_NE(b.at("hint").get<std::string>().find("--text-sim"), std::string::npos);
  EXPECT_TRUE(entry(list, "overlay plugin").at("found").get<bool>());
  EXPECT_NE(out_.find("to get it: pip install pycocoevalcap"), std::string::npos) << out_;
}

TEST_F(ResourcesCli, AnotherParaphraseTableIsNamedNotOfficialAndMissingTablesAreStillExitZero) {
  const fs::path table = dir_ / "para.gz";
  {
    gzFile g = gzopen(table.c_str(), "wb");
    const std::string rec = "0.5\nnext to\nbeside\n";
    gzwrite(g, rec.data(), static_cast<unsigned>(rec.size()));
    gzclose(g);
  }
  json list;
  ASSERT_EQ(run("--meteor-paraphrase '" + table.string() + "'", list), 0) << out_;
  const json& p = entry(list, "METEOR paraphrase table");
  EXPECT_TRUE(p.at("found").get<bool>());
  EXPECT_EQ(p.at("source"), "--meteor-paraphrase");
  EXPECT_NE(p.at("check").get<std::string>().find("not the official copy"), std::string::npos) << p.dump();
  ASSERT_EQ(run("--meteor-resources '" + (dir_ / "nowhere").string() + "'", list), 0) << out_;
  const json& m = entry(list, "METEOR tables");
  EXPECT_FALSE(m.at("found").get<bool>());
  EXPECT_NE(m.at("check").get<std::string>().find("english.synsets"), std::string::npos) << m.dump();
}

}  // namespace
