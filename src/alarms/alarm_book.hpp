// The alarm layer: between the event engine and the notifier hub. Every
// defect is an alarm with a stable id (the defect's), a severity, a raise and
// a clear; on top of the engine's debouncing the book adds masks and
// schedules (recorded, not paged), flood control (a defect that flaps becomes
// one alarm until it settles), latching and acknowledgement, and a state file
// so that a restart neither forgets nor re-pages what was open.
//
// The book annotates the lines it passes on (fields are added, none is
// renamed: docs/contracts.md, Alarms) and writes lines of its own
// (alarm.ack, alarm.mask, the start and end of a flapping alarm). Outputs that
// page (Alertmanager, webhooks configured as paging) skip what
// `is_paging_suppressed()` says.
//
// Media time drives what depends on the stream (flapping), so a file gives
// the same alarms on every run; the wall clock (injectable) drives what
// people set (mask expiry, schedules, acks, the restart grace).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "alarms/alarm_config.hpp"
#include "pipeline/event_sink.hpp"

namespace avmon {

struct AlarmAck {
  std::string by, comment, at;  // at: RFC 3339
};

struct Alarm {
  std::string id, type, detector, severity;
  int channel = -1;
  std::string state = "active";   // active, cleared, latched
  std::string since;              // RFC 3339: raised
  std::int64_t since_ms = 0;
  std::string cleared_at;         // RFC 3339, once cleared
  double media_time_s = 0;        // onset
  double end_media_time_s = -1;   // clear (media time), -1 while active
  bool masked = false;
  std::vector<std::string> masked_by;  // mask and schedule names
  std::optional<AlarmAck> acked;
  bool latch = false;
  bool flapping = false;          // stands for a flapping condition
  int raises = 1;                 // flapping: raises seen
  bool carried = false;           // open at the previous instance's stop, not confirmed yet
  std::int64_t carried_until_ms = 0;
  std::string defect_id;          // the current defect behind it (differs from id when carried or flapping)
};

// The record as the API lists it; `wall_times` false leaves out `since` and
// `cleared_at` (event lines: a file's lines are the same on every run, their
// wall_time aside, and the start and end lines' wall_time say the same).
nlohmann::json alarm_json(const Alarm& a, bool wall_times = true);

// The answer to an API call that changes something.
struct AlarmChange {
  int status = 200;               // 200, 201, 400, 404, 409
  nlohmann::json body;
};

class AlarmBook final : public EventSink {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix milliseconds
  static std::int64_t system_now_ms();

  AlarmBook(AlarmsConfig cfg, std::string stream, EventSink& out, Clock now_ms = system_now_ms);
  ~AlarmBook() override;
  AlarmBook(const AlarmBook&) = delete;
  AlarmBook& operator=(const AlarmBook&) = delete;

  // From the engine (one thread at a time): annotates and passes on.
  void emit(const nlohmann::json& line) override;
  // Wall-clock housekeeping, about once a second: expired masks and the
  // restart grace of alarms carried from the previous instance.
  void tick();
  // From here on, defect ends are the process stopping, not the stream
  // recovering: they are marked `handover` and the alarms stay open in the
  // state file for the next instance.
  void begin_stop();
  // Or: ask `stopping` at each defect end (the process's stop flag).
  void set_stop_check(std::function<bool()> stopping) { stop_check_ = std::move(stopping); }
  // A thread calling tick() once a second, until stop_ticker() (before the
  // output closes).
  void start_ticker();
  void stop_ticker();

  // The HTTP API (docs/operations.md, Alarms).
  nlohmann::json list() const;
  nlohmann::json masks_json() const;
  AlarmChange ack(const std::string& id, const std::string& by, const std::string& comment);
  AlarmChange put_mask(AlarmMask mask);
  AlarmChange delete_mask(const std::string& name, const std::string& by);

  // Persistence beside the spool (empty path: none). load_state() before
  // the first line; the file is rewritten atomically on every change.
  void load_state();
  const std::string& state_file() const { return cfg_.state_file; }
  const std::string& stream() const { return stream_; }

  // For /metrics: alarms by state and severity, masked ones counted apart.
  struct Counts {
    std::map<std::pair<std::string, std::string>, int> by_state_severity;
    int masked = 0, flapping = 0;
  };
  Counts counts() const;

 private:
  struct Flaps {
    std::deque<double> raises_s;  // media times of recent raises
    std::string alarm_id;         // open flapping alarm, empty when none
    double last_raise_s = 0;
    bool condition = false;       // an underlying defect is open
  };
  using Key = std::string;  // type/detector/channel

  static Key key_of(const nlohmann::json& line);
  void on_start(nlohmann::json& line);
  void on_end(nlohmann::json& line);
  void settle_flaps(double media_time_s);
  void expire_masks();
  std::vector<std::string> masking(const std::string& type) const;
  bool latches(const std::string& type) const;
  void retire(const std::string& id);
  void annotate(nlohmann::json& line, const Alarm& a) const;
  void out(const nlohmann::json& line);
  nlohmann::json own_line(const char* kind, double media_time_s) const;
  // own_line() about alarm `a`: with its id, type, detector, channel and severity.
  nlohmann::json alarm_line(const char* kind, double media_time_s, const Alarm& a) const;
  std::string now_text() const;
  void save_state();

  AlarmsConfig cfg_;
  std::string stream_;
  EventSink& out_;
  Clock now_ms_;
  mutable std::recursive_mutex mu_;
  std::map<std::string, Alarm> alarms_;        // by alarm id
  std::deque<std::string> cleared_;            // cleared alarm ids, oldest first
  std::map<std::string, std::string> by_defect_;  // defect id -> alarm id
  std::map<Key, Flaps> flaps_;
  std::map<std::string, AlarmMask> masks_;     // by name
  double media_s_ = 0;                         // latest media time seen
  bool stopping_ = false;
  std::function<bool()> stop_check_;
  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool ticker_stop_ = false;
  std::thread ticker_;
};

// The configuration's alarms section with its state file resolved:
// alarms.state_file, else <spool_dir>.alarms-<stream>.json beside a spool
// (the stream's name made a plain file name), else none.
AlarmsConfig resolve_alarms_config(const AlarmsConfig& cfg, const std::string& spool_dir, const std::string& stream);

}  // namespace avmon
