#include "app/monitor.hpp"

#include <chrono>
#include <filesystem>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "app/signal_loss.hpp"
#include "app/telemetry.hpp"
#include "reports/live.hpp"
#include "reports/options.hpp"
#include "reports/loudness_segments.hpp"
#include "reports/taps.hpp"
#include "evidence/recorder.hpp"
#include "util/numbers.hpp"
#include "transport/events.hpp"
#include "util/time.hpp"
#include "util/url.hpp"

namespace avmon {

std::string stream_name_from_url(const std::string& url) {
  std::string s;
  auto scheme = url.find("://");
  if (scheme == std::string::npos || url.compare(0, scheme, "file") == 0) {
    s = std::filesystem::path(scheme == std::string::npos ? url : url.substr(scheme + 3)).filename().string();
  } else {
    // Host and path only: the query and the userinfo carry secrets.
    s = url.substr(scheme + 3);
    auto q = s.find_first_of("?#");
    if (q != std::string::npos) s.resize(q);
    auto at = s.substr(0, s.find('/')).rfind('@');
    if (at != std::string::npos) s.erase(0, at + 1);
  }
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '-';
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s.empty() ? "stream" : s;
}

Monitor::Monitor(const Config& cfg, MediaSource& source, EventSink& sink, std::string stream_name)
    : cfg_(cfg), source_(source), stream_(std::move(stream_name)) {
  // A live stream's ids must not repeat across restarts; a file's events are
  // the same on every run, ids included.
  std::uint64_t nonce = 0;
  if (source.live()) nonce = std::random_device{}() | (static_cast<std::uint64_t>(std::random_device{}()) << 32);
  if (cfg.evidence.has("dir") && !cfg.evidence.get_string("dir").empty())
    evidence_ = std::make_unique<evidence::Recorder>(evidence::Settings::from(cfg.evidence), sink, stream_,
                                                     source.live());
  engine_ = std::make_unique<EventEngine>(stream_, evidence_ ? static_cast<EventSink&>(*evidence_) : sink, nonce);
  for (const auto& [type, policy] : cfg.alarms.types) engine_->override_type(type, policy);
  // The start-up grace from the first timestamp (media time 0); a live
  // input's again after each outage (SignalLossWatch).
  std::set<std::string> content_types;
  for (const auto& d : cfg.detectors)
    if (d.enabled) content_types.insert(d.info->types.begin(), d.info->types.end());
  engine_->set_grace_types(std::move(content_types));
  engine_->begin_grace(0, source.live() ? cfg.alarms.startup_grace_s : cfg.alarms.file_startup_grace_s);

  std::vector<DetectorSlot> slots;
  for (const auto& d : cfg.detectors) {
    if (!d.enabled) continue;
    engine_->add_detector(d.info->name, d.policy, d.info->types, d.info->suppresses);
    slots.push_back({d.info->name, d.info->media, d.info->create(d.options)});
  }
  if (source.live()) SignalLossWatch::declare(*engine_, cfg);
  const TransportAccess transport = source.transport();
  if (transport.analyzer) {
    // A scrambled or missing service is neither black, frozen, silent nor lost.
    std::vector<std::string> av_types = {"signal_loss"};
    for (const auto& d : cfg.detectors)
      if (d.enabled) av_types.insert(av_types.end(), d.info->types.begin(), d.info->types.end());
    TransportEvents::declare(*engine_, cfg, av_types);
  }
  spdlog::info("{} detectors enabled", slots.size());
  const DecodeMode mode = cfg.input.decode.mode;
  for (const auto& st : starved_detectors(mode, cfg.detectors)) {
    spdlog::warn("decode.mode {} starves detector {}: it gets {} pictures{}, it needs {}; its results are less "
                 "reliable", decode_mode_name(mode), st.name, picture_need_name(pictures_delivered(mode)),
                 mode == DecodeMode::Adaptive ? " while all is well" : "", picture_need_name(st.needs));
    starved_.push_back({{"detector", st.name}, {"needs", picture_need_name(st.needs)},
                        {"gets", picture_need_name(pictures_delivered(mode))}});
  }
  DispatchLimits limits;
  limits.max_failures = cfg.pipeline.detector_max_failures;
  limits.lag_warn_s = cfg.pipeline.lag_warn_s;
  limits.max_lag_s = cfg.pipeline.max_lag_s;
  limits.drain_timeout_s = cfg.pipeline.drain_timeout_s;
  dispatcher_ = std::make_unique<Dispatcher>(
      std::move(slots), *engine_, source.live() ? Dispatcher::Mode::DropWhenBehind : Dispatcher::Mode::Lossless,
      cfg.pipeline.threads, cfg.pipeline.queue_frames, limits);
  if (source.live())
    signal_loss_ = std::make_unique<SignalLossWatch>(cfg.input, source, *dispatcher_, cfg.alarms.startup_grace_s);
  if (transport.analyzer) transport_ = std::make_unique<TransportEvents>(cfg, transport, *dispatcher_, source.live());
  if (evidence_)
    evidence_->set_emitter([this](nlohmann::json line) {
      dispatcher_->with_engine([&](EventEngine& e) { e.emit_line(std::move(line)); });
    });
  if (reports::settings().get_bool("enabled")) {
    loudness_log_ = std::make_unique<reports::LoudnessSegmenter>(reports::segmenter_options(cfg, source.live()));
    if (transport_ && reports::segments_on_splices())
      transport_->on_line = [log = loudness_log_.get()](const nlohmann::json& line) { reports::feed_cue(line, *log); };
  }
}

void Monitor::set_reports(reports::LiveReports* live) {
  if (loudness_log_ && live) loudness_log_->on_point = [live](const reports::LoudnessPoint& p) { live->add_point(p); };
}

void Monitor::emit_report_line(nlohmann::json line) {
  // In media-time order with the detectors' events (a file's lines are the
  // same on every run).
  const double t = line.value("media_time", 0.0);
  dispatcher_->submit_external(t, [line = std::move(line)](EventEngine& e) { e.emit_line(line); });
}

Monitor::~Monitor() {
  if (evidence_) evidence_->stop();  // its writer emits through the dispatcher
  if (telemetry_) telemetry_->set_probe({});  // the probe reads this monitor's parts
  // A detector still in a call when the input ended may never return: its
  // dispatcher (and the detector) must outlive it, so they are left to the
  // end of the process, which then exits without unloading anything.
  if (dispatcher_ && dispatcher_->abandoned()) {
    signal_loss_.reset();
    static_cast<void>(dispatcher_.release());
  }
}

void Monitor::set_telemetry(Telemetry* telemetry) {
  telemetry_ = telemetry;
  if (!telemetry_) return;
  if (transport_) transport_->publish_snapshots(true);
  std::set<std::string> types, video_types;
  bool loudness_detector = false;
  for (const auto& d : cfg_.detectors) {
    if (!d.enabled) continue;
    types.insert(d.info->types.begin(), d.info->types.end());
    if (d.info->media & kVideo) video_types.insert(d.info->types.begin(), d.info->types.end());
    loudness_detector = loudness_detector || d.info->name == "loudness";
  }
  telemetry_->set_types(std::move(types), std::move(video_types));
  telemetry_->set_detector_loudness(loudness_detector);
  // Four refreshes a second: the status page polls once a second.
  dispatcher_->publish_levels(0.25);
  telemetry_->set_probe([this] {
    PipelineTelemetry p;
    auto& st = source_.stats();
    p.video_frames = st.video_frames;
    p.audio_blocks = st.audio_blocks;
    p.decode_errors = st.decode_errors;
    p.corrupt_frames = st.corrupt_frames;
    p.audio_conversion_errors = st.audio_conversion_errors;
    p.discontinuities = st.discontinuities;
    for (size_t i = 0; i < dispatcher_->slots().size(); ++i) {
      const auto& ss = dispatcher_->stats(i);
      DetectorTelemetry d{dispatcher_->slots()[i].name, ss.processed, ss.dropped, ss.errors, ss.busy_ns / 1e9, ss.cpu_ns / 1e9, {}, nullptr};
      for (const auto& b : ss.time_buckets) d.buckets.push_back(b);
      d.levels = dispatcher_->levels(i);
      d.processed_video = ss.processed_video;
      d.dropped_video = ss.dropped_video;
      d.media = dispatcher_->slots()[i].media;
      d.state = detector_state_name(ss.state.load());
      d.lag_s = ss.lag_s.load();
      p.detectors.push_back(std::move(d));
    }
    if (transport_) p.transport = transport_->snapshot();
    p.decode = decode_figures();
    if (evidence_) p.evidence = evidence_->summary();
    return p;
  });
}

void Monitor::on_stream_info(const StreamInfo& info, bool changed) {
  info_ = info;
  info_.stream = stream_;
  if (changed) {
    // A file's format change follows every event of the old format; a live
    // input never waits for its detectors.
    if (!source_.live()) dispatcher_->drain();
    nlohmann::json j;
    j["kind"] = "stream.format_change";
    j["media_time"] = round_ms(engine_->clock_s());
    j["details"] = {{"width", info_.width}, {"height", info_.height}, {"frame_rate", info_.frame_rate},
                    {"video_codec", info_.video_codec}, {"sample_rate", info_.sample_rate},
                    {"channels", info_.channels}, {"audio_codec", info_.audio_codec}};
    dispatcher_->with_engine([&](EventEngine& e) { e.emit_line(j); });
  }
  dispatcher_->configure(info_);
  if (evidence_) evidence_->on_stream_info(info_);
  configured_ = true;
  if (telemetry_) telemetry_->set_format(info_);
}

void Monitor::on_video(std::shared_ptr<const VideoFrame> frame) {
  if (transport_) transport_->media_delivered(frame->media_time_s());
  if (telemetry_) telemetry_->on_video(frame);
  if (signal_loss_) signal_loss_->on_media(frame->media_time_s(), frame->duration_s());
  dispatcher_->video(std::move(frame));
  if (!source_.stats().decoding_all.load(std::memory_order_relaxed)) dispatcher_->flush_video_batch();
}
void Monitor::on_audio(std::shared_ptr<const AudioBlock> block) {
  if (transport_) transport_->media_delivered(block->media_time_s());
  if (telemetry_) telemetry_->on_audio(*block);
  if (signal_loss_)
    signal_loss_->on_media(block->media_time_s(), block->samples() / static_cast<double>(std::max(1, block->sample_rate())));
  std::vector<nlohmann::json> report_lines;
  if (loudness_log_) {
    const double wall_s =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    report_lines = loudness_log_->feed(*block, wall_s);
  }
  dispatcher_->audio(std::move(block));
  for (auto& line : report_lines) emit_report_line(std::move(line));
}
void Monitor::on_packet(const InputPacket& packet) {
  if (evidence_) evidence_->on_packet(packet);
  if (loudness_log_ && !packet.video) reports::feed_dialnorm(packet, *loudness_log_);
}
void Monitor::on_transport(bool decoding) {
  if (transport_) transport_->pump(decoding);
}

nlohmann::json Monitor::decode_figures() const {
  const auto& st = source_.stats();
  const DecodeMode mode = cfg_.input.decode.mode;
  const std::uint64_t packets = st.video_packets, delivered = st.video_frames;
  nlohmann::json j = {{"mode", decode_mode_name(mode)},
                      {"decoding", mode == DecodeMode::Economy ? "reference"
                                   : st.decoding_all.load()    ? "all"
                                                               : "keyframes"},
                      {"pictures_decoded", st.pictures_decoded.load()},
                      {"pictures_delivered", delivered},
                      // Pictures the input carried that were not decoded.
                      {"pictures_skipped", packets > delivered ? packets - delivered : 0},
                      {"pictures_redecoded", st.pictures_redecoded.load()},
                      {"switches", st.mode_switches.load()},
                      {"starved", starved_}};
  return j;
}

void Monitor::on_decode_switch(double media_time_s, nlohmann::json details) {
  spdlog::info("adaptive decoding: {} from media time {} s{}",
               details.value("decoding", "") == "all" ? "every picture" : "keyframes only",
               human_number(media_time_s),
               details.contains("reason") ? " (" + details["reason"].get<std::string>() + ")" : "");
  // A file's switch line follows every event of the pictures before it, so
  // its place among the events is the same on every run.
  if (!source_.live()) dispatcher_->drain();
  nlohmann::json j;
  j["kind"] = "decode.switch";
  j["media_time"] = round_ms(media_time_s);
  j["details"] = std::move(details);
  dispatcher_->with_engine([&](EventEngine& e) { e.emit_line(j); });
}

void Monitor::on_discontinuity(double media_time_s) {
  spdlog::warn("timestamp discontinuity at media time {} s", human_number(media_time_s));
  dispatcher_->discontinuity(media_time_s);
  if (loudness_log_) loudness_log_->discontinuity();
}

std::string Monitor::run() {
  if (signal_loss_) signal_loss_->start();
  std::string reason = source_.run(*this);
  if (telemetry_) telemetry_->set_input_up(false);
  double end_s = source_.end_media_time_s();
  if (signal_loss_) end_s = signal_loss_->stop(end_s);
  if (transport_) transport_->finish(end_s);
  if (loudness_log_)
    if (auto line = loudness_log_->finish()) emit_report_line(std::move(*line));
  dispatcher_->finish(end_s);
  if (evidence_) evidence_->finish();
  auto& st = source_.stats();

  nlohmann::json s;
  s["kind"] = "stream.summary";
  s["media_time"] = round_ms(end_s);
  s["input"] = redact_url(cfg_.input.url);
  s["end_reason"] = reason;
  s["duration_s"] = round_ms(end_s);
  s["frames"] = {{"video", st.video_frames.load()}, {"audio_blocks", st.audio_blocks.load()}};
  s["decode_errors"] = st.decode_errors.load();
  s["corrupt_frames"] = st.corrupt_frames.load();
  s["audio_conversion_errors"] = st.audio_conversion_errors.load();
  s["discontinuities"] = st.discontinuities.load();
  if (info_.has_video) s["decode"] = decode_figures();
  if (signal_loss_) s["live"] = signal_loss_->summary();
  if (evidence_) s["evidence"] = evidence_->summary();
  if (nlohmann::json input = source_.summary(); input.is_object()) s["details"] = std::move(input);
  if (transport_) {
    if (nlohmann::json t = transport_->summary(); t.is_object()) s["transport"] = std::move(t);
  }
  nlohmann::json format = {{"video", info_.has_video}, {"audio", info_.has_audio}};
  if (info_.has_video) {
    format["width"] = info_.width;
    format["height"] = info_.height;
    format["frame_rate"] = info_.frame_rate;
    format["video_codec"] = info_.video_codec;
  }
  if (info_.has_audio) {
    format["sample_rate"] = info_.sample_rate;
    format["channels"] = info_.channels;
    format["audio_codec"] = info_.audio_codec;
  }
  s["format"] = format;
  nlohmann::json detectors = nlohmann::json::object();
  for (size_t i = 0; i < dispatcher_->slots().size(); ++i) detectors[dispatcher_->slots()[i].name] = dispatcher_->report(i);
  s["detectors"] = detectors;
  nlohmann::json figures = dispatcher_->summaries();
  dispatcher_->with_engine([&](EventEngine& e) {
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& [type, n] : e.defect_counts()) counts[type] = n;
    s["defects"] = counts;
    s.update(figures, true);
    if (transport_) s.update(transport_->extension_summaries(), true);
    summary_ = s;
    e.emit_line(s);
  });
  return reason;
}

}  // namespace avmon
