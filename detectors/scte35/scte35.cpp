// scte35: SCTE-35 cue monitoring at the transport tap. The PIDs are the
// selected service's SCTE-35 streams (stream_type 0x86 with registration
// CUEI, or as the PMT says) or input.scte35_pid; every complete section goes
// to the cue monitor (src/ancillary/scte35_monitor.hpp) with the service's
// video PTS at its arrival, and the video PES starts tell it where the
// random-access pictures are. Cues become scte35.cue lines, conditions the
// scte35.* defects, in media-time order with everything else.
#include <algorithm>
#include <cmath>
#include <memory>

#include "ancillary/random_access.hpp"
#include "ancillary/scte35_monitor.hpp"
#include "config/config.hpp"
#include "transport/extension.hpp"
#include "ts/tables.hpp"

namespace avmon::scte35_watch {

namespace {

class HostSink final : public scte35::MonitorSink {
 public:
  explicit HostSink(TsHost& host) : host_(host) {}
  void cue(double media_time_s, nlohmann::json details) override {
    host_.emit({{"kind", "scte35.cue"}, {"media_time", std::round(media_time_s * 1000) / 1000}, {"details", std::move(details)}});
  }
  void observe(Observation obs) override { host_.observe(std::move(obs)); }

 private:
  TsHost& host_;
};

class Scte35Watch final : public TsExtension {
 public:
  Scte35Watch(scte35::MonitorOptions o, std::uint16_t forced_pid) : monitor_(o), forced_pid_(forced_pid) {}

  void on_service(const ts::Service& service, TsHost& host) override {
    for (auto pid : pids_) host.unsubscribe(pid);
    pids_.clear();
    if (video_pid_) host.unsubscribe(*video_pid_);
    video_pid_.reset();
    if (forced_pid_) pids_.push_back(forced_pid_);
    if (!service.pmt) return;
    for (const auto& es : service.pmt->streams) {
      const auto kind = ts::stream_kind(es);
      if (kind == ts::StreamKind::Scte35 && !forced_pid_) pids_.push_back(es.pid);
      if (kind == ts::StreamKind::Video && !video_pid_) {
        video_pid_ = es.pid;
        codec_ = ancillary::codec_of_stream_type(es.stream_type);
      }
    }
    for (auto pid : pids_) host.subscribe_sections(pid);
    if (video_pid_) host.subscribe_pes(*video_pid_);
  }

  void on_section(const ts::Section& s, const TapTime& at, TsHost& host) override {
    if (s.size == 0 || s.table_id() != ts::kTidScte35) return;
    HostSink sink(host);
    monitor_.on_section(s.pid, s.data, s.size, s.crc != ts::CrcStatus::Bad, {at.media_time_s, at.service_pts_90k, at.origin_pts_90k}, sink);
  }

  void on_pes_start(std::uint16_t pid, std::optional<std::int64_t> pts, const std::uint8_t* payload, std::size_t size,
                    const TapTime& at, TsHost& host) override {
    if (!video_pid_ || pid != *video_pid_ || !pts) return;
    // The picture's bytes follow the PES header.
    std::size_t header = 0;
    if (size >= 9 && payload[0] == 0 && payload[1] == 0 && payload[2] == 1) header = std::min<std::size_t>(size, 9u + payload[8]);
    HostSink sink(host);
    monitor_.on_video(*pts, ancillary::starts_random_access(codec_, payload + header, size - header), at.media_time_s,
                      sink);
  }

  void on_end(double end_media_time_s, TsHost& host) override {
    HostSink sink(host);
    monitor_.finish(end_media_time_s, sink);
  }

  nlohmann::json summary() const override { return monitor_.summary(); }

 private:
  scte35::Monitor monitor_;
  std::uint16_t forced_pid_;
  std::vector<std::uint16_t> pids_;
  std::optional<std::uint16_t> video_pid_;
  ancillary::VideoCodec codec_ = ancillary::VideoCodec::Other;
};

std::unique_ptr<TsExtension> make(const Config& cfg) {
  if (!cfg.scte35.get_bool("enabled")) return nullptr;
  scte35::MonitorOptions o;
  o.min_preroll_s = cfg.scte35.get_double("min_preroll_s");
  o.return_tolerance_s = cfg.scte35.get_double("return_tolerance_s");
  o.rap_tolerance_s = cfg.scte35.get_double("rap_tolerance_s");
  return std::make_unique<Scte35Watch>(o, static_cast<std::uint16_t>(cfg.input.scte35_pid));
}

}  // namespace

AVMON_REGISTER_TS_EXTENSION(scte35, ({scte35::Monitor::kCrcError, scte35::Monitor::kShortPreroll,
                                      scte35::Monitor::kMissingReturn, scte35::Monitor::kNotOnRap}),
                            {}, make);

}  // namespace avmon::scte35_watch
