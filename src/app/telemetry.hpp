// What the operator's surface (HTTP /metrics, /status, the status page)
// knows about the running monitor. The Monitor and the notifier hub push
// into it; the HTTP server only reads snapshots, so no HTTP code reaches into
// the pipeline and a slow scrape never holds a pipeline lock.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "app/history.hpp"
#include "avmon/frame.hpp"
#include "notify/notifier.hpp"
#include "util/lost_output.hpp"

namespace avmon {

struct DetectorTelemetry {
  std::string name;
  std::uint64_t processed = 0, dropped = 0, errors = 0;
  double busy_s = 0;                   // wall time in calls (the histogram's sum)
  double cpu_s = 0;                    // CPU time in calls
  std::vector<std::uint64_t> buckets;  // per kProcessingBucketsS (dispatcher.hpp), then +Inf; not cumulative
  nlohmann::json levels;               // the detector's latest Detector::levels() (null: none)
  // Of processed and dropped: pictures (the rest are audio blocks).
  std::uint64_t processed_video = 0, dropped_video = 0;
  unsigned media = 0;                  // kVideo | kAudio: what the detector takes
  std::string state = "ok";            // ok, lagging, isolated, disabled, stuck (dispatcher.hpp)
  double lag_s = 0;                    // live: how far behind the input it works
};

// Figures the pipeline owns, read on demand through a probe the Monitor sets.
struct PipelineTelemetry {
  std::uint64_t video_frames = 0, audio_blocks = 0, decode_errors = 0, corrupt_frames = 0, discontinuities = 0;
  std::uint64_t audio_conversion_errors = 0;  // decoded audio blocks that could not be converted (skipped)
  std::vector<DetectorTelemetry> detectors;
  nlohmann::json transport;  // MPEG-TS inputs: the transport layer's figures (TransportEvents::snapshot)
  nlohmann::json decode;     // decode.mode and its figures (Monitor::decode_figures)
  nlohmann::json evidence;   // evidence clips' figures (evidence::Recorder::summary); null: evidence.dir unset
};

struct ChannelLevel {
  std::string name;
  double peak_dbfs = -120, rms_dbfs = -120;
};

struct TelemetrySnapshot {
  std::string version, input, stream;
  std::string revision;                                          // source revision of the build
  std::vector<std::pair<std::string, std::string>> libraries;    // libav* name -> version running
  bool input_up = false;
  double uptime_s = 0;
  double last_media_age_s = -1;  // wall seconds since the last frame/block; < 0: none yet
  StreamInfo format;
  bool have_format = false;
  PipelineTelemetry pipeline;
  std::vector<ChannelLevel> channels;
  std::optional<double> momentary_lufs, short_term_lufs, integrated_lufs;
  std::optional<double> target_lufs;  // the loudness detector's target, when it runs
  nlohmann::json active = nlohmann::json::array();  // defect.start lines still open
  nlohmann::json recent = nlohmann::json::array();  // latest events, newest last
  std::map<std::string, std::uint64_t> defects_total;  // started, by type
  std::set<std::string> types;                       // every type the enabled detectors report
  std::vector<std::pair<std::string, std::shared_ptr<const NotifierCounters>>> notifiers;
  std::map<std::string, OutputFailures> output_failures;  // by output (util/lost_output.hpp)
};

class Telemetry {
 public:
  Telemetry(std::string input, std::string stream);
  ~Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // --- written by the Monitor (decode thread) ---
  void set_types(std::set<std::string> all_types, std::set<std::string> video_types);
  // The loudness detector runs and publishes its figures (levels()["loudness"]):
  // the status page shows those instead of metering loudness a second time.
  void set_detector_loudness(bool on);
  void set_probe(std::function<PipelineTelemetry()> probe);
  void set_format(const StreamInfo& info);
  void set_input_up(bool up);
  void on_video(const std::shared_ptr<const VideoFrame>& frame);
  void on_audio(const AudioBlock& block);

