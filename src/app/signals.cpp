#include "app/signals.hpp"

#include <csignal>

namespace avmon {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop = true; }

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Past a file-size limit (RLIMIT_FSIZE) a write fails with EFBIG, which
  // is handled like a full disk, instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
}

const std::atomic<bool>& stop_requested() { return g_stop; }

}  // namespace avmon
