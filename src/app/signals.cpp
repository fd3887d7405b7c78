#include "app/signals.hpp"

#include <unistd.h>

#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "pipeline/dispatcher.hpp"

namespace avmon {

namespace {

std::atomic<bool> g_stop{false};
std::mutex g_reopen_mu;
constexpr int kFaults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
// What was installed before (e.g. a sanitizer's report), run after ours.
struct sigaction g_previous[NSIG];
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

const char* signal_name(int sig) {
  // sigabbrev_np() is glibc 2.32+; a fixed table is async-signal-safe anyway.
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    default: return "a fatal signal";
  }
}

void write_all(const char* s) {
  size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

// Async-signal-safe: write(2) and a thread-local read only.
extern "C" void on_fault(int sig) {
  write_all("avmon: fatal signal ");
  write_all(signal_name(sig));
  if (const char* detector = detector_on_this_thread()) {
    write_all(" in detector '");
    write_all(detector);
    write_all("': a crash in a detector's code ends the process (docs/plugins.md)");
  }
  write_all("\n");
  // The previous action (a sanitizer's report, or the default: core dump)
  // takes it from here: it is blocked until this handler returns, and a
  // hardware fault recurs on return anyway.
  sigaction(sig, &g_previous[sig], nullptr);
  std::raise(sig);
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
    struct sigaction fault {};
    fault.sa_handler = on_fault;
    sigemptyset(&fault.sa_mask);
    for (int s : kFaults) sigaction(s, &fault, &g_previous[s]);
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
