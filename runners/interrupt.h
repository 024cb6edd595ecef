// Stopping an inference run cleanly on SIGINT / SIGTERM (Ctrl-C, `scancel`, a Slurm time limit): the handler only
// records the signal; the item loop (runners::run_items) checks it between items, stops after the current item,
// and writes the manifest with status "interrupted". A second signal while the first is pending ends the process
// at once (the signal's default action). `glamm-eval infer` / `run` then exit with 128 + the signal number
// (130 for SIGINT, 143 for SIGTERM).
#pragma once

namespace glamm::runners {

/// Installs the SIGINT / SIGTERM handlers for its lifetime and restores the previous ones on destruction (so an
/// evaluation that follows inference in `run` gets the default behaviour back). Clears a pending signal on
/// construction. Not nestable.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

/// The signal received since the guard was installed (SIGINT, SIGTERM), or 0. Async-signal-safe to read.
int pending_interrupt();

/// Forget a received signal (tests; the guard's constructor does it too).
void clear_interrupt();

}  // namespace glamm::runners
