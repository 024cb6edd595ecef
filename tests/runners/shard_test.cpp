// Shard parsing, ranges and launcher environments (runners/shard.h).
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "runners/shard.h"

using namespace glamm::runners;

namespace {

EnvLookup env_of(std::map<std::string, std::string> m) {
  auto owned = std::make_shared<std::map<std::string, std::string>>(std::move(m));
  return [owned](const char* n) -> const char* {
    auto it = owned->find(n);
    return it == owned->end() ? nullptr : it->second.c_str();
  };
}

std::string error_of(const std::string& text) {
  try {
    parse_shard(text);
  } catch (const glamm::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Shard, ParsesKOfN) {
  const Shard s = parse_shard("2/7");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 7);
  EXPECT_EQ(s.source, "--shard");
  EXPECT_EQ(s.text(), "2/7");
  EXPECT_EQ(s.tag(), "shard-2-of-7");
}

TEST(Shard, RejectsBadTextNamingTheOption) {
  for (const std::string bad : {"3/3", "1-4", "a/b", "-1/2", "0/0", "", "1/", "/4", " 1/4", "1/4 ", "1.0/4"}) {
    const std::string e = error_of(bad);
    EXPECT_NE(e.find("--shard"), std::string::npos) << "'" << bad << "' gave: " << e;
    EXPECT_NE(e.find("k/N"), std::string::npos) << e;
  }
  EXPECT_NE(error_of("4/4").find("numbered 0 to 3"), std::string::npos);
}

TEST(Shard, RangesCoverEveryItemExactlyOnceWithoutPadding) {
  for (std::size_t n : {0u, 1u, 5u, 100u, 101u, 1000003u}) {
    for (int N : {1, 2, 3, 7}) {
      std::vector<int> seen(n, 0);
      std::size_t expect_begin = 0, min_size = n, max_size = 0;
      for (int k = 0; k < N; ++k) {
        Shard s;
        s.index = k;
        s.count = N;
        const auto [b, e] = shard_range(n, s);
        EXPECT_EQ(b, expect_begin) << "n " << n << " N " << N << " k " << k;  // contiguous, in order
        ASSERT_LE(b, e);
        ASSERT_LE(e, n);
        for (std::size_t i = b; i < e; ++i) ++seen[i];
        expect_begin = e;
        min_size = std::min(min_size, e - b);
        max_size = std::max(max_size, e - b);
      }
      EXPECT_EQ(expect_begin, n);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "item " << i << " n " << n << " N " << N;
      EXPECT_LE(max_size - min_size, 1u);
    }
  }
  Shard s;
  s.index = 6;
  s.count = 7;
  EXPECT_EQ(shard_range(5, s), std::make_pair(std::size_t{5}, std::size_t{5}));  // N > n: empty last shards
  s.index = 0;
  s.count = 3;
  EXPECT_EQ(shard_range(100, s), std::make_pair(std::size_t{0}, std::size_t{34}));
  s.index = 2;
  EXPECT_EQ(shard_range(100, s), std::make_pair(std::size_t{67}, std::size_t{100}));
}

TEST(ShardEnv, NoLauncherMeansTheWholeList) {
  const Shard s = shard_from_env(env_of({}));
  EXPECT_EQ(s.index, 0);
  EXPECT_EQ(s.count, 1);
  EXPECT_EQ(s.source, "none");
  EXPECT_EQ(s.local_rank, -1);
}

TEST(ShardEnv, SlurmArrayIsRelativeToTheArrayMinimum) {
  // sbatch --array=1-8: ids 1..8, COUNT 8, MIN 1 → k = id − 1.
  const Shard s = shard_from_env(
      env_of({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_COUNT", "8"}, {"SLURM_ARRAY_TASK_MIN", "1"}}));
  EXPECT_EQ(s.index, 4);
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.source, "slurm");
  // --array=10-22:4 → ids 10, 14, 18, 22 (COUNT 4): id 18 is k = 2.
  const Shard t = shard_from_env(env_of({{"SLURM_ARRAY_TASK_ID", "18"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                                         {"SLURM_ARRAY_TASK_MIN", "10"}, {"SLURM_ARRAY_TASK_STEP", "4"}}));
  EXPECT_EQ(t.index, 2);
  EXPECT_EQ(t.count, 4);
  EXPECT_THROW(shard_from_env(env_of({{"SLURM_ARRAY_TASK_ID", "9"}, {"SLURM_ARRAY_TASK_COUNT", "8"},
                                      {"SLURM_ARRAY_TASK_MIN", "1"}})),
               glamm::InputError);
  EXPECT_THROW(shard_from_env(env_of({{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "8"}})),
               glamm::InputError);
}

TEST(ShardEnv, TorchrunRankAndLocalRankPickTheShardAndGpu) {
  const Shard s = shard_from_env(env_of({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}}));
  EXPECT_EQ(s.index, 5);
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.source, "torchrun");
  EXPECT_EQ(s.local_rank, 1);
  EXPECT_EQ(device_for_shard("cuda", s), "cuda:1");
  EXPECT_EQ(device_for_shard("cuda:3", s), "cuda:3");  // explicit device kept
  EXPECT_EQ(device_for_shard("cpu", s), "cpu");
  EXPECT_THROW(shard_from_env(env_of({{"RANK", "8"}, {"WORLD_SIZE", "8"}})), glamm::InputError);
}

TEST(ShardEnv, ExplicitShardWinsOverTheEnvironment) {
  const Shard s = resolve_shard("1/2", env_of({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "3"}}));
  EXPECT_EQ(s.index, 1);
  EXPECT_EQ(s.count, 2);
  EXPECT_EQ(s.source, "--shard");
  EXPECT_EQ(s.local_rank, 3);
  const Shard e = resolve_shard("", env_of({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}));
  EXPECT_EQ(e.source, "slurm");
  EXPECT_EQ(e.count, 3);
}

namespace {
/// The message of the InputError shard_from_env throws for `env` ("" when none).
std::string env_error(const std::map<std::string, std::string>& vars) {
  try {
    shard_from_env(env_of(vars));
  } catch (const glamm::InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(ShardEnv, HalfAPairOfLauncherVariablesIsAnErrorNamingTheMissingOne) {
  EXPECT_NE(env_error({{"RANK", "1"}}).find("$WORLD_SIZE: not set, but $RANK is"), std::string::npos)
      << env_error({{"RANK", "1"}});
  EXPECT_NE(env_error({{"WORLD_SIZE", "4"}}).find("$RANK: not set, but $WORLD_SIZE is"), std::string::npos);
  EXPECT_NE(env_error({{"SLURM_ARRAY_TASK_ID", "3"}}).find("$SLURM_ARRAY_TASK_COUNT: not set"), std::string::npos)
      << env_error({{"SLURM_ARRAY_TASK_ID", "3"}});
  EXPECT_NE(env_error({{"SLURM_ARRAY_TASK_COUNT", "3"}}).find("$SLURM_ARRAY_TASK_ID: not set"), std::string::npos);
  // LOCAL_RANK alone (e.g. one process per GPU without RANK) chooses no shard.
  EXPECT_EQ(env_error({{"LOCAL_RANK", "0"}}), "");
}

TEST(ShardEnv, SlurmArrayWinsOverTorchrunAndSaysSo) {
  const Shard s = shard_from_env(env_of({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                                         {"RANK", "0"}, {"WORLD_SIZE", "2"}}));
  EXPECT_EQ(s.source, "slurm");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 4);
  EXPECT_NE(s.note.find("Slurm array variables take precedence"), std::string::npos) << s.note;
  // A complete Slurm set with half a torchrun pair: Slurm decides, the torchrun variables are ignored.
  EXPECT_EQ(shard_from_env(env_of({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}, {"RANK", "0"}})).index, 1);
  EXPECT_EQ(shard_from_env(env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}})).note, "");
}
