// One monitored stream: source -> dispatcher (detectors) -> engine -> hub.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "input/source.hpp"
#include "notify/notifier.hpp"
#include "pipeline/dispatcher.hpp"
#include "pipeline/engine.hpp"

namespace avmon {

class Telemetry;
class SignalLossWatch;
namespace reports {
class LoudnessSegmenter;
class LiveReports;
}  // namespace reports
namespace evidence {
class Recorder;
}
class TransportEvents;

// A stream name from an input URL: a file's base name, or the URL without
// its scheme, with anything unusual replaced by '-'.
std::string stream_name_from_url(const std::string& url);

class Monitor final : public SourceConsumer {
 public:
  Monitor(const Config& cfg, MediaSource& source, EventSink& sink, std::string stream_name);
  ~Monitor() override;

  // Runs the source to its end (or stop) and writes stream.summary. Returns
  // the reason the input ended.
  std::string run();

  void on_stream_info(const StreamInfo& info, bool changed) override;
  void on_video(std::shared_ptr<const VideoFrame> frame) override;
  void on_audio(std::shared_ptr<const AudioBlock> block) override;
  void on_discontinuity(double media_time_s) override;
  void on_transport(bool decoding) override;
  void on_decode_switch(double media_time_s, nlohmann::json details) override;
  void on_packet(const InputPacket& packet) override;

  Dispatcher& dispatcher() { return *dispatcher_; }
  // The stream.summary line written at the end of run() (null before).
  const nlohmann::json& summary() const { return summary_; }
  // A detector was still busy when the input ended (Dispatcher::abandoned()):
  // the process must end without unloading plugins (std::_Exit).
  bool abandoned_detectors() const { return dispatcher_->abandoned(); }
  // Optional: feeds the HTTP status/metrics (frames, levels, pipeline figures).
  void set_telemetry(Telemetry* telemetry);
  // Optional (reports.enabled): receives the loudness log's one-second points.
  void set_reports(reports::LiveReports* live);

 private:
  const Config& cfg_;
  MediaSource& source_;
  std::string stream_;
  // Evidence clips (evidence.dir): the engine's sink in front of the hub;
  // outlives the engine and the dispatcher, which emit into it.
  std::unique_ptr<evidence::Recorder> evidence_;
  std::unique_ptr<EventEngine> engine_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<SignalLossWatch> signal_loss_;  // live inputs only; after dispatcher_ (uses it)
  std::unique_ptr<TransportEvents> transport_;    // MPEG-TS analysis (src/transport); after dispatcher_
  std::unique_ptr<reports::LoudnessSegmenter> loudness_log_;  // reports.enabled: report.loudness lines
  StreamInfo info_;
  bool configured_ = false;
  Telemetry* telemetry_ = nullptr;
  nlohmann::json summary_;
  // decode.mode and the detectors it gives fewer pictures than they need.
  nlohmann::json starved_ = nlohmann::json::array();
  nlohmann::json decode_figures() const;
  void emit_report_line(nlohmann::json line);
};

}  // namespace avmon
