// A newcomer's first run: `glamm-eval gcg --sample` from an empty folder, with no GLAMM_SHARED,
// GLAMM_METEOR_RESOURCES or GLAMM_BERT and an empty HOME, scores METEOR with the resources the build put next to the
// binary, and the value equals the one computed with METEOR's own files (--meteor-resources <shared>/data/meteor).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "support/shared_data.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct SampleRun {
  int rc = -1;
  std::string out;
  json rec;
};

/// Run `glamm-eval gcg --sample` in `cwd` with a clean environment (the variables a developer may have set removed,
/// HOME = `home`); `extra` is appended to the command line, `env_set` ("NAME='value'") to the environment.
SampleRun run_sample(const fs::path& cwd, const fs::path& home, const std::string& extra,
                     const std::string& env_set = "") {
  const fs::path log = cwd / "log.txt", js = cwd / "rec.json";
  fs::remove(js);
  const std::string cmd = "cd '" + cwd.string() +
                          "' && env -u GLAMM_SHARED -u GLAMM_METEOR_RESOURCES -u GLAMM_BERT HOME='" + home.string() +
                          "' " + env_set + " '" + GLAMM_EVAL_BINARY + "' gcg --sample --json '" + js.string() + "' " + extra + " > '" +
                          log.string() + "' 2>&1";
  SampleRun r;
  const int rc = std::system(cmd.c_str());
  r.rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::ifstream in(log);
  r.out.assign(std::istreambuf_iterator<char>(in), {});
  if (fs::exists(js)) r.rec = json::parse(std::ifstream(js));
  return r;
}

}  // namespace

TEST(Newcomer, GcgSampleScoresMeteorWithTheBuiltResources) {
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor/english.synsets");
  const fs::path root = fs::path(::testing::TempDir()) / ("glamm_newcomer_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path home = root / "home", fresh = root / "cwd", with_shared = root / "cwd_shared";
  for (const auto& d : {home, fresh, with_shared}) fs::create_directories(d);

  const SampleRun a = run_sample(fresh, home, "");
  ASSERT_EQ(a.rc, 0) << a.out;
  EXPECT_EQ(a.out.find("METEOR n/a"), std::string::npos) << a.out;
  ASSERT_TRUE(a.rec.contains("metrics")) << a.out;
  ASSERT_TRUE(a.rec["metrics"].contains("METEOR")) << a.rec.dump(1);
  ASSERT_TRUE(a.rec["metrics"]["METEOR"].is_number()) << a.rec.dump(1);
  const std::string source = a.rec["signature"]["meteor_resources"].get<std::string>();
  if (source.find("meteor-1.5.jar") == std::string::npos) {
    // No pycocoevalcap on this machine: the folder the build derived, next to the binary.
    const fs::path expected =
        fs::weakly_canonical(fs::path(GLAMM_EVAL_BINARY).parent_path() / "share" / "glamm-eval" / "meteor");
    EXPECT_EQ(fs::weakly_canonical(source), expected);
    EXPECT_EQ(fs::weakly_canonical(source), fs::weakly_canonical(GLAMM_METEOR_DATA_DIR));
  }
  EXPECT_TRUE(fs::is_empty(home)) << "glamm-eval wrote into HOME";

  const SampleRun b = run_sample(with_shared, home, "--meteor-resources '" + meteor.parent_path().string() + "'");
  ASSERT_EQ(b.rc, 0) << b.out;
  const double derived = a.rec["metrics"]["METEOR"].get<double>();
  const double reference = b.rec["metrics"]["METEOR"].get<double>();
  EXPECT_GT(reference, 0.0);
  EXPECT_LE(std::fabs(derived - reference), 1e-12) << derived << " vs " << reference;
  // Same resource contents, so the same checksum in the signature.
  if (source.find("meteor-1.5.jar") == std::string::npos) {
    EXPECT_EQ(a.rec["signature"]["meteor_resources_sha256"], b.rec["signature"]["meteor_resources_sha256"]);
  }
  fs::remove_all(root);
}

TEST(Newcomer, OptionAndEnvironmentComeBeforeTheBuiltResources) {
  GLAMM_REQUIRE_SHARED(meteor, "data/meteor/english.synsets");
  const fs::path root = fs::path(::testing::TempDir()) / ("glamm_newcomer_order_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "home");
  const std::string shared_meteor = meteor.parent_path().string();
  const SampleRun env = run_sample(root, root / "home", "", "GLAMM_METEOR_RESOURCES='" + shared_meteor + "'");
  ASSERT_EQ(env.rc, 0) << env.out;
  EXPECT_EQ(env.rec["signature"]["meteor_resources"], shared_meteor);
  // --meteor-resources wins over the environment (a folder that does not exist: exit status 2 naming it).
  const SampleRun opt = run_sample(root, root / "home", "--meteor-resources '" + (root / "nowhere").string() + "'",
                                   "GLAMM_METEOR_RESOURCES='" + shared_meteor + "'");
  EXPECT_EQ(opt.rc, 2) << opt.out;
  EXPECT_NE(opt.out.find((root / "nowhere").string()), std::string::npos) << opt.out;
  fs::remove_all(root);
}
