// `glamm-eval tokenize` end to end: line and --batch input, --raw, --strict, warnings and exit codes.
#include <array>
#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "support/shared_data.h"

namespace {

struct CliRun {
  int status = -1;
  std::string out;
};

// Runs glamm-eval with `args`, stdin from a file holding `input`; stderr goes to a file next to it.
CliRun run_cli(const std::string& args, const std::string& input) {
  auto dir = std::filesystem::temp_directory_path() / ("glamm_tok_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" + std::to_string(std::hash<std::string>{}(args + input)));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in.txt", std::ios::binary) << input;
  std::string cmd = std::string("'") + GLAMM_EVAL_BINARY + "' tokenize " + args + " < '" + (dir / "in.txt").string() +
                    "' 2> '" + (dir / "err.txt").string() + "'";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::filesystem::remove_all(dir);
  return r;
}

TEST(TokenizeCli, LinesInFilteredLinesOut) {
  GLAMM_REQUIRE(std::filesystem::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
  CliRun r = run_cli("", "A man's dog isn't happy.\napples, etc.\nA dog (big)!\n");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "a man 's dog is n't happy\napples etc.\na dog -lrb- big -rrb-\n");
  CliRun raw = run_cli("--raw", "A man's dog isn't happy.\napples, etc.\nA dog (big)!\n");
  EXPECT_EQ(raw.out, "a man 's dog is n't happy .\napples , etc. .\na dog -lrb- big -rrb- !\n");
}

TEST(TokenizeCli, BatchReproducesTheLineShiftUnlessStrict) {
  GLAMM_REQUIRE(std::filesystem::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
  CliRun ref = run_cli("--batch", R"(["a\rb", "c", "d"])");
  EXPECT_EQ(ref.status, 0);
  EXPECT_EQ(ref.out, "a\nb\nc\n");
  CliRun strict = run_cli("--batch --strict", R"(["a\rb", "c", "d"])");
  EXPECT_EQ(strict.out, "a b\nc\nd\n");
}

TEST(TokenizeCli, BadInputExitsWithStatus2) {
  GLAMM_REQUIRE(std::filesystem::exists(GLAMM_EVAL_BINARY), "glamm-eval not built: " << GLAMM_EVAL_BINARY);
  EXPECT_EQ(run_cli("", "fine\nbad \xff\n").status, 2);
  EXPECT_EQ(run_cli("--batch", "[\"a\", 3]").status, 2);
  EXPECT_EQ(run_cli("--batch", "[\"a\"").status, 2);
}

}  // namespace
