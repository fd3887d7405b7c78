#include "app/signals.hpp"

#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

namespace avmon {

namespace {

std::atomic<bool> g_stop{false};
std::mutex g_reopen_mu;
std::function<void()> g_reopen;

// Signals whose default action ends the process without a fault.
sigset_t stopping_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGXCPU,
                SIGSTKFLT})
    sigaddset(&set, s);
  for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&set, s);
  return set;
}

void signal_thread(sigset_t handled) {
  for (;;) {
    siginfo_t info{};
    const int sig = sigwaitinfo(&handled, &info);
    if (sig < 0) continue;  // EINTR
    if (sig == SIGHUP) {
      std::lock_guard lk(g_reopen_mu);
      spdlog::info("SIGHUP: re-opening the events file");
      if (g_reopen) g_reopen();
      continue;
    }
    if (!g_stop.exchange(true))
      spdlog::info("{} (from pid {}): stopping; open defects are closed and the summary written", strsignal(sig),
                   static_cast<long>(info.si_pid));
  }
}

}  // namespace

void install_signal_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::signal(SIGPIPE, SIG_IGN);
    // Past a file-size limit (RLIMIT_FSIZE) a write fails with EFBIG, which
    // is handled like a full disk, instead of killing the process.
    std::signal(SIGXFSZ, SIG_IGN);
    sigset_t handled = stopping_signals();
    sigaddset(&handled, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);
    std::thread(signal_thread, handled).detach();
  });
}

const std::atomic<bool>& stop_requested() { return g_stop; }

void set_reopen_handler(std::function<void()> fn) {
  std::lock_guard lk(g_reopen_mu);
  g_reopen = std::move(fn);
}

}  // namespace avmon
