// The one parallel loop of glamm-eval. Every index writes only its own output slot, so results do not depend on the
// number of threads or on scheduling; an exception is reported deterministically (the smallest failing index), so a
// run with N threads fails with the same error as a serial run.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include <unistd.h>

namespace glamm::metrics {

namespace detail {

/// The worker threads of parallel_for, kept between calls: threads are not created for every loop, and each keeps
/// its allocator state (mimalloc's per-thread heap in the command line), so a loop does not start on cold memory.
/// One loop uses the pool at a time; a loop that finds it in use (a loop inside a loop body, or loops started on
/// two threads at once) and a loop in a forked child (the pool's threads are not there) start threads of their
/// own as before. The pool is never destroyed: its threads wait, blocked, until the process exits.
class WorkerPool {
 public:
  static WorkerPool& instance() {
    static WorkerPool* pool = new WorkerPool();  // never freed, on purpose (see above)
    return *pool;
  }

  /// Run body(w) for w in [1, workers) on pool threads and body(0) on the calling thread; return when all are
  /// done. False (nothing run) when the pool is busy or this is a forked child: the caller runs them itself.
  bool try_run(int workers, const std::function<void(int)>& body) {
    std::unique_lock<std::mutex> use(use_mu_, std::try_to_lock);
    if (!use.owns_lock() || ::getpid() != pid_) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (started_ < workers - 1) {
        const int w = started_ + 1;
        std::thread([this, w] { loop(w); }).detach();
        started_ = w;
      }
      job_ = &body;
      job_workers_ = workers;
      pending_ = workers - 1;
      ++generation_;
    }
    wake_.notify_all();
    body(0);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
    return true;
  }

 private:
  WorkerPool() : pid_(::getpid()) {}

  void loop(int w) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (w >= job_workers_) continue;  // not needed for this loop
        job = job_;
      }
      (*job)(w);  // body catches every exception itself (parallel_for)
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex use_mu_;  // held by the one loop that uses the pool
  std::mutex mu_;
  std::condition_variable wake_, done_;
  int started_ = 0;  // pool threads 1..started_ exist
  const std::function<void(int)>* job_ = nullptr;
  int job_workers_ = 0;
  int pending_ = 0;
  uint64_t generation_ = 0;
  pid_t pid_;
};

/// body(w) for every w in [0, workers): w = 0 on the calling thread, the others on the pool or, when it is busy,
/// on threads started for this call.
inline void run_workers(int workers, const std::function<void(int)>& body) {
  if (WorkerPool::instance().try_run(workers, body)) return;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) threads.emplace_back(body, w);
  body(0);
  for (auto& t : threads) t.join();
}

}  // namespace detail

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
  detail::run_workers(workers, body);
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace glamm::metrics
