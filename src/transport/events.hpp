// The transport layer's events: what the analyser (and the extensions) find
// in the packets becomes observations for the event engine, timed in media
// time (the selected service's clock since its first timestamp) and handed
// over in order with the decoded frames.
//
// Packets are read ahead of decoding: the demuxer buffers, decoders hold
// frames. An event is therefore queued until a frame at or after its media
// time has been delivered (or at once when nothing is being decoded, or
// after a second of wall time on a live input), so the engine's clock never
// runs ahead of the detectors' observations and a file's events are the same
// on every run.
//
// TR 101 290 indicators are reported by the pseudo-detectors
// tr101290_p1/p2/p3 (one per priority, for severity), scrambled and
// service_missing by "transport", whose incidents suppress the picture and
// sound defects (a scrambled service is not black, frozen or silent).
#pragma once

#include <chrono>
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

#include "config/config.hpp"
#include "pipeline/dispatcher.hpp"
#include "transport/access.hpp"
#include "transport/extension.hpp"
#include "ts/analyzer.hpp"

namespace avmon {

class TransportEvents final : public TsHost, private ts::SectionListener, private ts::PesListener {
 public:
  static constexpr const char* kServiceDetector = "transport";
  static std::string priority_detector(int priority) { return "tr101290_p" + std::to_string(priority); }

  // Declares the pseudo-detectors and the extensions' types to the engine;
  // `av_types`: every picture and sound type (suppressed by scrambled and
  // service_missing), signal_loss included.
  static void declare(EventEngine& engine, const Config& cfg, const std::vector<std::string>& av_types);

  TransportEvents(const Config& cfg, TransportAccess access, Dispatcher& dispatcher, bool live);
  ~TransportEvents() override;
  TransportEvents(const TransportEvents&) = delete;
  TransportEvents& operator=(const TransportEvents&) = delete;

  // Demuxing thread. After each read: new events into the queue, the ones
  // due to the engine. `decoding`: frames are expected.
  void pump(bool decoding);
  // A frame or block at `media_time_s` is about to be dispatched.
  void media_delivered(double media_time_s);
  // End of input: the rest of the queue, in order.
  void finish(double end_media_time_s);
  // stream.summary's "transport" (null when the input was not MPEG-TS), and
  // the extensions' figures to merge at the top level.
  nlohmann::json summary() const;
  nlohmann::json extension_summaries() const;
  // Any thread: the latest figures for /status and /metrics (null before any).
  nlohmann::json snapshot() const;
  // Before the input is read: keep that snapshot up to date (four times a
  // second). Off by default: without an HTTP server nothing reads it, and
  // building it walks every PID.
  void publish_snapshots(bool on) { publishing_ = on; }
  // Optional: each line an extension emits, as it is emitted (demuxing
  // thread, ahead of its place among the events): the loudness log's
  // segments end at the splice points the cue lines announce.
  std::function<void(const nlohmann::json&)> on_line;

  // TsHost
  void subscribe_sections(std::uint16_t pid) override;
  void subscribe_pes(std::uint16_t pid) override;
  void subscribe_whole_pes(std::uint16_t pid) override;
  void unsubscribe(std::uint16_t pid) override;
  void observe(Observation obs) override;
  void emit(nlohmann::json line) override;
  const ts::ServiceModel& services() const override { return analyzer_.services(); }

 private:
  void on_section(const ts::Section& s, std::uint64_t packet, double clock_s) override;
  void on_pes_start(std::uint16_t pid, std::optional<std::int64_t> pts_90k, const std::uint8_t* payload,
                    std::size_t size, std::uint64_t packet, double clock_s) override;
  void on_pes(const ts::Pes& pes) override;
  TapTime tap_time(std::uint64_t packet, double clock_s) const;
  // Sections and PES starts seen before the origin of media time is known
  // (while the demuxer probes) wait for it, so that their media time is on
  // the pictures' timeline; replayed in order.
  struct Deferred {
    enum class Kind { Section, PesStart, WholePes } kind = Kind::Section;
    std::uint16_t pid = 0;
    std::vector<std::uint8_t> bytes;
    ts::CrcStatus crc = ts::CrcStatus::None;
    std::optional<std::int64_t> pts_90k, service_pts_90k;
    std::optional<double> arrival_s;
    std::uint64_t packet = 0;
    double clock_s = 0;
    int stream_id = 0;                         // WholePes: bytes is the whole PES packet
    std::optional<std::int64_t> dts_90k;
    std::size_t header_size = 0;
  };
  bool defer(Deferred d);
  void replay_deferred();
  void dispatch_section(const ts::Section& s, const TapTime& t);
  void dispatch_pes(std::uint16_t pid, std::optional<std::int64_t> pts_90k, const std::uint8_t* payload,
                    std::size_t size, const TapTime& t);
  void dispatch_whole_pes(const ts::Pes& pes, const TapTime& t);
  double media_time(double clock_s) const;
  void announce_service();
  void take_analyzer_events();
  void add(const ts::TsEvent& e);
  void release(bool all);
  void publish(bool force);

  struct Item {
    double media_time_s = 0;
    std::string detector;             // empty: `line` is a non-defect line
    Observation obs;
    nlohmann::json line;
    std::chrono::steady_clock::time_point queued;
    bool counted = false;             // an error of the analyser: counted into its defect's details
    std::uint16_t pid = 0;
  };
  // Errors of the defect open now, per type: kept where the engine is (its
  // hold-off decides when a defect ends and the next begins).
  struct Incident {
    std::uint64_t count = 0;
    std::vector<std::uint16_t> pids;  // bounded
  };
  using Incidents = std::map<std::string, Incident>;
  struct Extension {
    const TsExtensionInfo* info;
    std::unique_ptr<TsExtension> ext;
  };

  const Config& cfg_;
  ts::Analyzer& analyzer_;
  const RtpFigures* rtp_;
  Dispatcher& dispatcher_;
  bool live_;
  bool decoding_ = true;
  double delivered_s_ = -1e300;
  double last_media_s_ = 0;
  std::deque<Item> queue_;
  std::map<std::string, std::set<std::uint16_t>> lasting_;  // per type: PIDs whose condition lasts
  std::shared_ptr<Incidents> incidents_ = std::make_shared<Incidents>();
  std::vector<Extension> extensions_;
  Extension* current_ = nullptr;      // the extension being called (for observe())
  std::map<std::uint16_t, std::vector<Extension*>> section_subs_, pes_subs_, whole_pes_subs_;
  std::optional<std::uint16_t> announced_program_;
  std::optional<ts::Pmt> announced_pmt_;
  std::vector<Deferred> deferred_;

  mutable std::mutex mu_;
  nlohmann::json snapshot_;
  bool publishing_ = false;
  std::chrono::steady_clock::time_point next_publish_{};
};

}  // namespace avmon
