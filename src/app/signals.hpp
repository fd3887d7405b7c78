// What signals do to a running monitor (docs/operations.md):
//  - SIGTERM, SIGINT and every other signal whose default action would end
//    the process without a fault (SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
//    SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGXCPU, SIGSTKFLT and the real-time
//    signals) stop it cleanly: open defects are closed, stream.summary is
//    written, exit status 0. They set a flag that the sources poll (their
//    interrupt callbacks end even a blocking read).
//  - SIGHUP re-opens the events file, for logrotate; the run goes on.
//  - SIGPIPE and SIGXFSZ are ignored: a closed pipe or a file past its size
//    limit is a failed write, not a silent death.
//  - A fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS)
//    cannot be survived: one line on stderr names the signal and the
//    detector whose code was running, then the default action (core dump).
//
// The handled signals are blocked in every thread and taken by one thread
// with sigwaitinfo(), so what they do is ordinary code, not a handler's.
#pragma once

#include <atomic>
#include <functional>

namespace avmon {

// Call before any other thread is started (they inherit the signal mask).
void install_signal_handlers();
// Set once a stopping signal arrived.
const std::atomic<bool>& stop_requested();
// `fn` runs on the signal thread for each SIGHUP (empty: nothing to do).
// Clearing it waits for a call in progress.
void set_reopen_handler(std::function<void()> fn);

}  // namespace avmon
