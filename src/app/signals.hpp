// SIGTERM and SIGINT ask the monitor to stop: they set a flag that the
// sources poll (their interrupt callbacks end even a blocking read), and
// analysis then ends as at the end of a file. SIGPIPE is ignored so that a
// closed pipe is a failed write, not a silent death.
#pragma once

#include <atomic>

namespace avmon {

void install_signal_handlers();
// Set once SIGTERM or SIGINT arrived.
const std::atomic<bool>& stop_requested();

}  // namespace avmon
