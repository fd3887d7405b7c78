// libavformat/libavcodec source: demux once, decode the best video and audio
// streams once (frame threads on), convert audio once to planar float, and
// keep media_time monotonic across timestamp jumps. A live input is a series
// of sessions: when one fails it is closed and reopened with backoff, and
// media_time goes on across the gap (see docs/live-inputs.md).
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstring>
#include <optional>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
}

#include "input/backoff.hpp"
#include "input/decode_log.hpp"
#include "input/source.hpp"
#include "input/timeline.hpp"

namespace avmon {

namespace {

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

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Errors that no amount of retrying fixes: the URL or the options are wrong.
bool permanent_open_error(int err) {
  return err == AVERROR_PROTOCOL_NOT_FOUND || err == AVERROR_DEMUXER_NOT_FOUND ||
         err == AVERROR_OPTION_NOT_FOUND || err == AVERROR_BSF_NOT_FOUND;
}

bool same_format(const StreamInfo& a, const StreamInfo& b) {
  return a.has_video == b.has_video && a.width == b.width && a.height == b.height &&
         std::abs(a.frame_rate - b.frame_rate) < 0.01 && a.video_codec == b.video_codec &&
         a.has_audio == b.has_audio && a.sample_rate == b.sample_rate && a.channels == b.channels &&
         a.channel_names == b.channel_names && a.audio_codec == b.audio_codec;
}

class AvSource final : public MediaSource {
 public:
  AvSource(InputConfig cfg, const std::atomic<bool>* stop_flag) : cfg_(std::move(cfg)), external_stop_(stop_flag) {
    live_ = is_live_url(cfg_.url);
  }
  ~AvSource() override { close_input(); }

  void open() override;
  const StreamInfo& info() const override { return info_; }
  std::string run(SourceConsumer& consumer) override;
  void stop() override {
    stop_ = true;
    pace_cv_.notify_all();
  }
  double end_media_time_s() const override { return end_media_time_s_; }
  bool live() const override { return live_; }

 private:
  struct OpenError {
    std::string message;
    bool permanent = false;
  };
  // One attempt to open the input and its decoders; nullopt on success.
  std::optional<OpenError> try_open();
  void close_input();
  bool may_reconnect() const { return live_ && cfg_.reconnect != "never"; }
  // Reads and decodes until this session of the input ends; returns why.
  std::string read_session(SourceConsumer& consumer);
  // Waits `seconds` unless stopped first; false when stopped.
  bool sleep_unless_stopped(double seconds);
  void count_input_bytes();
  void note_new_streams();

