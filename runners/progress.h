// Per-item progress of an inference run on stderr: "[12/250] sa_1234 3.41s | elapsed 0:41 | ETA 13:38". The ETA
// uses the mean time of the items computed so far in this process (resumed items cost nothing and are left out).
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace glamm::runners {

class ItemProgress {
 public:
  /// `total` items in this shard; messages go to `out` unless `quiet`.
  ItemProgress(std::size_t total, std::ostream& out, bool quiet);
  /// One item finished: `status` "done", "resumed" or "FAILED"; `seconds` its wall time.
  void item(const std::string& key, const std::string& status, double seconds);
  /// A free-form line.
  void note(const std::string& what);
  /// Seconds since construction.
  double elapsed() const;
  /// "h:mm:ss" or "m:ss".
  static std::string clock(double seconds);

 private:
  std::size_t total_, seen_ = 0, computed_ = 0;
  double compute_seconds_ = 0;
  std::ostream& out_;
  bool quiet_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace glamm::runners
