// SIGINT / SIGTERM handling for inference runs. See interrupt.h.
#include "runners/interrupt.h"

#include <unistd.h>

#include <csignal>

namespace glamm::runners {
namespace {

volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_old_int, g_old_term;

/// Only async-signal-safe calls: write(2), sigaction(2), raise(3).
extern "C" void on_signal(int sig) {
  if (g_signal != 0) {  // second signal: stop now
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, nullptr);
    raise(sig);
    return;
  }
  g_signal = sig;
  static const char msg[] =
      "\nglamm-eval: signal received; stopping after the current item (send it again to stop at once)\n";
  const ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)n;
}

}  // namespace

InterruptGuard::InterruptGuard() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads and writes in progress go on
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

int pending_interrupt() { return g_signal; }

void clear_interrupt() { g_signal = 0; }

}  // namespace glamm::runners