  static int interrupt_cb(void* opaque) {
    auto* self = static_cast<AvSource*>(opaque);
    if (self->stopping()) return 1;
    self->watch_input_progress();
    return Clock::now().time_since_epoch().count() > self->deadline_ns_.load() ? 1 : 0;
  }
  bool stopping() const { return stop_ || (external_stop_ && external_stop_->load()); }
  void arm_deadline(double seconds) {
    deadline_ns_ = (Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)))
                       .time_since_epoch()
                       .count();
  }
  AVCodecContextPtr open_decoder(int index);
  void decode(AVCodecContext* dec, const AVPacket* pkt, SourceConsumer& consumer);
  void deliver_video(AVFramePtr frame, SourceConsumer& consumer);
  void deliver_audio(AVFramePtr frame, SourceConsumer& consumer);
  void pace(double media_time_s);
  // Before mapping a frame's timestamp. After a gap in the packets, the
  // first frame decoded from a packet that came after the gap is where media
  // resumed (a decoder with frame threads first hands over the pictures it
  // held from before the gap): count the resume for the watchdog and tell the
  // timeline how long the gap lasted, in case the timestamps jump across it.
  void note_delivery(const AVFrame& frame) {
    auto now = Clock::now();
    double idle_s = std::chrono::duration<double>(now - last_delivery_).count();
    double gap_s = -1;
    if (resume_pending_) {
      if (resume_pos_ < 0 || frame.pkt_pos < 0 || frame.pkt_pos >= resume_pos_) {
        resume_pending_ = false;
        gap_s = resume_gap_s_;
      }
    } else if (live_ && idle_s >= gap_threshold_s() && stats_.input_bytes.load() > bytes_at_delivery_) {
      // Nothing decoded for a while though bytes kept coming (garbage, or a
      // programme without our streams): what decodes now is new media. (Not
      // so without new bytes: a demuxer flushes what it held when a read
      // fails, and that is from before the gap.)
      gap_s = idle_s;
    }
    bytes_at_delivery_ = stats_.input_bytes.load();
    if (gap_s >= 0) {
      if (gap_s > 0) timeline_.hint_gap(gap_s);
      ++stats_.media_resumes;
    }
    last_delivery_ = now;
    session_delivered_ = true;
  }
  double gap_threshold_s() const { return std::min(1.0, cfg_.signal_loss_timeout_s / 2); }
  // From the interrupt callback, which libavformat calls before every read
  // from the input and every ~100 ms while one blocks, on the demuxing
  // thread: notices a gap in the bytes arriving (a live stall or outage) and
  // where it ended in the byte stream. Packets starting before that position
  // were (at least partly) received before the gap.
  void watch_input_progress() {
    if (!tracking_progress_ || !fmt_ || !fmt_->pb) return;
    count_input_bytes();  // a demuxer may read for long without returning (garbage)
    std::int64_t pos = fmt_->pb->pos;
    if (pos == progress_pos_) return;
    auto now = Clock::now();
    double gap_s = std::chrono::duration<double>(now - progress_at_).count();
    if (progress_pos_ >= 0 && gap_s >= gap_threshold_s()) {
      resume_pending_ = true;
      resume_pos_ = progress_pos_;
      resume_gap_s_ = gap_s;
    }
    progress_pos_ = pos;
    progress_at_ = now;
  }
  void update_info(SourceConsumer* consumer);

  InputConfig cfg_;
  const std::atomic<bool>* external_stop_;
  std::atomic<bool> stop_{false};
  std::atomic<Clock::rep> deadline_ns_{0};
  bool live_ = false;
  bool info_reported_ = false;   // the consumer has had on_stream_info
  unsigned known_streams_ = 0;
  bool warned_options_ = false;
  std::int64_t pb_bytes_seen_ = 0;
  Clock::time_point last_delivery_ = Clock::now();
  bool tracking_progress_ = false;   // watch_input_progress() may look at fmt_->pb
  std::int64_t progress_pos_ = -1;   // fmt_->pb->pos when bytes last arrived
  Clock::time_point progress_at_;
  bool session_delivered_ = false;
  bool resume_pending_ = true;       // the next new frame is where media (re)starts
  std::int64_t resume_pos_ = -1;     // byte position of the first packet after the gap
  double resume_gap_s_ = 0;          // how long the gap lasted
  std::uint64_t bytes_at_delivery_ = 0;

  AVFormatContext* fmt_ = nullptr;
  int video_index_ = -1, audio_index_ = -1;
  AVCodecContextPtr video_dec_, audio_dec_;
  // Transport-level A/V timing: how far apart the muxer carries audio and
  // video timestamps (decode timestamps of packets as they arrive).
  void note_transport_timing(const AVPacket& pkt);
  nlohmann::json summary() const override;
  double first_video_ts_s_ = NAN, first_audio_ts_s_ = NAN, last_video_ts_s_ = NAN, last_audio_ts_s_ = NAN;
  double skew_sum_s_ = 0, skew_max_abs_s_ = 0;
  std::uint64_t skew_samples_ = 0;

  DecodeErrorLedger video_errors_;
  DecodeErrorCounter audio_errors_;
  std::int64_t video_packets_ = -1;
  SwrContext* swr_ = nullptr;
  AVChannelLayout swr_layout_{};
  int swr_rate_ = 0, swr_format_ = -1;

  StreamInfo info_;
  std::shared_ptr<const std::vector<std::string>> channel_names_;
  Timeline timeline_;
  double frame_duration_s_ = 0.04;
  double end_media_time_s_ = 0;
  std::uint64_t video_index_count_ = 0, audio_index_count_ = 0;
  double next_audio_s_ = -1;

