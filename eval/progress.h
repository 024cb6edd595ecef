// Stage messages on stderr with timings ("DONE (t=0.12s)."), pycocotools style; silent with --quiet.
// With GLAMM_STAGE_TIMES=1 in the environment every stage also prints "stage-time <seconds> <what>" with 4 decimals,
// even under --quiet (the benchmarks in bench/ read it to time the evaluation phase alone).
#pragma once

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <fmt/format.h>

namespace glamm::cli {

class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet) {}
  /// Print `what` and start the clock.
  void start(const std::string& what) {
    t0_ = std::chrono::steady_clock::now();
    what_ = what;
    if (!quiet_) std::cerr << what << "\n";
  }
  /// Print the time since start().
  void done() const {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    if (stage_times_) {
      const std::size_t eol = what_.find('\n');
      std::cerr << fmt::format("stage-time {:0.4f} {}\n", s, what_.substr(0, eol));
    }
    if (quiet_) return;
    std::cerr << fmt::format("DONE (t={:0.2f}s).\n", s);
  }
  /// A free-form message (no timing).
  void note(const std::string& what) const {
    if (!quiet_) std::cerr << what << "\n";
  }
  bool quiet() const { return quiet_; }

 private:
  bool quiet_;
  bool stage_times_ = [] {
    const char* v = std::getenv("GLAMM_STAGE_TIMES");
    return v && *v && std::string(v) != "0";
  }();
  std::string what_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace glamm::cli
