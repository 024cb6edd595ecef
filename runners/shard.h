// Splitting a task's item list across processes: `--shard k/N`, or the launcher's environment (Slurm job arrays,
// torchrun). Every item belongs to exactly one shard (contiguous blocks, no padding: unlike PyTorch's
// DistributedSampler, which repeats items to make the count divisible by N, nothing is ever inferred twice).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>

namespace glamm::runners {

/// Which part of the item list this process runs.
struct Shard {
  int index = 0;   ///< k, 0-based, 0 ≤ k < count
  int count = 1;   ///< N ≥ 1
  std::string source = "none";  ///< "none" (whole list), "--shard", "slurm" or "torchrun"
  int local_rank = -1;          ///< torchrun LOCAL_RANK (GPU of this process on its node), −1 when unknown
  std::string note;             ///< why another launcher's variables were ignored ("" when none were)

  /// "k/N".
  std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
  /// File-name tag "shard-k-of-N".
  std::string tag() const { return "shard-" + std::to_string(index) + "-of-" + std::to_string(count); }
};

/// Parse "k/N" (decimal integers, 0 ≤ k < N, N ≥ 1; surrounding spaces not allowed). Throws InputError naming
/// `what` (e.g. "--shard") and the text, e.g. for "3/3", "1-4", "a/b", "-1/2", "0/0".
Shard parse_shard(const std::string& text, const std::string& what = "--shard");

/// Environment lookup (std::getenv in the tool; a map in tests). Returns nullptr for an unset variable.
using EnvLookup = std::function<const char*(const char*)>;

/// The shard from the launcher's environment, or the whole list when none is set:
///  * Slurm job array: SLURM_ARRAY_TASK_COUNT = N and k = (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN) /
///    SLURM_ARRAY_TASK_STEP (MIN default 0, STEP default 1), so `--array=1-8` and `--array=0-14:2` both give
///    k = 0..N−1;
///  * torchrun / torch.distributed: RANK = k, WORLD_SIZE = N, LOCAL_RANK kept for the CUDA device.
/// Slurm wins when both are set (a torchrun inside an array job is not supported: pass --shard); `note` then says
/// that RANK/WORLD_SIZE were ignored. Throws InputError naming the variables when they are not integers or give k
/// outside [0, N), and naming the missing one when only half of a pair is set (SLURM_ARRAY_TASK_ID without
/// SLURM_ARRAY_TASK_COUNT or the reverse; RANK without WORLD_SIZE or the reverse).
Shard shard_from_env(const EnvLookup& env);

/// `--shard` when given (non-empty), else shard_from_env. LOCAL_RANK is read in both cases.
Shard resolve_shard(const std::string& cli_text, const EnvLookup& env);

/// Items [begin, end) of shard `s` in a list of `n`: with q = ⌊n/N⌋ and r = n mod N, shard k starts at
/// k·q + min(k, r); the first r shards get q + 1 items, the others q (a shard is empty when N > n and k ≥ n).
/// Over k = 0..N−1 the ranges tile [0, n) exactly, in order.
std::pair<std::size_t, std::size_t> shard_range(std::size_t n, const Shard& s);

/// The CUDA device for this process: "cuda" becomes "cuda:<LOCAL_RANK>" when the shard came from torchrun (or
/// LOCAL_RANK is set); any other device text is returned unchanged.
std::string device_for_shard(const std::string& device, const Shard& s);

}  // namespace glamm::runners
