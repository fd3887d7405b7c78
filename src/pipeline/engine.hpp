// The event engine: the one place where observations become defect.start /
// defect.end. Every detector gets the same debouncing (minimum duration,
// hold-off), the same correlation (a suppressor's incident is one alarm, not
// two) and the same closing at end of stream, so they are tested once here.
//
// A file's engine is fed in a deterministic order (the dispatcher's reorder
// buffer), so the same input always gives the same events. A live input's
// engine gets each detector's observations as soon as that detector has made
// them: every detector then has its own media clock (how far it has got),
// and its conditions are timed against that clock, not against the fastest
// detector's, so a detector that lags is neither hurried nor held back.
//
// Correlation is by media time, whatever the order of arrival: a condition
// counts only outside its suppressors' incidents, and one that had lasted its
// minimum duration before a suppressor's incident began is a defect of its
// own, ended where the incident begins.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "alarms/alarm_config.hpp"
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
  // A type the host reports about a detector (e.g. detector_lagging): its own
  // policy whatever the detector's, timed on the stream's clock.
  void add_host_type(const std::string& type, const DefectPolicy& policy);
  // Live inputs: `detector`'s conditions are timed against its own clock,
  // moved by its observations and advance_detector().
  void use_detector_clock(const std::string& detector);
  // Live: a condition that a suppressor may yet cover waits for the
  // suppressor's detector while it is at most `wait_s` behind, so that a
  // little skew between detectors never makes one incident two alarms.
  void set_suppressor_wait(double wait_s) { suppressor_wait_s_ = wait_s; }
  // Start-up grace: no defect begins in [from_s, from_s + grace_s) of media
  // time; a condition present then counts from the grace's end. The input's
  // own health (signal_loss, detector_lagging, detector_failed) is exempt:
  // the grace is for pictures and sound that settle after an (re)open.
  void begin_grace(double from_s, double grace_s);
  // The types the grace holds back (the frame detectors'; transport and
  // cue types are not about settling pictures). Empty: every type but the
  // exempt ones above.
  void set_grace_types(std::set<std::string> types) { grace_types_ = std::move(types); }
  // Per-type severity, minimum duration and hold-off over its detector's
  // (alarms.types); set before the first observation of the type.
  void override_type(const std::string& type, const AlarmTypePolicy& policy);

  void observe(const std::string& detector, const Observation& obs);
  // The media clock moved on (after each frame or block): start and end
  // whatever has lasted long enough.
  void advance(double media_time_s);
  // `detector` has analysed everything up to `media_time_s` (its own clock).
  void advance_detector(const std::string& detector, double media_time_s);
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
    bool own_clock = false;       // timed on its detector's clock (use_detector_clock)
    bool grace_exempt = false;    // not held back by the start-up grace
    bool raw = false;             // latest reported condition
    double incident_end_s = -1e300;  // where this track's last defect ended
    std::deque<std::pair<double, double>> incidents;  // its latest defects, [start, end]
    State state = State::Idle;
    double onset_s = 0;           // Pending/Active: defect start
    double end_s = 0;             // Ending: defect end
    std::string id;
    double peak_score = 0;
    nlohmann::json details = nlohmann::json::object();
  };
  using Key = std::tuple<std::string, std::string, int>;  // detector, type, channel

  Track& track(const std::string& detector, const Observation& obs);
  double now_of(const Track& t) const;
  void evaluate(Track& t);
  void evaluate_all();
  // Spans of media time, by start, in which `t`'s type is suppressed: its
  // suppressors' incidents, and with `conditions` also a suppressor's
  // condition that is present but not (yet) a defect; a span still open ends
  // at +inf.
  std::vector<std::pair<double, double>> suppression(const Track& t, bool conditions) const;
  // Where a suppressor's incident takes over `t`'s running defect, else NaN.
  double taken_over_at(const Track& t) const;
  // A suppressor's detector has not analysed `at_s` yet, and is close enough
  // behind to be waited for.
  bool awaits_suppressor(const Track& t, double at_s) const;
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
  std::map<std::string, AlarmTypePolicy> type_overrides_;   // by type (alarms.types)
  std::map<std::pair<std::string, std::string>, DefectPolicy> merged_policies_;  // detector, type
  double grace_until_s_ = -1e300;
  std::set<std::string> grace_types_;
  std::map<std::string, double> detector_clocks_;           // use_detector_clock()
  std::map<std::string, std::set<std::string>> type_detectors_;  // type -> detectors reporting it
  double suppressor_wait_s_ = 0;
  std::map<std::string, std::set<std::string>> suppressors_;  // suppressed type -> suppressor types
  std::map<Key, Track> tracks_;
  std::map<std::string, std::uint64_t> counts_;             // defects started, by type
};

}  // namespace avmon
