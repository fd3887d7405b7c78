// The event engine: the one place where observations become defect.start /
// defect.end. Every detector gets the same debouncing (minimum duration,
// hold-off), the same correlation (a suppressor's incident is one alarm, not
// two) and the same closing at end of stream, so they are tested once here.
//
// The engine is fed in a deterministic order (the dispatcher's reorder
// buffer), so the same input always gives the same events.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "avmon/detector.hpp"
#include "pipeline/event_sink.hpp"

namespace avmon {

struct DefectPolicy {
  double min_duration_s = 1.0;
  double hold_off_s = 1.0;
  std::string severity = "major";
};

struct ActiveDefect {
  std::string id, type, detector;
  int channel = -1;
  double start_s = 0;
  nlohmann::json details;
};

class EventEngine {
 public:
  // `id_nonce` makes ids unique across runs of a live input; 0 keeps a file's
  // ids identical from run to run.
  EventEngine(std::string stream, EventSink& sink, std::uint64_t id_nonce = 0);

  // Declares a detector's policy and which types its incidents suppress.
  void add_detector(const std::string& detector, const DefectPolicy& policy,
                    const std::vector<std::string>& types, const std::vector<std::string>& suppresses);
  // A type the host reports about a detector (e.g. detector_failed): its own
  // policy whatever the detector's.
  void add_host_type(const std::string& type, const DefectPolicy& policy);

  void observe(const std::string& detector, const Observation& obs);
  // The media clock moved on (after each frame or block): start and end
  // whatever has lasted long enough.
  void advance(double media_time_s);
  // Input gone (signal loss, end of a live session): end everything open now.
  void close_all(double media_time_s);
  // End of a finite input: close open defects at the last media time.
  void finish(double end_media_time_s);

  // Emits a non-defect line (stream.summary, stream.format_change, ...).
  void emit_line(nlohmann::json line);

  double clock_s() const { return clock_s_; }
  std::vector<ActiveDefect> active() const;
  const std::map<std::string, std::uint64_t>& defect_counts() const { return counts_; }

  // Wall-clock source, replaceable in tests.
  std::function<std::string()> wall_time;

 private:
  enum class State { Idle, Pending, Active, Ending };
  struct Track {
    std::string detector, type;
    int channel = -1;
    const DefectPolicy* policy = nullptr;
    bool raw = false;             // latest reported condition
    double incident_end_s = -1e300;  // where this track's last defect ended
    State state = State::Idle;
    double onset_s = 0;           // Pending/Active: defect start
    double end_s = 0;             // Ending: defect end
    std::string id;
    double peak_score = 0;
    nlohmann::json details = nlohmann::json::object();
  };
  using Key = std::tuple<std::string, std::string, int>;  // detector, type, channel

  Track& track(const std::string& detector, const Observation& obs);
  void evaluate(Track& t, double now_s);
  // Latest time before which `t` is blocked by a suppressor's incident; +inf
  // while a suppressor's condition is present or its defect still open.
  double suppressed_until(const Track& t) const;
  // A suppressor's defect running now: its onset, else NaN.
  double suppressor_onset(const Track& t) const;
  void start(Track& t);
  void end(Track& t, double at_s);
  nlohmann::json base_line(const char* kind, const Track& t, double media_time_s) const;
  std::string make_id(const Track& t);

  std::string stream_;
  EventSink& sink_;
  std::uint64_t nonce_;
  std::uint64_t sequence_ = 0;
  double clock_s_ = 0;
  std::map<std::string, DefectPolicy> policies_;            // by detector
  std::map<std::string, DefectPolicy> host_policies_;       // by host type
  std::map<std::string, std::set<std::string>> suppressors_;  // suppressed type -> suppressor types
  std::map<Key, Track> tracks_;
  std::map<std::string, std::uint64_t> counts_;             // defects started, by type
};

}  // namespace avmon
