// libavformat/libavcodec source, opening and sessions: open the input (an
// interrupt callback bounds every blocking call), pick the best video and
// audio streams, run the read loop of one session, and reopen a live input
// with backoff when a session fails. Decoding is in av_source_decode.cpp, the
// input's timing in av_source_timing.cpp.
#include <chrono>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/log.h>
#include <libavutil/opt.h>
}

#include "input/av_source.hpp"
#include "input/backoff.hpp"
#include "util/numbers.hpp"
#include "transport/options.hpp"

namespace avmon {
namespace av_source_detail {

std::string av_error(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

bool is_live_url(const std::string& url) {
  auto p = url.find("://");
  if (p == std::string::npos) return false;
  std::string scheme = url.substr(0, p);
  return scheme != "file" && scheme != "pipe";
}

AvSource::AvSource(InputConfig cfg, const std::atomic<bool>* stop_flag, AVIOContext* custom_io)
    : cfg_(std::move(cfg)), display_url_(redact_url(cfg_.url)), external_stop_(stop_flag), custom_io_(custom_io) {
  live_ = !custom_io_ && is_live_url(cfg_.url);
  if (cfg_.transport.enabled)
    analyzer_ = std::make_unique<ts::Analyzer>(analyzer_options(cfg_.transport, live_, cfg_.program));
}

double AvSource::end_media_time_s() const {
  // Nothing decoded (a scrambled service): the transport says how long it was.
  if (end_media_time_s_ <= 0 && analyzer_ && analyzer_->synced() && analyzer_->has_origin())
    return std::max(0.0, analyzer_->media_time(analyzer_->clock_s()));
  return end_media_time_s_;
}

std::optional<AvSource::OpenError> AvSource::no_service() {
  if (!analyzer_ || live_) return std::nullopt;
  analyzer_->finish();  // a file too short to prove sync still shows its packets
  if (!analyzer_->synced() || carries_service()) return std::nullopt;
  return OpenError{display_url_ + " holds no service: " + std::to_string(analyzer_->packets()) +
                       " MPEG-TS packets without a PAT and PMT, and no decodable audio or video",
                   true};
}

int AvSource::open_demuxer(AVDictionary** opts) {
  const AVInputFormat* forced = nullptr;
  if (custom_io_ && !analyzer_) {
    fmt_->pb = custom_io_;
    fmt_->flags |= AVFMT_FLAG_CUSTOM_IO;  // avformat_close_input leaves it to the caller
  } else if (analyzer_ && (custom_io_ || TsTap::applies_to(cfg_.url))) {
    if (sessions_opened_) {
      // A new session of a live input: the clock goes on across the outage.
      analyzer_->new_session(seconds_since(transport_gap_from_));
      transport_gap_from_ = Clock::now();
    }
    tap_ = std::make_unique<TsTap>(*analyzer_, rtp_figures_);
    tap_->set_gap_threshold(gap_threshold_s());
    // The caller's bytes (see make_av_source), or the URL's protocol.
    int err = custom_io_ ? tap_->open(fmt_, custom_io_, live_) : tap_->open(fmt_, cfg_.url, opts, live_);
    if (err < 0) {
      avformat_free_context(fmt_);
      fmt_ = nullptr;
      tap_.reset();
      return err;
    }
    forced = tap_->forced_format();
    // HLS over HTTP would reuse a segment's connection through the context
    // it opened, which is now the tap's: one connection per segment instead.
    if (cfg_.url.rfind("http", 0) == 0) av_dict_set(opts, "http_persistent", "0", 0);
  }
  int err = avformat_open_input(&fmt_, cfg_.url.c_str(), forced, opts);
  if (tap_) av_dict_set(opts, "http_persistent", nullptr, 0);  // not the user's: never "unrecognised"
  if (err < 0) {
    tap_.reset();  // avformat_open_input freed the context, not our I/O
    return err;
  }
  sessions_opened_ = true;
  if (tap_) tap_->format_known(fmt_);
  return 0;
}

namespace {

// Errors that no amount of retrying fixes: the URL or the options are wrong.
bool permanent_open_error(int err) {
  return err == AVERROR_PROTOCOL_NOT_FOUND || err == AVERROR_DEMUXER_NOT_FOUND ||
         err == AVERROR_OPTION_NOT_FOUND || err == AVERROR_BSF_NOT_FOUND;
}

bool same_format(const StreamInfo& a, const StreamInfo& b) {
  return a.has_video == b.has_video && a.width == b.width && a.height == b.height &&
         std::abs(a.frame_rate - b.frame_rate) < 0.01 && a.video_codec == b.video_codec &&
         a.has_audio == b.has_audio && a.sample_rate == b.sample_rate && a.channels == b.channels &&
         a.channel_names == b.channel_names && a.audio_codec == b.audio_codec &&
         a.video_profile == b.video_profile && a.video_level == b.video_level &&
         a.channel_layout == b.channel_layout && a.audio_languages == b.audio_languages;
}

}  // namespace

void AvSource::open() {
  if (cfg_.url.empty()) throw InputError("no input given (use --input URL or input.url in the configuration)");
  auto failed = try_open();
  if (!failed) return;
  // Stopped while opening: not an input error; run() returns "stopped" at once.
  if (stopping()) return;
  if (failed->permanent || !may_reconnect()) throw InputError(failed->message);
  // A live input that is down at start is what the monitor is for: it
  // reports signal_loss and keeps trying (run()).
  spdlog::warn("{}; will keep trying", failed->message);
}

std::optional<AvSource::OpenError> AvSource::try_open() {
  close_input();
  fmt_ = avformat_alloc_context();
  fmt_->interrupt_callback.callback = &AvSource::interrupt_cb;
  fmt_->interrupt_callback.opaque = this;
  AVDictionary* opts = nullptr;
  for (const auto& [k, v] : cfg_.av_options) av_dict_set(&opts, k.c_str(), v.c_str(), 0);
  arm_deadline(cfg_.open_timeout_s);
  int err = open_demuxer(&opts);
  std::string unused;
  for (AVDictionaryEntry* e = nullptr; (e = av_dict_get(opts, "", e, AV_DICT_IGNORE_SUFFIX));)
    unused += std::string(unused.empty() ? "" : ", ") + e->key;
  av_dict_free(&opts);
  if (err < 0) {
    fmt_ = nullptr;  // freed by avformat_open_input on failure
    if (stopping()) return OpenError{"cannot open " + display_url_ + ": interrupted", false};
    if (err == AVERROR_EXIT)
      return OpenError{"cannot open " + display_url_ + ": no answer within " + human_number(cfg_.open_timeout_s) + " s",
                       false};
    if (auto none = no_service()) return none;
    return OpenError{"cannot open " + display_url_ + ": " + av_error(err), permanent_open_error(err)};
  }
  stats_.input_open = true;
  ++session_;
  pb_bytes_seen_ = 0;
  if (!unused.empty() && !warned_options_) spdlog::warn("input options not recognised by libavformat: {}", unused);
  warned_options_ = true;
  arm_deadline(cfg_.open_timeout_s);
  err = avformat_find_stream_info(fmt_, nullptr);
  count_input_bytes();
  if (err < 0) {
    close_input();
    if (auto none = no_service()) return none;
    return OpenError{"cannot read stream information of " + display_url_ + ": " + av_error(err), false};
  }
  duration_s_ = fmt_->duration > 0 ? fmt_->duration / static_cast<double>(AV_TIME_BASE) : 0.0;

  if (auto failed = choose_streams()) {
    close_input();
    return failed;
  }
  if (video_index_ >= 0) video_dec_ = open_decoder(video_index_);
  if (audio_index_ >= 0) audio_dec_ = open_decoder(audio_index_);
  if (!video_dec_) video_index_ = -1;
  if (!audio_dec_) audio_index_ = -1;
  transport_only_ = false;
  if (video_index_ < 0 && audio_index_ < 0) {
    if (carries_service()) {
      // A service whose streams cannot be decoded (scrambled, or absent):
      // an operator's alarm, reported by the transport analysis.
      transport_only_ = true;
      spdlog::warn("{}: nothing of service {} can be decoded; analysing the transport stream only", display_url_,
                   *analyzer_->selected());
    } else {
      std::string msg = display_url_ + " is not media: no decodable audio or video stream (format " +
                        std::string(fmt_->iformat ? fmt_->iformat->name : "?") + ")";
      close_input();
      if (auto none = no_service()) return none;
      // A file that is not media stays so; a live feed may be momentarily garbage.
      return OpenError{msg, !live_};
    }
  }
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (static_cast<int>(i) != video_index_ && static_cast<int>(i) != audio_index_)
      fmt_->streams[i]->discard = AVDISCARD_ALL;
  known_streams_ = fmt_->nb_streams;

  set_origin();
  if (video_index_ >= 0) {
    AVStream* st = fmt_->streams[video_index_];
    AVRational fr = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    if (fr.num > 0 && fr.den > 0) frame_duration_s_ = av_q2d(av_inv_q(fr));
  }
  update_info(nullptr);
  if (analyzer_) av_layout_ = analyzer_->av_layout_changes();
  spdlog::info("opened {} ({}): video {} {}x{} {} fps, audio {} {} Hz {} ch", display_url_, fmt_->iformat->name,
               info_.has_video ? info_.video_codec : "none", info_.width, info_.height, human_number(info_.frame_rate),
               info_.has_audio ? info_.audio_codec : "none", info_.sample_rate, info_.channels);
  return std::nullopt;
}

void AvSource::close_input() {
  video_dec_.reset();
  audio_dec_.reset();
  video_index_ = audio_index_ = -1;
  swr_free(&swr_);
  av_channel_layout_uninit(&swr_layout_);
  swr_rate_ = 0;
  swr_format_ = -1;
  if (fmt_) {
    // Closing may talk to the peer (RTSP TEARDOWN): bounded like any call.
    arm_deadline(1.0);
    avformat_close_input(&fmt_);
  }
  tap_.reset();
  stats_.input_open = false;
}

void AvSource::count_input_bytes() {
  if (!fmt_ || !fmt_->pb) return;
  std::int64_t now = fmt_->pb->bytes_read;
  if (now > pb_bytes_seen_) stats_.input_bytes += static_cast<std::uint64_t>(now - pb_bytes_seen_);
  pb_bytes_seen_ = now;
}

bool AvSource::sleep_unless_stopped(double seconds) {
  auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::unique_lock lk(pace_mu_);
  // The external stop flag is set by a signal handler, which cannot notify:
  // wake up often enough to see it.
  while (!stopping() && Clock::now() < until)
    pace_cv_.wait_until(lk, std::min(until, Clock::now() + std::chrono::milliseconds(50)));
  return !stopping();
}

void AvSource::note_new_streams() {
  // A live transport stream may announce new elementary streams at any time
  // (a restarted encoder, a new programme). They are not the ones being
  // decoded: discard them, so the demuxer does not parse and buffer them.
  for (unsigned i = known_streams_; i < fmt_->nb_streams; ++i) {
    AVStream* st = fmt_->streams[i];
    spdlog::info("input announced a new {} stream ({}); not decoded", av_get_media_type_string(st->codecpar->codec_type)
                 ? av_get_media_type_string(st->codecpar->codec_type) : "unknown",
                 avcodec_get_name(st->codecpar->codec_id));
    st->discard = AVDISCARD_ALL;
  }
  known_streams_ = fmt_->nb_streams;
}

std::string AvSource::read_session(SourceConsumer& consumer) {
  AVPacketPtr pkt(av_packet_alloc());
  std::string reason = "end of input";
  session_delivered_ = false;
  auto session_start = Clock::now();
  tracking_progress_ = live_;
  progress_pos_ = -1;
  struct StopTracking {
    bool& flag;
    ~StopTracking() { flag = false; }
  } stop_tracking{tracking_progress_};
  for (;;) {
    if (stopping()) return "stopped";
    arm_deadline(cfg_.read_timeout_s);
    int err = av_read_frame(fmt_, pkt.get());
    // The demuxer may have parsed the first bytes after a gap (and flushed
    // what it held from before it) without reading again: notice the gap
    // before decoding what it returned.
    watch_input_progress();
    count_input_bytes();
    // A stop interrupts the read; what the demuxer flushes then is not news.
    if (stopping()) return "stopped";
    if (err == AVERROR_EOF) {
      if (analyzer_) consumer.on_transport(!transport_only_);
      break;
    }
    if (err < 0) {
      if (stopping()) return "stopped";
      if (live_ && err == AVERROR_INVALIDDATA) {
        // Garbage on a live feed: the demuxer resynchronises on what follows;
        // if nothing decodable ever comes, the check below reopens the input.
      } else {
        reason = err == AVERROR_EXIT ? "no data for " + human_number(cfg_.read_timeout_s) + " s"
                                     : "input error: " + av_error(err);
        break;
      }
    } else {
      if (fmt_->nb_streams != known_streams_) note_new_streams();
      if (analyzer_) consumer.on_transport(!transport_only_);
      ++stats_.packets;
      stats_.bytes += static_cast<std::uint64_t>(pkt->size);
      note_transport_timing(*pkt);
      const bool adaptive = cfg_.decode.mode == DecodeMode::Adaptive && video_dec_;
      if (adaptive) adaptive_packet(*pkt);
      if (pkt->stream_index == video_index_ || pkt->stream_index == audio_index_)
        consumer.on_packet({pkt.get(), fmt_->streams[pkt->stream_index], pkt->stream_index == video_index_, session_,
                            anchor_raw_s_, anchor_media_s_});
      if (pkt->stream_index == video_index_) {
        ++stats_.video_packets;
        decode_video_packet(pkt.get(), consumer);
      } else if (pkt->stream_index == audio_index_) {
        decode(audio_dec_.get(), pkt.get(), consumer);
      }
      if (adaptive) adaptive_after_packet(consumer);
      av_packet_unref(pkt.get());
    }
    // The service's audio or video changed in its PMT (another codec on the
    // same PIDs, other PIDs): libavformat keeps the decoders chosen at the
    // probe, so probe again, at once.
    if (live_ && analyzer_ && analyzer_->av_layout_changes() != av_layout_) {
      reason = "the service's audio/video streams changed";
      reopen_now_ = true;
      break;
    }
    // Data keeps coming but none of it decodes (new programme layout, another
    // codec on new PIDs, endless garbage): start afresh with a new probe.
    // (Not so for a service that is scrambled or cannot be decoded: the
    // transport analysis reports it; reopening would change nothing.)
    if (live_ && !transport_only_ && !(analyzer_ && analyzer_->service_scrambled()) &&
        seconds_since(session_delivered_ ? last_delivery_ : session_start) > cfg_.read_timeout_s) {
      reason = "nothing decodable for " + human_number(cfg_.read_timeout_s) + " s";
      break;
    }
  }
  // Drain what the decoders still hold (frame threads keep a few pictures).
  if (video_dec_) drain_video(consumer);
  if (audio_dec_) decode(audio_dec_.get(), nullptr, consumer);
  return reason;
}

std::string AvSource::run(SourceConsumer& consumer) {
  Backoff backoff(cfg_.reconnect_initial_delay_s, cfg_.reconnect_max_delay_s);
  std::string reason = "stopped";
  std::string last_error = "not opened";
  int failed_attempts = 0;
  last_delivery_ = Clock::now();
  for (;;) {
    if (fmt_) {
      if (!info_reported_) {
        consumer.on_stream_info(info_, false);
        info_reported_ = true;
      }
      reason = read_session(consumer);
      if (reason == "stopped") break;
      ++stats_.sessions_lost;
      close_input();
      transport_gap_from_ = Clock::now();
      if (!may_reconnect()) break;
      if (session_delivered_) {
        backoff.reset();
        failed_attempts = 0;
      }
      spdlog::warn("input {} lost ({}); reconnecting", display_url_, reason);
      last_error = reason;
    }
    if (stopping()) {
      reason = "stopped";
      break;
    }
    if (!may_reconnect()) {
      reason = last_error;
      break;
    }
    if (cfg_.reconnect_max_attempts > 0 && failed_attempts >= cfg_.reconnect_max_attempts) {
      reason = "gave up after " + std::to_string(failed_attempts) + " reconnect attempts: " + last_error;
      spdlog::error("{}", reason);
      break;
    }
    double delay_s = reopen_now_ ? 0.0 : backoff.next_delay_s();
    reopen_now_ = false;
    if (!sleep_unless_stopped(delay_s)) {
      reason = "stopped";
      break;
    }
    std::uint64_t attempt = ++stats_.reconnect_attempts;
    StreamInfo before = info_;
    auto failed = try_open();
    if (failed) {
      ++failed_attempts;
      last_error = failed->message;
      if (stopping()) continue;
      spdlog::warn("reconnect attempt {} failed after {} s delay: {}", attempt, human_number(delay_s, 1), failed->message);
      if (failed->permanent) {
        reason = failed->message;
        break;
      }
      continue;
    }
    ++stats_.reconnects;
    spdlog::info("reconnect attempt {} succeeded after {} s delay", attempt, human_number(delay_s, 1));
    // The new session's clock is unrelated to the old one: continue media
    // time after the gap, as long as it lasted on the wall clock.
    timeline_.restart(seconds_since(last_delivery_));
    resume_pending_ = true;  // fresh decoders: their first frame is new media
    resume_pos_ = -1;
    resume_gap_s_ = 0;
    if (info_reported_ && !same_format(before, info_)) {
      spdlog::info("input format changed across the reconnect");
      consumer.on_stream_info(info_, true);
    }
  }
  stats_.decode_errors += static_cast<std::uint64_t>(video_errors_.take_all() + audio_errors_.take());
  return reason;
}

}  // namespace av_source_detail

std::unique_ptr<MediaSource> make_av_source(const InputConfig& cfg, const std::atomic<bool>* stop_flag) {
  install_decode_log();
  return std::make_unique<av_source_detail::AvSource>(cfg, stop_flag);
}

std::unique_ptr<MediaSource> make_av_source(const InputConfig& cfg, const std::atomic<bool>* stop_flag,
                                            AVIOContext* io) {
  install_decode_log();
  return std::make_unique<av_source_detail::AvSource>(cfg, stop_flag, io);
}

}  // namespace avmon
