// Stage messages on stderr with timings ("DONE (t=0.12s)."), pycocotools style; silent with --quiet.
#pragma once

#include <chrono>
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
    if (!quiet_) std::cerr << what << "\n";
  }
  /// Print the time since start().
  void done() const {
    if (quiet_) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    std::cerr << fmt::format("DONE (t={:0.2f}s).\n", s);
  }
  /// A free-form message (no timing).
  void note(const std::string& what) const {
    if (!quiet_) std::cerr << what << "\n";
  }
  bool quiet() const { return quiet_; }

 private:
  bool quiet_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace glamm::cli
