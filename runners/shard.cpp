// Shard selection. See shard.h.
#include "runners/shard.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "common/error.h"

namespace glamm::runners {
namespace {

/// A non-negative decimal integer that fits in int, or nullopt.
std::optional<int> parse_count(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

int env_int(const EnvLookup& env, const char* name, std::optional<int> fallback) {
  const char* v = env(name);
  if (!v || !*v) {
    if (fallback) return *fallback;
    throw InputError("", std::string("$") + name, "not set");
  }
  auto n = parse_count(v);
  if (!n) throw InputError("", std::string("$") + name, fmt::format("'{}' is not a non-negative integer", v));
  return *n;
}

}  // namespace

Shard parse_shard(const std::string& text, const std::string& what) {
  const auto slash = text.find('/');
  const auto bad = [&](const std::string& why) {
    return InputError("", what, fmt::format("'{}': {} (expected k/N with 0 <= k < N, e.g. 0/4 ... 3/4)", text, why));
  };
  if (slash == std::string::npos) throw bad("no '/'");
  const auto k = parse_count(text.substr(0, slash));
  const auto n = parse_count(text.substr(slash + 1));
  if (!k || !n) throw bad("k and N must be non-negative integers");
  if (*n == 0) throw bad("N must be at least 1");
  if (*k >= *n) throw bad(fmt::format("k must be below N (shards are numbered 0 to {})", *n - 1));
  Shard s;
  s.index = *k;
  s.count = *n;
  s.source = "--shard";
  return s;
}

namespace {

bool is_set(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  return v && *v;
}

/// Both or neither of a launcher's two variables; throws InputError naming the missing one.
void require_pair(const EnvLookup& env, const char* a, const char* b, const char* launcher) {
  const bool ha = is_set(env, a), hb = is_set(env, b);
  if (ha == hb) return;
  const char* have = ha ? a : b;
  const char* missing = ha ? b : a;
  throw InputError("", std::string("$") + missing,
                   fmt::format("not set, but ${} is ({} sets both): set ${} too, unset ${}, or pass --shard k/N",
                               have, launcher, missing, have));
}

}  // namespace

Shard shard_from_env(const EnvLookup& env) {
  Shard s;
  if (is_set(env, "LOCAL_RANK")) s.local_rank = env_int(env, "LOCAL_RANK", std::nullopt);
  require_pair(env, "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "a Slurm job array");
  if (is_set(env, "SLURM_ARRAY_TASK_COUNT")) {
    const int n = env_int(env, "SLURM_ARRAY_TASK_COUNT", std::nullopt);
    const int id = env_int(env, "SLURM_ARRAY_TASK_ID", std::nullopt);
    const int min = env_int(env, "SLURM_ARRAY_TASK_MIN", 0);
    const int step = env_int(env, "SLURM_ARRAY_TASK_STEP", 1);
    if (n < 1 || step < 1 || id < min || (id - min) % step != 0 || (id - min) / step >= n)
      throw InputError("", "$SLURM_ARRAY_TASK_ID",
                       fmt::format("task {} does not fit the array (MIN {}, STEP {}, COUNT {}); pass --shard k/N",
                                   id, min, step, n));
    s.index = (id - min) / step;
    s.count = n;
    s.source = "slurm";
    if (is_set(env, "RANK") || is_set(env, "WORLD_SIZE"))
      s.note = "RANK/WORLD_SIZE are set too; the Slurm array variables take precedence (pass --shard k/N to choose)";
    return s;
  }
  require_pair(env, "RANK", "WORLD_SIZE", "torchrun");
  if (is_set(env, "WORLD_SIZE")) {
    const int n = env_int(env, "WORLD_SIZE", std::nullopt);
    const int rank = env_int(env, "RANK", std::nullopt);
    if (n < 1 || rank >= n)
      throw InputError("", "$RANK", fmt::format("RANK {} is outside WORLD_SIZE {}; pass --shard k/N", rank, n));
    s.index = rank;
    s.count = n;
    s.source = "torchrun";
  }
  return s;
}

Shard resolve_shard(const std::string& cli_text, const EnvLookup& env) {
  if (cli_text.empty()) return shard_from_env(env);
  Shard s = parse_shard(cli_text);
  const char* lr = env("LOCAL_RANK");
  if (lr && *lr) s.local_rank = env_int(env, "LOCAL_RANK", std::nullopt);
  return s;
}

std::pair<std::size_t, std::size_t> shard_range(std::size_t n, const Shard& s) {
  const auto k = static_cast<std::size_t>(s.index), N = static_cast<std::size_t>(s.count);
  const std::size_t q = n / N, r = n % N;
  auto start = [&](std::size_t j) { return j * q + std::min(j, r); };
  return {start(k), start(k + 1)};
}

std::string device_for_shard(const std::string& device, const Shard& s) {
  if (device == "cuda" && s.local_rank >= 0) return "cuda:" + std::to_string(s.local_rank);
  return device;
}

}  // namespace glamm::runners
