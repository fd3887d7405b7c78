// The detector interface. A detector is pure analysis: it receives read-only
// frames, keeps its own state, never blocks and does no I/O. It reports what
// it sees as observations; the event engine (one place for all detectors)
// turns them into defect.start / defect.end with minimum durations, hold-off
// and correlation, so debouncing behaves the same for every detector.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "avmon/frame.hpp"

namespace avmon {

// The state of one defect condition at one point of media time.
struct Observation {
  std::string type;                 // defect type, e.g. "black"
  double media_time_s = 0;          // time of the frame or block analysed
  bool active = false;              // is the condition present at media_time_s?
  // When active: where the condition really began, if earlier than media_time_s
  // (a freeze is known only once the picture has held for a while). When
  // inactive: where it really ended, if earlier.
  std::optional<double> since_s;
  double score = 0;                 // detector-specific strength, for details/metrics
  int channel = -1;                 // per-channel types: 0-based channel index
  nlohmann::json details = nlohmann::json::object();  // evidence, merged into the event
};

class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  virtual void observe(Observation obs) = 0;
};

class Detector {
 public:
  virtual ~Detector() = default;
  // Before the first frame, and again after a format change (reset state then).
  virtual void configure(const StreamInfo& /*info*/) {}
  virtual void on_video(const VideoFrame& /*frame*/, ObservationSink& /*out*/) {}
  virtual void on_audio(const AudioBlock& /*block*/, ObservationSink& /*out*/) {}
  // Media stopped arriving (signal loss) or timestamps jumped: forget history
  // so that the gap is not read as a frozen picture or silence.
  virtual void on_discontinuity(double /*media_time_s*/) {}
  // End of a finite input: report final state if anything is pending.
  virtual void finish(double /*end_media_time_s*/, ObservationSink& /*out*/) {}
  // Figures for stream.summary (merged at the top level, e.g. {"loudness": {...}}).
  virtual nlohmann::json summary() const { return nullptr; }
  // Live figures for /status and metrics (levels, loudness), or null. Called
  // by the host on the detector's own strand between frames, at most four
  // times a second while the HTTP server is on; keep it cheap.
  virtual nlohmann::json levels() const { return nullptr; }
};

}  // namespace avmon