  // --- written by the notifier hub (event order) ---
  // Adds details.thumbnail to a video defect's start and keeps its JPEG.
  void annotate(nlohmann::json& event);
  void on_event(const nlohmann::json& event);
  void set_notifiers(std::vector<std::pair<std::string, std::shared_ptr<const NotifierCounters>>> n);
  void set_thumbnail_prefix(std::string prefix) { thumb_prefix_ = std::move(prefix); }
  // Where evidence clips and their pictures are written (evidence.dir), served
  // as /evidence/<file name>; empty: none. Set before the server starts.
  void set_evidence_dir(std::string dir) { evidence_dir_ = std::move(dir); }
  const std::string& evidence_dir() const { return evidence_dir_; }

  // --- read by the HTTP server (any thread) ---
  TelemetrySnapshot snapshot() const;
  // The latest picture as JPEG, encoded at most once a second however often
  // it is asked for; empty before the first picture.
  std::string live_jpeg();
  // A defect-start thumbnail by event id; empty when unknown.
  std::string thumbnail(const std::string& id) const;
  // Media arrived within the last few seconds (and the input has not ended).
  bool input_up() const;
  std::vector<std::pair<std::string, std::shared_ptr<const NotifierCounters>>> notifiers() const {
    std::lock_guard lk(mu_);
    return notifiers_;
  }
  double last_media_age_s() const;
  // The last hour for the status page (defects fed by on_event; loudness and
  // state sampled by the HTTP server once a second).
  History& history() { return page_history_; }

 private:
  std::string input_, stream_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::atomic<bool> input_up_{false};
  std::atomic<std::int64_t> last_media_ms_{-1};
  std::atomic<double> latest_media_s_{0};  // newest media time seen, to date defect lines back
  std::int64_t started_wall_ms_ = 0;
  History page_history_;
  std::string thumb_prefix_;
  std::string evidence_dir_;

  mutable std::mutex mu_;
  // Held while the probe runs, so that clearing it (Monitor's destructor)
  // waits for a scrape that is reading the monitor's parts.
  mutable std::mutex probe_mu_;
  std::function<PipelineTelemetry()> probe_;
  StreamInfo format_;
  bool have_format_ = false;
  std::set<std::string> types_, video_types_;
  std::vector<std::pair<std::string, std::shared_ptr<const NotifierCounters>>> notifiers_;
  nlohmann::json active_ = nlohmann::json::object();  // by id
  std::deque<nlohmann::json> recent_;
  std::map<std::string, std::uint64_t> defects_total_;

  // Pictures: the latest (for the live thumbnail) and a few recent ones, so a
  // defect that is reported after its minimum duration gets the picture of
  // its onset, not of the moment it was confirmed.
  std::shared_ptr<const VideoFrame> latest_;
  std::deque<std::pair<double, cv::Mat>> history_;  // media time, BGR at analysis size
  std::string live_jpeg_;
  std::chrono::steady_clock::time_point live_jpeg_at_{};
  mutable std::mutex jpeg_mu_;
  std::map<std::string, std::string> thumbnails_;  // id -> JPEG
  std::deque<std::string> thumbnail_order_;

  // Audio meters.
  std::vector<ChannelLevel> levels_;
  std::vector<double> peak_acc_, square_acc_;
  std::size_t acc_samples_ = 0;
  void* loudness_ = nullptr;  // ebur128_state* (its header is C, kept out of ours)
  bool detector_loudness_ = false;
  std::vector<float> interleaved_;
  int loudness_rate_ = 0, loudness_channels_ = 0;
};

// Encodes a BGR picture as a baseline JPEG (libavcodec's MJPEG encoder);
// `quality` as in libjpeg, 1..100. Empty on failure.
std::string encode_jpeg(const cv::Mat& bgr, int quality = 80);

}  // namespace avmon
