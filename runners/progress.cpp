// Per-item progress with ETA. See progress.h.
#include "runners/progress.h"

#include <cmath>

#include <fmt/format.h>

namespace glamm::runners {

ItemProgress::ItemProgress(std::size_t total, std::ostream& out, bool quiet)
    : total_(total), out_(out), quiet_(quiet), t0_(std::chrono::steady_clock::now()) {}

double ItemProgress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

std::string ItemProgress::clock(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02d}", s / 60, s % 60);
}

void ItemProgress::item(const std::string& key, const std::string& status, double seconds) {
  ++seen_;
  if (status == "done") {
    ++computed_;
    compute_seconds_ += seconds;
  }
  if (quiet_) return;
  const std::size_t left = total_ > seen_ ? total_ - seen_ : 0;
  const std::string eta = computed_ ? clock(compute_seconds_ / static_cast<double>(computed_) * static_cast<double>(left)) : "?";
  out_ << fmt::format("[{}/{}] {} {} {:.2f}s | elapsed {} | ETA {}\n", seen_, total_, key, status, seconds,
                      clock(elapsed()), eta);
  out_.flush();
}

void ItemProgress::note(const std::string& what) {
  if (quiet_) return;
  out_ << what << "\n";
  out_.flush();
}

}  // namespace glamm::runners
