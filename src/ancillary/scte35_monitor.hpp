// SCTE-35 cue monitoring: what a stream's splice_info_sections say, checked
// against the programme's own clock. Fed with complete sections (and their
// CRC status) as they arrive, the selected service's video PTS at that
// moment, and the video pictures' random-access points; produces one
// `scte35.cue` line per new cue (decoded fields and pre-roll) and the
// conditions of four defect types:
//
//   scte35.crc_error          a section whose CRC_32 fails (until the next good one on that PID)
//   scte35.short_preroll      a new splice announced less than min_preroll_s ahead (until its splice time)
//   scte35.missing_return     a break whose duration and tolerance have passed without a return
//                             (until the return arrives)
//   scte35.splice_not_on_rap  a splice point where the video has no random-access picture (one picture long)
//
// Breaks are tracked by splice_event_id (splice_insert) and by
// segmentation_event_id (time_signal with segmentation descriptors): an out
// opens a break, an in with the same id closes it, a break_duration with
// auto_return closes it by itself, a cancel forgets it. Repeated cues of a
// known event (encoders send each several times) are not new cues.
//
// No libav and no transport dependency: the transport layer adapts it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ancillary/scte35.hpp"
#include "avmon/detector.hpp"

namespace avmon::scte35 {

struct MonitorOptions {
  double min_preroll_s = 4.0;           // shorter pre-roll of a new splice is scte35.short_preroll
  double return_tolerance_s = 2.0;      // a break may overrun its break_duration by this much
  double rap_tolerance_s = 0.02;        // a random-access picture this close to the splice time is on it
};

// Where a section arrived, on the programme's clocks.
struct ArrivalTime {
  double media_time_s = 0;                       // the event's media_time
  std::optional<std::int64_t> service_pts_90k;   // the selected service's latest video PTS
  // The PTS media time counts from, when known: splice times are then placed
  // on the pictures' own timeline (else relative to the arrival).
  std::optional<std::int64_t> origin_pts_90k;
};

class MonitorSink {
 public:
  virtual ~MonitorSink() = default;
  virtual void cue(double media_time_s, nlohmann::json details) = 0;
  virtual void observe(Observation obs) = 0;
};

class Monitor {
 public:
  static constexpr const char* kCrcError = "scte35.crc_error";
  static constexpr const char* kShortPreroll = "scte35.short_preroll";
  static constexpr const char* kMissingReturn = "scte35.missing_return";
  static constexpr const char* kNotOnRap = "scte35.splice_not_on_rap";

  explicit Monitor(MonitorOptions o = {}) : o_(o) {}

  void on_section(std::uint16_t pid, const std::uint8_t* data, std::size_t size, bool crc_ok,
                  const ArrivalTime& at, MonitorSink& out);
  // A video picture (or PES start) at `pts_90k`, random-access or not, as it
  // is demuxed: the clock the splice points are checked against.
  void on_video(std::int64_t pts_90k, bool random_access, double media_time_s, MonitorSink& out);
  // End of input: breaks still open are reported as they stand.
  void finish(double end_media_time_s, MonitorSink& out);
  nlohmann::json summary() const;

 private:
  struct Splice {
    std::int64_t pts = 0;          // adjusted splice time (90 kHz, 33 bits)
    double media_time_s = 0;       // its media time
    std::string what;              // for details
    std::uint32_t event_id = 0;
  };
  struct Break {
    std::string key;               // "insert:<id>" or "segmentation:<id>"
    double out_media_s = 0;        // when it began (splice time)
    std::optional<double> duration_s;
    bool auto_return = false;
    bool overdue = false;          // missing_return reported
    std::uint32_t event_id = 0;
  };

  double media_of(std::int64_t pts, const ArrivalTime& at) const;
  void handle_insert(const SpliceInfoSection& s, const SpliceInsert& i, const ArrivalTime& at, bool fresh,
                     nlohmann::json& details, MonitorSink& out);
  void handle_segmentation(const SpliceInfoSection& s, const SegmentationDescriptor& d, std::optional<std::int64_t> pts,
                           const ArrivalTime& at, nlohmann::json& details, MonitorSink& out);
  void open_break(const std::string& key, std::uint32_t id, double out_s, std::optional<double> duration_s,
                  bool auto_return, nlohmann::json& details);
  void close_break(const std::string& key, double in_s, const char* how, nlohmann::json& details, MonitorSink& out);
  void check_preroll(std::int64_t splice_pts, double preroll_s, double splice_media_s, std::uint32_t id,
                     MonitorSink& out);
  void schedule_splice(std::int64_t pts, double media_s, std::uint32_t id, const std::string& what);
  void check_due(double media_time_s, MonitorSink& out);

  MonitorOptions o_;
  std::map<std::uint16_t, bool> crc_bad_;          // per PID: a crc_error is open
  std::map<std::string, std::vector<std::uint8_t>> last_;  // per event key: the last section's bytes (repeats)
  std::map<std::string, Break> breaks_;
  std::vector<Splice> pending_splices_;            // splice points not yet reached by the video
  std::deque<std::pair<std::int64_t, bool>> recent_video_;  // (pts, random access), the last few seconds
  std::optional<double> short_preroll_until_;      // open short_preroll: its splice time
  std::optional<double> not_on_rap_until_;         // open splice_not_on_rap: its end
  double last_media_s_ = 0;
  std::int64_t last_video_pts_ = -1;
  // Figures for stream.summary.
  std::uint64_t sections_ = 0, crc_errors_ = 0, malformed_ = 0, cues_ = 0, repeats_ = 0, breaks_opened_ = 0,
                breaks_closed_ = 0, returns_missing_ = 0, short_prerolls_ = 0, splices_checked_ = 0,
                splices_not_on_rap_ = 0;
  std::map<std::string, std::uint64_t> commands_;
};

// Signed difference a - b of two 33-bit PTS values, in 90 kHz ticks, taking
// the shorter way round the wrap.
std::int64_t pts_diff(std::int64_t a, std::int64_t b);

}  // namespace avmon::scte35
