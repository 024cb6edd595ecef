// metrics::parallel_for reports worker exceptions deterministically: whatever the thread count and scheduling, the
// exception rethrown is the one the smallest failing index threw (what a serial loop throws first), every index
// still runs, and the exception keeps its type (std::bad_alloc is not turned into anything else).
#include <atomic>
#include <new>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "metrics/parallel.h"

namespace glamm::metrics {
namespace {

struct IndexError : std::runtime_error {
  std::size_t index;
  explicit IndexError(std::size_t i) : std::runtime_error("index " + std::to_string(i)), index(i) {}
};

constexpr std::size_t kN = 1000;

/// Runs parallel_for over kN indices where 700 and 5 throw (700 first in time when it can: index 5 waits until
/// 700 has thrown, unless a single thread runs them in order). Returns the caught exception's index.
std::size_t failing_index(int threads, std::size_t chunk, std::vector<std::atomic<int>>& ran) {
  std::atomic<bool> late_thrown{false};
  try {
    parallel_for(
        kN, threads,
        [&](std::size_t i) {
          ran[i].fetch_add(1);
          if (i == 700) {
            late_thrown = true;
            throw IndexError(i);
          }
          if (i == 5) {
            if (threads > 1)
              for (int spin = 0; spin < 2000000 && !late_thrown; ++spin) std::this_thread::yield();
            throw IndexError(i);
          }
        },
        chunk);
  } catch (const IndexError& e) {
    return e.index;
  }
  ADD_FAILURE() << "parallel_for did not rethrow";
  return kN;
}

TEST(ParallelFor, RethrowsTheSmallestFailingIndexForEveryThreadCount) {
  for (int threads : {1, 2, 8}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{16}}) {
      std::vector<std::atomic<int>> ran(kN);
      EXPECT_EQ(failing_index(threads, chunk, ran), 5u) << threads << " threads, chunk " << chunk;
      std::size_t ran_once = 0;
      for (auto& r : ran) ran_once += r.load() == 1;
      EXPECT_EQ(ran_once, kN) << "every index runs exactly once, failures included (" << threads << " threads)";
    }
  }
}

TEST(ParallelFor, BadAllocStaysBadAlloc) {
  for (int threads : {1, 2, 8}) {
    bool caught = false;
    try {
      parallel_for(kN, threads, [](std::size_t i) {
        if (i == 5) throw std::bad_alloc();
        if (i == 700) throw std::runtime_error("later failure");
      });
    } catch (const std::bad_alloc&) {
      caught = true;
    } catch (const std::exception& e) {
      ADD_FAILURE() << threads << " threads: got " << e.what() << " instead of std::bad_alloc";
    }
    EXPECT_TRUE(caught) << threads << " threads";
  }
}

TEST(ParallelFor, WorkerIndicesStayBelowParallelWorkers) {
  const int workers = parallel_workers(kN, 4, 8);
  EXPECT_EQ(workers, 4);
  std::vector<int> out(kN, -1);
  parallel_for(
      kN, 4, [&](std::size_t i, int worker) { out[i] = worker; }, 8);
  for (std::size_t i = 0; i < kN; ++i) {
    EXPECT_GE(out[i], 0) << i;
    EXPECT_LT(out[i], workers) << i;
  }
  EXPECT_EQ(parallel_workers(3, 8, 16), 1);  // fewer indices than one chunk: serial
  EXPECT_EQ(parallel_workers(0, 8, 16), 1);
}


/// Sum of i * i over [0, n) computed by parallel_for into per-index slots.
uint64_t squares(std::size_t n, int threads) {
  std::vector<uint64_t> out(n);
  parallel_for(n, threads, [&](std::size_t i) { out[i] = uint64_t{i} * i; }, 4);
  return std::accumulate(out.begin(), out.end(), uint64_t{0});
}

uint64_t squares_expected(std::size_t n) {
  uint64_t s = 0;
  for (std::size_t i = 0; i < n; ++i) s += uint64_t{i} * i;
  return s;
}

TEST(ParallelFor, LoopsInsideLoopBodiesAndOnSeveralThreadsAtOnceComplete) {
  // The worker pool serves one loop at a time; a loop inside a loop body, and loops started on two threads at
  // once, run on threads of their own instead of waiting for it.
  std::vector<uint64_t> inner(64);
  parallel_for(inner.size(), 4, [&](std::size_t i) { inner[i] = squares(100 + i, 3); }, 1);
  for (std::size_t i = 0; i < inner.size(); ++i) EXPECT_EQ(inner[i], squares_expected(100 + i)) << i;

  std::vector<uint64_t> results(4);
  std::vector<std::thread> callers;
  for (std::size_t c = 0; c < results.size(); ++c)
    callers.emplace_back([&results, c] {
      for (int rep = 0; rep < 50; ++rep) results[c] += squares(500, 2);
    });
  for (auto& t : callers) t.join();
  for (uint64_t r : results) EXPECT_EQ(r, 50 * squares_expected(500));
}

TEST(ParallelFor, ManyLoopsInARowReuseThePoolWithTheSameResults) {
  for (int rep = 0; rep < 200; ++rep) ASSERT_EQ(squares(1000, rep % 5 + 1), squares_expected(1000)) << rep;
}

TEST(ParallelFor, WorksInAForkedChild) {
  // The pool's threads exist only in the parent; a child's loops start their own.
  ASSERT_EQ(squares(1000, 4), squares_expected(1000));  // the pool exists now
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(squares(1000, 4) == squares_expected(1000) ? 0 : 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace glamm::metrics