  // --realtime pacing
  bool pacing_started_ = false;
  Clock::time_point pace_origin_;
  double pace_media_origin_s_ = 0;
  std::mutex pace_mu_;
  std::condition_variable pace_cv_;
};

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
  int err = avformat_open_input(&fmt_, cfg_.url.c_str(), nullptr, &opts);
  std::string unused;
  for (AVDictionaryEntry* e = nullptr; (e = av_dict_get(opts, "", e, AV_DICT_IGNORE_SUFFIX));)
    unused += std::string(unused.empty() ? "" : ", ") + e->key;
  av_dict_free(&opts);
  if (err < 0) {
    fmt_ = nullptr;  // freed by avformat_open_input on failure
    if (stopping()) return OpenError{"cannot open " + cfg_.url + ": interrupted", false};
    if (err == AVERROR_EXIT)
      return OpenError{"cannot open " + cfg_.url + ": no answer within " + std::to_string(cfg_.open_timeout_s) + " s",
                       false};
    return OpenError{"cannot open " + cfg_.url + ": " + av_error(err), permanent_open_error(err)};
  }
  stats_.input_open = true;
  pb_bytes_seen_ = 0;
  if (!unused.empty() && !warned_options_) spdlog::warn("input options not recognised by libavformat: {}", unused);
  warned_options_ = true;
  arm_deadline(cfg_.open_timeout_s);
  err = avformat_find_stream_info(fmt_, nullptr);
  count_input_bytes();
  if (err < 0) {
    close_input();
    return OpenError{"cannot read stream information of " + cfg_.url + ": " + av_error(err), false};
  }

  video_index_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  audio_index_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_AUDIO, -1, video_index_ >= 0 ? video_index_ : -1, nullptr, 0);
  if (video_index_ >= 0) video_dec_ = open_decoder(video_index_);
  if (audio_index_ >= 0) audio_dec_ = open_decoder(audio_index_);
  if (!video_dec_) video_index_ = -1;
  if (!audio_dec_) audio_index_ = -1;
  if (video_index_ < 0 && audio_index_ < 0) {
    std::string msg = cfg_.url + " is not media: no decodable audio or video stream (format " +
                      std::string(fmt_->iformat ? fmt_->iformat->name : "?") + ")";
    close_input();
    // A file that is not media stays so; a live feed may be momentarily garbage.
    return OpenError{msg, !live_};
  }
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (static_cast<int>(i) != video_index_ && static_cast<int>(i) != audio_index_)
      fmt_->streams[i]->discard = AVDISCARD_ALL;
  known_streams_ = fmt_->nb_streams;

  if (fmt_->start_time != AV_NOPTS_VALUE) timeline_.set_origin(fmt_->start_time / static_cast<double>(AV_TIME_BASE));
  if (video_index_ >= 0) {
    AVStream* st = fmt_->streams[video_index_];
    AVRational fr = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    if (fr.num > 0 && fr.den > 0) frame_duration_s_ = av_q2d(av_inv_q(fr));
  }
  update_info(nullptr);
  spdlog::info("opened {} ({}): video {} {}x{} {:.3f} fps, audio {} {} Hz {} ch", cfg_.url, fmt_->iformat->name,
               info_.has_video ? info_.video_codec : "none", info_.width, info_.height, info_.frame_rate,
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

AVCodecContextPtr AvSource::open_decoder(int index) {
  AVStream* st = fmt_->streams[index];
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) {
    spdlog::warn("no decoder for stream {} ({}); ignoring it", index, avcodec_get_name(st->codecpar->codec_id));
    return nullptr;
  }
  AVCodecContextPtr dec(avcodec_alloc_context3(codec));
  if (avcodec_parameters_to_context(dec.get(), st->codecpar) < 0) return nullptr;
  dec->pkt_timebase = st->time_base;
  dec->thread_count = 0;  // one per core
  dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  // The log callback attributes decoder errors to us through `opaque`, which
  // frame threads copy into their own contexts.
  dec->opaque = st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO ? video_errors_.open(++video_packets_) : &audio_errors_;
  int err = avcodec_open2(dec.get(), codec, nullptr);
  if (err < 0) {
    spdlog::warn("cannot open {} decoder: {}; ignoring the stream", codec->name, av_error(err));
    return nullptr;
  }
  return dec;
}

