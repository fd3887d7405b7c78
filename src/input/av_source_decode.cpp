// libavformat/libavcodec source, decoding and delivery: each selected stream
// is decoded once (frame threads on), decoder errors are charged to the
// picture they damaged, audio is converted once to planar float (or passed on
// as is when it already is), timestamps are mapped to media_time, and frames
// go to the consumer, paced in --realtime mode.
#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>
}

#include "input/av_source.hpp"
#include "input/declared_format.hpp"
#include "util/numbers.hpp"

namespace avmon::av_source_detail {

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
  if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
    if (cfg_.decode.mode == DecodeMode::Economy) {
      // No in-loop deblocking, no non-reference pictures (B pictures of
      // most streams): about half of the decoding work.
      dec->skip_loop_filter = AVDISCARD_ALL;
      dec->skip_frame = AVDISCARD_NONREF;
    } else if (cfg_.decode.mode == DecodeMode::Adaptive) {
      reset_adaptive();
      dec->skip_frame = AVDISCARD_NONKEY;  // all is well until a picture says otherwise
      light_ = true;
      stats_.decoding_all = false;
    }
  }
  int err = avcodec_open2(dec.get(), codec, nullptr);
  if (err < 0) {
    spdlog::warn("cannot open {} decoder: {}; ignoring the stream", codec->name, av_error(err));
    return nullptr;
  }
  default_layout(dec->ch_layout);
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
  fill_declared_format(i, fmt_, video_dec_.get(), audio_dec_.get());
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
  if (cfg_.decode.mode == DecodeMode::Adaptive) timeline_.allow_skips(video_index_);
  const double raw_s = ts == AV_NOPTS_VALUE ? std::nan("") : ts * av_q2d(st->time_base);
  double t = timeline_.map(video_index_, raw_s, frame_duration_s_);
  if (!std::isnan(raw_s)) {
    anchor_raw_s_ = raw_s;
    anchor_media_s_ = t;
  }
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
    spdlog::debug("picture at {} s: {} decoder errors, flags {:#x}", human_number(t), di.errors_before, di.decode_error_flags);
  stats_.decode_errors += static_cast<std::uint64_t>(di.errors_before);
  pace(t);
  end_media_time_s_ = std::max(end_media_time_s_, t + frame_duration_s_);
  last_delivered_media_s_ = t;
  ++stats_.video_frames;
  consumer.on_video(std::make_shared<BusVideoFrame>(std::move(frame), video_index_count_++, t, frame_duration_s_,
                                                    di, &derived_));
}

void AvSource::default_layout(AVChannelLayout& layout) {
  // Plain PCM (WAV, PCM in Matroska) often declares only a channel count;
  // libswresample then refuses every frame (AVERROR_INPUT_CHANGED). The
  // usual layout for the count is what a player assumes too.
  if (layout.order != AV_CHANNEL_ORDER_UNSPEC || layout.nb_channels <= 0) return;
  const int channels = layout.nb_channels;
  av_channel_layout_uninit(&layout);
  av_channel_layout_default(&layout, channels);
}

void AvSource::conversion_failed(const AVFrame& frame, const std::string& why) {
  if (stats_.audio_conversion_errors++ == 0)
    spdlog::error("audio {} {} Hz {} ch cannot be converted to planar float: {}; such blocks are skipped and "
                  "counted (audio_conversion_errors)",
                  av_get_sample_fmt_name(static_cast<AVSampleFormat>(frame.format)), frame.sample_rate,
                  frame.ch_layout.nb_channels, why);
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
  // Video anchors the packets' media time when there is video (its frames are placed by their own timestamps).
  if (!std::isnan(raw) && !video_dec_) {
    anchor_raw_s_ = raw;
    anchor_media_s_ = t;
  }
  if (timeline_.take_discontinuity()) {
    ++stats_.discontinuities;
    consumer.on_discontinuity(t);
  }
  AVFramePtr fltp;
  if (frame->format == AV_SAMPLE_FMT_FLTP) {
    fltp = std::move(frame);  // already planar float: no conversion, no copy
  } else {
    default_layout(frame->ch_layout);
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
        swr_free(&swr_);
        conversion_failed(*frame, "cannot set up the conversion");
        return;
      }
    }
    fltp = make_av_frame();
    fltp->format = AV_SAMPLE_FMT_FLTP;
    fltp->sample_rate = frame->sample_rate;
    av_channel_layout_copy(&fltp->ch_layout, &frame->ch_layout);
    if (int e = swr_convert_frame(swr_, fltp.get(), frame.get()); e < 0) {
      conversion_failed(*frame, av_error(e));
      return;
    }
  }
  if (fltp->nb_samples <= 0) return;
  if (cfg_.decode.mode == DecodeMode::Adaptive) adaptive_audio(*fltp, raw);
  pace(t);
  end_media_time_s_ = std::max(end_media_time_s_, t + block_s);
  ++stats_.audio_blocks;
  consumer.on_audio(std::make_shared<BusAudioBlock>(std::move(fltp), audio_index_count_++, t, channel_names_));
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
    if (dec == video_dec_.get()) {
      ++stats_.pictures_decoded;
      if (cfg_.decode.mode == DecodeMode::Adaptive && !adaptive_accepts(*frame)) continue;
      deliver_video(std::move(frame), consumer);
    } else
      deliver_audio(std::move(frame), consumer);
    if (stopping()) return;
  }
}

}  // namespace avmon::av_source_detail
