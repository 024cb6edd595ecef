// The one parallel loop of glamm-eval. Every index writes only its own output slot, so results do not depend on the
// number of threads or on scheduling; an exception is reported deterministically (the smallest failing index), so a
// run with N threads fails with the same error as a serial run.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace glamm::metrics {

/// Number of workers parallel_for uses for (n, threads, chunk): size per-thread scratch space with this.
inline int parallel_workers(std::size_t n, int threads, std::size_t chunk = 16) {
  if (n == 0) return 1;
  if (chunk == 0) chunk = 1;
  const std::size_t max_workers = (n + chunk - 1) / chunk;
  return static_cast<int>(
      std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), max_workers)));
}

/// Run fn(i) — or fn(i, worker) when fn takes two arguments — for every i in [0, n) on up to `threads` threads
/// (values < 1 mean 1). `worker` is in [0, parallel_workers(n, threads, chunk)) and names per-thread scratch space.
/// Indices are handed out in chunks of `chunk`.
/// Errors: when calls throw, every index still runs, and after all threads have joined the exception thrown by the
/// smallest failing index is rethrown unchanged (std::bad_alloc stays std::bad_alloc: an internal error, never an
/// input error) — the same exception a serial loop would have thrown first.
template <class Fn>
void parallel_for(std::size_t n, int threads, Fn&& fn, std::size_t chunk = 16) {
  if (n == 0) return;
  if (chunk == 0) chunk = 1;
  auto call = [&fn](std::size_t i, int worker) {
    if constexpr (std::is_invocable_v<Fn&, std::size_t, int>) {
      fn(i, worker);
    } else {
      (void)worker;
      fn(i);
    }
  };
  const int workers = parallel_workers(n, threads, chunk);
  if (workers <= 1) {  // serial: the same contract (every index runs, the first exception is rethrown)
    std::exception_ptr first;
    for (std::size_t i = 0; i < n; ++i) {
      try {
        call(i, 0);
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
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
          call(i, worker);
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

}  // namespace glamm::metrics