void AvSource::update_info(SourceConsumer* consumer) {
  StreamInfo i;
  i.live = live_;
  if (video_dec_) {
    i.has_video = true;
    i.width = video_dec_->width;
    i.height = video_dec_->height;
    i.frame_rate = frame_duration_s_ > 0 ? 1.0 / frame_duration_s_ : 0;
    i.video_codec = video_dec_->codec->name;
  }
  if (audio_dec_) {
    i.has_audio = true;
    i.sample_rate = audio_dec_->sample_rate;
    i.channels = audio_dec_->ch_layout.nb_channels;
    i.channel_names = channel_names(audio_dec_->ch_layout);
    i.audio_codec = audio_dec_->codec->name;
    channel_names_ = std::make_shared<const std::vector<std::string>>(i.channel_names);
  }
  i.stream = info_.stream;
  info_ = i;
  if (consumer) consumer->on_stream_info(info_, true);
}

void AvSource::pace(double media_time_s) {
  // A live input is paced by its sender; pacing it again would only add delay.
  if (!cfg_.realtime || live_) return;
  if (!pacing_started_) {
    pacing_started_ = true;
    pace_origin_ = Clock::now();
    pace_media_origin_s_ = media_time_s;
    return;
  }
  auto due = pace_origin_ + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(media_time_s - pace_media_origin_s_));
  std::unique_lock lk(pace_mu_);
  pace_cv_.wait_until(lk, due, [&] { return stopping(); });
}

void AvSource::deliver_video(AVFramePtr frame, SourceConsumer& consumer) {
  if (frame->width != info_.width || frame->height != info_.height) {
    spdlog::info("video format change: {}x{} -> {}x{}", info_.width, info_.height, frame->width, frame->height);
    update_info(&consumer);
  }
  AVStream* st = fmt_->streams[video_index_];
  std::int64_t ts = frame->best_effort_timestamp;
  note_delivery(*frame);
  double t = timeline_.map(video_index_, ts == AV_NOPTS_VALUE ? std::nan("") : ts * av_q2d(st->time_base),
                           frame_duration_s_);
  if (timeline_.take_discontinuity()) {
    ++stats_.discontinuities;
    consumer.on_discontinuity(t);
  }
  stats_.timestamp_wraps = static_cast<std::uint64_t>(timeline_.wraps());
  DecodeInfo di;
  di.decode_error_flags = frame->decode_error_flags;
  di.corrupt = (frame->flags & AV_FRAME_FLAG_CORRUPT) || frame->decode_error_flags != 0;
  di.errors_before = video_errors_.take_through(frame->reordered_opaque);
  di.key_frame = frame->key_frame != 0;
  di.pict_type = av_get_picture_type_char(frame->pict_type);
  if (di.corrupt) ++stats_.corrupt_frames;
  if (di.errors_before > 0 || di.corrupt)
    spdlog::debug("picture at {:.3f} s: {} decoder errors, flags {:#x}", t, di.errors_before, di.decode_error_flags);
  stats_.decode_errors += static_cast<std::uint64_t>(di.errors_before);
  pace(t);
  end_media_time_s_ = std::max(end_media_time_s_, t + frame_duration_s_);
  ++stats_.video_frames;
  consumer.on_video(std::make_shared<BusVideoFrame>(std::move(frame), video_index_count_++, t, frame_duration_s_,
                                                    di, &derived_));
}

