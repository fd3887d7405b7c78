// The status page's one state, decided by the server so that every page (and
// anything else reading /status) agrees on it and on since when it holds:
//   NO SIGNAL  the input is down (no media for a few seconds) or signal_loss is active
//   ALARM      an active defect of severity critical or major
//   WARNING    an active defect of severity minor or warning
//   OK         otherwise (info-only defects included)
// With the alarm layer's list, alarms decide instead of the active defects:
// an active alarm that is masked, and a latched one (ended, not yet
// acknowledged), count as WARNING; acknowledging an active alarm does not
// lower the state while the condition lasts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/telemetry.hpp"

namespace avmon {

struct PageState {
  std::string level;                 // OK, WARNING, ALARM, NO SIGNAL
  std::vector<std::string> reasons;  // what makes it so, e.g. "black (critical)"
};

// `alarms`: the alarm API's list (null: none, the active defects decide).
PageState page_state(const TelemetrySnapshot& s, const nlohmann::json* alarms = nullptr);

// {"level","since_ms","now_ms","reasons"}: the state now, noted in the history.
nlohmann::json page_state_json(const TelemetrySnapshot& s, History& history, std::int64_t now_ms,
                               const nlohmann::json* alarms = nullptr);

// Once a second (the HTTP server's timer): loudness and state into the
// history. `alarms` as for page_state: the same list /status judges by, so
// that the state noted and the state shown never disagree.
void sample_history(Telemetry& telemetry, const nlohmann::json* alarms = nullptr);

std::int64_t wall_clock_ms();

}  // namespace avmon
