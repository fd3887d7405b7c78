// Output that avmon failed to write, per output: "events" (the events file
// or stdout) and "spool/<notifier>" (a notifier's spool). Every failed write
// is logged, counted here and shown by /metrics and /status; an event that
// is lost because of it (written nowhere it was meant to go, and not kept
// for later) makes the run end with exit status 4, and the stream summary
// says what was lost.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace avmon {

struct OutputFailures {
  std::uint64_t write_errors = 0;  // writes that failed
  std::uint64_t events_lost = 0;   // events that will never reach this output
  std::string last_error;          // what the system said last, e.g. "No space left on device"
};

class LostOutput {
 public:
  // The process's ledger (one monitor per process).
  static LostOutput& global();

  // A write to `output` failed with `error`, losing `events_lost` events
  // (0 when they were kept some other way). Logged as an error: the first
  // failure of an output at once, then at most once per 10 s with a count.
  void write_failed(const std::string& output, const std::string& error, std::uint64_t events_lost);
  // `n` events that will never reach `output` (e.g. held in memory only
  // after the spool failed, and not delivered before exit).
  void events_lost(const std::string& output, std::uint64_t n, const std::string& why);

  std::map<std::string, OutputFailures> snapshot() const;
  std::uint64_t total_events_lost() const;
  // Outputs that failed since the last call, once each: the notifier hub
  // turns them into output.error events.
  std::vector<std::pair<std::string, OutputFailures>> take_new_failures();

  void reset();  // for tests

 private:
  struct Entry {
    OutputFailures f;
    bool announced = false;
    std::uint64_t unlogged = 0;  // failures since the last log line
    std::int64_t logged_ms = 0;  // steady clock of the last log line
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> outputs_;
};

}  // namespace avmon