void AvSource::deliver_audio(AVFramePtr frame, SourceConsumer& consumer) {
  if (frame->sample_rate != info_.sample_rate || frame->ch_layout.nb_channels != info_.channels) {
    spdlog::info("audio format change: {} Hz {} ch -> {} Hz {} ch", info_.sample_rate, info_.channels,
                 frame->sample_rate, frame->ch_layout.nb_channels);
    update_info(&consumer);
  }
  stats_.decode_errors += static_cast<std::uint64_t>(audio_errors_.take());
  AVStream* st = fmt_->streams[audio_index_];
  std::int64_t ts = frame->best_effort_timestamp;
  double block_s = frame->sample_rate > 0 ? frame->nb_samples / static_cast<double>(frame->sample_rate) : 0;
  double raw = ts == AV_NOPTS_VALUE ? std::nan("") : ts * av_q2d(st->time_base);
  note_delivery(*frame);
  double t = timeline_.map(audio_index_, raw, block_s);
  if (timeline_.take_discontinuity()) {
    ++stats_.discontinuities;
    consumer.on_discontinuity(t);
  }
  AVFramePtr fltp;
  if (frame->format == AV_SAMPLE_FMT_FLTP) {
    fltp = std::move(frame);  // already planar float: no conversion, no copy
  } else {
    if (!swr_ || swr_rate_ != frame->sample_rate || swr_format_ != frame->format ||
        av_channel_layout_compare(&swr_layout_, &frame->ch_layout) != 0) {
      swr_free(&swr_);
      av_channel_layout_uninit(&swr_layout_);
      av_channel_layout_copy(&swr_layout_, &frame->ch_layout);
      swr_rate_ = frame->sample_rate;
      swr_format_ = frame->format;
      if (swr_alloc_set_opts2(&swr_, &frame->ch_layout, AV_SAMPLE_FMT_FLTP, frame->sample_rate, &frame->ch_layout,
                              static_cast<AVSampleFormat>(frame->format), frame->sample_rate, 0, nullptr) < 0 ||
          swr_init(swr_) < 0) {
        spdlog::error("cannot convert audio format {}", av_get_sample_fmt_name(static_cast<AVSampleFormat>(frame->format)));
        swr_free(&swr_);
        return;
      }
    }
    fltp = make_av_frame();
    fltp->format = AV_SAMPLE_FMT_FLTP;
    fltp->sample_rate = frame->sample_rate;
    av_channel_layout_copy(&fltp->ch_layout, &frame->ch_layout);
    if (swr_convert_frame(swr_, fltp.get(), frame.get()) < 0) return;
  }
  if (fltp->nb_samples <= 0) return;
  pace(t);
  end_media_time_s_ = std::max(end_media_time_s_, t + block_s);
  ++stats_.audio_blocks;
  consumer.on_audio(std::make_shared<BusAudioBlock>(std::move(fltp), audio_index_count_++, t, channel_names_));
}

void AvSource::note_transport_timing(const AVPacket& pkt) {
  if (pkt.stream_index != video_index_ && pkt.stream_index != audio_index_) return;
  const double tb = av_q2d(fmt_->streams[pkt.stream_index]->time_base);
  const bool video = pkt.stream_index == video_index_;
  // Where each medium starts: the earliest presentation time (decode times
  // of reordered video start before it).
  if (pkt.pts != AV_NOPTS_VALUE) {
    double& first = video ? first_video_ts_s_ : first_audio_ts_s_;
    double p = pkt.pts * tb;
    if (std::isnan(first) || (p < first && p > first - 5.0)) first = p;  // not a wrap or a jump
  }
  // How far apart the muxer interleaves them: decode times as packets arrive.
  std::int64_t ts = pkt.dts != AV_NOPTS_VALUE ? pkt.dts : pkt.pts;
  if (ts == AV_NOPTS_VALUE) return;
  (video ? last_video_ts_s_ : last_audio_ts_s_) = ts * tb;
  if (std::isnan(last_video_ts_s_) || std::isnan(last_audio_ts_s_)) return;
  double skew = last_audio_ts_s_ - last_video_ts_s_;
  if (std::abs(skew) > 10.0) return;  // a timestamp jump, not interleaving
  skew_sum_s_ += skew;
  skew_max_abs_s_ = std::max(skew_max_abs_s_, std::abs(skew));
  ++skew_samples_;
}

