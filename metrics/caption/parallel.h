// A tiny deterministic parallel loop for per-image work: every index writes only its own output slot, so the
// result does not depend on the number of threads or on scheduling.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace glamm::caption {

/// Run fn(i, worker) for every i in [0, n) on up to `threads` threads (values < 1 mean 1); `worker` is in
/// [0, number of threads used) and identifies per-thread scratch space. Indices are handed out in chunks of
/// `chunk`. If calls throw, every index still runs and the exception of the smallest failing index is rethrown
/// after all threads have joined, so the reported error does not depend on scheduling.
template <class Fn>
void parallel_for(std::size_t n, int threads, Fn&& fn, std::size_t chunk = 16) {
  if (n == 0) return;
  if (chunk == 0) chunk = 1;
  const std::size_t max_workers = (n + chunk - 1) / chunk;
  const int workers = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), max_workers));
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::exception_ptr first_error;
  std::size_t first_error_index = n;
  auto body = [&](int worker) {
    for (;;) {
      const std::size_t begin = next.fetch_add(chunk);
      if (begin >= n) break;
      const std::size_t end = std::min(n, begin + chunk);
      for (std::size_t i = begin; i < end; ++i) {
        try {
          fn(i, worker);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          if (i < first_error_index) {
            first_error_index = i;
            first_error = std::current_exception();
          }
        }
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) pool.emplace_back(body, w);
  body(0);
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

/// Number of workers parallel_for will use for (n, threads, chunk): size per-thread scratch with this.
inline int parallel_workers(std::size_t n, int threads, std::size_t chunk = 16) {
  if (n == 0) return 1;
  if (chunk == 0) chunk = 1;
  const std::size_t max_workers = (n + chunk - 1) / chunk;
  return static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), max_workers)));
}

}  // namespace glamm::caption
