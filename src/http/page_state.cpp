#include "http/page_state.hpp"

#include <chrono>

namespace avmon {

namespace {

// Higher is worse; the page's level is the worst reason's.
int rank(const std::string& level) {
  if (level == "NO SIGNAL") return 3;
  if (level == "ALARM") return 2;
  if (level == "WARNING") return 1;
  return 0;
}

std::string level_of_severity(const std::string& severity) {
  if (severity == "critical" || severity == "major") return "ALARM";
  if (severity == "minor" || severity == "warning") return "WARNING";
  return "OK";
}

}  // namespace

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

PageState page_state(const TelemetrySnapshot& s, const nlohmann::json* alarms) {
  PageState st{"OK", {}};
  const auto raise = [&](const std::string& level, std::string reason) {
    if (rank(level) > rank(st.level)) st.level = level;
    if (rank(level) > 0) st.reasons.push_back(std::move(reason));
  };
  if (!s.input_up) raise("NO SIGNAL", "input down");
  if (alarms && alarms->is_array()) {
    for (const auto& a : *alarms) {
      const std::string type = a.value("type", ""), severity = a.value("severity", ""), state = a.value("state", "");
      if (state == "latched")
        raise("WARNING", type + " (latched)");
      else if (state != "active")
        continue;
      else if (type == "signal_loss")
        raise("NO SIGNAL", type);
      else if (a.value("masked", false))
        raise(rank(level_of_severity(severity)) > 0 ? "WARNING" : "OK", type + " (" + severity + ", masked)");
      else
        raise(level_of_severity(severity), type + " (" + severity + ")");
    }
    return st;
  }
  for (const auto& d : s.active) {
    const std::string type = d.value("type", ""), severity = d.value("severity", "");
    if (type == "signal_loss")
      raise("NO SIGNAL", type);
    else
      raise(level_of_severity(severity), type + " (" + severity + ")");
  }
  return st;
}

nlohmann::json page_state_json(const TelemetrySnapshot& s, History& history, std::int64_t now_ms,
                               const nlohmann::json* alarms) {
  PageState st = page_state(s, alarms);
  const std::int64_t since_ms = history.note_state(st.level, now_ms);
  return {{"level", st.level}, {"since_ms", since_ms}, {"now_ms", now_ms}, {"reasons", st.reasons}};
}

void sample_history(Telemetry& telemetry, const nlohmann::json* alarms) {
  const TelemetrySnapshot s = telemetry.snapshot();
  const std::int64_t now_ms = wall_clock_ms();
  History& h = telemetry.history();
  if (s.target_lufs) h.set_target_lufs(s.target_lufs);
  // No points while nothing is metered (before the first audio, an input
  // without sound, or one that is down and whose meter stopped): the graph
  // shows a gap, not a made-up level.
  if (s.input_up && (s.momentary_lufs || s.short_term_lufs)) h.add_loudness(now_ms, s.momentary_lufs, s.short_term_lufs);
  page_state_json(s, h, now_ms, alarms);
}

}  // namespace avmon