nlohmann::json AvSource::summary() const {
  if (std::isnan(first_video_ts_s_) || std::isnan(first_audio_ts_s_)) return nullptr;
  // Positive: audio timestamps ahead of video in the transport.
  return {{"transport",
           {{"first_timestamp_skew_ms", std::round((first_audio_ts_s_ - first_video_ts_s_) * 1e4) / 10},
            {"mean_skew_ms", skew_samples_ ? std::round(skew_sum_s_ / skew_samples_ * 1e4) / 10 : 0.0},
            {"max_abs_skew_ms", std::round(skew_max_abs_s_ * 1e4) / 10}}}};
}

void AvSource::decode(AVCodecContext* dec, const AVPacket* pkt, SourceConsumer& consumer) {
  if (dec == video_dec_.get() && pkt) {
    // Charge what this packet's decode logs to this packet (see DecodeErrorLedger).
    dec->opaque = video_errors_.open(++video_packets_);
    dec->reordered_opaque = video_packets_;
  }
  auto* errors = static_cast<DecodeErrorCounter*>(dec->opaque);
  int err = avcodec_send_packet(dec, pkt);
  if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF) {
    // A refused packet is damage the decoder noticed: the corruption detector
    // sees it with the next picture.
    errors->add(1);
  }
  for (;;) {
    AVFramePtr frame = make_av_frame();
    err = avcodec_receive_frame(dec, frame.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
    if (err < 0) {
      errors->add(1);
      return;
    }
    if (dec == video_dec_.get())
      deliver_video(std::move(frame), consumer);
    else
      deliver_audio(std::move(frame), consumer);
    if (stopping()) return;
  }
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
    if (err == AVERROR_EOF) break;
    if (err < 0) {
      if (stopping()) return "stopped";
      if (live_ && err == AVERROR_INVALIDDATA) {
        // Garbage on a live feed: the demuxer resynchronises on what follows;
        // if nothing decodable ever comes, the check below reopens the input.
      } else {
        reason = err == AVERROR_EXIT ? "no data for " + std::to_string(cfg_.read_timeout_s) + " s"
                                     : "input error: " + av_error(err);
        break;
      }
    } else {
      if (fmt_->nb_streams != known_streams_) note_new_streams();
      ++stats_.packets;
      stats_.bytes += static_cast<std::uint64_t>(pkt->size);
      note_transport_timing(*pkt);
      if (pkt->stream_index == video_index_)
        decode(video_dec_.get(), pkt.get(), consumer);
      else if (pkt->stream_index == audio_index_)
        decode(audio_dec_.get(), pkt.get(), consumer);
      av_packet_unref(pkt.get());
    }
    // Data keeps coming but none of it decodes (new programme layout, another
    // codec on new PIDs, endless garbage): start afresh with a new probe.
    if (live_ && seconds_since(session_delivered_ ? last_delivery_ : session_start) > cfg_.read_timeout_s) {
      reason = "nothing decodable for " + std::to_string(cfg_.read_timeout_s) + " s";
      break;
    }
  }
  // Drain what the decoders still hold (frame threads keep a few pictures).
  if (video_dec_) decode(video_dec_.get(), nullptr, consumer);
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
      if (!may_reconnect()) break;
      if (session_delivered_) {
        backoff.reset();
        failed_attempts = 0;
      }
      spdlog::warn("input {} lost ({}); reconnecting", cfg_.url, reason);
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
    double delay_s = backoff.next_delay_s();
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
      spdlog::warn("reconnect attempt {} failed after {:.1f} s delay: {}", attempt, delay_s, failed->message);
      if (failed->permanent) {
        reason = failed->message;
        break;
      }
      continue;
    }
    ++stats_.reconnects;
    spdlog::info("reconnect attempt {} succeeded after {:.1f} s delay", attempt, delay_s);
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

}  // namespace

std::unique_ptr<MediaSource> make_av_source(const InputConfig& cfg, const std::atomic<bool>* stop_flag) {
  install_decode_log();
  return std::make_unique<AvSource>(cfg, stop_flag);
}

}  // namespace avmon
