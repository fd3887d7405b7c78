// libavformat/libavcodec source: demux once, decode the best video and audio
// streams once (frame threads on), convert audio once to planar float, and
// keep media_time monotonic across timestamp jumps.
#include <chrono>
#include <condition_variable>
#include <cstring>
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

class AvSource final : public MediaSource {
 public:
  AvSource(InputConfig cfg, const std::atomic<bool>* stop_flag) : cfg_(std::move(cfg)), external_stop_(stop_flag) {
    live_ = is_live_url(cfg_.url);
  }
  ~AvSource() override {
    swr_free(&swr_);
    avformat_close_input(&fmt_);
  }

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
  static int interrupt_cb(void* opaque) {
    auto* self = static_cast<AvSource*>(opaque);
    if (self->stopping()) return 1;
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
  void update_info(SourceConsumer* consumer);

  InputConfig cfg_;
  const std::atomic<bool>* external_stop_;
  std::atomic<bool> stop_{false};
  std::atomic<Clock::rep> deadline_ns_{0};
  bool live_ = false;

  AVFormatContext* fmt_ = nullptr;
  int video_index_ = -1, audio_index_ = -1;
  AVCodecContextPtr video_dec_, audio_dec_;
  DecodeErrorCounter video_errors_, audio_errors_;
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
    if (stopping()) throw InputError("cannot open " + cfg_.url + ": interrupted");
    if (err == AVERROR_EXIT) throw InputError("cannot open " + cfg_.url + ": no answer within " +
                                              std::to_string(cfg_.open_timeout_s) + " s");
    throw InputError("cannot open " + cfg_.url + ": " + av_error(err));
  }
  if (!unused.empty()) spdlog::warn("input options not recognised by libavformat: {}", unused);
  err = avformat_find_stream_info(fmt_, nullptr);
  if (err < 0) throw InputError("cannot read stream information of " + cfg_.url + ": " + av_error(err));

  video_index_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  audio_index_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_AUDIO, -1, video_index_ >= 0 ? video_index_ : -1, nullptr, 0);
  if (video_index_ >= 0) video_dec_ = open_decoder(video_index_);
  if (audio_index_ >= 0) audio_dec_ = open_decoder(audio_index_);
  if (!video_dec_) video_index_ = -1;
  if (!audio_dec_) audio_index_ = -1;
  if (video_index_ < 0 && audio_index_ < 0)
    throw InputError(cfg_.url + " is not media: no decodable audio or video stream (format " +
                     std::string(fmt_->iformat ? fmt_->iformat->name : "?") + ")");
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (static_cast<int>(i) != video_index_ && static_cast<int>(i) != audio_index_)
      fmt_->streams[i]->discard = AVDISCARD_ALL;

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
  dec->opaque = st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO ? &video_errors_ : &audio_errors_;
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
  if (!cfg_.realtime) return;
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
  double t = timeline_.map(video_index_, ts == AV_NOPTS_VALUE ? std::nan("") : ts * av_q2d(st->time_base),
                           frame_duration_s_);
  if (timeline_.take_discontinuity()) {
    ++stats_.discontinuities;
    consumer.on_discontinuity(t);
  }
  DecodeInfo di;
  di.decode_error_flags = frame->decode_error_flags;
  di.corrupt = (frame->flags & AV_FRAME_FLAG_CORRUPT) || frame->decode_error_flags != 0;
  di.errors_before = video_errors_.take();
  di.key_frame = frame->key_frame != 0;
  di.pict_type = av_get_picture_type_char(frame->pict_type);
  if (di.corrupt) ++stats_.corrupt_frames;
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

void AvSource::decode(AVCodecContext* dec, const AVPacket* pkt, SourceConsumer& consumer) {
  int err = avcodec_send_packet(dec, pkt);
  if (err < 0 && err != AVERROR(EAGAIN) && err != AVERROR_EOF) {
    // A refused packet is damage the decoder noticed: count it against the
    // next picture so the corruption detector sees it.
    (dec == video_dec_.get() ? video_errors_ : audio_errors_).add(1);
  }
  for (;;) {
    AVFramePtr frame = make_av_frame();
    err = avcodec_receive_frame(dec, frame.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
    if (err < 0) {
      (dec == video_dec_.get() ? video_errors_ : audio_errors_).add(1);
      return;
    }
    if (dec == video_dec_.get())
      deliver_video(std::move(frame), consumer);
    else
      deliver_audio(std::move(frame), consumer);
    if (stopping()) return;
  }
}

std::string AvSource::run(SourceConsumer& consumer) {
  consumer.on_stream_info(info_, false);
  AVPacketPtr pkt(av_packet_alloc());
  std::string reason = "end of input";
  for (;;) {
    if (stopping()) {
      reason = "stopped";
      break;
    }
    arm_deadline(cfg_.read_timeout_s);
    int err = av_read_frame(fmt_, pkt.get());
    if (err == AVERROR_EOF) break;
    if (err < 0) {
      if (stopping()) {
        reason = "stopped";
      } else if (err == AVERROR_EXIT) {
        reason = "no data for " + std::to_string(cfg_.read_timeout_s) + " s";
      } else {
        reason = "input error: " + av_error(err);
      }
      break;
    }
    ++stats_.packets;
    stats_.bytes += static_cast<std::uint64_t>(pkt->size);
    if (pkt->stream_index == video_index_)
      decode(video_dec_.get(), pkt.get(), consumer);
    else if (pkt->stream_index == audio_index_)
      decode(audio_dec_.get(), pkt.get(), consumer);
    av_packet_unref(pkt.get());
  }
  if (reason != "stopped") {
    // Drain what the decoders still hold (frame threads keep a few pictures).
    if (video_dec_) decode(video_dec_.get(), nullptr, consumer);
    if (audio_dec_) decode(audio_dec_.get(), nullptr, consumer);
  }
  stats_.decode_errors += static_cast<std::uint64_t>(video_errors_.take() + audio_errors_.take());
  return reason;
}

}  // namespace

std::unique_ptr<MediaSource> make_av_source(const InputConfig& cfg, const std::atomic<bool>* stop_flag) {
  install_decode_log();
  return std::make_unique<AvSource>(cfg, stop_flag);
}

}  // namespace avmon
